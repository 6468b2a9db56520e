#include "storage/log_config.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace kfk::broker {
namespace {

constexpr ConfigDef kTopicDefs[] = {
    {"cleanup.policy", "log.cleanup.policy", ConfigType::kList, "delete",
     "Retention policy for old segments: \"delete\" (discard by time/size), \"compact\" (keep the latest "
     "value per key), or both (\"compact,delete\").",
     false},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms", ConfigType::kLong, "86400000",
     "How long tombstones of a compacted topic are kept after the cleaner first saw them.", false},
    {"flush.messages", "log.flush.interval.messages", ConfigType::kLong, "9223372036854775807",
     "Force an fsync after this many messages (default: leave flushing to the OS, as Kafka).", false},
    {"flush.ms", "log.flush.interval.ms", ConfigType::kLong, "9223372036854775807",
     "Force an fsync when data has been unflushed for this long.", false},
    {"index.interval.bytes", "log.index.interval.bytes", ConfigType::kInt, "4096",
     "Bytes appended between two offset-index entries.", false},
    {"max.message.bytes", "message.max.bytes", ConfigType::kInt, "1048588",
     "Largest record batch the broker accepts.", false},
    {"message.timestamp.type", "log.message.timestamp.type", ConfigType::kString, "CreateTime",
     "CreateTime (keep the producer's timestamp) or LogAppendTime (the broker stamps batches).", false},
    {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", ConfigType::kDouble, "0.5",
     "Minimum ratio of dirty bytes to total cleanable bytes before a compacted log is cleaned.", false},
    {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", ConfigType::kLong, "0",
     "Minimum time a record stays uncompacted.", false},
    {"min.insync.replicas", "min.insync.replicas", ConfigType::kInt, "1",
     "Minimum in-sync replicas for acks=all produce requests.", false},
    {"retention.bytes", "log.retention.bytes", ConfigType::kLong, "-1",
     "Maximum size of a partition before old segments are deleted (-1: no limit).", false},
    {"retention.ms", "log.retention.ms", ConfigType::kLong, "604800000",
     "Maximum age of a segment's newest record before the segment is deleted (-1: no limit).", false},
    {"segment.bytes", "log.segment.bytes", ConfigType::kInt, "1073741824", "Size of a log segment file.", false},
    {"segment.index.bytes", "log.index.size.max.bytes", ConfigType::kInt, "10485760",
     "Maximum size of a segment's offset index (the segment rolls when it is full).", false},
    {"segment.ms", "log.roll.ms", ConfigType::kLong, "604800000",
     "Roll a new segment when the active one is this old, even if not full.", false},
};

constexpr ConfigDef kBrokerDefs[] = {
    {"log.dirs", "log.dirs", ConfigType::kString, "/tmp/kafka-logs", "The data directory.", true},
    {"log.retention.check.interval.ms", "log.retention.check.interval.ms", ConfigType::kLong, "300000",
     "How often retention is checked.", true},
    {"log.cleaner.enable", "log.cleaner.enable", ConfigType::kBoolean, "true",
     "Run the log cleaner (compaction) for compacted topics.", true},
    {"log.cleaner.backoff.ms", "log.cleaner.backoff.ms", ConfigType::kLong, "15000",
     "How often the cleaner looks for logs to compact.", true},
    {"log.cleaner.dedupe.buffer.size", "log.cleaner.dedupe.buffer.size", ConfigType::kLong, "134217728",
     "Memory for the cleaner's key -> offset map.", true},
    {"log.flush.scheduler.interval.ms", "log.flush.scheduler.interval.ms", ConfigType::kLong,
     "9223372036854775807", "How often logs are checked against flush.ms.", true},
    {"log.flush.offset.checkpoint.interval.ms", "log.flush.offset.checkpoint.interval.ms", ConfigType::kInt,
     "60000", "How often the recovery point and log start offset checkpoints are written.", true},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status bad_value(std::string_view name, std::string_view value, const std::string& why) {
  return Status::error(ErrorCode::INVALID_CONFIG,
                       "Invalid value " + std::string(value) + " for configuration " + std::string(name) + ": " + why);
}

Status parse_long(std::string_view name, std::string_view value, int64_t min, int64_t* out) {
  std::string_view v = trim(value);
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size())
    return bad_value(name, value, "Not a number of type LONG");
  if (x < min) return bad_value(name, value, "Value must be at least " + std::to_string(min));
  *out = x;
  return Status::Ok();
}

