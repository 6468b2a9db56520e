// Producer benchmark: kfk and librdkafka side by side, in one run, on the
// same broker (librdkafka's mock cluster, and broker-ref as a child process).
//
//   bench_producer --broker-ref PATH [--records N] [--rss-records N] [-X key=value]...
//
// While iterating on one part (see --help): --size/--acks/--codec/--broker
// pick throughput cells, --repeat K runs each pair K times (alternating
// which client goes first), --latency-only/--no-latency/--rate R/
// --latency-runs K pick the latency part, -K/-R set kfk-only and
// librdkafka-only properties.
//
// 1. Throughput (records/s, MB/s) for 100-byte and 1 KB records, acks=1 and
//    acks=all with idempotence, no compression and lz4, linger.ms=5 and
//    batch.size=1000000 (librdkafka's default; Java's is 16384) for both
//    clients, each otherwise with its defaults (-X applies to both and
//    overrides these).
// 2. Latency: both clients sending at a fixed 50% of librdkafka's maximum
//    rate (100-byte records, acks=all, idempotent): send-to-callback p50 and
//    p99.
// 3. kfk's peak resident memory while sending --rss-records 100-byte records
//    (default 10 million) to broker-ref, against buffer.memory + 32 MB.
//
// Nothing here asserts: it prints tables for the closing notes.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "kfk/producer.h"

namespace {

using Clock = std::chrono::steady_clock;
using Extra = std::vector<std::pair<std::string, std::string>>;

double now_us() { return std::chrono::duration<double, std::micro>(Clock::now().time_since_epoch()).count(); }

struct Cell {
  size_t size;
  bool idempotent;  // acks=all + enable.idempotence, else acks=1
  const char* codec;
};

struct Result {
  double records_per_sec = 0, mb_per_sec = 0;
  long errors = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double cpu_s = 0, broker_cpu_s = 0;  // CPU time of this process and of broker-ref during the run
};

// CPU seconds (user + system) of this process, and of broker-ref (its
// /proc stat; 0 without one): with other work on the machine, CPU time per
// byte says more than wall-clock throughput.
pid_t g_broker_pid = -1;
double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double broker_cpu_s() {
  if (g_broker_pid <= 0) return 0;
  FILE* f = fopen(("/proc/" + std::to_string(g_broker_pid) + "/stat").c_str(), "r");
  if (f == nullptr) return 0;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char* p = strrchr(buf, ')');  // fields after the command name; utime, stime are 14 and 15
  unsigned long ut = 0, st = 0;
  if (p == nullptr || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return 0;
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Per-record latencies (ms) -> p50/p99.
void percentiles(std::vector<float>& lat, Result& r) {
  if (lat.empty()) return;
  std::sort(lat.begin(), lat.end());
  r.p50_ms = lat[lat.size() / 2];
  r.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  r.p999_ms = lat[std::min(lat.size() - 1, lat.size() * 999 / 1000)];
  r.max_ms = lat.back();
}

// Sleeps until record i is due at `rate` records/s (0: no limit).
void pace(long i, double rate, Clock::time_point start) {
  if (rate <= 0) return;
  auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
  if (Clock::now() < due) std::this_thread::sleep_until(due);
}

// --- librdkafka ---------------------------------------------------------------

struct RdState {
  std::atomic<long> done{0}, errors{0};
  std::vector<float>* lat = nullptr;
  std::vector<double>* sent_at = nullptr;
};

void rd_dr(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<RdState*>(opaque);
  if (m->err) st->errors++;
  if (st->lat != nullptr) {
    auto i = reinterpret_cast<uintptr_t>(m->_private);
    (*st->lat)[i] = static_cast<float>((now_us() - (*st->sent_at)[i]) / 1000.0);
  }
  st->done++;
}

Result run_rdkafka(const std::string& bootstrap, const std::string& topic, const Cell& c, long n, double rate,
                   const Extra& extra) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  Extra settings = {{"bootstrap.servers", bootstrap},
                    {"linger.ms", "5"},
                    {"acks", c.idempotent ? "all" : "1"},
                    {"enable.idempotence", c.idempotent ? "true" : "false"},
                    {"compression.codec", c.codec},
                    {"queue.buffering.max.messages", "2000000"},
                    {"log_level", "0"}};
  for (const auto& kv : extra) settings.push_back(kv);
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "librdkafka: %s\n", err);
      exit(2);
    }
  RdState st;
  std::vector<float> lat;
  std::vector<double> sent_at;
  if (rate > 0) {
    lat.assign(static_cast<size_t>(n), 0);
    sent_at.assign(static_cast<size_t>(n), 0);
    st.lat = &lat;
    st.sent_at = &sent_at;
  }
  rd_kafka_conf_set_opaque(conf, &st);
  rd_kafka_conf_set_dr_msg_cb(conf, rd_dr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  std::string payload(c.size, 'x');
  // Warm up (metadata, connections, producer id) outside the clock.
  {
    auto* l = st.lat;
    st.lat = nullptr;
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 30000);
    st.lat = l;
    st.done = 0;
    st.errors = 0;
  }
  const auto start = Clock::now();
  const double cpu0 = process_cpu_s(), bcpu0 = broker_cpu_s();
  for (long i = 0; i < n; ++i) {
    pace(i, rate, start);
    if (rate > 0) sent_at[static_cast<size_t>(i)] = now_us();
    while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(i))),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(rk, 1);
    if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 120000);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  Result r;
  r.cpu_s = process_cpu_s() - cpu0;
  r.broker_cpu_s = broker_cpu_s() - bcpu0;
  rd_kafka_destroy(rk);
  r.records_per_sec = static_cast<double>(n) / secs;
  r.mb_per_sec = r.records_per_sec * static_cast<double>(c.size) / 1e6;
  r.errors = st.errors + (n - st.done);
  if (rate > 0) percentiles(lat, r);
  return r;
}

