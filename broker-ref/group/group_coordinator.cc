#include "group/group_coordinator.h"

#include "protocol/error_codes.h"
#include "server/server_log.h"
#include "storage/file_util.h"

namespace kfk::broker {

using proto::ErrorCode;

namespace {

CoordinatorRuntimeOptions runtime_options(const BrokerConfig& config) {
  CoordinatorRuntimeOptions o;
  o.topic = kOffsetsTopic;
  o.num_partitions = static_cast<int32_t>(config.get_long("offsets.topic.num.partitions"));
  o.topic_overrides = {{"cleanup.policy", "compact"},
                       {"segment.bytes", std::to_string(config.get_long("offsets.topic.segment.bytes"))}};
  o.name = "group coordinator";
  return o;
}

}  // namespace

GroupCoordinator::GroupCoordinator(uv_loop_t* loop, const BrokerConfig& config, LocalController& controller,
                                   ReplicaManager& replicas, const MetadataCache& metadata,
                                   std::function<void(int32_t, size_t)> notify)
    : metadata_(metadata),
      runtime_(loop, runtime_options(config), controller, replicas, std::move(notify)),
      log_(runtime_),
      min_session_ms_(static_cast<int32_t>(config.get_long("group.min.session.timeout.ms"))),
      max_session_ms_(static_cast<int32_t>(config.get_long("group.max.session.timeout.ms"))),
      initial_delay_ms_(static_cast<int32_t>(config.get_long("group.initial.rebalance.delay.ms"))),
      max_group_size_(static_cast<int32_t>(config.get_long("group.max.size"))),
      max_metadata_bytes_(static_cast<int32_t>(config.get_long("offset.metadata.max.bytes"))) {
  runtime_.set_shard(this);
}

GroupCoordinator::~GroupCoordinator() { close(); }

void GroupCoordinator::close() { runtime_.close(); }

ErrorCode GroupCoordinator::unavailable(const std::string& group_id) const {
  if (shutting_down_) return ErrorCode::COORDINATOR_NOT_AVAILABLE;
  return runtime_.check(partition_for(group_id));
}

int64_t GroupCoordinator::wall_now() const { return wall_clock_ms(); }

void GroupCoordinator::log(const std::string& msg) const { server_log("group coordinator: " + msg); }

Group* GroupCoordinator::find(const std::string& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

const Group* GroupCoordinator::find(const std::string& id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

int16_t GroupCoordinator::ensure_offsets_topic() {
  if (shutting_down_) return proto::to_int(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  if (Status s = log_.ensure_topic(); !s.ok()) {
    log("cannot create " + std::string(kOffsetsTopic) + ": " + s.to_string());
    return proto::to_int(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  }
  return 0;
}

bool GroupCoordinator::persist_group(Group& g) {
  Status s = log_.append(g.id, {GroupLog::group_record(g, wall_now())}, wall_now());
  if (!s.ok()) log("group " + g.id + ": storing the group metadata failed: " + s.to_string());
  return s.ok();
}

Status GroupCoordinator::load() { return runtime_.load_all(); }

bool GroupCoordinator::replay(int32_t /*partition*/, const proto::Record& record) {
  return GroupLog::apply_record(record, &loading_);
}

Group GroupCoordinator::group_from_log(const std::string& id, LoadedGroup&& lg) {
  const int64_t wall = wall_now();
  Group g;
  g.id = id;
  g.offsets = std::move(lg.offsets);
  g.set_state(GroupState::kEmpty, wall);
  if (!lg.metadata) return g;
  const proto::GroupMetadataValue& v = *lg.metadata;
  if (!v.protocol_type.empty()) g.protocol_type = v.protocol_type;
  g.generation = v.generation;
  g.protocol_name = v.protocol;
  g.leader = v.leader;
  for (const auto& mm : v.members) {
    GroupMember m;
    m.member_id = mm.member_id;
    m.group_instance_id = mm.group_instance_id;
    m.client_id = mm.client_id;
    m.client_host = mm.client_host;
    m.rebalance_timeout_ms = mm.rebalance_timeout;
    m.session_timeout_ms = mm.session_timeout;
    m.protocol_type = v.protocol_type;
    if (v.protocol) m.protocols.emplace_back(*v.protocol, mm.subscription);
    m.assignment = mm.assignment;
    m.join_order = g.next_join_order++;
    // Members must heartbeat within their session timeout, as after a
    // coordinator move in Kafka.
    touch_session(g, m);
    if (m.group_instance_id) g.static_members[*m.group_instance_id] = m.member_id;
    g.members[m.member_id] = std::move(m);
  }
  if (!g.members.empty()) {
    g.set_state(GroupState::kStable, wall);
    if (!g.protocol_name) g.set_state(GroupState::kEmpty, wall);  // inconsistent record: start over
  }
  if (g.state == GroupState::kEmpty) {
    g.members.clear();
    g.static_members.clear();
  }
  if (v.current_state_timestamp >= 0) g.state_timestamp = v.current_state_timestamp;
  return g;
}

void GroupCoordinator::on_loaded(int32_t partition) {
  size_t n = 0;
  for (auto it = loading_.begin(); it != loading_.end();) {
    if (partition_for(it->first) != partition) {
      ++it;
      continue;
    }
    groups_.insert_or_assign(it->first, group_from_log(it->first, std::move(it->second)));
    it = loading_.erase(it);
    ++n;
  }
  if (n > 0)
    log("loaded " + std::to_string(n) + " groups from " + kOffsetsTopic + "-" + std::to_string(partition));
  arm();
}

void GroupCoordinator::on_unloaded(int32_t partition) {
  std::erase_if(loading_, [&](const auto& kv) { return partition_for(kv.first) == partition; });
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (partition_for(it->first) != partition) {
      ++it;
      continue;
    }
    // Kafka's onUnloaded: the group is Dead here; its members look for
    // the new coordinator.
    answer_parked(it->second, proto::to_int(ErrorCode::NOT_COORDINATOR), false);
    it = groups_.erase(it);
  }
  arm();
}

void GroupCoordinator::answer_parked(Group& g, int16_t error, bool now) {
  for (auto& [mid, m] : g.members) {
    if (m.awaiting_join) {
      JoinResult r;
      r.error = error;
      r.member_id = mid;
      if (now) std::exchange(m.awaiting_join, nullptr)(r);
      else post_join(m, std::move(r));
    }
    if (m.awaiting_sync) {
      SyncResult r;
      r.error = error;
      if (now) std::exchange(m.awaiting_sync, nullptr)(r);
      else post_sync(m, std::move(r));
    }
  }
}

void GroupCoordinator::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  // Answer every parked request now (synchronously: the loop is draining).
  for (auto& [id, g] : groups_) answer_parked(g, proto::to_int(ErrorCode::NOT_COORDINATOR), true);
  runtime_.shutdown();
}

}  // namespace kfk::broker
