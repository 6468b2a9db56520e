// Offsets and group administration: OffsetCommit / OffsetFetch /
// OffsetDelete, DescribeGroups / ListGroups / DeleteGroups (Kafka's
// handleCommitOffsets, handleFetchOffsets, handleDeleteOffsets,
// handleDescribeGroup, handleListGroups, handleDeleteGroups).
#include <algorithm>
#include <cctype>

#include "group/group_coordinator.h"
#include "protocol/error_codes.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
int16_t code(ErrorCode e) { return proto::to_int(e); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void GroupCoordinator::commit_offsets(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id,
                                      std::vector<OffsetCommitEntry>* entries) {
  auto fail_all = [&](ErrorCode e) {
    for (auto& en : *entries)
      if (en.error == 0) en.error = code(e);
  };
  // Partitions this broker does not host are refused first (KafkaApis).
  for (auto& en : *entries) {
    if (metadata_.image().partition(en.topic, en.partition) == nullptr) en.error = code(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  }
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return fail_all(e);
  if (group_id.empty()) return fail_all(ErrorCode::INVALID_GROUP_ID);
  if (ensure_offsets_topic() != 0) return fail_all(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  Group* g = find(group_id);
  if (g == nullptr) {
    // Generation < 0: a group that uses Kafka only to store offsets.
    if (generation_id >= 0) return fail_all(ErrorCode::ILLEGAL_GENERATION);
    g = &groups_[group_id];
    g->id = group_id;
    g->set_state(GroupState::kEmpty, wall_now());
  }
  GroupMember* member = nullptr;
  if (g->is_static_member_fenced(group_instance_id, member_id)) {
    fail_all(ErrorCode::FENCED_INSTANCE_ID);
  } else if (generation_id < 0 && g->state == GroupState::kEmpty) {
    // Simple consumer commit: no membership to check.
  } else if (!g->has_member(member_id)) {
    fail_all(ErrorCode::UNKNOWN_MEMBER_ID);
  } else if (generation_id != g->generation) {
    fail_all(ErrorCode::ILLEGAL_GENERATION);
  } else if (g->state == GroupState::kCompletingRebalance) {
    // The member must finish SyncGroup first (it may lose partitions).
    fail_all(ErrorCode::REBALANCE_IN_PROGRESS);
  } else {
    member = &g->members.at(member_id);
  }
  if (member) touch_session(*g, *member);  // a commit counts as a heartbeat

  const int64_t ts = wall_now();
  std::vector<GroupLog::KeyValue> records;
  std::vector<OffsetCommitEntry*> accepted;
  for (auto& en : *entries) {
    if (en.error != 0) continue;
    if (en.metadata && en.metadata->size() > static_cast<size_t>(max_metadata_bytes_)) {
      en.error = code(ErrorCode::OFFSET_METADATA_TOO_LARGE);
      continue;
    }
    CommittedOffset c{en.offset, en.leader_epoch, en.metadata.value_or(""), ts};
    records.push_back(GroupLog::offset_record(group_id, en.topic, en.partition, &c, ts));
    accepted.push_back(&en);
  }
  if (!records.empty()) {
    Status s = log_.append(group_id, records, ts);
    if (!s.ok()) {
      log("group " + group_id + ": storing offsets failed: " + s.to_string());
      for (auto* en : accepted) en->error = code(ErrorCode::COORDINATOR_NOT_AVAILABLE);
    } else {
      for (auto* en : accepted)
        g->offsets[{en->topic, en->partition}] = CommittedOffset{en->offset, en->leader_epoch, en->metadata.value_or(""), ts};
    }
  }
  maybe_drop(group_id);
  arm();
}

int16_t GroupCoordinator::fetch_offsets(
    const std::string& group_id, const std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>& topics,
    std::vector<OffsetFetchEntry>* out) {
  out->clear();
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return code(e);
  const Group* g = find(group_id);
  auto fill = [&](OffsetFetchEntry& e) {
    if (g == nullptr) return;
    auto it = g->offsets.find({e.topic, e.partition});
    if (it == g->offsets.end()) return;
    e.offset = it->second.offset;
    e.leader_epoch = it->second.leader_epoch;
    e.metadata = it->second.metadata;
  };
  if (!topics) {
    if (g == nullptr) return 0;
    for (const auto& [tp, c] : g->offsets) {
      OffsetFetchEntry e;
      e.topic = tp.first;
      e.partition = tp.second;
      fill(e);
      out->push_back(std::move(e));
    }
    return 0;
  }
  for (const auto& [topic, parts] : *topics)
    for (int32_t p : parts) {
      OffsetFetchEntry e;
      e.topic = topic;
      e.partition = p;
      e.metadata = std::string();
      fill(e);
      out->push_back(std::move(e));
    }
  return 0;
}

GroupSummary GroupCoordinator::describe(const std::string& group_id) const {
  GroupSummary s;
  s.group_id = group_id;
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) {
    s.error = code(e);
    return s;
  }
  const Group* g = find(group_id);
  if (g == nullptr) {
    s.state = group_state_name(GroupState::kDead);  // Kafka's answer for unknown groups
    return s;
  }
  s.state = group_state_name(g->state);
  s.protocol_type = g->protocol_type.value_or("");
  const bool stable = g->state == GroupState::kStable;
  if (stable) s.protocol_data = g->protocol_name.value_or("");
  std::vector<const GroupMember*> ms;
  for (const auto& [id, m] : g->members) ms.push_back(&m);
  std::sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return a->join_order < b->join_order; });
  for (const GroupMember* m : ms) {
    GroupSummary::Member sm{m->member_id, m->group_instance_id, m->client_id, m->client_host, {}, {}};
    // Metadata and assignment only mean something once the group is Stable.
    if (stable && g->protocol_name) {
      if (const proto::Bytes* md = m->metadata_for(*g->protocol_name)) sm.metadata = *md;
      sm.assignment = m->assignment;
    }
    s.members.push_back(std::move(sm));
  }
  return s;
}