// --- kfk ------------------------------------------------------------------------

Result run_kfk(const std::string& bootstrap, const std::string& topic, const Cell& c, long n, double rate,
               const Extra& extra) {
  kfk::Config config{{"bootstrap.servers", bootstrap},
                     {"linger.ms", "5"},
                     {"acks", c.idempotent ? "all" : "1"},
                     {"enable.idempotence", c.idempotent ? "true" : "false"},
                     {"compression.type", c.codec}};
  for (const auto& [k, v] : extra) config.set(k, v);
  std::unique_ptr<kfk::Producer> p;
  kfk::Error e = kfk::Producer::create(config, &p);
  if (!e.ok()) {
    fprintf(stderr, "kfk: %s\n", e.to_string().c_str());
    exit(2);
  }
  std::string payload(c.size, 'x');
  if (!p->send(kfk::ProducerRecord(topic, kfk::Bytes::borrow(payload))).get().error.ok()) {
    fprintf(stderr, "kfk: warm-up send failed\n");
  }
  std::atomic<long> done{0}, errors{0};
  std::vector<float> lat(rate > 0 ? static_cast<size_t>(n) : 0);
  const auto start = Clock::now();
  const double cpu0 = process_cpu_s(), bcpu0 = broker_cpu_s();
  for (long i = 0; i < n; ++i) {
    pace(i, rate, start);
    kfk::ProducerRecord rec;
    rec.topic = topic;
    rec.value = kfk::Bytes::borrow(payload);
    if (rate > 0) {
      const double t0 = now_us();
      p->send(std::move(rec), [&, i, t0](const kfk::RecordMetadata&, const kfk::Error& err) {
        if (!err.ok()) errors++;
        lat[static_cast<size_t>(i)] = static_cast<float>((now_us() - t0) / 1000.0);
        done++;
      });
    } else {
      p->send(std::move(rec), [&](const kfk::RecordMetadata&, const kfk::Error& err) {
        if (!err.ok()) errors++;
        done++;
      });
    }
  }
  (void)p->flush(std::chrono::seconds(120));
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  Result r;
  r.cpu_s = process_cpu_s() - cpu0;
  r.broker_cpu_s = broker_cpu_s() - bcpu0;
  (void)p->close(std::chrono::seconds(10));
  r.records_per_sec = static_cast<double>(n) / secs;
  r.mb_per_sec = r.records_per_sec * static_cast<double>(c.size) / 1e6;
  r.errors = errors + (n - done);
  if (rate > 0) percentiles(lat, r);
  return r;
}

