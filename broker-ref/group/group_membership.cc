// JoinGroup / SyncGroup / Heartbeat / LeaveGroup: the classic rebalance
// protocol, following Kafka's GroupCoordinator (doNewMemberJoinGroup,
// doCurrentMemberJoinGroup, doSyncGroup, handleHeartbeat, handleLeaveGroup).
#include <algorithm>

#include "group/group_coordinator.h"
#include "protocol/error_codes.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
int16_t code(ErrorCode e) { return proto::to_int(e); }

JoinResult join_error(const std::string& member_id, ErrorCode e) {
  JoinResult r;
  r.error = code(e);
  r.member_id = member_id;
  return r;
}

SyncResult sync_error(ErrorCode e) {
  SyncResult r;
  r.error = code(e);
  return r;
}

}  // namespace

void GroupCoordinator::post_join(GroupMember& m, JoinResult r) {
  if (!m.awaiting_join) return;
  post([cb = std::move(m.awaiting_join), r = std::move(r)] { cb(r); });
  m.awaiting_join = nullptr;
}

void GroupCoordinator::post_sync(GroupMember& m, SyncResult r) {
  if (!m.awaiting_sync) return;
  post([cb = std::move(m.awaiting_sync), r = std::move(r)] { cb(r); });
  m.awaiting_sync = nullptr;
}

void GroupCoordinator::touch_session(const Group&, GroupMember& m) {
  m.session_deadline = now() + static_cast<uint64_t>(std::max(m.session_timeout_ms, 0));
}

bool GroupCoordinator::join(const JoinParams& p, JoinResult* out, const std::function<JoinCallback()>& park) {
  if (ErrorCode e = unavailable(p.group_id); e != ErrorCode::NONE) {
    *out = join_error(p.member_id, e);
    return true;
  }
  if (p.group_id.empty()) {
    *out = join_error(p.member_id, ErrorCode::INVALID_GROUP_ID);
    return true;
  }
  if (p.session_timeout_ms < min_session_ms_ || p.session_timeout_ms > max_session_ms_) {
    *out = join_error(p.member_id, ErrorCode::INVALID_SESSION_TIMEOUT);
    return true;
  }
  if (ensure_offsets_topic() != 0) {
    *out = join_error(p.member_id, ErrorCode::COORDINATOR_NOT_AVAILABLE);
    return true;
  }
  const bool unknown = p.member_id.empty();
  Group* g = find(p.group_id);
  if (g == nullptr) {
    if (!unknown) {
      *out = join_error(p.member_id, ErrorCode::UNKNOWN_MEMBER_ID);
      return true;
    }
    g = &groups_[p.group_id];
    g->id = p.group_id;
    g->set_state(GroupState::kEmpty, wall_now());
  }
  // GROUP_MAX_SIZE_REACHED for a joiner that would grow the group past the limit.
  const bool known = !unknown && (g->has_member(p.member_id) || g->pending_members.count(p.member_id));
  const bool static_known = p.group_instance_id && g->static_members.count(*p.group_instance_id);
  if (!known && !static_known && g->members.size() + g->pending_members.size() >= static_cast<size_t>(max_group_size_)) {
    *out = join_error(p.member_id, ErrorCode::GROUP_MAX_SIZE_REACHED);
    maybe_drop(p.group_id);
    return true;
  }
  bool done = unknown ? join_new_member(*g, p, out, park) : join_existing_member(*g, p, out, park);
  maybe_drop(p.group_id);
  arm();
  return done;
}

