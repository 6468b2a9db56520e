// The coordinator's clocks: the runtime's deadline timer armed for the
// earliest deadline of any group (member sessions, KIP-394 pending member
// ids, the join phase of a rebalance, the sync phase). Deadlines are
// uv_now() milliseconds.
#include <algorithm>
#include <limits>

#include "group/group_coordinator.h"

namespace kfk::broker {

void GroupCoordinator::arm() {
  if (shutting_down_) return;
  uint64_t due = std::numeric_limits<uint64_t>::max();
  auto consider = [&](uint64_t d) {
    if (d != 0) due = std::min(due, d);
  };
  for (const auto& [id, g] : groups_) {
    for (const auto& [mid, m] : g.members)
      if (!m.awaiting_join && !m.awaiting_sync) consider(m.session_deadline);
    for (const auto& [mid, d] : g.pending_members) consider(d);
    if (g.state == GroupState::kPreparingRebalance) consider(g.join_deadline);
    if (!g.pending_sync.empty()) consider(g.sync_deadline);
  }
  if (due == std::numeric_limits<uint64_t>::max()) runtime_.cancel_deadline();
  else runtime_.schedule(due);
}

void GroupCoordinator::on_timer() {
  uint64_t t = now();
  std::vector<std::string> ids;
  for (const auto& [id, g] : groups_) ids.push_back(id);
  for (const auto& id : ids) {
    if (Group* g = find(id)) expire(*g, t);
    maybe_drop(id);
  }
  arm();
}

void GroupCoordinator::expire(Group& g, uint64_t t) {
  for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
    if (it->second <= t) {
      it = g.pending_members.erase(it);
      try_complete_join(g);
    } else {
      ++it;
    }
  }
  // Members waiting for a JoinGroup or SyncGroup answer are covered by the
  // rebalance and sync timeouts instead (Kafka's hasSatisfiedHeartbeat).
  std::vector<std::string> expired;
  for (const auto& [id, m] : g.members)
    if (!m.awaiting_join && !m.awaiting_sync && m.session_deadline != 0 && m.session_deadline <= t)
      expired.push_back(id);
  for (const auto& id : expired) {
    log("group " + g.id + ": member " + id + " session timed out");
    remove_member_and_update(g, id, "session timeout");
  }
  if (g.state == GroupState::kPreparingRebalance && g.join_deadline != 0 && g.join_deadline <= t) {
    if (g.initial_delay && g.new_member_added && g.initial_remaining_ms > 0) {
      // Kafka's InitialDelayedJoin: another delay while members keep coming.
      g.new_member_added = false;
      int64_t d = std::min<int64_t>(initial_delay_ms_, g.initial_remaining_ms);
      g.initial_remaining_ms = std::max<int64_t>(g.initial_remaining_ms - d, 0);
      g.join_deadline = t + static_cast<uint64_t>(d);
    } else {
      complete_join(g);
    }
  }
  if (!g.pending_sync.empty() && g.sync_deadline != 0 && g.sync_deadline <= t &&
      (g.state == GroupState::kCompletingRebalance || g.state == GroupState::kStable)) {
    std::vector<std::string> laggards(g.pending_sync.begin(), g.pending_sync.end());
    for (const auto& id : laggards) {
      log("group " + g.id + ": removing member " + id + " (no SyncGroup within the rebalance timeout)");
      remove_member(g, id, proto::to_int(proto::ErrorCode::UNKNOWN_MEMBER_ID));
    }
    prepare_rebalance(g, "members did not sync in time");
    try_complete_join(g);
  } else if (g.pending_sync.empty()) {
    g.sync_deadline = 0;
  }
}

void GroupCoordinator::maybe_drop(const std::string& id) {
  Group* g = find(id);
  // Only a group that never reached the log: nothing to forget on disk.
  if (g && g->state == GroupState::kEmpty && g->generation == 0 && g->members.empty() &&
      g->pending_members.empty() && g->offsets.empty())
    groups_.erase(id);
}

}  // namespace kfk::broker
