// "sticky" (eager) and "cooperative-sticky" (KIP-429): the same assignment
// (sticky.h), with previous ownership read the way Java's StickyAssignor and
// CooperativeStickyAssignor read it.
#include <map>

#include "client/consumer/assignors/builtin.h"
#include "client/consumer/assignors/sticky.h"
#include "client/consumer/assignors/sticky_user_data.h"

namespace kfk::assignors {
namespace {

class StickyAssignor final : public PartitionAssignor {
 public:
  std::string name() const override { return "sticky"; }

  // An eager member has revoked everything before it joins, so its previous
  // assignment travels in user_data (StickyAssignorUserData v1).
  std::vector<uint8_t> subscription_user_data(const std::vector<std::string>& topics) const override {
    (void)topics;
    if (!assigned_) return {};  // Java sends no user data before the first assignment
    return encode_sticky_user_data(assignment_, generation_);
  }

  void on_assignment(const MemberAssignment& assignment, int32_t generation) override {
    assignment_ = assignment.partitions;
    generation_ = generation;
    assigned_ = true;
  }

  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::vector<StickyClaim> claims;
    claims.reserve(in.members.size());
    for (const auto& [id, m] : in.members) {
      StickyClaim c;
      if (!m.user_data.empty()) {
        StickyUserData d;
        if (decode_sticky_user_data(m.user_data, d)) c.partitions = std::move(d.partitions), c.generation = d.generation;
      } else {
        // No user data (first join, or a client that reports ownership only
        // in the subscription): trust owned_partitions, if any.
        c.partitions = m.owned_partitions;
        c.generation = m.generation_id;
      }
      claims.push_back(std::move(c));
    }
    sticky_assign(in, claims, StickyOptions{}, out);
    return Error();
  }

 private:
  std::vector<TopicPartition> assignment_;
  int32_t generation_ = -1;
  bool assigned_ = false;
};

class CooperativeStickyAssignor final : public PartitionAssignor {
 public:
  std::string name() const override { return "cooperative-sticky"; }

  std::vector<RebalanceProtocol> supported_protocols() const override {
    return {RebalanceProtocol::kCooperative, RebalanceProtocol::kEager};
  }

  // The generation, for leaders that read it from user_data (subscription v0
  // and v1 do not carry it); -1 before the first assignment.
  std::vector<uint8_t> subscription_user_data(const std::vector<std::string>& topics) const override {
    (void)topics;
    return encode_cooperative_user_data(generation_);
  }

  void on_assignment(const MemberAssignment& assignment, int32_t generation) override {
    (void)assignment;
    generation_ = generation;
  }

  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::vector<StickyClaim> claims;
    claims.reserve(in.members.size());
    for (const auto& [id, m] : in.members) {
      StickyClaim c;
      c.partitions = m.owned_partitions;
      c.generation = m.generation_id >= 0 ? m.generation_id : decode_cooperative_user_data(m.user_data);
      claims.push_back(std::move(c));
    }
    // Under the eager protocol members own nothing when they join, so
    // withholding changes nothing there.
    sticky_assign(in, claims, StickyOptions{.cooperative = true}, out);
    return Error();
  }

 private:
  int32_t generation_ = -1;
};

}  // namespace

std::unique_ptr<PartitionAssignor> make_sticky() { return std::make_unique<StickyAssignor>(); }
std::unique_ptr<PartitionAssignor> make_cooperative_sticky() { return std::make_unique<CooperativeStickyAssignor>(); }

}  // namespace kfk::assignors
