// "roundrobin": Java's RoundRobinAssignor. All partitions of all subscribed
// topics, sorted by topic then partition, are dealt to the members in
// MemberInfo order, skipping a member not subscribed to the partition's
// topic. Balanced (counts differ by at most one) when every member has the
// same subscription.
#include <map>

#include "client/consumer/assignors/builtin.h"
#include "client/consumer/assignors/member_order.h"

namespace kfk::assignors {
namespace {

class RoundRobinAssignor final : public PartitionAssignor {
 public:
  std::string name() const override { return "roundrobin"; }

  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::vector<const MemberSubscription*> members = sorted_members(in);
    std::vector<MemberAssignment*> slots = output_slots(members, out);
    auto subs = subscribers_by_topic(members);
    std::vector<char> subscribed(members.size(), 0);
    size_t next = 0;  // the dealer's position, carried across topics as in Java
    for (const auto& [topic, count] : in.partitions_per_topic) {  // sorted by topic, then partition
      auto it = subs.find(topic);
      if (it == subs.end()) continue;
      for (size_t i : it->second) subscribed[i] = 1;
      for (int32_t p = 0; p < count; ++p) {
        while (!subscribed[next]) next = (next + 1) % members.size();
        slots[next]->partitions.emplace_back(topic, p);
        next = (next + 1) % members.size();
      }
      for (size_t i : it->second) subscribed[i] = 0;
    }
    return Error();
  }
};

}  // namespace

std::unique_ptr<PartitionAssignor> make_roundrobin() { return std::make_unique<RoundRobinAssignor>(); }

}  // namespace kfk::assignors
