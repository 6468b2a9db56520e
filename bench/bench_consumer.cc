// Consumer benchmark: kfk and librdkafka side by side, in one run, on one
// broker-ref process (started here on a temporary directory and a free port).
//
//   bench_consumer --broker-ref PATH [--records N] [--partitions P] [--repeat N] [--rate R] [--seconds S]
//                  [--only throughput|latency|rebalance] [--kfk-only] [-X key=value]...
//
// 1. Throughput: N (default 3,000,000) 100-byte records, produced once per
//    codec (none, lz4) by kfk's producer, then read from the beginning by
//    kfk's consumer (assign + poll) and by librdkafka's consumer, both with
//    rd_kafka_consumer_poll() (one message per call) and with
//    rd_kafka_consume_batch_queue() (500 per call, kfk's max.poll.records);
//    the median of --repeat runs (default 3), the clients taking turns.
//    Both clients get the same fetch settings (printed); -X applies to both
//    consumers and overrides them.
// 2. End-to-end latency at a fixed rate (default 5,000 records/s for 10 s):
//    kfk producer -> kfk consumer, then librdkafka producer -> librdkafka
//    consumer, and the two mixed pairs; the value carries the steady_clock
//    time of send(), the latency ends when the consumer's poll returns it.
// 3. Rebalance time: three kfk consumers in a group (subscribe, range) on a
//    6-partition topic under a light produce load; one closes (LeaveGroup);
//    the time until the other two own all partitions again.
//
// Nothing here asserts: it prints tables for the closing notes.
#include <librdkafka/rdkafka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "kfk/admin.h"
#include "kfk/consumer.h"
#include "kfk/producer.h"

