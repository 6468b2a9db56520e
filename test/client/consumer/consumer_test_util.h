// Helpers for the consumer tests: producing known records with librdkafka
// (the C API, so what kfk reads was written by another client), consumer
// configs with short timeouts, and draining a consumer into owned copies.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kfk/consumer.h"

namespace kfk::consumer_testing {

// A record as produced / consumed, owned.
struct Msg {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = -1;

  bool same_content(const Msg& o) const {
    return topic == o.topic && partition == o.partition && key == o.key && value == o.value && headers == o.headers &&
           timestamp == o.timestamp;
  }
};

Msg copy_of(const ConsumerRecord& r);

// Produces `count` records to `topic` with librdkafka: record i has key
// "key-<i>" (every 7th a null key), a value of 1..300 bytes derived from i
// (every 11th null), headers {"i": "<i>", "null": null} and timestamp
// base_ts + i; spread over partitions by key (or to `partition`). Returns
// them with partition and offset filled in from the delivery reports.
std::vector<Msg> produce(const std::string& bootstrap, const std::string& topic, int count,
                         const std::string& codec = "none", int32_t partition = -1, int64_t base_ts = 1700000000000);

// A consumer config with test-friendly timeouts.
Config consumer_config(const std::string& bootstrap, std::map<std::string, std::string> extra = {});

// Polls until `want` records arrived (or `ms` passed); returns copies.
std::vector<Msg> drain(Consumer& c, size_t want, int ms = 15000);

// Polls `c` on its own thread until stopped, collecting copies.
class Poller {
 public:
  explicit Poller(Consumer* c, std::function<void(const Msg&)> on_msg = {});
  ~Poller();
  void stop();
  std::vector<Msg> messages() const;
  size_t count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::unique_ptr<Consumer> make_consumer(const Config& config, ConsumerOptions options = {});

}  // namespace kfk::consumer_testing
