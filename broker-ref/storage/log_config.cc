#include "storage/log_config.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>

namespace kfk::broker {
namespace {

// Kafka's TopicConfig / LogConfig keys (3.9 and 4.x), in alphabetical
// order, with Kafka's defaults and the broker keys behind them
// (ServerTopicConfigSynonyms).
constexpr ConfigDef kTopicDefs[] = {
    {"cleanup.policy", "log.cleanup.policy", ConfigType::kList, "delete",
     "Retention policy for old segments: \"delete\" (discard by time/size), \"compact\" (keep the latest "
     "value per key), or both (\"compact,delete\").",
     false},
    {"compression.type", "compression.type", ConfigType::kString, "producer",
     "Codec of the stored batches: uncompressed, zstd, lz4, snappy, gzip (the broker recompresses produced batches "
     "of another codec), or producer (keep the producer's codec).",
     false},
    {"compression.gzip.level", "compression.gzip.level", ConfigType::kInt, "-1",
     "gzip level when compression.type is gzip: 1..9, or -1 for zlib's default.", false},
    {"compression.lz4.level", "compression.lz4.level", ConfigType::kInt, "9",
     "lz4 level when compression.type is lz4: 1..17.", false},
    {"compression.zstd.level", "compression.zstd.level", ConfigType::kInt, "3",
     "zstd level when compression.type is zstd: -131072..22.", false},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms", ConfigType::kLong, "86400000",
     "How long tombstones of a compacted topic are kept after the cleaner first saw them.", false},
    {"file.delete.delay.ms", "log.segment.delete.delay.ms", ConfigType::kLong, "60000",
     "How long a deleted segment's files stay on disk (renamed *.deleted) before they are removed.", false},
    {"flush.messages", "log.flush.interval.messages", ConfigType::kLong, "9223372036854775807",
     "Force an fsync after this many messages (default: leave flushing to the OS, as Kafka).", false},
    {"flush.ms", "log.flush.interval.ms", ConfigType::kLong, "9223372036854775807",
     "Force an fsync when data has been unflushed for this long.", false},
    {"follower.replication.throttled.replicas", nullptr, ConfigType::kList, "",
     "Replicas throttled on the follower side (\"*\" or partition:broker,...); stored and reported only "
     "(a single broker does not replicate).",
     false},
    {"index.interval.bytes", "log.index.interval.bytes", ConfigType::kInt, "4096",
     "Bytes appended between two offset-index entries.", false},
    {"leader.replication.throttled.replicas", nullptr, ConfigType::kList, "",
     "Replicas throttled on the leader side (\"*\" or partition:broker,...); stored and reported only.", false},
    {"local.retention.bytes", "log.local.retention.bytes", ConfigType::kLong, "-2",
     "Tiered storage: local bytes kept (-2: retention.bytes); stored and reported only.", false},
    {"local.retention.ms", "log.local.retention.ms", ConfigType::kLong, "-2",
     "Tiered storage: local retention time (-2: retention.ms); stored and reported only.", false},
    {"max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", ConfigType::kLong, "9223372036854775807",
     "Longest time a record stays uncompacted: the cleaner compacts a log whose dirty records are older, even "
     "below min.cleanable.dirty.ratio, and the active segment rolls by it.",
     false},
    {"max.message.bytes", "message.max.bytes", ConfigType::kInt, "1048588",
     "Largest record batch the broker accepts.", false},
    {"message.downconversion.enable", "log.message.downconversion.enable", ConfigType::kBoolean, "true",
     "Kafka 3.x: down-convert batches for old Fetch versions; stored and reported only.", false},
    {"message.format.version", "log.message.format.version", ConfigType::kString, "3.0-IV1",
     "Kafka 3.x: message format version (ignored since 3.0, as Kafka); stored and reported only.", false},
    {"message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", ConfigType::kLong,
     "9223372036854775807",
     "CreateTime: largest amount a record's timestamp may be ahead of the broker's clock (else INVALID_TIMESTAMP).",
     false},
    {"message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", ConfigType::kLong,
     "9223372036854775807",
     "CreateTime: largest amount a record's timestamp may be behind the broker's clock (else INVALID_TIMESTAMP).",
     false},
    {"message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms", ConfigType::kLong,
     "9223372036854775807",
     "Kafka 3.x: both bounds above when they are left at their defaults.", false},
    {"message.timestamp.type", "log.message.timestamp.type", ConfigType::kString, "CreateTime",
     "CreateTime (keep the producer's timestamp) or LogAppendTime (the broker stamps batches).", false},
    {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", ConfigType::kDouble, "0.5",
     "Minimum ratio of dirty bytes to total cleanable bytes before a compacted log is cleaned.", false},
    {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", ConfigType::kLong, "0",
     "Minimum time a record stays uncompacted.", false},
    {"min.insync.replicas", "min.insync.replicas", ConfigType::kInt, "1",
     "Minimum in-sync replicas for acks=all produce requests.", false},
    {"preallocate", "log.preallocate", ConfigType::kBoolean, "false",
     "Reserve disk for a whole segment (segment.bytes) when it becomes active (fallocate, the file's "
     "size staying the log's); given back at roll.",
     false},
    {"remote.log.copy.disable", nullptr, ConfigType::kBoolean, "false",
     "Tiered storage: stop copying segments to remote storage; stored and reported only.", false},
    {"remote.log.delete.on.disable", nullptr, ConfigType::kBoolean, "false",
     "Tiered storage: delete remote data when remote storage is disabled; stored and reported only.", false},
    {"remote.storage.enable", nullptr, ConfigType::kBoolean, "false",
     "Tiered storage; this broker has none, so only false is accepted (as Kafka without "
     "remote.log.storage.system.enable).",
     false},
    {"retention.bytes", "log.retention.bytes", ConfigType::kLong, "-1",
     "Maximum size of a partition before old segments are deleted (-1: no limit).", false},
    {"retention.ms", "log.retention.ms", ConfigType::kLong, "604800000",
     "Maximum age of a segment's newest record before the segment is deleted (-1: no limit).", false},
    {"segment.bytes", "log.segment.bytes", ConfigType::kInt, "1073741824", "Size of a log segment file.", false},
    {"segment.index.bytes", "log.index.size.max.bytes", ConfigType::kInt, "10485760",
     "Maximum size of a segment's offset index (the segment rolls when it is full).", false},
    {"segment.jitter.ms", "log.roll.jitter.ms", ConfigType::kLong, "0",
     "Random jitter, drawn per segment in [0, min(segment.jitter.ms, segment.ms)), subtracted from "
     "segment.ms.",
     false},
    {"segment.ms", "log.roll.ms", ConfigType::kLong, "604800000",
     "Roll a new segment when the active one is this old, even if not full.", false},
    {"unclean.leader.election.enable", "unclean.leader.election.enable", ConfigType::kBoolean, "false",
     "Elect an out-of-sync replica as leader as a last resort; stored and reported only (one replica).", false},
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

Status parse_int_range(std::string_view name, std::string_view value, int32_t min, int32_t max, int32_t* out) {
  int32_t x = 0;
  if (Status s = parse_int(name, value, INT32_MIN, &x); !s.ok()) return s;
  if (x < min || x > max)
    return bad_value(name, value, "Value must be between " + std::to_string(min) + " and " + std::to_string(max));
  *out = x;
  return Status::Ok();
}

// Items of a list value, trimmed, empty ones dropped (Kafka's LIST parsing).
std::vector<std::string_view> list_items(std::string_view v) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto i : items) (out.empty() ? out : out += ",") += i;
  return out;
}