namespace {

using Clock = std::chrono::steady_clock;
using Extra = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kRecordSize = 100;
constexpr int kBatch = 500;  // kfk's max.poll.records default; librdkafka's batch size

[[noreturn]] void die(const std::string& what) {
  fprintf(stderr, "bench_consumer: %s\n", what.c_str());
  exit(2);
}

double secs_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// broker-ref as a child, plus the group setting the rebalance measurement
// needs (no initial rebalance delay).
bench::BrokerProcess start_broker(const std::string& exe) {
  return bench::start_broker_ref(exe, {"group.initial.rebalance.delay.ms=0"}, /*log_to_file=*/true);
}

void create_topic(const std::string& bootstrap, const std::string& topic, int partitions) {
  std::unique_ptr<kfk::Admin> admin;
  if (kfk::Error e = kfk::Admin::create({{"bootstrap.servers", bootstrap}}, &admin); !e.ok()) die(e.to_string());
  kfk::CreateTopicsResult res;
  kfk::Error e = admin->create_topics({kfk::NewTopic{topic, partitions, 1, {}}}, &res);
  if (e.ok()) e = res.topics[topic].error;
  if (!e.ok()) die("create " + topic + ": " + e.to_string());
}

// A JSON-ish 100-byte value: a fixed template with varying fields, so lz4
// has something (but not everything) to compress.
void fill_value(long i, char* out) {
  static const char* kStates[] = {"new", "paid", "shipped", "returned", "cancelled"};
  uint64_t h = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
  char buf[160];
  int n = snprintf(buf, sizeof buf, "{\"seq\":%ld,\"user\":\"u%05u\",\"amount\":%u.%02u,\"state\":\"%s\",\"h\":\"%016llx\"}",
                   i, static_cast<unsigned>(h >> 48) % 100000, static_cast<unsigned>(h >> 20) % 10000,
                   static_cast<unsigned>(h >> 8) % 100, kStates[(h >> 40) % 5], static_cast<unsigned long long>(h));
  size_t len = std::min(static_cast<size_t>(n), kRecordSize);
  memcpy(out, buf, len);
  memset(out + len, ' ', kRecordSize - len);
}

void produce_kfk(const std::string& bootstrap, const std::string& topic, long n, const char* codec) {
  std::unique_ptr<kfk::Producer> p;
  kfk::Error e = kfk::Producer::create({{"bootstrap.servers", bootstrap},
                                        {"linger.ms", "5"},
                                        {"batch.size", "1000000"},
                                        {"acks", "1"},
                                        {"enable.idempotence", "false"},
                                        {"compression.type", codec}},
                                       &p);
  if (!e.ok()) die(e.to_string());
  std::atomic<long> errors{0};
  char value[kRecordSize];
  for (long i = 0; i < n; ++i) {
    fill_value(i, value);
    p->send(kfk::ProducerRecord(topic, kfk::Bytes::borrow(std::string_view(value, kRecordSize))),
            [&](const kfk::RecordMetadata&, const kfk::Error& err) {
              if (!err.ok()) errors++;
            });
  }
  (void)p->flush(std::chrono::seconds(300));
  (void)p->close(std::chrono::seconds(10));
  if (errors != 0) die("producing " + topic + ": " + std::to_string(errors.load()) + " records failed");
}

// --- 1. Throughput --------------------------------------------------------------

struct Throughput {
  double secs = 0;
  long records = 0;
  long bytes = 0;
  unsigned checksum = 0;  // touches every value so no client skips work
};

// Settings for both consumers (kfk name, librdkafka name, value).
struct Setting {
  const char* kfk;
  const char* rd;
  std::string value;
};

std::vector<Setting> fetch_settings(const Extra& extra) {
  std::vector<Setting> s = {
      {"fetch.min.bytes", "fetch.min.bytes", "1"},
      {"fetch.max.wait.ms", "fetch.wait.max.ms", "500"},
      {"fetch.max.bytes", "fetch.max.bytes", "52428800"},
      {"max.partition.fetch.bytes", "max.partition.fetch.bytes", "1048576"},
      {"check.crcs", "check.crcs", "true"},
  };
  for (const auto& [k, v] : extra)
    for (auto& x : s)
      if (k == x.kfk || k == x.rd) x.value = v;
  return s;
}

Throughput consume_kfk(const std::string& bootstrap, const std::string& topic, int partitions, long n,
                       const Extra& extra, int run) {
  kfk::Config config{{"bootstrap.servers", bootstrap},
                     {"group.id", "bench-kfk-" + std::to_string(run)},
                     {"enable.auto.commit", "false"},
                     {"auto.offset.reset", "earliest"}};
  for (const auto& s : fetch_settings(extra)) config.set(s.kfk, s.value);
  for (const auto& [k, v] : extra) config.set(k, v);
  Throughput t;
  const auto start = Clock::now();
  std::unique_ptr<kfk::Consumer> c;
  if (kfk::Error e = kfk::Consumer::create(config, &c); !e.ok()) die(e.to_string());
  std::vector<kfk::TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.emplace_back(topic, p);
  if (kfk::Error e = c->assign(tps); !e.ok()) die(e.to_string());
  auto idle_since = Clock::now();
  while (t.records < n) {
    kfk::ConsumerRecords recs = c->poll(std::chrono::milliseconds(1000));
    if (!recs.error().ok()) die("kfk poll: " + recs.error().to_string());
    if (recs.empty()) {
      if (secs_since(idle_since) > 30) die("kfk consumer stalled at " + std::to_string(t.records));
      continue;
    }
    idle_since = Clock::now();
    for (const kfk::ConsumerRecord& r : recs) {
      t.records++;
      t.bytes += static_cast<long>(r.value->size());
      t.checksum += static_cast<unsigned char>((*r.value)[kRecordSize / 2]);
    }
  }
  t.secs = secs_since(start);
  (void)c->close(std::chrono::seconds(10));
  return t;
}

rd_kafka_t* rd_consumer(const std::string& bootstrap, const std::string& group, const Extra& settings) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) die("librdkafka: " + std::string(err));
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    die(err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) die(err);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

void rd_assign(rd_kafka_t* rk, const std::string& topic, int partitions, int64_t offset) {
  rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(l, topic.c_str(), p)->offset = offset;
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, l); e != 0) die(std::string("rd_kafka_assign: ") + rd_kafka_err2str(e));
  rd_kafka_topic_partition_list_destroy(l);
}

