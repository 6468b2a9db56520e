#include "group/group.h"

#include <algorithm>
#include <cstdio>

#include "protocol/consumer_protocol.h"
#include "protocol/reader.h"

namespace kfk::broker {

const char* group_state_name(GroupState s) {
  switch (s) {
    case GroupState::kEmpty: return "Empty";
    case GroupState::kPreparingRebalance: return "PreparingRebalance";
    case GroupState::kCompletingRebalance: return "CompletingRebalance";
    case GroupState::kStable: return "Stable";
    case GroupState::kDead: return "Dead";
  }
  return "Unknown";
}

const proto::Bytes* GroupMember::metadata_for(const std::string& protocol) const {
  for (const auto& [name, md] : protocols)
    if (name == protocol) return &md;
  return nullptr;
}

bool GroupMember::same_protocols(const std::vector<std::pair<std::string, proto::Bytes>>& other) const {
  return protocols == other;
}

bool Group::is_static_member_fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const {
  if (!instance_id) return false;
  auto it = static_members.find(*instance_id);
  return it != static_members.end() && it->second != member_id;
}

bool Group::supports_protocols(const std::string& type,
                               const std::vector<std::pair<std::string, proto::Bytes>>& ps) const {
  if (members.empty()) return !type.empty() && !ps.empty();
  if (!protocol_type || *protocol_type != type) return false;
  for (const auto& [name, md] : ps) {
    bool all = std::all_of(members.begin(), members.end(),
                           [&name = name](const auto& m) { return m.second.metadata_for(name) != nullptr; });
    if (all) return true;
  }
  return false;
}

std::string Group::select_protocol() const {
  if (members.empty()) return "";
  // The first-joined member's list gives the candidate order (tie-break).
  const GroupMember* first = nullptr;
  for (const auto& [id, m] : members)
    if (first == nullptr || m.join_order < first->join_order) first = &m;
  std::vector<std::string> candidates;
  for (const auto& [name, md] : first->protocols) {
    bool all = std::all_of(members.begin(), members.end(),
                           [&name = name](const auto& m) { return m.second.metadata_for(name) != nullptr; });
    if (all) candidates.push_back(name);
  }
  if (candidates.empty()) return "";
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members)
    for (const auto& [name, md] : m.protocols)
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

bool Group::all_members_joined() const {
  if (!pending_members.empty()) return false;
  return std::all_of(members.begin(), members.end(), [](const auto& m) { return bool(m.second.awaiting_join); });
}

int32_t Group::max_rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

void Group::set_state(GroupState s, int64_t wall_now_ms) {
  state = s;
  state_timestamp = wall_now_ms;
}

std::optional<std::set<std::string>> Group::subscribed_topics() const {
  if (!protocol_type || *protocol_type != "consumer" || !protocol_name) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : members) {
    const proto::Bytes* md = m.metadata_for(*protocol_name);
    if (md == nullptr) return std::nullopt;
    proto::Reader r(md->data(), md->size());
    int16_t v = r.i16();
    if (!r.ok() || v < 0) return std::nullopt;
    proto::ConsumerProtocolSubscription sub;
    // Newer versions only append fields: read them as the newest we know.
    sub.decode(r, std::min<int16_t>(v, proto::ConsumerProtocolSubscription::kMaxVersion));
    if (!r.ok()) return std::nullopt;
    topics.insert(sub.topics.begin(), sub.topics.end());
  }
  return topics;
}

std::string new_member_id(const std::string& prefix) {
  proto::Uuid u = proto::Uuid::random();
  char buf[40];
  const auto& b = u.bytes;
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return prefix + "-" + buf;
}

}  // namespace kfk::broker
