// broker-ref benchmarks, side by side in one run (issue: broker-ref perf).
//
//   bench_broker --broker-ref PATH [--records N] [--read-gb G] [--hold-gb G]
//                [--only small] [--mock-first] [--rounds N] [--data-root DIR]
//
// 1. librdkafka producing 100-byte records (linger.ms=5, acks=1) into
//    broker-ref and into librdkafka's mock cluster: records/s and MB/s,
//    and broker-ref's CPU seconds for its part (every cycle it spends is
//    taken from the producer on a small machine). `--rounds N` repeats it
//    alternating the order (median ratio); `--mock-first` starts with the
//    mock; `--only small` stops after this part. Each run also shows the
//    producer's own CPU per record (its calling thread and librdkafka's
//    threads): on a shared VM a round's rate follows it, and it moves with
//    the host from run to run whichever broker is written to. The summary
//    gives the median and geometric mean of the per-round ratios and how
//    many rounds reached 1.0x. broker-ref's data directory goes under
//    `--data-root` (default /tmp; the mock keeps its log in memory, so
//    /dev/shm compares the two without the disk). The "holds afterwards"
//    column shows what each broker still has: the mock keeps only the
//    newest ~5 MB of a partition (its memory is reused batch after batch),
//    broker-ref every record, in new page-cache pages.
// 2. 10 KB records into broker-ref: MB/s against the loopback TCP bandwidth
//    measured in the same run, with librdkafka's producer and kfk's.
// 3. A consumer reading a large partition from broker-ref: MB/s, with
//    librdkafka's consumer and kfk's. (What broker-ref can serve shows in
//    the faster client; the slower one measures itself.)
// 4. broker-ref's resident memory while it holds a large log.
//
// Every measured run starts with the page cache written back (sync()), so
// a run never pays for the writeback of the runs before it, and with an
// empty broker: each 100 B round gets a new broker-ref on a new data
// directory, as it gets a new mock cluster, and the 10 KB part starts on a
// new broker-ref too (the directories of earlier ones are removed). Why:
// on a VM that returns freed memory to its host, a page touched for the
// first time costs a host fault, so a log (and page cache) that grew from
// run to run made every later broker-ref run slower than the one before.
//
// Nothing here asserts: it prints a table for the closing notes.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "kfk/consumer.h"
#include "kfk/producer.h"

namespace {

using bench::BrokerProcess;
using bench::rss_kb;
using bench::start_broker_ref;
using bench::stop_broker;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A process's user + system CPU seconds and minor page faults so far
// (read_stat), and the context switches of its main thread (broker-ref's
// loop thread: about one per wakeup) from /proc/<pid>/status.
struct ProcUsage {
  double cpu_s = 0;
  unsigned long long minor_faults = 0;
  unsigned long long switches = 0;
};

// User + system CPU seconds and minor faults from a process's or a
// thread's /proc stat file (fields 14, 15 and 10; the command name, field
// 2, may hold spaces, so parse after its closing parenthesis); false when
// it cannot be read.
bool read_stat(const std::string& path, double* cpu_s, unsigned long long* minor_faults) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = s.rfind(')');
  if (close == std::string::npos) return false;
  unsigned long long minflt = 0, utime = 0, stime = 0;
  const char* fields = "%*c %*d %*d %*d %*d %*d %*u %llu %*u %*u %*u %llu %llu";  // from field 3
  if (sscanf(s.c_str() + close + 2, fields, &minflt, &utime, &stime) != 3) return false;
  *cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  *minor_faults = minflt;
  return true;
}

ProcUsage proc_usage(pid_t pid) {
  ProcUsage u;
  if (!read_stat("/proc/" + std::to_string(pid) + "/stat", &u.cpu_s, &u.minor_faults)) return u;
  std::ifstream st("/proc/" + std::to_string(pid) + "/status");
  std::string k;
  while (st >> k) {
    unsigned long long n = 0;
    if ((k == "voluntary_ctxt_switches:" || k == "nonvoluntary_ctxt_switches:") && st >> n) u.switches += n;
  }
  return u;
}

rd_kafka_conf_t* make_conf(const std::string& bootstrap, std::vector<std::pair<std::string, std::string>> extra) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char err[512];
  extra.emplace_back("bootstrap.servers", bootstrap);
  for (auto& [k, v] : extra)
    if (rd_kafka_conf_set(c, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", err);
      exit(1);
    }
  return c;
}

