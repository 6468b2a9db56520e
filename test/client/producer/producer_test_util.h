// Helpers for the producer's end-to-end tests: starting brokers, and
// reading back what kfk produced with librdkafka (an independent client),
// record by record.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kfk-broker-ref/broker_ref.h"
#include "kfk/producer.h"
#include "kfk_test/brokers.h"

namespace kfk::producer_testing {

// One record as librdkafka read it.
struct ReadRecord {
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = -1;
};

// Reads every record of partitions [0, partitions) of `topic` from the
// beginning with a librdkafka consumer (manual assignment, no group) until
// `expected` records arrived or `timeout_ms` passed. Extra options (e.g.
// "check.crcs") go to librdkafka.
std::vector<ReadRecord> rdkafka_read_all(const std::string& bootstrap, const std::string& topic, int partitions,
                                         size_t expected, int timeout_ms = 20000,
                                         const std::map<std::string, std::string>& extra = {});

using kfk::test::start_broker;

// Creates a producer; fails the test on a config error.
std::unique_ptr<Producer> make_producer(const std::string& bootstrap, std::map<std::string, std::string> config = {},
                                        ProducerOptions options = {});

// Milliseconds since the epoch.
int64_t wall_ms();

}  // namespace kfk::producer_testing
