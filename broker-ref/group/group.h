// One classic consumer group as the coordinator keeps it (Kafka's
// GroupMetadata / MemberMetadata): members, generation, the selected
// protocol, committed offsets, and the rebalance bookkeeping.
//
// States (Kafka's names, shown by DescribeGroups / ListGroups):
//   Empty                no members (offsets may remain)
//   PreparingRebalance   waiting for members to (re)join
//   CompletingRebalance  JoinGroup answered, waiting for the leader's SyncGroup
//   Stable               assignments handed out
//   Dead                 deleted; never kept in the coordinator's map
//
// Thread ownership: the loop thread only (owned by GroupCoordinator).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocol/types.h"

namespace kfk::broker {

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

// Kafka's state name ("Empty", "PreparingRebalance", ...).
const char* group_state_name(GroupState s);

// What a JoinGroup response carries (encoded by handle_join_group.cc).
struct JoinResult {
  int16_t error = 0;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  bool skip_assignment = false;
  std::string member_id;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    proto::Bytes metadata;
  };
  std::vector<Member> members;  // the leader's response only
};
using JoinCallback = std::function<void(const JoinResult&)>;

struct SyncResult {
  int16_t error = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  proto::Bytes assignment;
};
using SyncCallback = std::function<void(const SyncResult&)>;

struct GroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  // (name, metadata) in the member's preference order.
  std::vector<std::pair<std::string, proto::Bytes>> protocols;
  proto::Bytes assignment;
  uint64_t join_order = 0;  // first join: leader choice, response order
  JoinCallback awaiting_join;
  SyncCallback awaiting_sync;
  bool is_new = false;          // joined during the current rebalance
  uint64_t session_deadline = 0;  // uv_now() ms

  const proto::Bytes* metadata_for(const std::string& protocol) const;
  bool same_protocols(const std::vector<std::pair<std::string, proto::Bytes>>& other) const;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = 0;
};

struct Group {
  std::string id;
  GroupState state = GroupState::kEmpty;
  int32_t generation = 0;
  std::optional<std::string> protocol_type;  // set by the first member, cleared when Empty
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader;
  int64_t state_timestamp = -1;  // wall clock ms of the last state change
  std::map<std::string, GroupMember> members;   // by member id
  std::map<std::string, std::string> static_members;  // group.instance.id -> member id
  std::map<std::string, uint64_t> pending_members;  // KIP-394 ids handed out -> expiry (uv_now ms)
  std::set<std::string> pending_sync;  // joined members whose SyncGroup is still due
  std::map<std::pair<std::string, int32_t>, CommittedOffset> offsets;
  uint64_t next_join_order = 1;

  // Rebalance timers (uv_now ms; 0: not running).
  uint64_t join_deadline = 0;
  bool initial_delay = false;      // the first rebalance of an Empty group
  int64_t initial_remaining_ms = 0;
  bool new_member_added = false;
  uint64_t sync_deadline = 0;

  bool has_member(const std::string& id) const { return members.count(id) != 0; }
  bool is_static_member_fenced(const std::optional<std::string>& instance_id, const std::string& member_id) const;
  // Kafka's supportsProtocols: an Empty group takes any non-empty type and
  // list; otherwise the type must match and one protocol must be one every
  // member supports.
  bool supports_protocols(const std::string& type, const std::vector<std::pair<std::string, proto::Bytes>>& ps) const;
  // Protocols every member supports, each member voting for its most
  // preferred one; most votes wins (ties: earliest in the first member's list).
  std::string select_protocol() const;
  bool all_members_joined() const;
  int32_t max_rebalance_timeout_ms() const;
  void set_state(GroupState s, int64_t wall_now_ms);
  // Subscribed topics from the members' ConsumerProtocolSubscription;
  // nullopt when the group is not "consumer" or a subscription is unreadable.
  std::optional<std::set<std::string>> subscribed_topics() const;
};

// Kafka's member ids: "<client.id or group.instance.id>-<uuid>".
std::string new_member_id(const std::string& prefix);

}  // namespace kfk::broker