struct ProduceResult {
  double records_per_sec, mb_per_sec;
  long errors;
  int64_t kept = -1;  // records the broker still holds for the partition afterwards (librdkafka runs)
  double client_cpu_s = -1;  // the producer's own CPU seconds: the calling thread and the threads librdkafka started
};

// Threads of this process and their CPU seconds so far.
std::vector<std::pair<pid_t, double>> task_cpu() {
  std::vector<std::pair<pid_t, double>> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    double cpu_s = 0;
    unsigned long long faults = 0;
    if (read_stat(std::string("/proc/self/task/") + e->d_name + "/stat", &cpu_s, &faults))
      out.emplace_back(static_cast<pid_t>(std::atol(e->d_name)), cpu_s);
  }
  closedir(d);
  return out;
}

// CPU seconds of this process's threads, leaving out those in `skip`.
double cpu_excluding(const std::vector<pid_t>& skip) {
  double sum = 0;
  for (auto& [tid, s] : task_cpu())
    if (std::find(skip.begin(), skip.end(), tid) == skip.end()) sum += s;
  return sum;
}

std::atomic<long> g_delivery_errors{0};
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) g_delivery_errors++;
}

ProduceResult produce(const std::string& bootstrap, const std::string& topic, long n, size_t size) {
  rd_kafka_conf_t* conf = make_conf(bootstrap, {{"linger.ms", "5"}, {"acks", "1"}, {"enable.idempotence", "false"},
                                                {"queue.buffering.max.messages", "1000000"},
                                                {"queue.buffering.max.kbytes", "1048576"}});
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  // The producer's CPU: this thread and the threads rd_kafka_new starts,
  // not those that were there before (the mock cluster's, in a mock run).
  std::vector<pid_t> others;
  for (auto& [tid, s] : task_cpu())
    if (tid != static_cast<pid_t>(gettid())) others.push_back(tid);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  std::vector<char> payload(size, 'x');
  g_delivery_errors = 0;
  // Warm up: metadata and connection.
  rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                    RD_KAFKA_V_VALUE(payload.data(), payload.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END);
  rd_kafka_flush(rk, 10000);
  const double cpu0 = cpu_excluding(others);
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) {
    for (;;) {
      auto e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                 RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 1);
        continue;
      }
      break;
    }
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  double s = seconds_since(t0);
  const double client_cpu = cpu_excluding(others) - cpu0;
  // What the broker kept: librdkafka's mock holds only the last ~5 MB of a
  // partition in memory (it drops older batches as it appends), broker-ref
  // every byte, on disk and in the page cache.
  int64_t low = -1, high = -1;
  int64_t kept = rd_kafka_query_watermark_offsets(rk, topic.c_str(), 0, &low, &high, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR
                     ? high - low
                     : -1;
  rd_kafka_destroy(rk);
  return {n / s, n * static_cast<double>(size) / s / 1e6, g_delivery_errors.load(), kept, client_cpu};
}

// kfk's producer: the same records, acks=1, linger.ms=5, batch.size 1 MB
// (librdkafka's default, so both send the same batches).
ProduceResult produce_kfk(const std::string& bootstrap, const std::string& topic, long n, size_t size) {
  std::unique_ptr<kfk::Producer> p;
  kfk::Error e = kfk::Producer::create({{"bootstrap.servers", bootstrap},
                                        {"linger.ms", "5"},
                                        {"acks", "1"},
                                        {"enable.idempotence", "false"},
                                        {"batch.size", "1000000"}},  // buffer.memory: the default, 32 MB
                                       &p);
  if (!e.ok()) {
    fprintf(stderr, "kfk producer: %s\n", e.to_string().c_str());
    exit(1);
  }
  std::vector<char> payload(size, 'x');
  std::atomic<long> errors{0};
  auto send_one = [&] {
    kfk::ProducerRecord rec;
    rec.topic = topic;
    rec.partition = 0;
    rec.value = kfk::Bytes::borrow(std::string_view(payload.data(), payload.size()));
    p->send(std::move(rec), [&](const kfk::RecordMetadata&, const kfk::Error& err) {
      if (!err.ok()) errors++;
    });
  };
  send_one();  // warm up: metadata and connection
  (void)p->flush(std::chrono::seconds(10));
  auto t0 = Clock::now();
  for (long i = 0; i < n; ++i) send_one();
  (void)p->flush(std::chrono::seconds(120));
  double s = seconds_since(t0);
  (void)p->close(std::chrono::seconds(10));
  return {n / s, n * static_cast<double>(size) / s / 1e6, errors.load()};
}

