// kfk perf consume: consumer throughput, in the manner of Kafka's
// ConsumerPerformance. Reads --num-records records (from the beginning of
// every partition of the topic, or as a member of --group) and reports
// records/s and MB/s (key + value bytes).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"
#include "kfk/admin.h"
#include "kfk/consumer.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk perf consume -b BROKERS -t TOPIC --num-records N [-g GROUP] [--timeout MS] [-X key=value]... "
    "[--json] (kfk perf consume --help)";

constexpr const char* kHelp = R"(kfk perf consume: measure consumer throughput.

  -b, --brokers BROKERS      bootstrap servers
  -t, --topic TOPIC          the topic to read
  --num-records N            how many records to read
  -g, --group GROUP          read as a member of GROUP (subscribe, from its
                             committed offsets, else the beginning); without
                             it every partition is read from the beginning
  --timeout MS               give up when no record arrives for MS ms
                             (default 10000)
  -X key=value               consumer configuration (repeatable), e.g. -X fetch.min.bytes=100000
  --json                     print the summary as one JSON object on stdout
  --help                     this help

Progress goes to stderr once a second: records/s and MB/s of that second.
The summary follows: records, bytes, records/s and MB/s (key and value
bytes), from the start (metadata, offset lookups, the group join) to the
last record. With --json the summary is
{"records", "bytes", "records_per_sec", "mb_per_sec", "elapsed_ms",
"fetch_start_ms"} (fetch_start_ms: from start to the first record). Exit
status 1 when fewer than N records arrived before the timeout.
)";

using SteadyClock = std::chrono::steady_clock;

double seconds(SteadyClock::duration d) { return std::max(1e-9, std::chrono::duration<double>(d).count()); }

}  // namespace

int run_perf_consume(int argc, char** argv, int first) {
  PerfArgs perf;
  if (auto exit_code = parse_perf_args(argc, argv, first, {{'g', "group", true}, {0, "timeout", true}}, kUsage, kHelp,
                                       &perf))
    return *exit_code;
  const ParsedArgs& args = perf.args;
  const std::string& topic = perf.topic;
  const int64_t num_records = perf.num_records;
  const bool json = perf.json;
  Config& config = perf.config;
  int64_t idle_timeout = 10000;
  if (auto t = args.get("timeout"); t && !parse_int(*t, 1, INT32_MAX, &idle_timeout))
    return usage_error("--timeout expects milliseconds, got '" + *t + "'", kUsage);
  auto group = args.get("group");
  if (group && group->empty()) return usage_error("--group needs a group id", kUsage);
  if (group) {
    config.set("group.id", *group);
    if (!config.contains("auto.offset.reset")) config.set("auto.offset.reset", "earliest");
  } else if (!config.contains("group.id") && !config.contains("enable.auto.commit")) {
    config.set("enable.auto.commit", "false");
  }
  std::unique_ptr<Consumer> consumer;
  if (Error err = Consumer::create(config, &consumer); !err.ok()) return creation_error(err);

  auto start = SteadyClock::now();
  if (group) {
    if (Error err = consumer->subscribe({topic}); !err.ok()) {
      std::cerr << "kfk: subscribe: " << err.to_string() << "\n";
      return kExitFailed;
    }
  } else {
    std::unique_ptr<Admin> admin;
    if (Error err = Admin::create(config, &admin); !err.ok()) return creation_error(err);
    DescribeTopicsResult d;
    Error err = admin->describe_topics({topic}, &d);
    if (err.ok()) err = d.topics[topic].error;
    if (!err.ok()) {
      std::cerr << "kfk: " << topic << ": " << err.to_string() << "\n";
      return kExitFailed;
    }
    std::vector<TopicPartition> tps;
    for (const auto& p : d.topics[topic].partitions) tps.emplace_back(topic, p.partition);
    err = consumer->assign(tps);
    if (err.ok()) err = consumer->seek_to_beginning(tps);
    if (!err.ok()) {
      std::cerr << "kfk: assign: " << err.to_string() << "\n";
      return kExitFailed;
    }
  }

  int64_t records = 0;
  uint64_t bytes = 0;
  SteadyClock::time_point first_at{}, last_at{};
  auto window_start = SteadyClock::now();
  int64_t window_records = 0;
  uint64_t window_bytes = 0;
  auto last_progress = SteadyClock::now();
  int status = kExitOk;
  while (records < num_records) {
    ConsumerRecords recs = consumer->poll(std::chrono::milliseconds(100));
    auto now = SteadyClock::now();
    if (!recs.error().ok() && recs.error().code() != errc::kPartitionEof) {
      std::cerr << "kfk: " << recs.error().to_string() << "\n";
      if (recs.error().fatal() || !recs.error().retriable()) {
        status = kExitFailed;
        break;
      }
    }
    if (!recs.empty()) {
      if (records == 0) first_at = now;
      last_at = now;
      last_progress = now;
      for (const auto& r : recs) {
        if (records == num_records) break;
        uint64_t n = (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
        bytes += n;
        window_bytes += n;
        ++records;
        ++window_records;
      }
    } else if (now - last_progress >= std::chrono::milliseconds(idle_timeout)) {
      std::cerr << "kfk: perf consume: no record for " << idle_timeout << " ms; read " << records << " of "
                << num_records << "\n";
      status = kExitFailed;
      break;
    }
    if (now - window_start >= std::chrono::seconds(1)) {
      double s = seconds(now - window_start);
      std::fprintf(stderr, "%" PRId64 " records consumed, %.1f records/sec (%.2f MB/sec)\n", window_records,
                   static_cast<double>(window_records) / s, static_cast<double>(window_bytes) / s / (1024.0 * 1024.0));
      window_start = now;
      window_records = 0;
      window_bytes = 0;
    }
  }
  if (group) {
    if (Error e = consumer->commit_sync(); !e.ok()) std::cerr << "kfk: commit: " << e.to_string() << "\n";
  }
  (void)consumer->close();

  // From the start (before assign/subscribe) to the last record, as
  // ConsumerPerformance's MB.sec: metadata, offset lookups and the group
  // join count; fetch_start_ms says how much of it came before the first
  // record.
  double secs = records > 0 ? seconds(last_at - start) : seconds(SteadyClock::now() - start);
  double rps = static_cast<double>(records) / secs;
  double mbps = static_cast<double>(bytes) / secs / (1024.0 * 1024.0);
  double fetch_start_ms = records > 0 ? std::chrono::duration<double, std::milli>(first_at - start).count() : -1.0;
  if (json) {
    std::printf("{\"records\":%" PRId64 ",\"bytes\":%" PRIu64
                ",\"records_per_sec\":%.1f,\"mb_per_sec\":%.3f,\"elapsed_ms\":%.1f,\"fetch_start_ms\":%.1f}\n",
                records, bytes, rps, mbps, secs * 1000.0, fetch_start_ms);
  } else {
    std::printf("%" PRId64 " records consumed, %" PRIu64 " bytes, %.1f records/sec (%.2f MB/sec), %.1f ms, "
                "first record after %.1f ms\n",
                records, bytes, rps, mbps, secs * 1000.0, fetch_start_ms);
  }
  std::fflush(stdout);
  return status;
}

}  // namespace kfk::tool
