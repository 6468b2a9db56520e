// kfk perf produce: producer throughput and latency, in the manner of
// Kafka's ProducerPerformance. Latency is send() to the delivery callback.
//
// The send loop allocates nothing per record: the payload is one buffer
// borrowed by every record (Bytes::borrow), the callback captures two words
// (stored inline in DeliveryCallback), and the statistics are fixed-size
// histograms. (The record's topic std::string is built per record; names
// of up to 15 characters fit the small-string buffer.)
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "cli.h"
#include "kfk/producer.h"
#include "latency_histogram.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk perf produce -b BROKERS -t TOPIC --num-records N --record-size BYTES [--throughput N] "
    "[-X key=value]... [--json] (kfk perf produce --help)";

constexpr const char* kHelp = R"(kfk perf produce: measure producer throughput and latency.

  -b, --brokers BROKERS      bootstrap servers
  -t, --topic TOPIC          the topic to write to
  --num-records N            how many records to send
  --record-size BYTES        the value size of every record (no key)
  --throughput N             at most N records per second (default: -1, unlimited)
  -X key=value               producer configuration (repeatable), e.g. -X acks=1 -X linger.ms=5
  --json                     print the summary as one JSON object on stdout
  --help                     this help

Progress goes to stderr once a second: records/s, MB/s, average and p99
latency of that second. The summary follows: records, records/s, MB/s and
latency (send() to delivery callback) average, p50, p95, p99, p99.9 and max.
With --json the summary is {"records", "records_per_sec", "mb_per_sec",
"errors", "elapsed_ms", "record_size", "latency_ms": {"avg", "p50", "p95",
"p99", "p999", "max"}}. Exit status 1 when any record failed.
)";

using SteadyClock = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

// Written on the producer's callback thread only; read by the main thread
// after flush() (which returns once every callback ran).
struct Stats {
  explicit Stats(size_t record_size) : record_size(record_size) {}

  void completed(int64_t sent_ns, const Error& err) {
    int64_t t = now_ns();
    uint64_t us = static_cast<uint64_t>(std::max<int64_t>(0, t - sent_ns) / 1000);
    total.record(us);
    window.record(us);
    if (!err.ok()) {
      if (errors++ == 0) {
        std::lock_guard<std::mutex> lock(mu);
        first_error = err.to_string();
      }
      ++window_errors;
    }
    if (window_start_ns == 0) window_start_ns = t;
    if (t - window_start_ns >= 1'000'000'000) print_window(t);
  }

  void print_window(int64_t t) {
    double secs = static_cast<double>(t - window_start_ns) / 1e9;
    double rps = static_cast<double>(window.count()) / secs;
    std::fprintf(stderr,
                 "%" PRIu64 " records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms p99 latency%s\n",
                 window.count(), rps, rps * static_cast<double>(record_size) / (1024.0 * 1024.0),
                 window.mean_us() / 1000.0, static_cast<double>(window.quantile_us(0.99)) / 1000.0,
                 window_errors ? (", " + std::to_string(window_errors) + " errors").c_str() : "");
    window.reset();
    window_errors = 0;
    window_start_ns = t;
  }

  const size_t record_size;
  LatencyHistogram total;
  LatencyHistogram window;
  int64_t window_start_ns = 0;
  uint64_t window_errors = 0;
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::string first_error;
};

}  // namespace

int run_perf_produce(int argc, char** argv, int first) {
  PerfArgs perf;
  if (auto exit_code = parse_perf_args(argc, argv, first, {{0, "record-size", true}, {0, "throughput", true}}, kUsage,
                                       kHelp, &perf))
    return *exit_code;
  const ParsedArgs& args = perf.args;
  const int64_t num_records = perf.num_records;
  const bool json = perf.json;
  int64_t record_size = 0, throughput = -1;
  if (!args.get("record-size") || !parse_int(*args.get("record-size"), 0, 1 << 30, &record_size))
    return usage_error("--record-size BYTES (0 .. 1073741824) is required", kUsage);
  if (auto t = args.get("throughput"); t && !parse_int(*t, -1, INT64_MAX / 2, &throughput))
    return usage_error("--throughput expects records per second (-1: unlimited)", kUsage);
  if (throughput == 0) return usage_error("--throughput must be positive, or -1 for unlimited", kUsage);
  std::unique_ptr<Producer> producer;
  Error err = Producer::create(perf.config, &producer);
  if (!err.ok()) return creation_error(err);

  // Random upper-case letters, as ProducerPerformance sends: compressible
  // like text, not like zeros.
  std::string payload(static_cast<size_t>(record_size), 'A');
  std::mt19937 rng(42);
  for (auto& c : payload) c = static_cast<char>('A' + rng() % 26);

  auto stats = std::make_unique<Stats>(static_cast<size_t>(record_size));
  Stats* st = stats.get();
  const std::string& topic_name = perf.topic;
  auto start = SteadyClock::now();
  for (int64_t i = 0; i < num_records; ++i) {
    if (throughput > 0) {
      // Sleep while ahead of the schedule (ProducerPerformance's throttle).
      auto due = start + std::chrono::nanoseconds(i * 1'000'000'000 / throughput);
      auto ahead = due - SteadyClock::now();
      if (ahead > std::chrono::milliseconds(1)) std::this_thread::sleep_for(ahead);
    }
    int64_t sent_ns = now_ns();
    producer->send(ProducerRecord(topic_name, Bytes::borrow(payload)),
                   [st, sent_ns](const RecordMetadata&, const Error& e) { st->completed(sent_ns, e); });
  }
  err = producer->flush();
  auto elapsed = SteadyClock::now() - start;
  Error close_err = producer->close();
  producer.reset();

  double secs = std::max(1e-9, std::chrono::duration<double>(elapsed).count());
  double rps = static_cast<double>(num_records) / secs;
  double mbps = rps * static_cast<double>(record_size) / (1024.0 * 1024.0);
  const LatencyHistogram& h = st->total;
  auto ms = [](uint64_t us) { return static_cast<double>(us) / 1000.0; };
  uint64_t errors = st->errors.load();
  if (json) {
    std::printf(
        "{\"records\":%" PRId64 ",\"records_per_sec\":%.1f,\"mb_per_sec\":%.3f,\"errors\":%" PRIu64
        ",\"elapsed_ms\":%.1f,\"record_size\":%" PRId64
        ",\"latency_ms\":{\"avg\":%.3f,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}}\n",
        num_records, rps, mbps, errors, secs * 1000.0, record_size, h.mean_us() / 1000.0, ms(h.quantile_us(0.5)),
        ms(h.quantile_us(0.95)), ms(h.quantile_us(0.99)), ms(h.quantile_us(0.999)), ms(h.max_us()));
  } else {
    std::printf("%" PRId64 " records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, "
                "%.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.\n",
                num_records, rps, mbps, h.mean_us() / 1000.0, ms(h.max_us()), ms(h.quantile_us(0.5)),
                ms(h.quantile_us(0.95)), ms(h.quantile_us(0.99)), ms(h.quantile_us(0.999)));
  }
  std::fflush(stdout);
  if (errors > 0) {
    std::fprintf(stderr, "kfk: %" PRIu64 " of %" PRId64 " records failed: %s\n", errors, num_records,
                 st->first_error.c_str());
    return kExitFailed;
  }
  if (!err.ok() || !close_err.ok()) {
    std::fprintf(stderr, "kfk: flush failed: %s\n", (!err.ok() ? err : close_err).to_string().c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace kfk::tool