Status parse_int(std::string_view name, std::string_view value, int32_t min, int32_t* out) {
  std::string_view v = trim(value);
  int32_t x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size())
    return bad_value(name, value, "Not a number of type INT");
  if (x < min) return bad_value(name, value, "Value must be at least " + std::to_string(min));
  *out = x;
  return Status::Ok();
}

Status parse_bool(std::string_view name, std::string_view value, bool* out) {
  std::string v(trim(value));
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true") *out = true;
  else if (v == "false") *out = false;
  else return bad_value(name, value, "Expected value to be either true or false");
  return Status::Ok();
}

std::string long_str(int64_t v) { return std::to_string(v); }

std::string double_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest form that round-trips, as Java prints doubles ("0.5").
  for (int prec = 1; prec <= 17; ++prec) {
    char b2[32];
    std::snprintf(b2, sizeof b2, "%.*g", prec, v);
    if (std::strtod(b2, nullptr) == v) {
      std::string s(b2);
      if (s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
  }
  return buf;
}

// Per-key setter / getter, indexed like kTopicDefs.
struct Accessor {
  const char* name;
  Status (*set)(LogConfig&, std::string_view name, std::string_view value);
  std::string (*get)(const LogConfig&);
};

const Accessor kAccessors[] = {
    {"cleanup.policy",
     [](LogConfig& c, std::string_view n, std::string_view v) {
       bool compact = false, del = false;
       std::string_view rest = v;
       while (true) {
         size_t comma = rest.find(',');
         std::string_view item = trim(rest.substr(0, comma));
         if (item == "compact") compact = true;
         else if (item == "delete") del = true;
         else if (!(item.empty() && comma == std::string_view::npos && trim(v).empty()))
           return bad_value(n, v, "String must be one of: compact, delete");
         if (comma == std::string_view::npos) break;
         rest.remove_prefix(comma + 1);
       }
       c.compact = compact;
       c.del = del;
       return Status::Ok();
     },
     [](const LogConfig& c) -> std::string {
       if (c.compact && c.del) return "compact,delete";
       if (c.compact) return "compact";
       if (c.del) return "delete";
       return "";
     }},
    {"delete.retention.ms",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, 0, &c.delete_retention_ms); },
     [](const LogConfig& c) { return long_str(c.delete_retention_ms); }},
    {"flush.messages",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, 1, &c.flush_messages); },
     [](const LogConfig& c) { return long_str(c.flush_messages); }},
    {"flush.ms", [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, 0, &c.flush_ms); },
     [](const LogConfig& c) { return long_str(c.flush_ms); }},
    {"index.interval.bytes",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_int(n, v, 0, &c.index_interval_bytes); },
     [](const LogConfig& c) { return long_str(c.index_interval_bytes); }},
    {"max.message.bytes",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_int(n, v, 0, &c.max_message_bytes); },
     [](const LogConfig& c) { return long_str(c.max_message_bytes); }},
    {"message.timestamp.type",
     [](LogConfig& c, std::string_view n, std::string_view v) {
       std::string_view t = trim(v);
       if (t == "CreateTime") c.timestamp_type = proto::TimestampType::kCreateTime;
       else if (t == "LogAppendTime") c.timestamp_type = proto::TimestampType::kLogAppendTime;
       else return bad_value(n, v, "String must be one of: CreateTime, LogAppendTime");
       return Status::Ok();
     },
     [](const LogConfig& c) -> std::string {
       return c.timestamp_type == proto::TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime";
     }},
    {"min.cleanable.dirty.ratio",
     [](LogConfig& c, std::string_view n, std::string_view v) {
       std::string t(trim(v));
       char* end = nullptr;
       errno = 0;
       double d = t.empty() ? 0 : std::strtod(t.c_str(), &end);
       if (t.empty() || errno != 0 || end != t.c_str() + t.size() || !std::isfinite(d))
         return bad_value(n, v, "Not a number of type DOUBLE");
       if (d < 0 || d > 1) return bad_value(n, v, "Value must be between 0 and 1");
       c.min_cleanable_dirty_ratio = d;
       return Status::Ok();
     },
     [](const LogConfig& c) { return double_str(c.min_cleanable_dirty_ratio); }},
    {"min.compaction.lag.ms",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, 0, &c.min_compaction_lag_ms); },
     [](const LogConfig& c) { return long_str(c.min_compaction_lag_ms); }},
    {"min.insync.replicas",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_int(n, v, 1, &c.min_insync_replicas); },
     [](const LogConfig& c) { return long_str(c.min_insync_replicas); }},
    {"retention.bytes",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, INT64_MIN, &c.retention_bytes); },
     [](const LogConfig& c) { return long_str(c.retention_bytes); }},
    {"retention.ms",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, -1, &c.retention_ms); },
     [](const LogConfig& c) { return long_str(c.retention_ms); }},
    // 14: Kafka's minimum (a legacy record's overhead); tests use tiny segments.
    {"segment.bytes",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_int(n, v, 14, &c.segment_bytes); },
     [](const LogConfig& c) { return long_str(c.segment_bytes); }},
    {"segment.index.bytes",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_int(n, v, 4, &c.segment_index_bytes); },
     [](const LogConfig& c) { return long_str(c.segment_index_bytes); }},
    {"segment.ms",
     [](LogConfig& c, std::string_view n, std::string_view v) { return parse_long(n, v, 1, &c.segment_ms); },
     [](const LogConfig& c) { return long_str(c.segment_ms); }},
};