// Kafka's ThrottledReplicaListValidator: "*" or partition:broker items.
Status parse_throttled(std::string_view n, std::string_view v, std::string* out) {
  std::vector<std::string_view> items = list_items(v);
  bool ok = items.size() == 1 && items[0] == "*";
  if (!ok) {
    ok = true;
    for (auto item : items) {
      size_t colon = item.find(':');
      auto digits = [](std::string_view d) {
        return !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      if (colon == std::string_view::npos || !digits(item.substr(0, colon)) || !digits(item.substr(colon + 1)))
        ok = false;
    }
  }
  if (!ok)
    return bad_value(n, v, std::string(n) +
                               " must be the literal '*' or a list of replicas in the following format: "
                               "[partitionId]:[brokerId],[partitionId]:[brokerId],...");
  *out = join(items);
  return Status::Ok();
}

// message.format.version: a Kafka version string 0.8.0 .. 3.9 (with an
// optional -IVn suffix), as Kafka's MetadataVersionValidator.
Status parse_format_version(std::string_view n, std::string_view v, std::string* out) {
  std::string_view t = trim(v);
  std::string_view ver = t.substr(0, t.find("-IV"));
  std::string_view iv = ver.size() < t.size() ? t.substr(ver.size() + 3) : std::string_view("0");
  int major = -1, minor = -1, patch = 0;
  const char* p = ver.data();
  const char* e = ver.data() + ver.size();
  auto num = [&](int* x) {
    auto [q, ec] = std::from_chars(p, e, *x);
    bool ok = ec == std::errc() && q != p;
    p = q;
    return ok;
  };
  bool ok = num(&major) && p < e && *p++ == '.' && num(&minor) && (p == e || (*p++ == '.' && num(&patch) && p == e));
  int ivn = 0;
  ok = ok && std::from_chars(iv.data(), iv.data() + iv.size(), ivn).ptr == iv.data() + iv.size() && !iv.empty();
  ok = ok && ((major == 0 && minor >= 8 && minor <= 11) || (major >= 1 && major <= 2 && minor <= 8) ||
              (major == 3 && minor <= 9));
  if (!ok) return bad_value(n, v, "Version " + std::string(t) + " is not a valid version");
  *out = std::string(t);
  return Status::Ok();
}

template <auto M, int64_t Min>
Status set_long(LogConfig& c, std::string_view n, std::string_view v) {
  return parse_long(n, v, Min, &(c.*M));
}
template <auto M, int32_t Min, int32_t Max = INT32_MAX>
Status set_int(LogConfig& c, std::string_view n, std::string_view v) {
  return parse_int_range(n, v, Min, Max, &(c.*M));
}
template <auto M>
Status set_bool(LogConfig& c, std::string_view n, std::string_view v) {
  return parse_bool(n, v, &(c.*M));
}
template <auto M>
std::string get_num(const LogConfig& c) {
  return std::to_string(c.*M);
}
template <auto M>
std::string get_bool(const LogConfig& c) {
  return c.*M ? "true" : "false";
}
template <auto M>
std::string get_str(const LogConfig& c) {
  return c.*M;
}

Status set_cleanup_policy(LogConfig& c, std::string_view n, std::string_view v) {
  bool compact = false, del = false;
  for (auto item : list_items(v)) {
    if (item == "compact") compact = true;
    else if (item == "delete") del = true;
    else return bad_value(n, v, "String must be one of: compact, delete");
  }
  c.compact = compact;
  c.del = del;
  return Status::Ok();
}

std::string get_cleanup_policy(const LogConfig& c) {
  if (c.compact && c.del) return "compact,delete";
  if (c.compact) return "compact";
  if (c.del) return "delete";
  return "";
}

// Kafka's BrokerCompressionType names.
Status set_compression_type(LogConfig& c, std::string_view n, std::string_view v) {
  std::string_view t = trim(v);
  proto::Compression codec = proto::Compression::kNone;
  if (t == "producer") {
    c.compression.reset();
    return Status::Ok();
  }
  if (t != "uncompressed" && (t == "none" || !proto::parse_compression(t, codec)))
    return bad_value(n, v, "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer");
  c.compression = codec;
  return Status::Ok();
}

std::string get_compression_type(const LogConfig& c) {
  if (!c.compression) return "producer";
  return *c.compression == proto::Compression::kNone ? "uncompressed" : proto::compression_name(*c.compression);
}

Status set_gzip_level(LogConfig& c, std::string_view n, std::string_view v) {
  int32_t x = 0;
  if (Status s = parse_int(n, v, INT32_MIN, &x); !s.ok()) return s;
  if (x != -1 && (x < 1 || x > 9)) return bad_value(n, v, "Value must be between 1 and 9 or equal to -1");
  c.compression_gzip_level = x;
  return Status::Ok();
}

Status set_timestamp_type(LogConfig& c, std::string_view n, std::string_view v) {
  std::string_view t = trim(v);
  if (t == "CreateTime") c.timestamp_type = proto::TimestampType::kCreateTime;
  else if (t == "LogAppendTime") c.timestamp_type = proto::TimestampType::kLogAppendTime;
  else return bad_value(n, v, "String must be one of: CreateTime, LogAppendTime");
  return Status::Ok();
}

std::string get_timestamp_type(const LogConfig& c) {
  return c.timestamp_type == proto::TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime";
}

Status set_dirty_ratio(LogConfig& c, std::string_view n, std::string_view v) {
  std::string t(trim(v));
  char* end = nullptr;
  errno = 0;
  double d = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size() || !std::isfinite(d))
    return bad_value(n, v, "Not a number of type DOUBLE");
  if (d < 0 || d > 1) return bad_value(n, v, "Value must be between 0 and 1");
  c.min_cleanable_dirty_ratio = d;
  return Status::Ok();
}