Throughput consume_rd(const std::string& bootstrap, const std::string& topic, int partitions, long n,
                      const Extra& extra, bool batch, int run) {
  Extra settings = {{"enable.auto.commit", "false"},
                    {"auto.offset.reset", "earliest"},
                    {"enable.partition.eof", "false"},
                    {"log_level", "0"}};
  for (const auto& s : fetch_settings(extra)) settings.emplace_back(s.rd, s.value);
  for (const auto& kv : extra) settings.push_back(kv);
  Throughput t;
  const auto start = Clock::now();
  rd_kafka_t* rk = rd_consumer(bootstrap, "bench-rd-" + std::to_string(run), settings);
  rd_assign(rk, topic, partitions, RD_KAFKA_OFFSET_BEGINNING);
  rd_kafka_queue_t* q = batch ? rd_kafka_queue_get_consumer(rk) : nullptr;
  std::vector<rd_kafka_message_t*> msgs(kBatch);
  auto idle_since = Clock::now();
  auto take = [&](rd_kafka_message_t* m) {
    if (m->err != 0) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) die(std::string("librdkafka: ") + rd_kafka_message_errstr(m));
    } else {
      t.records++;
      t.bytes += static_cast<long>(m->len);
      t.checksum += static_cast<const unsigned char*>(m->payload)[kRecordSize / 2];
    }
    rd_kafka_message_destroy(m);
  };
  while (t.records < n) {
    size_t got = 0;
    if (batch) {
      ssize_t r = rd_kafka_consume_batch_queue(q, 1000, msgs.data(), msgs.size());
      if (r < 0) die("rd_kafka_consume_batch_queue failed");
      got = static_cast<size_t>(r);
      for (size_t i = 0; i < got; ++i) take(msgs[i]);
    } else if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 1000)) {
      got = 1;
      take(m);
    }
    if (got == 0 && secs_since(idle_since) > 30) die("librdkafka consumer stalled at " + std::to_string(t.records));
    if (got != 0) idle_since = Clock::now();
  }
  t.secs = secs_since(start);
  if (q != nullptr) rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return t;
}

void print_throughput(const char* codec, const char* client, const Throughput& t, const Throughput* base) {
  double rps = static_cast<double>(t.records) / t.secs;
  printf("| %s | %s | %.0f | %.1f | %.2f s |", codec, client, rps, static_cast<double>(t.bytes) / t.secs / 1e6, t.secs);
  if (base != nullptr)
    printf(" %.2fx |\n", rps / (static_cast<double>(base->records) / base->secs));
  else
    printf(" |\n");
  fflush(stdout);
}

// The run with the median time.
Throughput median(std::vector<Throughput> runs) {
  std::sort(runs.begin(), runs.end(), [](const Throughput& a, const Throughput& b) { return a.secs < b.secs; });
  return runs[runs.size() / 2];
}

void run_throughput(const std::string& bootstrap, long n, int partitions, int repeat, bool kfk_only,
                    const Extra& extra) {
  printf("## Consumer throughput: %ld records of %zu B, %d partition(s), from the beginning, median of %d runs\n\n",
         n, kRecordSize, partitions, repeat);
  printf("Same settings for both consumers:");
  for (const auto& s : fetch_settings(extra)) printf(" %s=%s", s.kfk, s.value.c_str());
  printf(" (librdkafka: fetch.wait.max.ms), assign(), group.id set, no commits; kfk max.poll.records=500,"
         " librdkafka batch = 500; other settings are each client's defaults");
  for (const auto& [k, v] : extra) printf(", -X %s=%s", k.c_str(), v.c_str());
  printf(". Time from creating the consumer to the last record; the clients take turns. Producer: kfk,"
         " linger.ms=5, batch.size=1000000.\n\n");
  printf("| codec | client | records/s | MB/s | time | kfk/this |\n|---|---|---|---|---|---|\n");
  int run = 0;
  for (const char* codec : {"none", "lz4"}) {
    const std::string topic = std::string("tput-") + codec;
    create_topic(bootstrap, topic, partitions);
    auto t0 = Clock::now();
    produce_kfk(bootstrap, topic, n, codec);
    fprintf(stderr, "produced %ld %s records in %.1f s\n", n, codec, secs_since(t0));
    // One read before the measured runs, so that every run finds the log
    // in the page cache.
    consume_kfk(bootstrap, topic, partitions, n, extra, run++);
    std::vector<Throughput> kf, rd_poll, rd_batch;
    for (int r = 0; r < repeat; ++r) {
      kf.push_back(consume_kfk(bootstrap, topic, partitions, n, extra, run++));
      if (kfk_only) continue;
      rd_poll.push_back(consume_rd(bootstrap, topic, partitions, n, extra, false, run++));
      rd_batch.push_back(consume_rd(bootstrap, topic, partitions, n, extra, true, run++));
      if (rd_poll.back().checksum != kf.back().checksum || rd_batch.back().checksum != kf.back().checksum ||
          rd_poll.back().bytes != kf.back().bytes)
        fprintf(stderr, "warning: the clients saw different data\n");
    }
    Throughput k = median(kf);
    if (kfk_only) {
      print_throughput(codec, "kfk", k, nullptr);
      continue;
    }
    Throughput p = median(rd_poll), b = median(rd_batch);
    print_throughput(codec, "librdkafka rd_kafka_consumer_poll", p, nullptr);
    print_throughput(codec, "librdkafka rd_kafka_consume_batch_queue", b, nullptr);
    print_throughput(codec, "kfk (vs the faster librdkafka)", k, p.secs < b.secs ? &p : &b);
  }
  printf("\n");
}

