// broker-ref's configuration: its own keys (listeners, node.id,
// auto.create.topics.enable, ...) plus the storage layer's keys (by their
// broker names: log.retention.ms, message.max.bytes, ...), which are
// validated by, and handed to, the LogManager.
//
// Sources, later wins: defaults, --config FILE (Java properties), --set
// key=value and the --listen / --node-id shortcuts in command-line order.
// Unknown keys and bad values are refused with a message naming the key.
//
// Thread ownership: a value type, built before the server starts and
// read-only afterwards.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/host_port.h"
#include "storage/log_config.h"

namespace kfk::broker {

// One of broker-ref's own keys (storage keys live in storage/log_config.h).
struct BrokerKeyDef {
  const char* name;
  ConfigType type;
  const char* default_value;
  const char* doc;
  int64_t min_value;  // numeric keys
};

std::span<const BrokerKeyDef> broker_key_defs();
const BrokerKeyDef* find_broker_key(std::string_view name);

// host:port, "[v6addr]:port" or PLAINTEXT://host:port (one listener only;
// an empty host listens on every interface, port 0 on any free port).
bool parse_listener(std::string_view text, io::HostPort* out, std::string* error);

// The Apache Kafka generation broker-ref answers as
// (broker.emulated.kafka.version): kKafka3 serves the old API versions
// with magic 0/1 message sets, kKafka4 only what Kafka 4.0 serves.
enum class KafkaGeneration { kKafka3, kKafka4 };

class BrokerConfig {
 public:
  // Sets one key (broker-ref's or storage's); false with *error naming the
  // key for an unknown key or a bad value.
  bool set(std::string_view key, std::string_view value, std::string* error);
  // "key=value" as given to --set.
  bool set_assignment(std::string_view assignment, std::string* error);
  // Java properties: key=value / key: value / key value, # and ! comments,
  // backslash line continuations.
  bool load_properties_file(const std::string& path, std::string* error);

  // The effective value (the default when unset); "" for unknown keys.
  std::string get(std::string_view key) const;
  int64_t get_long(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  bool is_set(std::string_view key) const { return values_.count(key) != 0; }
  // Explicitly set keys (both kinds), for DescribeConfigs' STATIC_BROKER_CONFIG.
  const ConfigMap& values() const { return values_; }
  // The explicitly set storage keys, for LogManagerOptions::broker_config.
  ConfigMap storage_config() const;

  // Typed views of the common keys.
  io::HostPort listener() const;
  // advertised.listeners when set; else the listener (port 0: the bound port).
  io::HostPort advertised() const;
  int32_t node_id() const { return static_cast<int32_t>(get_long("node.id")); }
  KafkaGeneration emulated_kafka() const;

  // `broker-ref --help`'s key list: every key with its default and doc.
  static std::string keys_help();

 private:
  ConfigMap values_;
};

}  // namespace kfk::broker
