// kfk -P: produce one record per line (or per -D delimiter) of standard
// input, as kcat -P does. Exits 1 naming the error when any record fails.
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>

#include "cli.h"
#include "interrupt.h"
#include "kfk/producer.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk -P -b BROKERS -t TOPIC [-p PARTITION] [-K DELIM] [-k KEY] [-H name=value]... [-z CODEC] "
    "[-X key=value]... (kfk -P --help)";

constexpr const char* kHelp = R"(kfk -P: produce records read from standard input.

  -b BROKERS      bootstrap servers, host:port[,host:port...]
  -t TOPIC        the topic (required)
  -p PARTITION    the partition (default: -1, the partitioner chooses)
  -D DELIM        record delimiter (default: newline; \n, \t, \r and \0 escapes)
  -K DELIM        key delimiter: the text before the first DELIM of a record is
                  its key, the rest its value (no DELIM: no key)
  -k KEY          the key of every record
  -H name=value   a header on every record (repeatable; "name" alone: null value)
  -z CODEC        compression: none, gzip, snappy, lz4, zstd
  -X key=value    producer configuration (repeatable), e.g. -X acks=1
  --help          this help

Every record is flushed before exit. Exit status 1 names the first delivery
error when any record fails.
)";

// Delivery outcomes, updated on the producer's callback thread.
struct Outcome {
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> delivered{0};
  std::mutex mu;
  std::string first_error;
};

}  // namespace

int run_produce(int argc, char** argv, int first) {
  ParsedArgs args;
  if (!parse_args(argc, argv, first,
                  {{'P', nullptr},
                   {'b', "brokers", true},
                   {'t', "topic", true},
                   {'p', "partition", true},
                   {'D', nullptr, true},
                   {'K', nullptr, true},
                   {'k', "key", true},
                   {'H', "header", true, true},
                   {'z', "compression", true},
                   {'X', nullptr, true, true},
                   {'h', "help"}},
                  kUsage, &args))
    return kExitUsage;
  if (args.has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (!args.positional.empty())
    return usage_error("unexpected argument '" + args.positional[0] + "' (records are read from stdin)", kUsage);
  auto topic = args.get("topic");
  if (!topic || topic->empty()) return usage_error("-t TOPIC is required", kUsage);
  std::optional<int32_t> partition;
  if (auto p = args.get("partition")) {
    int64_t v = 0;
    if (!parse_int(*p, -1, INT32_MAX, &v)) return usage_error("-p expects a partition number, got '" + *p + "'", kUsage);
    if (v >= 0) partition = static_cast<int32_t>(v);
  }
  std::string delim = args.get("D") ? unescape(*args.get("D")) : std::string("\n");
  if (delim.empty()) return usage_error("-D needs a non-empty delimiter", kUsage);
  std::optional<std::string> key_delim;
  if (auto k = args.get("K")) {
    key_delim = unescape(*k);
    if (key_delim->empty()) return usage_error("-K needs a non-empty delimiter", kUsage);
  }
  std::optional<std::string> fixed_key = args.get("key");
  std::vector<Header> headers;
  for (const auto& h : args.all("header")) {
    auto eq = h.find('=');
    if (eq == 0) return usage_error("-H expects name=value, got '" + h + "'", kUsage);
    if (eq == std::string::npos)
      headers.emplace_back(h, std::nullopt);
    else
      headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }

  Config config;
  if (!build_config(args, kUsage, &config)) return kExitUsage;
  if (auto z = args.get("compression")) config.set("compression.type", *z);
  if (!config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", kUsage);
  std::unique_ptr<Producer> producer;
  Error err = Producer::create(config, &producer);
  if (!err.ok()) return creation_error(err);

  auto outcome = std::make_shared<Outcome>();
  uint64_t sent = 0;
  auto send_record = [&](std::string_view rec) {
    ProducerRecord r;
    r.topic = *topic;
    r.partition = partition;
    std::string_view value = rec;
    if (key_delim) {
      if (auto pos = rec.find(*key_delim); pos != std::string_view::npos) {
        r.key = Bytes(rec.substr(0, pos));
        value = rec.substr(pos + key_delim->size());
      }
    }
    if (!r.key && fixed_key) r.key = Bytes(std::string_view(*fixed_key));
    r.value = Bytes(value);
    r.headers = headers;
    ++sent;
    producer->send(std::move(r), [outcome](const RecordMetadata&, const Error& e) {
      if (e.ok()) {
        outcome->delivered.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (outcome->failed.fetch_add(1) == 0) {
        std::lock_guard<std::mutex> lock(outcome->mu);
        outcome->first_error = e.to_string();
      }
    });
  };

  // Read stdin in chunks and split on the delimiter (binary-safe; the last
  // record needs no trailing delimiter).
  std::string buf;
  char chunk[65536];
  size_t n;
  // SIGINT/SIGTERM interrupt the read (EINTR): what was read is delivered.
  while (!interrupted() && (n = std::fread(chunk, 1, sizeof chunk, stdin)) > 0) {
    buf.append(chunk, n);
    size_t start = 0, pos;
    while ((pos = buf.find(delim, start)) != std::string::npos) {
      send_record(std::string_view(buf).substr(start, pos - start));
      start = pos + delim.size();
    }
    buf.erase(0, start);
  }
  const bool read_failed = std::ferror(stdin) && !interrupted();
  if (read_failed) std::cerr << "kfk: error reading stdin\n";
  if (!buf.empty()) send_record(buf);

  err = producer->flush(stop_budget(std::chrono::milliseconds::max()));
  Error close_err = producer->close(stop_budget(std::chrono::milliseconds::max()));
  uint64_t failed = outcome->failed.load();
  if (failed > 0) {
    std::lock_guard<std::mutex> lock(outcome->mu);
    std::cerr << "kfk: " << failed << " of " << sent << " records failed: " << outcome->first_error << "\n";
    return kExitFailed;
  }
  if (!err.ok() || !close_err.ok()) {
    std::cerr << "kfk: flush failed: " << (!err.ok() ? err : close_err).to_string() << "\n";
    return kExitFailed;
  }
  return read_failed ? kExitFailed : kExitOk;
}

}  // namespace kfk::tool
