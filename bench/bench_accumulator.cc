// Producer data-path micro-benchmark: RecordAccumulator::append of 100-byte
// records to 8 partitions (batch.size 16384), with an inline "sender" that
// drains and completes batches as they fill. Counts heap allocations through
// a replaced global operator new.
//
// With -DKFK_BENCH_RDKAFKA (and librdkafka linked), also times librdkafka's
// rd_kafka_producev() for the same records on a producer with no reachable
// broker: its enqueue path (message allocation and copy, partitioner,
// partition queue), which is the part of librdkafka that does the work
// append() does here (librdkafka encodes batches later, on its broker threads).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "client/producer/callback_executor.h"
#include "client/producer/record_accumulator.h"

#ifdef KFK_BENCH_RDKAFKA
#include <librdkafka/rdkafka.h>
#endif

// ------------------------------------------------------------ allocation counter

namespace {
std::atomic<uint64_t> g_allocations{0};
}

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

using namespace kfk::producer;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kPartitions = 8;
constexpr size_t kValueSize = 100;

struct Result {
  double seconds = 0;
  uint64_t records = 0;
  uint64_t allocations = 0;   // over the measured (steady-state) part
  uint64_t batches = 0;
};

std::vector<std::string> make_values(size_t n) {
  std::vector<std::string> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = "{\"id\":" + std::to_string(i) + ",\"event\":\"click\",\"page\":\"/home\"}";
    v[i].resize(kValueSize, '.');
  }
  return v;
}

// Drains every partition of the single node and completes what it got.
uint64_t drain_and_complete(RecordAccumulator& acc, const std::vector<PartitionRef>& parts, int64_t now,
                            std::vector<BatchPtr>& out) {
  out.clear();
  acc.drain(1, parts, 1 << 20, now, out);
  for (auto& b : out) ProducerBatch::complete(std::move(b), 0, -1, kfk::Error());
  return out.size();
}

// One application thread appending, the sender inline: append until a batch
// fills, then drain + complete.
Result run_single(uint64_t records, kfk::proto::Compression codec, bool with_callback) {
  AccumulatorConfig cfg;
  cfg.batch_size = 16384;
  cfg.compression = codec;
  RecordAccumulator acc(cfg);
  std::vector<PartitionRef> parts;
  for (int32_t p = 0; p < kPartitions; ++p) parts.push_back({"bench-topic", p});
  const auto values = make_values(1024);
  std::vector<BatchPtr> out;
  uint64_t delivered = 0;
  auto append_n = [&](uint64_t n, uint64_t& batches) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::string& v = values[i & 1023];
      kfk::DeliveryCallback cb;
      if (with_callback) cb = [&delivered](const kfk::RecordMetadata&, const kfk::Error&) { ++delivered; };
      AppendResult r = acc.append("bench-topic", static_cast<int32_t>(i % kPartitions), 1700000000000,
                                  std::nullopt,
                                  std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()),
                                  {}, std::move(cb), 0);
      if (!r.error.ok()) {
        std::fprintf(stderr, "append failed: %s\n", r.error.to_string().c_str());
        std::exit(1);
      }
      if (r.batch_full) batches += drain_and_complete(acc, parts, 0, out);
    }
  };
  uint64_t warm_batches = 0;
  append_n(100000, warm_batches);  // warm-up: pool, vectors, partition map
  Result res;
  res.records = records;
  const uint64_t a0 = g_allocations.load();
  const auto t0 = Clock::now();
  append_n(records, res.batches);
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.allocations = g_allocations.load() - a0;
  while (drain_and_complete(acc, parts, 0, out) > 0) {
  }
  return res;
}