// --- 2. End-to-end latency -------------------------------------------------------

// The value: send time (steady_clock ns) and sequence number (-1: warm-up),
// padded to 100 bytes.
struct Stamp {
  int64_t sent_ns;
  int64_t seq;
};

struct LatencySink {
  std::vector<float> ms;  // per sequence number; <0: not received
  std::atomic<long> received{0};
  std::atomic<bool> warm{false};
  std::atomic<long> duplicates{0};

  void on_value(const void* data, size_t len) {
    if (len < sizeof(Stamp)) return;
    Stamp s;
    memcpy(&s, data, sizeof s);
    if (s.seq < 0) {
      warm = true;
      return;
    }
    if (s.seq >= static_cast<int64_t>(ms.size())) return;
    float& slot = ms[static_cast<size_t>(s.seq)];
    if (slot >= 0) {
      duplicates++;
      return;
    }
    slot = static_cast<float>(static_cast<double>(now_ns() - s.sent_ns) / 1e6);
    received++;
  }
};

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
  long received = 0, sent = 0, duplicates = 0;
};

Latency summarize(LatencySink& sink, long sent) {
  Latency l;
  std::vector<float> v;
  for (float x : sink.ms)
    if (x >= 0) v.push_back(x);
  l.sent = sent;
  l.received = static_cast<long>(v.size());
  l.duplicates = sink.duplicates;
  if (v.empty()) return l;
  std::sort(v.begin(), v.end());
  l.p50 = v[v.size() / 2];
  l.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  l.max = v.back();
  return l;
}

// Sends warm-up records until the consumer sees one, then `n` records at
// `rate`, then waits (up to 10 s) for the consumer to get them all.
template <class SendFn>
void drive(LatencySink& sink, long n, double rate, SendFn send) {
  char value[kRecordSize] = {};
  auto stamp_and_send = [&](int64_t seq) {
    Stamp s{now_ns(), seq};
    memcpy(value, &s, sizeof s);
    send(value);
  };
  const auto warm_deadline = Clock::now() + std::chrono::seconds(30);
  while (!sink.warm && Clock::now() < warm_deadline) {
    stamp_and_send(-1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!sink.warm) die("latency: the consumer never saw a warm-up record");
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
    if (Clock::now() < due) std::this_thread::sleep_until(due);
    stamp_and_send(i);
  }
  const auto end = Clock::now() + std::chrono::seconds(10);
  while (sink.received < n && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// One producer -> consumer pair on its own topic; each side kfk or
// librdkafka.
Latency latency_pair(const std::string& bootstrap, const std::string& topic, bool kfk_producer, bool kfk_consumer,
                     long n, double rate, const Extra& extra) {
  create_topic(bootstrap, topic, 1);
  LatencySink sink;
  sink.ms.assign(static_cast<size_t>(n), -1.0f);
  std::atomic<bool> stop{false};
  std::unique_ptr<kfk::Consumer> kc;
  rd_kafka_t* rc = nullptr;
  std::thread consumer;
  if (kfk_consumer) {
    kfk::Config cc{{"bootstrap.servers", bootstrap}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}};
    for (const auto& [k, v] : extra) cc.set(k, v);
    if (kfk::Error e = kfk::Consumer::create(cc, &kc); !e.ok()) die(e.to_string());
    if (kfk::Error e = kc->assign({kfk::TopicPartition(topic, 0)}); !e.ok()) die(e.to_string());
    consumer = std::thread([&] {
      while (!stop) {
        kfk::ConsumerRecords recs = kc->poll(std::chrono::milliseconds(100));
        for (const kfk::ConsumerRecord& r : recs) sink.on_value(r.value->data(), r.value->size());
      }
    });
  } else {
    Extra settings = {{"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}, {"log_level", "0"}};
    for (const auto& kv : extra) settings.push_back(kv);
    rc = rd_consumer(bootstrap, "bench-" + topic, settings);
    rd_assign(rc, topic, 1, RD_KAFKA_OFFSET_BEGINNING);
    consumer = std::thread([&] {
      while (!stop) {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rc, 100)) {
          if (m->err == 0) sink.on_value(m->payload, m->len);
          rd_kafka_message_destroy(m);
        }
      }
    });
  }
  std::atomic<long> errors{0};
  if (kfk_producer) {
    std::unique_ptr<kfk::Producer> p;
    if (kfk::Error e = kfk::Producer::create({{"bootstrap.servers", bootstrap}, {"linger.ms", "0"}}, &p); !e.ok())
      die(e.to_string());
    drive(sink, n, rate, [&](const char* value) {
      p->send(kfk::ProducerRecord(topic, kfk::Bytes::borrow(std::string_view(value, kRecordSize))),
              [&](const kfk::RecordMetadata&, const kfk::Error& e) {
                if (!e.ok()) errors++;
              });
    });
    (void)p->close(std::chrono::seconds(10));
  } else {
    char err[512];
    rd_kafka_conf_t* pconf = rd_kafka_conf_new();
    for (auto [k, v] : std::initializer_list<std::pair<const char*, std::string>>{
             {"bootstrap.servers", bootstrap}, {"linger.ms", "0"}, {"log_level", "0"}})
      if (rd_kafka_conf_set(pconf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) die(err);
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    if (p == nullptr) die(err);
    drive(sink, n, rate, [&](const char* value) {
      while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value), kRecordSize),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p, 1);
      rd_kafka_poll(p, 0);
    });
    if (rd_kafka_flush(p, 10000) != 0) errors++;
    rd_kafka_destroy(p);
  }
  stop = true;
  consumer.join();
  if (kc) (void)kc->close(std::chrono::seconds(10));
  if (rc != nullptr) {
    rd_kafka_consumer_close(rc);
    rd_kafka_destroy(rc);
  }
  if (errors != 0) fprintf(stderr, "latency %s: %ld sends failed\n", topic.c_str(), errors.load());
  return summarize(sink, n);
}