int16_t GroupCoordinator::list(const std::vector<std::string>& states_filter, std::vector<ListedGroup>* out) const {
  out->clear();
  if (shutting_down_) return code(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  std::vector<std::string> wanted;
  for (const auto& s : states_filter) wanted.push_back(lower(s));
  for (const auto& [id, g] : groups_) {
    std::string state = group_state_name(g.state);
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), lower(state)) == wanted.end()) continue;
    out->push_back({id, g.protocol_type.value_or(""), state});
  }
  return 0;
}

int16_t GroupCoordinator::delete_group(const std::string& group_id) {
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return code(e);
  if (group_id.empty()) return code(ErrorCode::INVALID_GROUP_ID);
  Group* g = find(group_id);
  if (g == nullptr) return code(ErrorCode::GROUP_ID_NOT_FOUND);
  if (g->state != GroupState::kEmpty) return code(ErrorCode::NON_EMPTY_GROUP);
  const int64_t ts = wall_now();
  std::vector<GroupLog::KeyValue> records;
  for (const auto& [tp, c] : g->offsets)
    records.push_back(GroupLog::offset_record(group_id, tp.first, tp.second, nullptr, ts));
  records.push_back(GroupLog::group_tombstone(group_id, ts));
  if (Status s = log_.append(group_id, records, ts); !s.ok()) {
    log("group " + group_id + ": writing the deletion failed: " + s.to_string());
    return code(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  }
  log("group " + group_id + " deleted");
  groups_.erase(group_id);
  arm();
  return 0;
}

int16_t GroupCoordinator::delete_offsets(const std::string& group_id,
                                         const std::vector<std::pair<std::string, int32_t>>& partitions,
                                         std::vector<int16_t>* errors) {
  errors->assign(partitions.size(), 0);
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return code(e);
  if (group_id.empty()) return code(ErrorCode::INVALID_GROUP_ID);
  Group* g = find(group_id);
  if (g == nullptr) return code(ErrorCode::GROUP_ID_NOT_FOUND);
  std::optional<std::set<std::string>> subscribed;
  if (g->state != GroupState::kEmpty) {
    // A live group may lose offsets only of topics it does not consume.
    if (g->protocol_type != "consumer") return code(ErrorCode::NON_EMPTY_GROUP);
    subscribed = g->subscribed_topics();
  }
  const int64_t ts = wall_now();
  std::vector<GroupLog::KeyValue> records;
  std::vector<size_t> deleting;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, p] = partitions[i];
    if (metadata_.image().partition(topic, p) == nullptr) {
      (*errors)[i] = code(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
      continue;
    }
    // Unreadable subscriptions count as subscribed to everything.
    if (g->state != GroupState::kEmpty && (!subscribed || subscribed->count(topic))) {
      (*errors)[i] = code(ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC);
      continue;
    }
    if (g->offsets.count({topic, p})) {
      records.push_back(GroupLog::offset_record(group_id, topic, p, nullptr, ts));
      deleting.push_back(i);
    }
  }
  if (Status s = log_.append(group_id, records, ts); !s.ok()) {
    log("group " + group_id + ": writing offset deletions failed: " + s.to_string());
    return code(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  }
  for (size_t i : deleting) g->offsets.erase(partitions[i]);
  maybe_drop(group_id);
  return 0;
}

void GroupCoordinator::remove_offsets_of_deleted_topic(const std::string& topic) {
  const int64_t ts = wall_now();
  std::vector<std::string> emptied;
  for (auto& [id, g] : groups_) {
    std::vector<GroupLog::KeyValue> records;
    for (const auto& [tp, c] : g.offsets)
      if (tp.first == topic) records.push_back(GroupLog::offset_record(id, tp.first, tp.second, nullptr, ts));
    if (records.empty()) continue;
    const bool drop = g.state == GroupState::kEmpty && records.size() == g.offsets.size();
    if (drop) records.push_back(GroupLog::group_tombstone(id, ts));
    if (Status s = log_.append(id, records, ts); !s.ok()) {
      // The offsets stay; the group log is what a restart reads back.
      log("group " + id + ": writing offset deletions for deleted topic " + topic + " failed: " + s.to_string());
      continue;
    }
    std::erase_if(g.offsets, [&](const auto& kv) { return kv.first.first == topic; });
    log("group " + id + ": removed " + std::to_string(drop ? records.size() - 1 : records.size()) +
        " committed offset(s) of deleted topic " + topic);
    if (drop) emptied.push_back(id);
  }
  for (const auto& id : emptied) groups_.erase(id);
  if (!emptied.empty()) arm();
}

}  // namespace kfk::broker