// Several application threads appending; a sender thread that drains the
// node when ready() says so (linger.ms 5, real monotonic time) and completes
// what it drained; callbacks on the callback executor. A first, unmeasured
// round warms the batch pool up.
Result run_threads(int threads, uint64_t records_per_thread) {
  CallbackExecutor ex;
  AccumulatorConfig cfg;
  cfg.batch_size = 16384;
  cfg.linger_ms = 5;
  cfg.executor = &ex;
  RecordAccumulator acc(cfg);
  std::vector<PartitionRef> parts;
  for (int32_t p = 0; p < kPartitions; ++p) parts.push_back({"bench-topic", p});
  const auto values = make_values(1024);
  std::atomic<uint64_t> delivered{0};
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  };

  auto round = [&](uint64_t per_thread, Result& res) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> batches{0};
    std::thread sender([&] {
      std::vector<BatchPtr> out;
      ReadyResult ready;
      const auto leader = [](std::string_view, int32_t) { return 1; };
      while (true) {
        const bool last = stop.load();
        acc.ready(now_ms(), leader, ready);
        uint64_t n = 0;
        if (!ready.ready_nodes.empty() || last) n = drain_and_complete(acc, parts, now_ms(), out);
        batches += n;
        if (last && !acc.has_undrained()) break;
        if (n == 0) std::this_thread::yield();
      }
    });
    const uint64_t a0 = g_allocations.load();
    const auto t0 = Clock::now();
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t) {
      producers.emplace_back([&, t] {
        for (uint64_t i = 0; i < per_thread; ++i) {
          const std::string& v = values[i & 1023];
          acc.append("bench-topic", static_cast<int32_t>((i + t) % kPartitions), 1700000000000, std::nullopt,
                     std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()), {},
                     [&delivered](const kfk::RecordMetadata&, const kfk::Error&) {
                       delivered.fetch_add(1, std::memory_order_relaxed);
                     },
                     now_ms());
        }
      });
    }
    for (auto& p : producers) p.join();
    stop = true;
    sender.join();
    ex.wait_idle();
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    res.records = per_thread * threads;
    res.allocations = g_allocations.load() - a0;
    res.batches = batches.load();
  };
  Result warm, res;
  round(records_per_thread / 5, warm);
  round(records_per_thread, res);
  if (delivered.load() != warm.records + res.records) {
    std::fprintf(stderr, "lost callbacks\n");
    std::exit(1);
  }
  return res;
}

void print(const char* name, const Result& r) {
  std::printf("%-34s %12.0f %9.1f %10.1f %12.3f %9.1f\n", name, r.records / r.seconds, 1e9 * r.seconds / r.records,
              r.records * kValueSize / r.seconds / 1e6, static_cast<double>(r.allocations) / r.records,
              r.batches > 0 ? static_cast<double>(r.records) / r.batches : 0.0);
}

#ifdef KFK_BENCH_RDKAFKA
// librdkafka's produce() enqueue path for the same records (no broker: the
// messages stay queued; queue.buffering.max.* raised so nothing blocks).
Result run_rdkafka(uint64_t records) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", err, sizeof err);
  rd_kafka_conf_set(conf, "queue.buffering.max.messages", "10000000", err, sizeof err);
  rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "2147483647", err, sizeof err);
  rd_kafka_conf_set(conf, "batch.size", "16384", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  const auto values = make_values(1024);
  Result res;
  res.records = records;
  const uint64_t a0 = g_allocations.load();  // librdkafka allocates with malloc: not counted
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < records; ++i) {
    const std::string& v = values[i & 1023];
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench-topic"), RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % kPartitions)),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                      RD_KAFKA_V_END);
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.allocations = g_allocations.load() - a0;
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
  rd_kafka_destroy(rk);
  return res;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  // bench_accumulator [records] [only]: `only` runs the rows whose name contains it.
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::string only = argc > 2 ? argv[2] : "";
  auto wanted = [&](const std::string& name) { return only.empty() || name.find(only) != std::string::npos; };
  std::printf("kfk producer accumulator benchmark: %llu records of %zu bytes, %d partitions, batch.size 16384\n\n",
              static_cast<unsigned long long>(n), kValueSize, kPartitions);
  std::printf("%-34s %12s %9s %10s %12s %9s\n", "scenario", "records/s", "ns/rec", "MB/s", "allocs/rec",
              "rec/batch");
  if (wanted("append+drain+complete, 1 thread"))
    print("append+drain+complete, 1 thread", run_single(n, kfk::proto::Compression::kNone, false));
  if (wanted("  + per-record callback"))
    print("  + per-record callback", run_single(n, kfk::proto::Compression::kNone, true));
  for (auto c : {kfk::proto::Compression::kLz4, kfk::proto::Compression::kZstd}) {
    const std::string name = std::string("  compression ") + kfk::proto::compression_name(c);
    if (!kfk::proto::compression_available(c) || !wanted(name)) continue;
    print(name.c_str(), run_single(n, c, false));
  }
  for (int t : {2, 4}) {
    const std::string name = std::to_string(t) + " appending threads + sender thread";
    if (wanted(name)) print(name.c_str(), run_threads(t, n / t));
  }
#ifdef KFK_BENCH_RDKAFKA
  if (wanted("librdkafka producev (enqueue only)")) print("librdkafka producev (enqueue only)", run_rdkafka(n));
#endif
  std::printf(
      "\nallocs/rec counts operator new calls in the measured part (after a warm-up round); MB/s counts\n"
      "value bytes. The single-thread rows run the sender inline; the threaded rows include the\n"
      "callback thread and a sender thread that drains when ready() says so (linger.ms 5).\n");
  return 0;
}