void run_latency(const std::string& bootstrap, double rate, double seconds, bool kfk_only, const Extra& extra) {
  const long n = static_cast<long>(rate * seconds);
  printf("## End-to-end latency: %ld records of %zu B at %.0f records/s, 1 partition\n\n", n, kRecordSize, rate);
  printf("From just before send() (the time travels in the value) to the consumer's poll returning the record."
         " Producers: linger.ms=0, each client's defaults otherwise (acks=all); consumers: assign(),"
         " each client's defaults (fetch.min.bytes=1, fetch wait 500 ms)");
  for (const auto& [k, v] : extra) printf(", -X %s=%s", k.c_str(), v.c_str());
  printf("; kfk polls with poll(100 ms), librdkafka with rd_kafka_consumer_poll(100 ms). The mixed rows tell the"
         " consumers' share apart from the producers'.\n\n");
  printf("| producer -> consumer | p50 ms | p99 ms | max ms | received / sent |\n|---|---|---|---|---|\n");
  auto row = [](const char* who, const Latency& l) {
    printf("| %s | %.2f | %.2f | %.2f | %ld / %ld%s |\n", who, l.p50, l.p99, l.max, l.received, l.sent,
           l.duplicates != 0 ? " (duplicates!)" : "");
    fflush(stdout);
  };
  row("kfk -> kfk", latency_pair(bootstrap, "lat-kk", true, true, n, rate, extra));
  if (!kfk_only) {
    row("librdkafka -> librdkafka", latency_pair(bootstrap, "lat-rr", false, false, n, rate, extra));
    row("librdkafka -> kfk", latency_pair(bootstrap, "lat-rk", false, true, n, rate, extra));
    row("kfk -> librdkafka", latency_pair(bootstrap, "lat-kr", true, false, n, rate, extra));
  }
  printf("\n");
}

// --- 3. Rebalance time -----------------------------------------------------------