// Per-key setter / getter.
struct Accessor {
  const char* name;
  Status (*set)(LogConfig&, std::string_view name, std::string_view value);
  std::string (*get)(const LogConfig&);
};

using C = LogConfig;
const Accessor kAccessors[] = {
    {"cleanup.policy", set_cleanup_policy, get_cleanup_policy},
    {"compression.type", set_compression_type, get_compression_type},
    {"compression.gzip.level", set_gzip_level, get_num<&C::compression_gzip_level>},
    {"compression.lz4.level", set_int<&C::compression_lz4_level, 1, 17>, get_num<&C::compression_lz4_level>},
    {"compression.zstd.level", set_int<&C::compression_zstd_level, -131072, 22>, get_num<&C::compression_zstd_level>},
    {"delete.retention.ms", set_long<&C::delete_retention_ms, 0>, get_num<&C::delete_retention_ms>},
    {"file.delete.delay.ms", set_long<&C::file_delete_delay_ms, 0>, get_num<&C::file_delete_delay_ms>},
    {"flush.messages", set_long<&C::flush_messages, 1>, get_num<&C::flush_messages>},
    {"flush.ms", set_long<&C::flush_ms, 0>, get_num<&C::flush_ms>},
    {"follower.replication.throttled.replicas",
     [](C& c, std::string_view n, std::string_view v) {
       return parse_throttled(n, v, &c.follower_replication_throttled_replicas);
     },
     get_str<&C::follower_replication_throttled_replicas>},
    {"index.interval.bytes", set_int<&C::index_interval_bytes, 0>, get_num<&C::index_interval_bytes>},
    {"leader.replication.throttled.replicas",
     [](C& c, std::string_view n, std::string_view v) {
       return parse_throttled(n, v, &c.leader_replication_throttled_replicas);
     },
     get_str<&C::leader_replication_throttled_replicas>},
    {"local.retention.bytes", set_long<&C::local_retention_bytes, -2>, get_num<&C::local_retention_bytes>},
    {"local.retention.ms", set_long<&C::local_retention_ms, -2>, get_num<&C::local_retention_ms>},
    {"max.compaction.lag.ms", set_long<&C::max_compaction_lag_ms, 1>, get_num<&C::max_compaction_lag_ms>},
    {"max.message.bytes", set_int<&C::max_message_bytes, 0>, get_num<&C::max_message_bytes>},
    {"message.downconversion.enable", set_bool<&C::message_downconversion_enable>,
     get_bool<&C::message_downconversion_enable>},
    {"message.format.version",
     [](C& c, std::string_view n, std::string_view v) { return parse_format_version(n, v, &c.message_format_version); },
     get_str<&C::message_format_version>},
    {"message.timestamp.after.max.ms", set_long<&C::timestamp_after_max_ms, 0>, get_num<&C::timestamp_after_max_ms>},
    {"message.timestamp.before.max.ms", set_long<&C::timestamp_before_max_ms, 0>,
     get_num<&C::timestamp_before_max_ms>},
    {"message.timestamp.difference.max.ms", set_long<&C::timestamp_difference_max_ms, 0>,
     get_num<&C::timestamp_difference_max_ms>},
    {"message.timestamp.type", set_timestamp_type, get_timestamp_type},
    {"min.cleanable.dirty.ratio", set_dirty_ratio,
     [](const C& c) { return double_str(c.min_cleanable_dirty_ratio); }},
    {"min.compaction.lag.ms", set_long<&C::min_compaction_lag_ms, 0>, get_num<&C::min_compaction_lag_ms>},
    {"min.insync.replicas", set_int<&C::min_insync_replicas, 1>, get_num<&C::min_insync_replicas>},
    {"preallocate", set_bool<&C::preallocate>, get_bool<&C::preallocate>},
    {"remote.log.copy.disable", set_bool<&C::remote_log_copy_disable>, get_bool<&C::remote_log_copy_disable>},
    {"remote.log.delete.on.disable", set_bool<&C::remote_log_delete_on_disable>,
     get_bool<&C::remote_log_delete_on_disable>},
    {"remote.storage.enable", set_bool<&C::remote_storage_enable>, get_bool<&C::remote_storage_enable>},
    // retention.bytes: no lower bound in Kafka (negative: no limit).
    {"retention.bytes", set_long<&C::retention_bytes, INT64_MIN>, get_num<&C::retention_bytes>},
    {"retention.ms", set_long<&C::retention_ms, -1>, get_num<&C::retention_ms>},
    // 14: Kafka 3.x's minimum (a legacy record's overhead); tests use tiny segments.
    {"segment.bytes", set_int<&C::segment_bytes, 14>, get_num<&C::segment_bytes>},
    {"segment.index.bytes", set_int<&C::segment_index_bytes, 4>, get_num<&C::segment_index_bytes>},
    {"segment.jitter.ms", set_long<&C::segment_jitter_ms, 0>, get_num<&C::segment_jitter_ms>},
    {"segment.ms", set_long<&C::segment_ms, 1>, get_num<&C::segment_ms>},
    {"unclean.leader.election.enable", set_bool<&C::unclean_leader_election_enable>,
     get_bool<&C::unclean_leader_election_enable>},
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
    if (d.broker_name != nullptr && broker_name == d.broker_name) return &d;
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

int LogConfig::compression_level() const {
  if (!compression) return -1;
  switch (*compression) {
    case proto::Compression::kGzip: return compression_gzip_level;
    case proto::Compression::kLz4: return compression_lz4_level;
    case proto::Compression::kZstd: return compression_zstd_level;
    default: return -1;
  }
}

Status LogConfig::validate() const {
  if (min_compaction_lag_ms > max_compaction_lag_ms)
    return Status::error(ErrorCode::INVALID_CONFIG, "conflict topic config setting min.compaction.lag.ms (" +
                                                        std::to_string(min_compaction_lag_ms) +
                                                        ") > max.compaction.lag.ms (" +
                                                        std::to_string(max_compaction_lag_ms) + ")");
  if (remote_storage_enable)
    return Status::error(ErrorCode::INVALID_CONFIG,
                         "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with "
                         "remote log storage.");
  return Status::Ok();
}

Status LogConfig::with_overrides(const LogConfig& base, const ConfigMap& overrides, LogConfig* out) {
  LogConfig c = base;
  for (const auto& [k, v] : overrides)
    if (Status s = c.set(k, v); !s.ok()) return s;
  if (Status s = c.validate(); !s.ok()) return s;
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
  if (Status s = d.validate(); !s.ok()) return s;
  *defaults = d;
  *settings = st;
  return Status::Ok();
}

}  // namespace kfk::broker
