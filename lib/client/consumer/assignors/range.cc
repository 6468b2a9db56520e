// "range": Java's RangeAssignor. Per topic, the subscribed members in
// MemberInfo order each take a contiguous range of partitions; the first
// (partitions % members) take one more. Members subscribed to the same topics
// with the same partition counts get the same partition numbers of each topic
// (co-partitioned joins rely on this), at the price of balance across topics.
#include <map>

#include "client/consumer/assignors/builtin.h"
#include "client/consumer/assignors/member_order.h"

namespace kfk::assignors {
namespace {

class RangeAssignor final : public PartitionAssignor {
 public:
  std::string name() const override { return "range"; }

  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::vector<const MemberSubscription*> members = sorted_members(in);
    std::vector<MemberAssignment*> slots = output_slots(members, out);
    auto subs = subscribers_by_topic(members);
    for (const auto& [topic, count] : in.partitions_per_topic) {  // topics in name order
      auto it = subs.find(topic);
      if (it == subs.end() || count <= 0) continue;
      const std::vector<size_t>& subscribers = it->second;  // in member order
      const int32_t n = static_cast<int32_t>(subscribers.size());
      const int32_t per = count / n, extra = count % n;
      for (int32_t i = 0; i < n; ++i) {
        const int32_t start = per * i + std::min(i, extra);
        const int32_t len = per + (i < extra ? 1 : 0);
        auto& parts = slots[subscribers[static_cast<size_t>(i)]]->partitions;
        for (int32_t p = start; p < start + len; ++p) parts.emplace_back(topic, p);
      }
    }
    return Error();
  }
};

}  // namespace

std::unique_ptr<PartitionAssignor> make_range() { return std::make_unique<RangeAssignor>(); }

}  // namespace kfk::assignors
