// Topic (log) configuration: the keys Kafka's storage layer understands,
// their broker-level default names, defaults, docs and validation.
//
// A topic's effective config = broker defaults (Kafka's broker-level names,
// e.g. log.retention.ms) overlaid with the topic's own overrides (topic-level
// names, e.g. retention.ms). The tables below feed `broker-ref --help` and
// DescribeConfigs.
#pragma once

#include <cstdint>
#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/compression.h"
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
  // The broker-level key that sets the default (Kafka's synonym,
  // "log.retention.ms"); nullptr for topic-only keys (no broker default:
  // the replication throttles, the remote.* keys).
  const char* broker_name;
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
  // compression.type: nullopt = "producer" (batches keep the producer's
  // codec); else the codec the broker recompresses produced batches to.
  std::optional<proto::Compression> compression;
  int32_t compression_gzip_level = -1;  // -1: zlib's default
  int32_t compression_lz4_level = 9;
  int32_t compression_zstd_level = 3;
  int64_t file_delete_delay_ms = 60000;  // Log::remove_deleted_files
  int64_t max_compaction_lag_ms = INT64_MAX;
  // CreateTime bounds: a record more than this before (after) the broker's
  // clock is refused with INVALID_TIMESTAMP. INT64_MAX: no bound.
  int64_t timestamp_before_max_ms = INT64_MAX;
  int64_t timestamp_after_max_ms = INT64_MAX;
  int64_t timestamp_difference_max_ms = INT64_MAX;  // 3.x: both bounds when they are unset
  bool preallocate = false;       // LogSegment::reserve(segment_bytes) for the active segment
  int64_t segment_jitter_ms = 0;  // Log::roll_jitter_locked
  // Stored and reported only (no replication, no tiered storage here).
  bool unclean_leader_election_enable = false;
  bool message_downconversion_enable = true;
  std::string message_format_version = "3.0-IV1";
  std::string leader_replication_throttled_replicas;
  std::string follower_replication_throttled_replicas;
  int64_t local_retention_bytes = -2;  // -2: retention.bytes
  int64_t local_retention_ms = -2;     // -2: retention.ms
  bool remote_storage_enable = false;
  bool remote_log_copy_disable = false;
  bool remote_log_delete_on_disable = false;

  // Sets one topic-level key. INVALID_CONFIG (naming the key) for an
  // unknown key or a bad value.
  Status set(std::string_view name, std::string_view value);
  // The value of a topic-level key in Kafka's string form ("" if unknown).
  std::string get(std::string_view name) const;

  // Max index entries per segment (Kafka: segment.index.bytes / 8).
  int64_t max_index_entries() const { return segment_index_bytes / 8; }
  // The codec level compression.type's codec uses (-1: the codec default).
  int compression_level() const;
  // Effective CreateTime bounds (Kafka 3.x: message.timestamp.difference.max.ms
  // stands in for a bound left at its default).
  int64_t effective_before_max_ms() const {
    return timestamp_before_max_ms != INT64_MAX ? timestamp_before_max_ms : timestamp_difference_max_ms;
  }
  int64_t effective_after_max_ms() const {
    return timestamp_after_max_ms != INT64_MAX ? timestamp_after_max_ms : timestamp_difference_max_ms;
  }
  // Kafka's maxSegmentMs: a compacted log also rolls by max.compaction.lag.ms.
  int64_t max_segment_ms() const {
    return compact && max_compaction_lag_ms > 0 ? std::min(max_compaction_lag_ms, segment_ms) : segment_ms;
  }
  // Checks across keys, as Kafka's LogConfig.validate: min.compaction.lag.ms
  // <= max.compaction.lag.ms; remote.storage.enable needs tiered storage,
  // which this broker does not have (Kafka's answer when
  // remote.log.storage.system.enable is false).
  Status validate() const;

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
