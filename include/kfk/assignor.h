// Partition assignors: how a consumer group divides partitions among its
// members. The group leader (one of the consumers) runs the assignor chosen
// for the group and sends the result to the coordinator in SyncGroup.
//
// Built in, by the names other clients use (so a group may mix kfk with
// Java and librdkafka members; partition.assignment.strategy lists them in
// preference order, the group uses the first one every member supports):
//
//   "range"               per topic: partitions in order, members sorted
//                         (static members first by group.instance.id, then
//                         by member id, as Java orders them); the first
//                         (partitions % members) members get one extra
//                         (Java's RangeAssignor).
//   "roundrobin"          all partitions of all subscribed topics, sorted,
//                         dealt to the members (same order) in turn,
//                         skipping members not subscribed to a partition's
//                         topic (Java's RoundRobinAssignor).
//   "sticky"              balanced (counts differ by at most one when
//                         subscriptions are equal) while keeping as many
//                         partitions as possible with their previous owner
//                         (Java's StickyAssignor; eager protocol).
//   "cooperative-sticky"  the sticky assignment under the cooperative
//                         protocol (KIP-429): a partition that moves is first
//                         revoked by its owner and assigned in a follow-up
//                         rebalance, so members keep consuming everything
//                         that does not move. When two members claim a
//                         partition the higher generation owns it.
//
// Your own assignor: implement kfk::PartitionAssignor and either register a
// factory under its name (then partition.assignment.strategy may name it) or
// hand instances to the consumer's options.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kfk/error.h"
#include "kfk/topic_partition.h"

namespace kfk {

enum class RebalanceProtocol : uint8_t {
  kEager,        // every member revokes everything before a rebalance
  kCooperative,  // members revoke only partitions that move (KIP-429)
};

// What one member said in its JoinGroup (ConsumerProtocolSubscription).
struct MemberSubscription {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static members (KIP-345)
  std::vector<std::string> topics;               // sorted
  std::vector<uint8_t> user_data;                // the assignor's own bytes (may be empty)
  std::vector<TopicPartition> owned_partitions;  // v1+: what the member has now
  int32_t generation_id = -1;                    // v2+: the generation it owns them from; -1 unknown
  std::optional<std::string> rack_id;            // v3+
};

// One member's share (ConsumerProtocolAssignment).
struct MemberAssignment {
  std::vector<TopicPartition> partitions;  // sorted
  std::vector<uint8_t> user_data;
};

struct GroupAssignmentInput {
  // Partition count of every topic any member subscribed to (topics that do
  // not exist are absent).
  std::map<std::string, int32_t> partitions_per_topic;
  // By member id.
  std::map<std::string, MemberSubscription> members;
};

class KFK_EXPORT PartitionAssignor {
 public:
  virtual ~PartitionAssignor() = default;

  // The protocol name in JoinGroup ("range", "cooperative-sticky", ...).
  virtual std::string name() const = 0;
  // Protocols this assignor works with; the consumer uses cooperative
  // rebalancing only when every assignor it offers supports it.
  virtual std::vector<RebalanceProtocol> supported_protocols() const { return {RebalanceProtocol::kEager}; }
  // Bytes to put in this member's subscription (user_data); empty by default.
  virtual std::vector<uint8_t> subscription_user_data(const std::vector<std::string>& topics) const {
    (void)topics;
    return {};
  }
  // Runs on the group leader: fills `out` with an entry for every member of
  // `in` (possibly an empty one). Must assign each partition of a subscribed
  // topic to exactly one member subscribed to that topic; under the
  // cooperative protocol it leaves out a partition that changes owner while
  // its current owner still lists it (assigned in the follow-up rebalance,
  // once revoked). Called on the consumer's network thread: no blocking.
  virtual Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) = 0;
  // This member's assignment arrived (after SyncGroup) for `generation`.
  virtual void on_assignment(const MemberAssignment& assignment, int32_t generation) {
    (void)assignment;
    (void)generation;
  }
};

using AssignorFactory = std::function<std::unique_ptr<PartitionAssignor>()>;

// Registers a custom assignor under `name` for partition.assignment.strategy
// (register before creating the consumer: the configuration is checked then).
// Fails (errc::kInvalidArgument) for an empty, built-in (also a Java class
// name such as "RangeAssignor") or taken name, a name the config list could
// not carry (a ',' or surrounding blanks), or an empty factory. Thread-safe.
KFK_EXPORT Error register_assignor(std::string name, AssignorFactory factory);
// True when a custom assignor was registered under `name` (built-ins stay).
KFK_EXPORT bool unregister_assignor(std::string_view name);
// Creates the assignor registered (or built in) under `name`; built-ins are
// also found by their Java class names. Unknown names fail with
// errc::kInvalidClientConfig listing the known ones; a factory that returns null
// fails with errc::kInvalidArgument.
KFK_EXPORT Error create_assignor(std::string_view name, std::unique_ptr<PartitionAssignor>& out);

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
