#include "group/group_log.h"

#include "protocol/reader.h"
#include "protocol/record_batch.h"
#include "protocol/writer.h"

namespace kfk::broker {
namespace {

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;

template <class T>
proto::Bytes versioned(const T& msg, int16_t version) {
  proto::Writer w(64);
  w.i16(version);
  msg.encode(w, version);
  return w.flatten();
}

}  // namespace

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

bool GroupLog::apply_record(const proto::Record& rec, std::map<std::string, LoadedGroup>* out) {
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

}  // namespace kfk::broker
