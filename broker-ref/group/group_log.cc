#include "group/group_log.h"

#include <unistd.h>

#include <cerrno>

#include "protocol/reader.h"
#include "protocol/record_batch.h"
#include "protocol/writer.h"
#include "server/broker.h"

namespace kfk::broker {
namespace {

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;
constexpr size_t kLoadChunk = 1 << 20;
constexpr size_t kMaxDecompressed = 64u << 20;

template <class T>
proto::Bytes versioned(const T& msg, int16_t version) {
  proto::Writer w(64);
  w.i16(version);
  msg.encode(w, version);
  return w.flatten();
}

// Next code point of UTF-8 at s[i] (advancing i); U+FFFD for malformed input.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  if (len == 1) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

int32_t java_string_hash(std::string_view s) {
  uint32_t h = 0;  // unsigned: Java's int arithmetic wraps
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = next_code_point(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = 31 * h + (0xD800 + (cp >> 10));
      h = 31 * h + (0xDC00 + (cp & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>(h);
}

GroupLog::GroupLog(LogManager& logs, int32_t num_partitions, int32_t segment_bytes,
                   std::function<void(int32_t, size_t)> notify)
    : logs_(logs), num_partitions_(num_partitions), segment_bytes_(segment_bytes), notify_(std::move(notify)) {}

int32_t GroupLog::partition_for(std::string_view group) const {
  int32_t h = java_string_hash(group);
  int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);  // Kafka's Utils.abs
  return abs % num_partitions_;
}

Status GroupLog::ensure_topic() {
  if (logs_.topic(kOffsetsTopic)) return Status::Ok();
  ConfigMap overrides{{"cleanup.policy", "compact"}, {"segment.bytes", std::to_string(segment_bytes_)}};
  return logs_.create_topic(kOffsetsTopic, num_partitions_, overrides);
}

Status GroupLog::append(std::string_view group, const std::vector<KeyValue>& records, int64_t now_ms) {
  if (records.empty()) return Status::Ok();
  if (Status s = ensure_topic(); !s.ok()) return s;
  int32_t p = partition_for(group);
  std::shared_ptr<Log> log = logs_.log_shared(kOffsetsTopic, p);
  if (!log) return Status::error(ErrorCode::COORDINATOR_NOT_AVAILABLE, "__consumer_offsets partition missing");
  proto::BatchBuilder b(proto::BatchBuilder::Options{});
  for (const auto& kv : records) {
    std::optional<std::span<const uint8_t>> v;
    if (kv.value) v = std::span<const uint8_t>(*kv.value);
    b.append(kv.timestamp, std::span<const uint8_t>(kv.key), v);
  }
  std::vector<uint8_t> batch = b.release();
  AppendInfo info;
  Status s = log->append(batch, Broker::kLeaderEpoch, now_ms, &info);
  if (!s.ok()) return s;
  if (notify_) notify_(p, batch.size());
  return Status::Ok();
}

GroupLog::KeyValue GroupLog::offset_record(const std::string& group, const std::string& topic, int32_t partition,
                                           const CommittedOffset* value, int64_t now_ms) {
  proto::OffsetCommitKey k;
  k.group = group;
  k.topic = topic;
  k.partition = partition;
  KeyValue kv;
  kv.key = versioned(k, kOffsetKeyVersion);
  kv.timestamp = value ? value->commit_timestamp : now_ms;
  if (value) {
    proto::OffsetCommitValue v;
    v.offset = value->offset;
    v.leader_epoch = value->leader_epoch;
    v.metadata = value->metadata;
    v.commit_timestamp = value->commit_timestamp;
    kv.value = versioned(v, kOffsetValueVersion);
  }
  return kv;
}

GroupLog::KeyValue GroupLog::group_record(const Group& g, int64_t now_ms) {
  proto::GroupMetadataKey k;
  k.group = g.id;
  proto::GroupMetadataValue v;
  v.protocol_type = g.protocol_type.value_or("");
  v.generation = g.generation;
  v.protocol = g.protocol_name;
  v.leader = g.leader;
  v.current_state_timestamp = g.state_timestamp;
  for (const auto& [id, m] : g.members) {
    proto::GroupMetadataValue::MemberMetadata mm;
    mm.member_id = m.member_id;
    mm.group_instance_id = m.group_instance_id;
    mm.client_id = m.client_id;
    mm.client_host = m.client_host;
    mm.rebalance_timeout = m.rebalance_timeout_ms;
    mm.session_timeout = m.session_timeout_ms;
    if (g.protocol_name)
      if (const proto::Bytes* md = m.metadata_for(*g.protocol_name)) mm.subscription = *md;
    mm.assignment = m.assignment;
    v.members.push_back(std::move(mm));
  }
  KeyValue kv;
  kv.key = versioned(k, kGroupKeyVersion);
  kv.value = versioned(v, kGroupValueVersion);
  kv.timestamp = now_ms;
  return kv;
}

GroupLog::KeyValue GroupLog::group_tombstone(const std::string& group, int64_t now_ms) {
  proto::GroupMetadataKey k;
  k.group = group;
  KeyValue kv;
  kv.key = versioned(k, kGroupKeyVersion);
  kv.timestamp = now_ms;
  return kv;
}

namespace {

// Applies one record of __consumer_offsets to `out`; false when undecodable.
bool apply_record(const proto::Record& rec, std::map<std::string, LoadedGroup>* out) {
  if (!rec.key) return false;
  proto::Reader kr(rec.key->data(), rec.key->size());
  int16_t kv = kr.i16();
  if (!kr.ok()) return false;
  if (kv == 0 || kv == 1) {
    proto::OffsetCommitKey k;
    k.decode(kr, kv);
    if (!kr.ok()) return false;
    auto tp = std::make_pair(k.topic, k.partition);
    if (!rec.value) {
      auto it = out->find(k.group);
      if (it != out->end()) it->second.offsets.erase(tp);
      return true;
    }
    proto::Reader vr(rec.value->data(), rec.value->size());
    int16_t vv = vr.i16();
    if (!vr.ok() || vv < 0 || vv > proto::OffsetCommitValue::kMaxVersion) return false;
    proto::OffsetCommitValue v;
    v.decode(vr, vv);
    if (!vr.ok()) return false;
    CommittedOffset c;
    c.offset = v.offset;
    c.leader_epoch = v.leader_epoch;
    c.metadata = v.metadata;
    c.commit_timestamp = v.commit_timestamp;
    (*out)[k.group].offsets[tp] = std::move(c);
    return true;
  }
  if (kv == 2) {
    proto::GroupMetadataKey k;
    k.decode(kr, kv);
    if (!kr.ok()) return false;
    if (!rec.value) {
      out->erase(k.group);  // DeleteGroups wrote offset tombstones too
      return true;
    }
    proto::Reader vr(rec.value->data(), rec.value->size());
    int16_t vv = vr.i16();
    if (!vr.ok() || vv < 0 || vv > proto::GroupMetadataValue::kMaxVersion) return false;
    proto::GroupMetadataValue v;
    v.decode(vr, vv);
    if (!vr.ok()) return false;
    (*out)[k.group].metadata = std::move(v);
    return true;
  }
  return false;  // a newer coordinator's record type
}

}  // namespace

Status GroupLog::load(std::map<std::string, LoadedGroup>* out, const std::function<void(const std::string&)>& warn) {
  auto info = logs_.topic(kOffsetsTopic);
  if (!info) return Status::Ok();
  std::vector<uint8_t> buf;
  std::vector<proto::BatchSpan> spans;
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  for (int32_t p = 0; p < info->partitions; ++p) {
    std::shared_ptr<Log> log = logs_.log_shared(kOffsetsTopic, p);
    if (!log) continue;
    int64_t offset = log->log_start_offset();
    const int64_t end = log->log_end_offset();
    while (offset < end) {
      ReadResult rr = log->read(offset, kLoadChunk, true);
      if (!rr.status.ok()) return rr.status;
      if (rr.size == 0) break;
      buf.resize(rr.size);
      size_t got = 0;
      while (got < rr.size) {
        ssize_t n = ::pread(rr.fd, buf.data() + got, rr.size - got, static_cast<off_t>(rr.position + static_cast<int64_t>(got)));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return io_error("reading __consumer_offsets-" + std::to_string(p), n < 0 ? errno : EIO);
        got += static_cast<size_t>(n);
      }
      const char* why = nullptr;
      size_t tail = 0;
      if (!proto::split_batches(buf, spans, &why, &tail) || spans.empty())
        return Status::error(ErrorCode::CORRUPT_MESSAGE, std::string("__consumer_offsets-") + std::to_string(p) +
                                                             ": " + (why ? why : "no whole batch"));
      for (const auto& sp : spans) {
        int64_t next = sp.header.base_offset + sp.header.last_offset_delta + 1;
        if (next > offset) offset = next;
        if (sp.header.is_control()) continue;  // transaction markers: no transactions yet
        if (!proto::decode_records(sp, recs, scratch, kMaxDecompressed, &why)) {
          warn("__consumer_offsets-" + std::to_string(p) + ": skipping an undecodable batch: " + (why ? why : "?"));
          continue;
        }
        for (const auto& r : recs)
          if (!apply_record(r, out))
            warn("__consumer_offsets-" + std::to_string(p) + " offset " + std::to_string(r.offset) +
                 ": skipping an unknown or undecodable record");
      }
    }
  }
  return Status::Ok();
}

}  // namespace kfk::broker