static_assert(std::size(kAccessors) == std::size(kTopicDefs));

const Accessor* find_accessor(std::string_view name) {
  for (const auto& a : kAccessors)
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace

std::span<const ConfigDef> topic_config_defs() { return kTopicDefs; }
std::span<const ConfigDef> storage_broker_config_defs() { return kBrokerDefs; }

const ConfigDef* find_topic_config(std::string_view name) {
  for (const auto& d : kTopicDefs)
    if (name == d.name) return &d;
  return nullptr;
}

const ConfigDef* find_broker_config(std::string_view broker_name) {
  for (const auto& d : kTopicDefs)
    if (broker_name == d.broker_name) return &d;
  for (const auto& d : kBrokerDefs)
    if (broker_name == d.broker_name) return &d;
  return nullptr;
}

Status LogConfig::set(std::string_view name, std::string_view value) {
  const Accessor* a = find_accessor(name);
  if (a == nullptr) return Status::error(ErrorCode::INVALID_CONFIG, "Unknown topic config name: " + std::string(name));
  LogConfig copy = *this;  // all-or-nothing
  if (Status s = a->set(copy, name, value); !s.ok()) return s;
  *this = copy;
  return Status::Ok();
}

std::string LogConfig::get(std::string_view name) const {
  const Accessor* a = find_accessor(name);
  return a == nullptr ? std::string() : a->get(*this);
}

Status LogConfig::with_overrides(const LogConfig& base, const ConfigMap& overrides, LogConfig* out) {
  LogConfig c = base;
  for (const auto& [k, v] : overrides)
    if (Status s = c.set(k, v); !s.ok()) return s;
  *out = c;
  return Status::Ok();
}

Status apply_broker_config(const ConfigMap& broker_kv, LogConfig* defaults, StorageSettings* settings) {
  LogConfig d = *defaults;
  StorageSettings st = *settings;
  for (const auto& [k, v] : broker_kv) {
    const ConfigDef* def = find_broker_config(k);
    if (def == nullptr) return Status::error(ErrorCode::INVALID_CONFIG, "Unknown broker storage config name: " + k);
    if (def >= std::begin(kTopicDefs) && def < std::end(kTopicDefs)) {
      // Same validation as the topic-level key; messages name the broker key.
      if (Status s = find_accessor(def->name)->set(d, k, v); !s.ok()) return s;
      continue;
    }
    Status s;
    int32_t i32 = 0;
    if (k == "log.dirs") continue;
    if (k == "log.retention.check.interval.ms") s = parse_long(k, v, 1, &st.retention_check_interval_ms);
    else if (k == "log.cleaner.enable") s = parse_bool(k, v, &st.cleaner_enable);
    else if (k == "log.cleaner.backoff.ms") s = parse_long(k, v, 0, &st.cleaner_backoff_ms);
    else if (k == "log.cleaner.dedupe.buffer.size") s = parse_long(k, v, 1, &st.cleaner_dedupe_buffer_size);
    else if (k == "log.flush.scheduler.interval.ms") s = parse_long(k, v, 1, &st.flush_scheduler_interval_ms);
    else if (k == "log.flush.offset.checkpoint.interval.ms") {
      s = parse_int(k, v, 0, &i32);
      st.flush_offset_checkpoint_interval_ms = i32;
    }
    if (!s.ok()) return s;
  }
  *defaults = d;
  *settings = st;
  return Status::Ok();
}

}  // namespace kfk::broker