// kfk's consumer reading partition 0 from the start until expect_bytes of
// values arrived; MB/s from the first record.
double consume_all_kfk(const std::string& bootstrap, const std::string& topic, long expect_bytes) {
  std::unique_ptr<kfk::Consumer> c;
  kfk::Error e = kfk::Consumer::create({{"bootstrap.servers", bootstrap},
                                        {"fetch.max.bytes", "52428800"},
                                        {"max.partition.fetch.bytes", "52428800"},
                                        {"max.poll.records", "100000"},
                                        {"check.crcs", "false"},
                                        {"auto.offset.reset", "earliest"}},
                                       &c);
  if (!e.ok()) {
    fprintf(stderr, "kfk consumer: %s\n", e.to_string().c_str());
    exit(1);
  }
  (void)c->assign({kfk::TopicPartition(topic, 0)});
  long bytes = 0;
  Clock::time_point t0{};
  bool started = false;
  auto deadline = Clock::now() + std::chrono::minutes(5);
  while (bytes < expect_bytes && Clock::now() < deadline) {
    kfk::ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    for (auto& r : recs) {
      if (!started) {
        started = true;
        t0 = Clock::now();
      }
      if (r.value) bytes += static_cast<long>(r.value->size());
    }
  }
  double s = seconds_since(t0);
  (void)c->close(std::chrono::seconds(5));
  return bytes / s / 1e6;
}

double consume_all(const std::string& bootstrap, const std::string& topic, long expect_bytes) {
  rd_kafka_conf_t* conf = make_conf(bootstrap, {{"group.id", "bench"},
                                                {"fetch.max.bytes", "52428800"},
                                                {"max.partition.fetch.bytes", "52428800"},
                                                {"queued.max.messages.kbytes", "1048576"},
                                                {"check.crcs", "false"}});
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  auto* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  long bytes = 0;
  Clock::time_point t0{};
  bool started = false;
  auto deadline = Clock::now() + std::chrono::minutes(5);
  while (bytes < expect_bytes && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      if (!started) {
        started = true;
        t0 = Clock::now();
      }
      bytes += static_cast<long>(m->len);
    }
    rd_kafka_message_destroy(m);
  }
  double s = seconds_since(t0);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return bytes / s / 1e6;
}

