// The member order Java's AbstractPartitionAssignor.MemberInfo defines and
// the range and roundrobin assignors deal in: static members (KIP-345) first,
// by group.instance.id, then dynamic members by member id. Static members keep
// their place across restarts, so their partitions stay put.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kfk/assignor.h"

namespace kfk::assignors {

inline bool member_before(const MemberSubscription& a, const MemberSubscription& b) {
  if (a.group_instance_id && b.group_instance_id) {
    if (*a.group_instance_id != *b.group_instance_id) return *a.group_instance_id < *b.group_instance_id;
    return a.member_id < b.member_id;  // duplicate instance ids: any fixed order
  }
  if (a.group_instance_id) return true;
  if (b.group_instance_id) return false;
  return a.member_id < b.member_id;
}

// The members of `in`, sorted as above.
inline std::vector<const MemberSubscription*> sorted_members(const GroupAssignmentInput& in) {
  std::vector<const MemberSubscription*> out;
  out.reserve(in.members.size());
  for (const auto& [id, m] : in.members) out.push_back(&m);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return member_before(*a, *b); });
  return out;
}

// Topic -> indexes into `members` of its subscribers, ascending, each once.
inline std::unordered_map<std::string_view, std::vector<size_t>> subscribers_by_topic(
    const std::vector<const MemberSubscription*>& members) {
  std::unordered_map<std::string_view, std::vector<size_t>> subs;
  for (size_t i = 0; i < members.size(); ++i)
    for (const auto& topic : members[i]->topics) {
      auto& v = subs[topic];
      if (v.empty() || v.back() != i) v.push_back(i);  // a topic listed twice counts once
    }
  return subs;
}

// The output entry of every member, aligned with `members` (all present,
// possibly empty, as PartitionAssignor::assign promises).
inline std::vector<MemberAssignment*> output_slots(const std::vector<const MemberSubscription*>& members,
                                                  std::map<std::string, MemberAssignment>* out) {
  out->clear();
  std::vector<MemberAssignment*> slots;
  slots.reserve(members.size());
  for (const auto* m : members) slots.push_back(&(*out)[m->member_id]);
  return slots;
}

}  // namespace kfk::assignors
