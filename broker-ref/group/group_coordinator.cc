#include "group/group_coordinator.h"

#include "protocol/error_codes.h"
#include "server/server_log.h"
#include "storage/file_util.h"

namespace kfk::broker {

using proto::ErrorCode;

GroupCoordinator::GroupCoordinator(uv_loop_t* loop, LogManager& logs, const BrokerConfig& config,
                                   std::function<void(int32_t, size_t)> notify)
    : loop_(loop),
      logs_(logs),
      log_(logs, static_cast<int32_t>(config.get_long("offsets.topic.num.partitions")),
           static_cast<int32_t>(config.get_long("offsets.topic.segment.bytes")), std::move(notify)),
      min_session_ms_(static_cast<int32_t>(config.get_long("group.min.session.timeout.ms"))),
      max_session_ms_(static_cast<int32_t>(config.get_long("group.max.session.timeout.ms"))),
      initial_delay_ms_(static_cast<int32_t>(config.get_long("group.initial.rebalance.delay.ms"))),
      max_group_size_(static_cast<int32_t>(config.get_long("group.max.size"))),
      max_metadata_bytes_(static_cast<int32_t>(config.get_long("offset.metadata.max.bytes"))),
      timer_(new uv_timer_t),
      post_timer_(new uv_timer_t) {
  for (uv_timer_t* t : {timer_, post_timer_}) {
    uv_timer_init(loop_, t);
    t->data = this;
  }
}

GroupCoordinator::~GroupCoordinator() { close(); }

void GroupCoordinator::close() {
  for (uv_timer_t** t : {&timer_, &post_timer_}) {
    if (*t == nullptr) continue;
    uv_timer_stop(*t);
    (*t)->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(*t), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    *t = nullptr;
  }
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

Status GroupCoordinator::load() {
  std::map<std::string, LoadedGroup> loaded;
  if (Status s = log_.load(&loaded, [this](const std::string& m) { log(m); }); !s.ok()) return s;
  const int64_t wall = wall_now();
  for (auto& [id, lg] : loaded) {
    Group g;
    g.id = id;
    g.offsets = std::move(lg.offsets);
    g.set_state(GroupState::kEmpty, wall);
    if (lg.metadata) {
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
    }
    groups_.emplace(id, std::move(g));
  }
  if (!loaded.empty()) log("loaded " + std::to_string(loaded.size()) + " groups from " + kOffsetsTopic);
  arm();
  return Status::Ok();
}

void GroupCoordinator::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  // Answer every parked request now (synchronously: the loop is draining).
  for (auto& [id, g] : groups_)
    for (auto& [mid, m] : g.members) {
      if (m.awaiting_join) {
        JoinResult r;
        r.error = proto::to_int(ErrorCode::NOT_COORDINATOR);
        r.member_id = mid;
        auto cb = std::move(m.awaiting_join);
        m.awaiting_join = nullptr;
        cb(r);
      }
      if (m.awaiting_sync) {
        SyncResult r;
        r.error = proto::to_int(ErrorCode::NOT_COORDINATOR);
        auto cb = std::move(m.awaiting_sync);
        m.awaiting_sync = nullptr;
        cb(r);
      }
    }
  auto posted = std::move(posted_);
  posted_.clear();
  for (auto& fn : posted) fn();
  if (timer_) uv_timer_stop(timer_);
  if (post_timer_) uv_timer_stop(post_timer_);
}

}  // namespace kfk::broker