bool GroupCoordinator::join_new_member(Group& g, const JoinParams& p, JoinResult* out,
                                       const std::function<JoinCallback()>& park) {
  if (!g.supports_protocols(p.protocol_type, p.protocols)) {
    *out = join_error(p.member_id, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    return true;
  }
  std::string id = new_member_id(p.group_instance_id ? *p.group_instance_id : p.client_id);
  if (p.group_instance_id) {
    auto it = g.static_members.find(*p.group_instance_id);
    if (it != g.static_members.end()) return update_static_member(g, it->second, id, p, out, park);
    add_member_and_rebalance(g, id, p, park);
    return false;
  }
  if (p.require_known_member_id) {
    // KIP-394: hand out the id first; the member joins again with it.
    g.pending_members[id] = now() + static_cast<uint64_t>(p.session_timeout_ms);
    *out = join_error(id, ErrorCode::MEMBER_ID_REQUIRED);
    return true;
  }
  add_member_and_rebalance(g, id, p, park);
  return false;
}

bool GroupCoordinator::join_existing_member(Group& g, const JoinParams& p, JoinResult* out,
                                            const std::function<JoinCallback()>& park) {
  if (!g.supports_protocols(p.protocol_type, p.protocols)) {
    *out = join_error(p.member_id, ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
    return true;
  }
  if (g.pending_members.count(p.member_id)) {
    add_member_and_rebalance(g, p.member_id, p, park);
    return false;
  }
  if (g.is_static_member_fenced(p.group_instance_id, p.member_id)) {
    *out = join_error(p.member_id, ErrorCode::FENCED_INSTANCE_ID);
    return true;
  }
  const bool instance_unknown = p.group_instance_id && !g.static_members.count(*p.group_instance_id);
  if (!g.has_member(p.member_id) || instance_unknown) {
    *out = join_error(p.member_id, ErrorCode::UNKNOWN_MEMBER_ID);
    return true;
  }
  GroupMember& m = g.members.at(p.member_id);
  switch (g.state) {
    case GroupState::kPreparingRebalance:
      update_member_and_rebalance(g, m, p, park);
      return false;
    case GroupState::kCompletingRebalance:
      if (m.same_protocols(p.protocols)) {
        // It missed the JoinGroup response: the current generation again.
        touch_session(g, m);
        *out = current_generation_result(g, m.member_id, g.leader == m.member_id);
        return true;
      }
      update_member_and_rebalance(g, m, p, park);
      return false;
    case GroupState::kStable:
      // The leader rejoining forces a rebalance (its assignment inputs, such
      // as topic metadata, may have changed); followers with unchanged
      // metadata get the current generation and go on to SyncGroup.
      if (g.leader == m.member_id || !m.same_protocols(p.protocols)) {
        update_member_and_rebalance(g, m, p, park);
        return false;
      }
      touch_session(g, m);
      *out = current_generation_result(g, m.member_id, false);
      return true;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  *out = join_error(p.member_id, ErrorCode::UNKNOWN_MEMBER_ID);
  return true;
}

JoinResult GroupCoordinator::current_generation_result(const Group& g, const std::string& member_id,
                                                       bool with_members) const {
  JoinResult r;
  r.generation_id = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader = g.leader.value_or("");
  r.member_id = member_id;
  if (with_members && g.protocol_name) {
    std::vector<const GroupMember*> ms;
    for (const auto& [id, m] : g.members) ms.push_back(&m);
    std::sort(ms.begin(), ms.end(), [](auto* a, auto* b) { return a->join_order < b->join_order; });
    for (const GroupMember* m : ms) {
      const proto::Bytes* md = m->metadata_for(*g.protocol_name);
      r.members.push_back({m->member_id, m->group_instance_id, md ? *md : proto::Bytes{}});
    }
  }
  return r;
}

void GroupCoordinator::add_member_and_rebalance(Group& g, const std::string& member_id, const JoinParams& p,
                                                const std::function<JoinCallback()>& park) {
  GroupMember m;
  m.member_id = member_id;
  m.group_instance_id = p.group_instance_id;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.protocol_type = p.protocol_type;
  m.protocols = p.protocols;
  m.join_order = g.next_join_order++;
  m.awaiting_join = park();
  if (g.members.empty()) g.protocol_type = p.protocol_type;
  if (!g.leader || !g.has_member(*g.leader)) g.leader = member_id;
  if (p.group_instance_id) g.static_members[*p.group_instance_id] = member_id;
  g.pending_members.erase(member_id);
  // New members during the first rebalance extend the initial delay.
  if (g.state == GroupState::kPreparingRebalance && g.initial_delay) g.new_member_added = true;
  auto& stored = g.members[member_id] = std::move(m);
  touch_session(g, stored);
  maybe_prepare_rebalance(g, "new member " + member_id + " joined");
  try_complete_join(g);
}

void GroupCoordinator::update_member_and_rebalance(Group& g, GroupMember& m, const JoinParams& p,
                                                   const std::function<JoinCallback()>& park) {
  m.protocols = p.protocols;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  // A repeated JoinGroup (the client gave up on the first) supersedes the
  // parked one, which is told to rejoin.
  if (m.awaiting_join) post_join(m, join_error(m.member_id, ErrorCode::REBALANCE_IN_PROGRESS));
  m.awaiting_join = park();
  touch_session(g, m);
  maybe_prepare_rebalance(g, "member " + m.member_id + " rejoined");
  try_complete_join(g);
}

bool GroupCoordinator::update_static_member(Group& g, const std::string& old_id, const std::string& new_id,
                                            const JoinParams& p, JoinResult* out,
                                            const std::function<JoinCallback()>& park) {
  GroupMember m = std::move(g.members.at(old_id));
  g.members.erase(old_id);
  // The old incarnation's parked requests learn they were replaced.
  post_join(m, join_error(old_id, ErrorCode::FENCED_INSTANCE_ID));
  post_sync(m, sync_error(ErrorCode::FENCED_INSTANCE_ID));
  const auto old_protocols = m.protocols;
  m.member_id = new_id;
  m.protocols = p.protocols;
  m.session_timeout_ms = p.session_timeout_ms;
  m.rebalance_timeout_ms = p.rebalance_timeout_ms;
  m.client_id = p.client_id;
  m.client_host = p.client_host;
  g.static_members[*p.group_instance_id] = new_id;
  if (g.leader == old_id) g.leader = new_id;
  if (g.pending_sync.erase(old_id)) g.pending_sync.insert(new_id);
  GroupMember& stored = g.members[new_id] = std::move(m);
  touch_session(g, stored);
  switch (g.state) {
    case GroupState::kStable:
      if (g.protocol_name && g.select_protocol() == *g.protocol_name) {
        // KIP-345: same protocols, no rebalance. The group is persisted with
        // the new id; a replaced leader keeps leading without reassigning
        // (skip_assignment, KIP-814).
        if (!persist_group(g)) {
          GroupMember back = std::move(g.members.at(new_id));
          g.members.erase(new_id);
          back.member_id = old_id;
          back.protocols = old_protocols;
          g.static_members[*p.group_instance_id] = old_id;
          if (g.leader == new_id) g.leader = old_id;
          g.members[old_id] = std::move(back);
          *out = join_error(new_id, ErrorCode::COORDINATOR_NOT_AVAILABLE);
          return true;
        }
        const bool leader = g.leader == new_id;
        *out = current_generation_result(g, new_id, leader);
        out->skip_assignment = leader;
        return true;
      }
      stored.awaiting_join = park();
      maybe_prepare_rebalance(g, "static member " + new_id + " rejoined with other protocols");
      try_complete_join(g);
      return false;
    case GroupState::kCompletingRebalance:
      // The leader may already be assigning to the old id: start over.
      stored.awaiting_join = park();
      prepare_rebalance(g, "static member " + new_id + " replaced during CompletingRebalance");
      try_complete_join(g);
      return false;
    case GroupState::kPreparingRebalance:
      stored.awaiting_join = park();
      try_complete_join(g);
      return false;
    case GroupState::kEmpty:
    case GroupState::kDead:
      break;
  }
  *out = join_error(new_id, ErrorCode::UNKNOWN_MEMBER_ID);
  return true;
}

void GroupCoordinator::maybe_prepare_rebalance(Group& g, const std::string& why) {
  if (g.state == GroupState::kStable || g.state == GroupState::kCompletingRebalance || g.state == GroupState::kEmpty)
    prepare_rebalance(g, why);
}

void GroupCoordinator::reset_assignments_and_fail_syncs(Group& g, int16_t error) {
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    SyncResult r;
    r.error = error;
    post_sync(m, std::move(r));
  }
}

void GroupCoordinator::prepare_rebalance(Group& g, const std::string& why) {
  if (g.state == GroupState::kCompletingRebalance)
    reset_assignments_and_fail_syncs(g, code(ErrorCode::REBALANCE_IN_PROGRESS));
  g.pending_sync.clear();
  g.sync_deadline = 0;
  if (g.state == GroupState::kEmpty) {
    // group.initial.rebalance.delay.ms: let more of a starting group's
    // members arrive before the first assignment.
    g.initial_delay = true;
    g.new_member_added = false;
    int64_t delay = initial_delay_ms_;
    g.initial_remaining_ms = std::max<int64_t>(g.max_rebalance_timeout_ms() - delay, 0);
    g.join_deadline = now() + static_cast<uint64_t>(delay);
  } else {
    g.initial_delay = false;
    g.join_deadline = now() + static_cast<uint64_t>(std::max(g.max_rebalance_timeout_ms(), 0));
  }
  log("group " + g.id + ": preparing rebalance (generation " + std::to_string(g.generation) + "): " + why);
  g.set_state(GroupState::kPreparingRebalance, wall_now());
}

void GroupCoordinator::try_complete_join(Group& g) {
  if (g.state != GroupState::kPreparingRebalance || g.initial_delay) return;
  if (g.all_members_joined()) complete_join(g);
}

void GroupCoordinator::complete_join(Group& g) {
  g.initial_delay = false;
  g.join_deadline = 0;
  // Dynamic members that did not rejoin in time are gone (static members
  // keep their place; the sync timeout catches them if they stay away).
  std::vector<std::string> laggards;
  for (const auto& [id, m] : g.members)
    if (!m.awaiting_join && !m.group_instance_id) laggards.push_back(id);
  for (const auto& id : laggards) {
    log("group " + g.id + ": removing member " + id + " (did not rejoin within the rebalance timeout)");
    remove_member(g, id, 0);
  }
  ++g.generation;
  if (g.members.empty()) {
    g.protocol_name.reset();
    g.leader.reset();
    g.set_state(GroupState::kEmpty, wall_now());
    persist_group(g);
    return;
  }
  g.protocol_name = g.select_protocol();
  if (!g.leader || !g.has_member(*g.leader)) {
    const GroupMember* first = nullptr;
    for (const auto& [id, m] : g.members)
      if (m.awaiting_join && (first == nullptr || m.join_order < first->join_order)) first = &m;
    if (first == nullptr) first = &g.members.begin()->second;
    g.leader = first->member_id;
  }
  g.set_state(GroupState::kCompletingRebalance, wall_now());
  log("group " + g.id + ": generation " + std::to_string(g.generation) + " with " + std::to_string(g.members.size()) +
      " members, protocol " + *g.protocol_name);
  for (auto& [id, m] : g.members) {
    if (!m.awaiting_join) continue;
    post_join(m, current_generation_result(g, id, id == *g.leader));
    touch_session(g, m);
  }
  for (const auto& [id, m] : g.members) g.pending_sync.insert(id);
  g.sync_deadline = now() + static_cast<uint64_t>(std::max(g.max_rebalance_timeout_ms(), 0));
}

void GroupCoordinator::remove_member(Group& g, const std::string& member_id, int16_t join_error_code) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  GroupMember& m = it->second;
  if (join_error_code != 0) {
    post_join(m, join_error(member_id, static_cast<ErrorCode>(join_error_code)));
    post_sync(m, sync_error(static_cast<ErrorCode>(join_error_code)));
  }
  if (m.group_instance_id) {
    auto s = g.static_members.find(*m.group_instance_id);
    if (s != g.static_members.end() && s->second == member_id) g.static_members.erase(s);
  }
  g.pending_sync.erase(member_id);
  g.members.erase(it);
  if (g.leader == member_id) {
    g.leader.reset();
    const GroupMember* first = nullptr;
    for (const auto& [id, om] : g.members)
      if (first == nullptr || om.join_order < first->join_order) first = &om;
    if (first) g.leader = first->member_id;
  }
}

void GroupCoordinator::remove_member_and_update(Group& g, const std::string& member_id, const std::string& why) {
  remove_member(g, member_id, code(ErrorCode::UNKNOWN_MEMBER_ID));
  switch (g.state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      prepare_rebalance(g, "removing member " + member_id + ": " + why);
      try_complete_join(g);
      break;
    case GroupState::kPreparingRebalance:
      try_complete_join(g);
      break;
    default:
      break;
  }
}

bool GroupCoordinator::sync(const SyncParams& p, SyncResult* out, const std::function<SyncCallback()>& park) {
  auto fail = [&](ErrorCode e) {
    *out = sync_error(e);
    return true;
  };
  if (ErrorCode e = unavailable(p.group_id); e != ErrorCode::NONE) return fail(e);
  if (p.group_id.empty()) return fail(ErrorCode::INVALID_GROUP_ID);
  Group* g = find(p.group_id);
  if (g == nullptr) return fail(ErrorCode::UNKNOWN_MEMBER_ID);
  if (g->is_static_member_fenced(p.group_instance_id, p.member_id)) return fail(ErrorCode::FENCED_INSTANCE_ID);
  if (!g->has_member(p.member_id)) return fail(ErrorCode::UNKNOWN_MEMBER_ID);
  if (p.generation_id != g->generation) return fail(ErrorCode::ILLEGAL_GENERATION);
  if ((p.protocol_type && p.protocol_type != g->protocol_type) ||
      (p.protocol_name && p.protocol_name != g->protocol_name))
    return fail(ErrorCode::INCONSISTENT_GROUP_PROTOCOL);
  GroupMember& m = g->members.at(p.member_id);
  switch (g->state) {
    case GroupState::kEmpty:
      return fail(ErrorCode::UNKNOWN_MEMBER_ID);
    case GroupState::kPreparingRebalance:
      return fail(ErrorCode::REBALANCE_IN_PROGRESS);
    case GroupState::kStable: {
      g->pending_sync.erase(p.member_id);
      touch_session(*g, m);
      SyncResult r;
      r.protocol_type = g->protocol_type;
      r.protocol_name = g->protocol_name;
      r.assignment = m.assignment;
      *out = std::move(r);
      arm();
      return true;
    }
    case GroupState::kCompletingRebalance:
      break;
    case GroupState::kDead:
      return fail(ErrorCode::COORDINATOR_NOT_AVAILABLE);
  }
  if (m.awaiting_sync) post_sync(m, sync_error(ErrorCode::REBALANCE_IN_PROGRESS));  // superseded
  m.awaiting_sync = park();
  touch_session(*g, m);
  g->pending_sync.erase(p.member_id);
  if (g->leader == p.member_id) {
    for (auto& [id, gm] : g->members) {
      auto a = p.assignments.find(id);
      gm.assignment = a == p.assignments.end() ? proto::Bytes{} : a->second;
    }
    if (!persist_group(*g)) {
      reset_assignments_and_fail_syncs(*g, code(ErrorCode::COORDINATOR_NOT_AVAILABLE));
      prepare_rebalance(*g, "storing the assignment failed");
      try_complete_join(*g);
    } else {
      for (auto& [id, gm] : g->members) {
        SyncResult r;
        r.protocol_type = g->protocol_type;
        r.protocol_name = g->protocol_name;
        r.assignment = gm.assignment;
        post_sync(gm, std::move(r));
      }
      g->set_state(GroupState::kStable, wall_now());
    }
  }
  arm();
  return false;
}

int16_t GroupCoordinator::heartbeat(const std::string& group_id, const std::string& member_id,
                                    const std::optional<std::string>& group_instance_id, int32_t generation_id) {
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return code(e);
  if (group_id.empty()) return code(ErrorCode::INVALID_GROUP_ID);
  Group* g = find(group_id);
  if (g == nullptr) return code(ErrorCode::UNKNOWN_MEMBER_ID);
  if (g->is_static_member_fenced(group_instance_id, member_id)) return code(ErrorCode::FENCED_INSTANCE_ID);
  if (!g->has_member(member_id)) return code(ErrorCode::UNKNOWN_MEMBER_ID);
  if (generation_id != g->generation) return code(ErrorCode::ILLEGAL_GENERATION);
  GroupMember& m = g->members.at(member_id);
  switch (g->state) {
    case GroupState::kPreparingRebalance:
      touch_session(*g, m);
      return code(ErrorCode::REBALANCE_IN_PROGRESS);
    case GroupState::kCompletingRebalance:  // heartbeats may precede SyncGroup
    case GroupState::kStable:
      touch_session(*g, m);
      return 0;
    default:
      return code(ErrorCode::UNKNOWN_MEMBER_ID);
  }
}

int16_t GroupCoordinator::leave(const std::string& group_id, const std::vector<LeaveIdentity>& members,
                                std::vector<int16_t>* errors) {
  errors->clear();
  if (ErrorCode e = unavailable(group_id); e != ErrorCode::NONE) return code(e);
  if (group_id.empty()) return code(ErrorCode::INVALID_GROUP_ID);
  Group* g = find(group_id);
  for (const auto& who : members) {
    if (g == nullptr) {
      errors->push_back(code(ErrorCode::UNKNOWN_MEMBER_ID));
      continue;
    }
    std::string id = who.member_id;
    if (who.group_instance_id) {
      auto it = g->static_members.find(*who.group_instance_id);
      if (it == g->static_members.end()) {
        errors->push_back(code(ErrorCode::UNKNOWN_MEMBER_ID));
        continue;
      }
      if (!id.empty() && it->second != id) {
        errors->push_back(code(ErrorCode::FENCED_INSTANCE_ID));
        continue;
      }
      id = it->second;
    } else if (g->pending_members.erase(id)) {
      try_complete_join(*g);
      errors->push_back(0);
      continue;
    }
    if (!g->has_member(id)) {
      errors->push_back(code(ErrorCode::UNKNOWN_MEMBER_ID));
      continue;
    }
    log("group " + group_id + ": member " + id + " left");
    remove_member_and_update(*g, id, "the member left the group");
    errors->push_back(0);
  }
  arm();
  return 0;
}

}  // namespace kfk::broker