// Loopback TCP bandwidth: one sender thread, one receiver, 64 KiB writes.
double loopback_mb_per_sec(size_t total) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  listen(ls, 1);
  std::thread sender([&] {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    std::vector<char> buf(65536, 'y');
    size_t sent = 0;
    while (sent < total) {
      ssize_t r = send(s, buf.data(), buf.size(), 0);
      if (r <= 0) break;
      sent += static_cast<size_t>(r);
    }
    close(s);
  });
  int c = accept(ls, nullptr, nullptr);
  std::vector<char> buf(65536);
  size_t got = 0;
  auto t0 = Clock::now();
  while (got < total) {
    ssize_t r = recv(c, buf.data(), buf.size(), 0);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  double s = seconds_since(t0);
  sender.join();
  close(c);
  close(ls);
  return got / s / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string exe;
  long records = 2000000;
  double read_gb = 2.0, hold_gb = 10.0;
  bool only_small = false, mock_first = false;
  int rounds = 1;
  std::string data_root = "/tmp";  // where broker-ref's temporary data directory goes
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--broker-ref") exe = next();
    else if (a == "--records") records = std::stol(next());
    else if (a == "--read-gb") read_gb = std::stod(next());
    else if (a == "--hold-gb") hold_gb = std::stod(next());
    else if (a == "--only" && next() == "small") only_small = true;
    else if (a == "--mock-first") mock_first = true;
    else if (a == "--rounds") rounds = std::max(1, std::stoi(next()));
    else if (a == "--data-root") data_root = next();
    else {
      fprintf(stderr,
              "usage: %s --broker-ref PATH [--records N] [--read-gb G] [--hold-gb G] [--only small] [--mock-first] "
              "[--rounds N] [--data-root DIR]\n",
              argv[0]);
      return 2;
    }
  }
  if (exe.empty()) {
    fprintf(stderr, "--broker-ref PATH is required\n");
    return 2;
  }

  // 1. 100-byte records: broker-ref vs librdkafka's mock cluster, `rounds`
  // times, alternating which goes first. A run takes about a second and
  // the producer's own rate varies by up to 40% from run to run on a 2-core
  // machine: with several rounds the median ratio is the figure.
  struct Round {
    ProduceResult ref, mock;
    ProcUsage ref_use;
    bool mock_first;
  };
  std::vector<Round> done;
  for (int r = 0; r < rounds; ++r) {
    Round rd{};
    rd.mock_first = mock_first != (r % 2 == 1);
    auto run_ref = [&] {
      BrokerProcess round_broker = start_broker_ref(exe, {}, false, data_root);
      ::sync();
      ProcUsage u0 = proc_usage(round_broker.pid);
      rd.ref = produce(round_broker.bootstrap, "bench100", records, 100);
      ProcUsage u1 = proc_usage(round_broker.pid);
      rd.ref_use = {u1.cpu_s - u0.cpu_s, u1.minor_faults - u0.minor_faults, u1.switches - u0.switches};
      stop_broker(round_broker);
    };
    auto run_mock = [&] {
      ::sync();
      char err[512];
      rd_kafka_t* mock_handle = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
      rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(mock_handle, 1);
      rd_kafka_mock_topic_create(mc, "bench100", 1, 1);
      rd.mock = produce(rd_kafka_mock_cluster_bootstraps(mc), "bench100", records, 100);
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(mock_handle);
    };
    if (rd.mock_first) {
      run_mock();
      run_ref();
    } else {
      run_ref();
      run_mock();
    }
    done.push_back(rd);
  }

  // The producer's own CPU per record shows where a round's rate came
  // from: on a shared VM it moves from run to run with the host, whichever
  // broker it writes to.
  printf("| librdkafka producer, 100 B records, linger.ms=5, acks=1 | records/s | MB/s | errors | records the broker "
         "holds afterwards | producer CPU us per record |\n|---|---|---|---|---|---|\n");
  auto per_record_us = [&](double cpu_s) { return cpu_s * 1e6 / static_cast<double>(records); };
  for (const Round& rd : done) {
    const char* tag = rounds > 1 ? (rd.mock_first ? " (ran second)" : " (ran first)") : "";
    printf("| into broker-ref%s | %.0f | %.1f | %ld | %lld | %.3f |\n", tag, rd.ref.records_per_sec, rd.ref.mb_per_sec,
           rd.ref.errors, static_cast<long long>(rd.ref.kept), per_record_us(rd.ref.client_cpu_s));
    printf("| into librdkafka mock cluster | %.0f | %.1f | %ld | %lld | %.3f |\n", rd.mock.records_per_sec,
           rd.mock.mb_per_sec, rd.mock.errors, static_cast<long long>(rd.mock.kept), per_record_us(rd.mock.client_cpu_s));
  }
  printf("\n| round | broker-ref / mock | broker-ref CPU s | us per record | minor faults | context switches |\n"
         "|---|---|---|---|---|---|\n");
  std::vector<double> ratios;
  double cpu = 0;
  for (size_t r = 0; r < done.size(); ++r) {
    const Round& rd = done[r];
    ratios.push_back(rd.ref.records_per_sec / rd.mock.records_per_sec);
    cpu += rd.ref_use.cpu_s;
    printf("| %zu%s | %.2fx | %.2f | %.3f | %llu | %llu |\n", r + 1, rd.mock_first ? " (mock first)" : "",
           ratios.back(), rd.ref_use.cpu_s, rd.ref_use.cpu_s * 1e6 / static_cast<double>(records),
           rd.ref_use.minor_faults, rd.ref_use.switches);
  }
  std::sort(ratios.begin(), ratios.end());
  auto median_of = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  double log_sum = 0;
  size_t at_least_one = 0;
  std::vector<double> ref_cpu, mock_cpu;
  for (double x : ratios) {
    log_sum += std::log(x);
    if (x >= 1.0) ++at_least_one;
  }
  for (const Round& rd : done) {
    ref_cpu.push_back(per_record_us(rd.ref.client_cpu_s));
    mock_cpu.push_back(per_record_us(rd.mock.client_cpu_s));
  }
  printf("\nbroker-ref / mock: median %.2fx, geometric mean %.2fx (min %.2fx, max %.2fx; %zu of %d rounds at 1.0x or "
         "more); broker-ref %.3f CPU us per record; producer CPU us per record, median: %.3f into broker-ref, %.3f "
         "into the mock\n\n",
         median_of(ratios), std::exp(log_sum / static_cast<double>(ratios.size())), ratios.front(), ratios.back(),
         at_least_one, rounds, cpu * 1e6 / static_cast<double>(records) / rounds, median_of(ref_cpu),
         median_of(mock_cpu));
  if (only_small) return 0;

  // 2. 10 KB records vs loopback bandwidth, on a new broker-ref that parts
  // 3 and 4 then use.
  BrokerProcess br = start_broker_ref(exe, {}, false, data_root);
  ::sync();
  double loop = loopback_mb_per_sec(size_t{4} << 30);
  // 500 MB per run: more would measure the disk (the kernel throttles
  // writers once dirty pages pile up), not broker-ref. ABBA order, best of
  // two each, so that neither client always runs second.
  const long ingest_records = 50000;
  auto synced = [](ProduceResult (*fn)(const std::string&, const std::string&, long, size_t), const std::string& b,
                   const char* topic) {
    ::sync();
    return fn(b, topic, ingest_records, 10240);
  };
  ProduceResult big = synced(produce, br.bootstrap, "bench10k");
  ProduceResult big_kfk = synced(produce_kfk, br.bootstrap, "bench10k-kfk");
  ProduceResult big_kfk2 = synced(produce_kfk, br.bootstrap, "bench10k-kfk");
  ProduceResult big2 = synced(produce, br.bootstrap, "bench10k");
  if (big2.mb_per_sec > big.mb_per_sec) big = big2;
  if (big_kfk2.mb_per_sec > big_kfk.mb_per_sec) big_kfk = big_kfk2;
  printf("| 10 KB records into broker-ref (best of two, ABBA) | MB/s |\n|---|---|\n");
  printf("| loopback TCP (one stream, same run) | %.0f |\n", loop);
  printf("| broker-ref ingest (librdkafka producer, acks=1) | %.0f (%.0f%% of loopback) |\n", big.mb_per_sec,
         100.0 * big.mb_per_sec / loop);
  printf("| broker-ref ingest (kfk producer, acks=1) | %.0f (%.0f%% of loopback) |\n\n", big_kfk.mb_per_sec,
         100.0 * big_kfk.mb_per_sec / loop);

  // 3. Read a large partition.
  long per_record = 10240;
  long need = static_cast<long>(read_gb * 1e9);
  long have = 2 * ingest_records * per_record;
  if (have < need) produce_kfk(br.bootstrap, "bench10k", (need - have) / per_record + 1, per_record);
  double read_mb = consume_all(br.bootstrap, "bench10k", need);
  double read_mb_kfk = consume_all_kfk(br.bootstrap, "bench10k", need);
  read_mb_kfk = std::max(read_mb_kfk, consume_all_kfk(br.bootstrap, "bench10k", need));
  read_mb = std::max(read_mb, consume_all(br.bootstrap, "bench10k", need));
  printf("| reading %.1f GB of one partition from broker-ref (best of two, ABBA) | MB/s |\n|---|---|\n", read_gb);
  printf("| librdkafka consumer | %.0f |\n| kfk consumer | %.0f |\n\n", read_mb, read_mb_kfk);

  // 4. Resident memory while holding a large log.
  long hold = static_cast<long>(hold_gb * 1e9);
  long written = std::max(need, have) + 2 * ingest_records * per_record;  // and bench10k-kfk
  if (written < hold) produce_kfk(br.bootstrap, "bench10k", (hold - written) / per_record + 1, per_record);
  printf("| broker-ref resident memory holding %.1f GB of log | %ld MB |\n|---|---|\n\n", hold_gb,
         rss_kb(br.pid) / 1024);
  stop_broker(br);
  return 0;
}