// A group member polling on its own thread (the consumer's one-thread
// contract: the listener runs inside poll(), close() on the same thread).
class Member : public kfk::RebalanceListener {
 public:
  Member(const kfk::Config& config, const std::string& topic) {
    kfk::ConsumerOptions o;
    o.rebalance_listener = std::shared_ptr<kfk::RebalanceListener>(this, [](kfk::RebalanceListener*) {});
    if (kfk::Error e = kfk::Consumer::create(config, &consumer_, o); !e.ok()) die(e.to_string());
    if (kfk::Error e = consumer_->subscribe({topic}); !e.ok()) die(e.to_string());
    thread_ = std::thread([this] { loop(); });
  }
  ~Member() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void on_partitions_revoked(const std::vector<kfk::TopicPartition>& ps) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& tp : ps) owned_.erase(tp.partition);
  }
  void on_partitions_assigned(const std::vector<kfk::TopicPartition>& ps) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& tp : ps) owned_.insert(tp.partition);
    assigned_at_ = Clock::now();
  }
  // Owned partitions and when they were last assigned.
  std::set<int> owned(Clock::time_point* at) {
    std::lock_guard<std::mutex> lock(mu_);
    if (at != nullptr) *at = assigned_at_;
    return owned_;
  }
  // Closes on the member's thread; returns when close() started and ended.
  std::pair<Clock::time_point, Clock::time_point> close_member() {
    close_ = true;
    thread_.join();
    return {close_start_, close_end_};
  }
  long consumed() const { return consumed_; }

 private:
  void loop() {
    while (!stop_ && !close_) {
      kfk::ConsumerRecords recs = consumer_->poll(std::chrono::milliseconds(50));
      consumed_ += static_cast<long>(recs.size());
    }
    close_start_ = Clock::now();
    (void)consumer_->close(std::chrono::seconds(10));
    close_end_ = Clock::now();
  }
  std::unique_ptr<kfk::Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false}, close_{false};
  std::atomic<long> consumed_{0};
  std::mutex mu_;
  std::set<int> owned_;
  Clock::time_point assigned_at_{};
  Clock::time_point close_start_{}, close_end_{};
};

// Whether `members` own exactly the partitions 0..n-1 between them, each
// assigned after `after`.
bool owns_all(const std::vector<Member*>& members, int n, Clock::time_point after) {
  std::set<int> all;
  size_t total = 0;
  for (Member* m : members) {
    Clock::time_point at;
    std::set<int> o = m->owned(&at);
    if (at < after) return false;
    total += o.size();
    all.insert(o.begin(), o.end());
  }
  return total == all.size() && all.size() == static_cast<size_t>(n);
}

struct RebalanceResult {
  double from_start_ms = -1, from_return_ms = -1, close_ms = -1;
};

RebalanceResult rebalance_round(const std::string& bootstrap, const std::string& topic, int partitions,
                                const std::string& group, const Extra& settings, int pre_close_ms) {
  kfk::Config config{{"bootstrap.servers", bootstrap},
                     {"group.id", group},
                     {"partition.assignment.strategy", "range"},
                     {"auto.offset.reset", "earliest"}};
  for (const auto& [k, v] : settings) config.set(k, v);
  std::vector<std::unique_ptr<Member>> members;
  for (int i = 0; i < 3; ++i) members.push_back(std::make_unique<Member>(config, topic));
  std::vector<Member*> all = {members[0].get(), members[1].get(), members[2].get()};
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!owns_all(all, partitions, Clock::time_point{}) || members[2]->owned(nullptr).empty()) {
    if (Clock::now() > deadline) die("rebalance: the three members never shared all partitions");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Consuming for a while: 1 s plus a part of a heartbeat interval (the
  // others learn of the change with their next heartbeat).
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 + pre_close_ms));
  auto [started, returned] = members[2]->close_member();
  std::vector<Member*> rest = {members[0].get(), members[1].get()};
  RebalanceResult r;
  deadline = Clock::now() + std::chrono::seconds(60);
  while (!owns_all(rest, partitions, started)) {
    if (Clock::now() > deadline) return r;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  auto done = Clock::now();
  r.from_start_ms = std::chrono::duration<double, std::milli>(done - started).count();
  r.from_return_ms = std::chrono::duration<double, std::milli>(done - returned).count();
  r.close_ms = std::chrono::duration<double, std::milli>(returned - started).count();
  return r;
}

