// Topic (log) configuration: the keys Kafka's storage layer understands,
// their broker-level default names, defaults, docs and validation.
//
// A topic's effective config = broker defaults (Kafka's broker-level names,
// e.g. log.retention.ms) overlaid with the topic's own overrides (topic-level
// names, e.g. retention.ms). The tables below feed `broker-ref --help` and
// DescribeConfigs.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "protocol/record_batch.h"
#include "storage/status.h"

namespace kfk::broker {

// DescribeConfigs ConfigType values.
enum class ConfigType : int8_t { kBoolean = 1, kString = 2, kInt = 3, kShort = 4, kLong = 5, kDouble = 6, kList = 7 };
// DescribeConfigs ConfigSource values.
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
};

struct ConfigDef {
  const char* name;         // topic-level name ("retention.ms"); for broker-only keys, the broker name
  const char* broker_name;  // broker-level default ("log.retention.ms")
  ConfigType type;
  const char* default_value;
  const char* doc;
  bool read_only;  // cannot be altered at run time
};

// Topic-level keys (settable per topic; their broker names set defaults).
std::span<const ConfigDef> topic_config_defs();
// Broker-only storage keys (log.dirs, maintenance intervals...).
std::span<const ConfigDef> storage_broker_config_defs();
const ConfigDef* find_topic_config(std::string_view topic_name);
// Looks a broker-level name up in both tables.
const ConfigDef* find_broker_config(std::string_view broker_name);
// True when `broker_name` is a storage key this layer owns.
inline bool is_storage_broker_key(std::string_view broker_name) { return find_broker_config(broker_name) != nullptr; }

using ConfigMap = std::map<std::string, std::string, std::less<>>;

// Typed, validated config of one log. Thread ownership: a value type; each
// Log keeps its own copy under its mutex.
struct LogConfig {
  int64_t retention_ms = 604800000;     // -1: unlimited
  int64_t retention_bytes = -1;         // -1: unlimited
  int32_t segment_bytes = 1073741824;
  int64_t segment_ms = 604800000;
  int32_t segment_index_bytes = 10485760;
  bool compact = false;                 // cleanup.policy contains compact
  bool del = true;                      // cleanup.policy contains delete
  int64_t min_compaction_lag_ms = 0;
  int64_t delete_retention_ms = 86400000;
  double min_cleanable_dirty_ratio = 0.5;
  int32_t max_message_bytes = 1048588;
  proto::TimestampType timestamp_type = proto::TimestampType::kCreateTime;
  int32_t min_insync_replicas = 1;
  int64_t flush_messages = INT64_MAX;
  int64_t flush_ms = INT64_MAX;
  int32_t index_interval_bytes = 4096;

  // Sets one topic-level key. INVALID_CONFIG (naming the key) for an
  // unknown key or a bad value.
  Status set(std::string_view name, std::string_view value);
  // The value of a topic-level key in Kafka's string form ("" if unknown).
  std::string get(std::string_view name) const;

  // Max index entries per segment (Kafka: segment.index.bytes / 8).
  int64_t max_index_entries() const { return segment_index_bytes / 8; }

  // `base` overlaid with topic-level `overrides`.
  static Status with_overrides(const LogConfig& base, const ConfigMap& overrides, LogConfig* out);
};

// Broker-only storage settings.
struct StorageSettings {
  int64_t retention_check_interval_ms = 300000;
  int64_t cleaner_backoff_ms = 15000;
  bool cleaner_enable = true;
  int64_t cleaner_dedupe_buffer_size = 134217728;
  int64_t flush_scheduler_interval_ms = INT64_MAX;
  int64_t flush_offset_checkpoint_interval_ms = 60000;
};

// Applies broker-level storage keys (topic defaults by their broker names,
// plus StorageSettings keys; log.dirs is accepted and ignored here).
// INVALID_CONFIG for a key this layer does not own or a bad value.
Status apply_broker_config(const ConfigMap& broker_kv, LogConfig* defaults, StorageSettings* settings);

}  // namespace kfk::broker