// Round k of a pair: a then b on even rounds, b then a on odd ones, so
// neither client always runs first.
template <class A, class B>
void in_turn(int k, A& a, B& b) {
  if (k % 2 == 0) {
    a();
    b();
  } else {
    b();
    a();
  }
}

// Child process: send `n` 100-byte records with kfk, print peak RSS (KB).
int rss_child(const std::string& bootstrap, long n) {
  std::unique_ptr<kfk::Producer> p;
  kfk::Error e = kfk::Producer::create({{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}}, &p);
  if (!e.ok()) return 2;
  std::string payload(100, 'x');
  std::atomic<long> errors{0};
  for (long i = 0; i < n; ++i) {
    kfk::ProducerRecord rec;
    rec.topic = "rss";
    rec.value = kfk::Bytes::borrow(payload);
    p->send(std::move(rec), [&](const kfk::RecordMetadata&, const kfk::Error& err) {
      if (!err.ok()) errors++;
    });
  }
  (void)p->flush(std::chrono::seconds(300));
  (void)p->close(std::chrono::seconds(10));
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  printf("%ld %ld\n", ru.ru_maxrss, errors.load());
  return 0;
}

bool g_cpu_columns = false;  // --cpu

void print_row(const char* broker, const Cell& c, const Result& rd, const Result& kf) {
  printf("| %s | %zu B | %s | %s | %.0f | %.0f | %.2fx | %.1f | %.1f | %ld / %ld |", broker, c.size,
         c.idempotent ? "all, idempotent" : "1", c.codec, rd.records_per_sec, kf.records_per_sec,
         kf.records_per_sec / rd.records_per_sec, rd.mb_per_sec, kf.mb_per_sec, rd.errors, kf.errors);
  if (g_cpu_columns)
    printf(" %.2f / %.2f | %.2f / %.2f |", rd.cpu_s, kf.cpu_s, rd.broker_cpu_s, kf.broker_cpu_s);
  printf("\n");
  fflush(stdout);
}

int usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s --broker-ref PATH [options]\n"
          "  --records N        records per throughput cell (1 KB cells: a quarter; --size: exactly N)\n"
          "  --rss-records N    records of the resident-memory run (0: skip)\n"
          "  --size N           throughput cells of N-byte records only (any size)\n"
          "  --acks 1|all       throughput cells with that acks only (all: idempotent)\n"
          "  --codec C          throughput cells with that codec only\n"
          "  --broker mock|broker-ref   throughput cells on that broker only\n"
          "  --repeat K         run each throughput pair K times, alternating which client goes first\n"
          "  --kfk-only         skip librdkafka's runs (with --latency-only, give --rate)\n"
          "  --rd-only          skip kfk's runs\n"
          "  --cpu              add CPU seconds used by the client process and by broker-ref per run\n"
          "  --no-latency       skip the latency part\n"
          "  --latency-only     skip the throughput table (librdkafka's maximum rate is still measured\n"
          "                     once, unless --rate)\n"
          "  --rate R           latency part at R records/s\n"
          "  --latency-runs K   latency part K times, alternating which client goes first\n"
          "  -X key=value       property for both clients\n"
          "  -K key=value       property for kfk only\n"
          "  -R key=value       property for librdkafka only\n",
          argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker_ref;
  long records = 500000, rss_records = 10000000;
  // The same batch size for both: -X batch.size=... overrides.
  std::string only_codec, only_acks, only_broker;
  size_t only_size = 0;
  bool kfk_only = false, rd_only = false, latency = true, throughput = true;
  int repeat = 1, latency_runs = 1;
  double fixed_rate = 0;
  Extra extra = {{"batch.size", "1000000"}}, kfk_extra, rd_extra;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const bool has_arg = i + 1 < argc;
    if (a == "--rss-child" && i + 2 < argc) return rss_child(argv[i + 1], std::atol(argv[i + 2]));
    if (a == "--broker-ref" && has_arg) {
      broker_ref = argv[++i];
    } else if (a == "--records" && has_arg) {
      records = std::atol(argv[++i]);
    } else if (a == "--kfk-only") {
      kfk_only = true;
    } else if (a == "--rd-only") {
      rd_only = true;
    } else if (a == "--codec" && has_arg) {
      only_codec = argv[++i];
    } else if (a == "--acks" && has_arg) {
      only_acks = argv[++i];
    } else if (a == "--broker" && has_arg) {
      only_broker = argv[++i];
    } else if (a == "--size" && has_arg) {
      only_size = static_cast<size_t>(std::atol(argv[++i]));
    } else if (a == "--repeat" && has_arg) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--cpu") {
      g_cpu_columns = true;
    } else if (a == "--no-latency") {
      latency = false;
    } else if (a == "--latency-only") {
      throughput = false;
    } else if (a == "--rate" && has_arg) {
      fixed_rate = std::atof(argv[++i]);
    } else if (a == "--latency-runs" && has_arg) {
      latency_runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--rss-records" && has_arg) {
      rss_records = std::atol(argv[++i]);
    } else if ((a == "-X" || a == "-K" || a == "-R") && has_arg) {
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        fprintf(stderr, "%s wants key=value\n", a.c_str());
        return 2;
      }
      (a == "-X" ? extra : a == "-K" ? kfk_extra : rd_extra).emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      return usage(argv[0]);
    }
  }
  Extra kfk_settings = extra, rd_settings = extra;
  kfk_settings.insert(kfk_settings.end(), kfk_extra.begin(), kfk_extra.end());
  rd_settings.insert(rd_settings.end(), rd_extra.begin(), rd_extra.end());

  std::vector<Cell> cells = {
      {100, false, "none"}, {100, false, "lz4"}, {100, true, "none"}, {100, true, "lz4"},
      {1024, false, "none"}, {1024, false, "lz4"}, {1024, true, "none"}, {1024, true, "lz4"},
  };
  if (only_size != 0 && only_size != 100 && only_size != 1024) {
    cells = {{only_size, false, "none"}, {only_size, false, "lz4"}, {only_size, true, "none"}, {only_size, true, "lz4"}};
  }
  auto selected = [&](const Cell& c) {
    if (only_size != 0 && c.size != only_size) return false;
    if (!only_codec.empty() && only_codec != c.codec) return false;
    if (only_acks == "1" && c.idempotent) return false;
    if (only_acks == "all" && !c.idempotent) return false;
    return true;
  };

  // librdkafka's mock cluster, in this process.
  char err[512];
  rd_kafka_conf_t* mconf = rd_kafka_conf_new();
  rd_kafka_conf_set(mconf, "log_level", "0", err, sizeof err);
  rd_kafka_t* mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof err);
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(mrk, 1);
  const std::string mock_bootstrap = rd_kafka_mock_cluster_bootstraps(mc);

  bench::BrokerProcess br;
  if (!broker_ref.empty()) br = bench::start_broker_ref(broker_ref);
  g_broker_pid = br.pid;

  int topic_no = 0;
  auto new_topic = [&](bool on_mock) {
    std::string t = "bench-" + std::to_string(topic_no++);
    if (on_mock) rd_kafka_mock_topic_create(mc, t.c_str(), 1, 1);
    return t;
  };
  // The latency part runs at half of librdkafka's maximum rate for 100 B,
  // acks=all, idempotent, no compression (on broker-ref when there is one).
  const Cell max_cell{100, true, "none"};
  double rd_max_rate = fixed_rate > 0 ? fixed_rate * 2 : 0;

  if (throughput) {
    printf("## Throughput (%ld records per cell%s, linger.ms=5", records,
           only_size != 0 ? "" : " (1 KB: a quarter)");
    for (const auto& [k, v] : extra) printf(", %s=%s", k.c_str(), v.c_str());
    for (const auto& [k, v] : kfk_extra) printf(", kfk %s=%s", k.c_str(), v.c_str());
    for (const auto& [k, v] : rd_extra) printf(", librdkafka %s=%s", k.c_str(), v.c_str());
    printf(")\n\n");
    printf("| broker | record | acks | codec | librdkafka rec/s | kfk rec/s | kfk/librdkafka | librdkafka MB/s | kfk MB/s | errors (rd / kfk) |%s\n",
           g_cpu_columns ? " client CPU s (rd / kfk) | broker CPU s (rd / kfk) |" : "");
    printf("|---|---|---|---|---|---|---|---|---|---|%s\n", g_cpu_columns ? "---|---|" : "");
    for (int b = 0; b < (br.pid > 0 ? 2 : 1); ++b) {
      const std::string& bootstrap = b == 0 ? mock_bootstrap : br.bootstrap;
      const char* name = b == 0 ? "mock" : "broker-ref";
      if (!only_broker.empty() && only_broker != name) continue;
      for (const Cell& c : cells) {
        if (!selected(c)) continue;
        const long n = only_size != 0 ? records : c.size >= 1024 ? records / 4 : records;
        for (int k = 0; k < repeat; ++k) {
          const std::string t1 = new_topic(b == 0), t2 = new_topic(b == 0);
          Result rd, kf;
          auto run_rd = [&] { rd = kfk_only ? Result{1, 1, 0} : run_rdkafka(bootstrap, t1, c, n, 0, rd_settings); };
          auto run_kf = [&] { kf = rd_only ? Result{1, 1, 0} : run_kfk(bootstrap, t2, c, n, 0, kfk_settings); };
          in_turn(k, run_rd, run_kf);
          const bool is_max_cell = c.size == max_cell.size && c.idempotent && std::string(c.codec) == "none";
          if (fixed_rate <= 0 && is_max_cell && !kfk_only && (b == 1 || br.pid <= 0))
            rd_max_rate = std::max(rd_max_rate, rd.records_per_sec);
          print_row(name, c, rd, kf);
        }
      }
    }
  }

  const bool lat_on_ref = br.pid > 0;
  const std::string& lat_bootstrap = lat_on_ref ? br.bootstrap : mock_bootstrap;
  if (latency && rd_max_rate <= 0) {
    rd_max_rate = run_rdkafka(lat_bootstrap, new_topic(!lat_on_ref), max_cell, records, 0, rd_settings).records_per_sec;
  }
  if (latency) {
    const double rate = rd_max_rate / 2;
    const long lat_n = std::max<long>(static_cast<long>(rate * 10), 1000);  // about 10 s each
    printf("\n## Latency at %.0f records/s (%s), %s, 100 B, acks=all, idempotent\n\n", rate,
           fixed_rate > 0 ? "--rate" : "50% of librdkafka's maximum", lat_on_ref ? "broker-ref" : "mock");
    printf("| client | p50 ms | p99 ms | p99.9 ms | max ms | errors | client CPU s |\n|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < latency_runs; ++k) {
      Result rd, kf;
      auto run_rd = [&] {
        if (!kfk_only) rd = run_rdkafka(lat_bootstrap, new_topic(!lat_on_ref), max_cell, lat_n, rate, rd_settings);
      };
      auto run_kf = [&] {
        if (!rd_only) kf = run_kfk(lat_bootstrap, new_topic(!lat_on_ref), max_cell, lat_n, rate, kfk_settings);
      };
      in_turn(k, run_rd, run_kf);
      printf("| librdkafka | %.2f | %.2f | %.2f | %.2f | %ld | %.2f |\n| kfk | %.2f | %.2f | %.2f | %.2f | %ld | %.2f |\n",
             rd.p50_ms, rd.p99_ms, rd.p999_ms, rd.max_ms, rd.errors, rd.cpu_s, kf.p50_ms, kf.p99_ms, kf.p999_ms,
             kf.max_ms, kf.errors, kf.cpu_s);
      fflush(stdout);
    }
  }

  if (br.pid > 0 && rss_records > 0) {
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    std::string cmd = std::string(self) + " --rss-child " + br.bootstrap + " " + std::to_string(rss_records);
    FILE* f = popen(cmd.c_str(), "r");
    long rss = -1, errors = -1;
    if (f != nullptr) {
      if (fscanf(f, "%ld %ld", &rss, &errors) != 2) rss = -1;
      pclose(f);
    }
    printf("\n## Resident memory, kfk sending %ld records of 100 B to broker-ref\n\n", rss_records);
    printf("| peak RSS | buffer.memory + 32 MB | errors |\n|---|---|---|\n");
    printf("| %.1f MB | %.1f MB | %ld |\n", static_cast<double>(rss) / 1024.0, 32.0 + 32.0, errors);
  }

  if (br.pid > 0) bench::stop_broker(br);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(mrk);
  return 0;
}