void run_rebalance(const std::string& bootstrap, const Extra& extra) {
  const int partitions = 6;
  const std::string topic = "rebalance";
  create_topic(bootstrap, topic, partitions);
  // A light load, so the members are consuming while the group changes.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    std::unique_ptr<kfk::Producer> p;
    if (kfk::Error e = kfk::Producer::create({{"bootstrap.servers", bootstrap}}, &p); !e.ok()) die(e.to_string());
    char value[kRecordSize];
    for (long i = 0; !stop; ++i) {
      fill_value(i, value);
      p->send(kfk::ProducerRecord(topic, kfk::Bytes::borrow(std::string_view(value, kRecordSize))),
              [](const kfk::RecordMetadata&, const kfk::Error&) {});
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)p->close(std::chrono::seconds(10));
  });
  printf("## Rebalance time: 3 kfk consumers (subscribe, range, %d partitions, ~1,000 records/s produced), one"
         " closes\n\n", partitions);
  printf("broker-ref with group.initial.rebalance.delay.ms=0. \"after close() began\" / \"after close() returned\":"
         " until the other two members own all partitions again (their rebalance listeners' view).");
  for (const auto& [k, v] : extra) printf(" -X %s=%s.", k.c_str(), v.c_str());
  printf(" \"closed at\": ms after the group settled (the others learn of the change from their next heartbeat,"
         " whose phase this sets).\n\n| heartbeat.interval.ms | round | closed at | close() ms | after close() began, ms |"
         " after close() returned, ms |\n|---|---|---|---|---|---|\n");
  int round = 0;
  constexpr int kRounds = 4;
  // kfk's default (500), then Java's and librdkafka's (3000).
  for (const char* hb : {"500", "3000"}) {
    Extra settings;
    if (std::string(hb) != "500") settings.push_back({"heartbeat.interval.ms", hb});
    for (const auto& kv : extra) settings.push_back(kv);
    for (int i = 0; i < kRounds; ++i, ++round) {
      // Closes spread evenly over a heartbeat interval: the rounds sample
      // every phase of the others' heartbeats.
      int pre_close_ms = std::atoi(hb) * (2 * i + 1) / (2 * kRounds);
      RebalanceResult r =
          rebalance_round(bootstrap, topic, partitions, "rebalance-" + std::to_string(round), settings, pre_close_ms);
      const char* note = std::string(hb) == "500" ? " (kfk's default)" : " (Java's and librdkafka's default)";
      if (r.from_start_ms < 0)
        printf("| %s%s | %d | %d | - | did not settle within 60 s | - |\n", hb, note, i + 1, 1000 + pre_close_ms);
      else
        printf("| %s%s | %d | %d | %.1f | %.1f | %.1f |\n", hb, note, i + 1, 1000 + pre_close_ms, r.close_ms,
               r.from_start_ms, r.from_return_ms);
      fflush(stdout);
    }
  }
  printf("\n");
  stop = true;
  load.join();
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker_ref, only;
  long records = 3000000;
  int partitions = 1, repeat = 3;
  double rate = 5000, seconds = 10;
  bool kfk_only = false;
  Extra extra;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--broker-ref" && i + 1 < argc) {
      broker_ref = argv[++i];
    } else if (a == "--records" && i + 1 < argc) {
      records = std::atol(argv[++i]);
    } else if (a == "--partitions" && i + 1 < argc) {
      partitions = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--rate" && i + 1 < argc) {
      rate = std::max(1.0, std::atof(argv[++i]));
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::max(0.1, std::atof(argv[++i]));
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--kfk-only") {
      kfk_only = true;
    } else if (a == "-X" && i + 1 < argc) {
      std::string kv = argv[++i];
      auto eq = kv.find('=');
      if (eq == std::string::npos) die("-X wants key=value");
      extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      fprintf(stderr,
              "usage: %s --broker-ref PATH [--records N] [--partitions P] [--repeat N] [--rate R] [--seconds S]\n"
              "          [--only throughput|latency|rebalance] [--kfk-only] [-X key=value]...\n",
              argv[0]);
      return 2;
    }
  }
  if (broker_ref.empty()) die("--broker-ref PATH is required");
  signal(SIGPIPE, SIG_IGN);
  bench::BrokerProcess br = start_broker(broker_ref);
  fprintf(stderr, "broker-ref at %s (data in %s)\n", br.bootstrap.c_str(), br.data_dir.c_str());
  if (only.empty() || only == "throughput") run_throughput(br.bootstrap, records, partitions, repeat, kfk_only, extra);
  if (only.empty() || only == "latency") run_latency(br.bootstrap, rate, seconds, kfk_only, extra);
  if (only.empty() || only == "rebalance") run_rebalance(br.bootstrap, extra);
  bench::stop_broker(br);
  return 0;
}
