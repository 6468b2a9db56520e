// Helpers for the assignor tests: building group inputs and checking the
// invariants every assignor promises.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kfk/assignor.h"

namespace assignor_test {

using Assignment = std::map<std::string, kfk::MemberAssignment>;

inline kfk::TopicPartition tp(const std::string& t, int32_t p) { return kfk::TopicPartition(t, p); }

inline std::unique_ptr<kfk::PartitionAssignor> make(const std::string& name) {
  std::unique_ptr<kfk::PartitionAssignor> a;
  kfk::Error e = kfk::create_assignor(name, a);
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  REQUIRE(a != nullptr);
  return a;
}

inline kfk::MemberSubscription member(const std::string& id, std::vector<std::string> topics,
                                      std::vector<kfk::TopicPartition> owned = {}, int32_t generation = -1) {
  kfk::MemberSubscription m;
  m.member_id = id;
  std::sort(topics.begin(), topics.end());
  m.topics = std::move(topics);
  m.owned_partitions = std::move(owned);
  m.generation_id = generation;
  return m;
}

inline void add(kfk::GroupAssignmentInput& in, kfk::MemberSubscription m) {
  std::string id = m.member_id;
  in.members[id] = std::move(m);
}

inline Assignment run(kfk::PartitionAssignor& a, const kfk::GroupAssignmentInput& in) {
  Assignment out;
  kfk::Error e = a.assign(in, &out);
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  return out;
}

inline std::vector<kfk::TopicPartition> parts(const Assignment& a, const std::string& member) {
  auto it = a.find(member);
  REQUIRE_MESSAGE(it != a.end(), "no entry for member " << member);
  return it->second.partitions;
}

inline bool subscribes(const kfk::MemberSubscription& m, const std::string& topic) {
  return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
}

// Every partition of every subscribed topic, in order.
inline std::set<kfk::TopicPartition> assignable(const kfk::GroupAssignmentInput& in) {
  std::set<kfk::TopicPartition> all;
  for (const auto& [topic, n] : in.partitions_per_topic) {
    bool wanted = false;
    for (const auto& [id, m] : in.members) wanted = wanted || subscribes(m, topic);
    if (wanted)
      for (int32_t p = 0; p < n; ++p) all.insert(tp(topic, p));
  }
  return all;
}

// An entry for every member and nothing else; sorted lists; every assigned
// partition exists, goes to a subscriber of its topic and to one member only.
// Returns the partitions assigned.
inline std::set<kfk::TopicPartition> check_sound(const kfk::GroupAssignmentInput& in, const Assignment& out,
                                                 const std::string& ctx) {
  INFO(ctx);
  CHECK(out.size() == in.members.size());
  std::set<kfk::TopicPartition> seen;
  for (const auto& entry : out) {
    const std::string& id = entry.first;
    const kfk::MemberAssignment& a = entry.second;
    auto m = in.members.find(id);
    REQUIRE_MESSAGE(m != in.members.end(), "assignment for unknown member " << id);
    CHECK(std::is_sorted(a.partitions.begin(), a.partitions.end()));
    for (const auto& p : a.partitions) {
      auto t = in.partitions_per_topic.find(p.topic);
      REQUIRE_MESSAGE(t != in.partitions_per_topic.end(), p.to_string() << " of an unknown topic");
      CHECK_MESSAGE((p.partition >= 0 && p.partition < t->second), p.to_string() << " does not exist");
      CHECK_MESSAGE(subscribes(m->second, p.topic), id << " got " << p.to_string() << " without subscribing");
      CHECK_MESSAGE(seen.insert(p).second, p.to_string() << " assigned twice");
    }
  }
  return seen;
}

// check_sound, and every assignable partition is assigned.
inline void check_complete(const kfk::GroupAssignmentInput& in, const Assignment& out, const std::string& ctx) {
  std::set<kfk::TopicPartition> seen = check_sound(in, out, ctx);
  INFO(ctx);
  for (const auto& p : assignable(in)) CHECK_MESSAGE(seen.count(p) == 1, p.to_string() << " not assigned");
}

// Same members, same partitions (MemberAssignment has no operator==).
inline bool same_partitions(const Assignment& a, const Assignment& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j)
    if (i->first != j->first || i->second.partitions != j->second.partitions) return false;
  return true;
}

inline bool equal_subscriptions(const kfk::GroupAssignmentInput& in) {
  for (const auto& [id, m] : in.members)
    if (m.topics != in.members.begin()->second.topics) return false;
  return true;
}

inline std::pair<size_t, size_t> min_max(const Assignment& out) {
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& [id, a] : out) lo = std::min(lo, a.partitions.size()), hi = std::max(hi, a.partitions.size());
  return {lo, hi};
}

// Java's sticky balance criterion: no partition could move to another
// subscriber of its topic that has two or more fewer partitions.
inline void check_sticky_balance(const kfk::GroupAssignmentInput& in, const Assignment& out, const std::string& ctx) {
  INFO(ctx);
  std::map<std::string, size_t> most;  // topic -> largest count among its holders
  std::map<std::string, std::string> fullest;
  for (const auto& [id, a] : out)
    for (const auto& p : a.partitions)
      if (a.partitions.size() > most[p.topic]) most[p.topic] = a.partitions.size(), fullest[p.topic] = id;
  for (const auto& entry : in.members) {
    const std::string& id = entry.first;
    const kfk::MemberSubscription& m = entry.second;
    const size_t mine = out.count(id) ? out.at(id).partitions.size() : 0;
    for (const auto& t : m.topics)
      if (most.count(t))
        CHECK_MESSAGE(most[t] < mine + 2, fullest[t] << " (" << most[t] << ") holds a partition of " << t << " which "
                                                     << id << " (" << mine << ") could take");
  }
}

// Partitions the cooperative assignor withheld this round must be listed in
// owned_partitions by some member.
inline void check_withheld_are_owned(const kfk::GroupAssignmentInput& in, const Assignment& out,
                                     const std::string& ctx) {
  INFO(ctx);
  std::set<kfk::TopicPartition> seen = check_sound(in, out, ctx);
  std::set<kfk::TopicPartition> listed;
  for (const auto& [id, m] : in.members) listed.insert(m.owned_partitions.begin(), m.owned_partitions.end());
  for (const auto& p : assignable(in))
    if (!seen.count(p)) CHECK_MESSAGE(listed.count(p) == 1, p.to_string() << " unassigned but owned by nobody");
}

// No member is handed a partition another member still lists in
// owned_partitions, unless it lists it too with a strictly higher generation
// (it is the rightful owner and the other one is stale).
inline void check_no_handover(const kfk::GroupAssignmentInput& in, const Assignment& out, const std::string& ctx) {
  INFO(ctx);
  std::map<kfk::TopicPartition, std::vector<const kfk::MemberSubscription*>> listers;
  for (const auto& [id, m] : in.members)
    for (const auto& p : m.owned_partitions) listers[p].push_back(&m);
  for (const auto& entry : out)
    for (const auto& p : entry.second.partitions) {
      const std::string& id = entry.first;
      auto it = listers.find(p);
      if (it == listers.end()) continue;
      const kfk::MemberSubscription* me = nullptr;
      for (const auto* m : it->second)
        if (m->member_id == id) me = m;
      for (const auto* m : it->second)
        if (m->member_id != id)
          CHECK_MESSAGE((me != nullptr && me->generation_id > m->generation_id),
                        id << " got " << p.to_string() << " still owned by " << m->member_id);
    }
}

// The cooperative protocol's follow-up rebalances: every member now owns
// exactly what it was assigned (it revoked the rest), one generation later.
// Runs until an assignment leaves nothing unassigned (at most `rounds`).
inline Assignment settle(kfk::PartitionAssignor& a, kfk::GroupAssignmentInput& in, Assignment out, int rounds,
                         int32_t& generation) {
  for (int i = 0; i < rounds; ++i) {
    if (check_sound(in, out, "settle").size() == assignable(in).size()) return out;
    ++generation;
    for (auto& [id, m] : in.members) {
      m.owned_partitions = out[id].partitions;
      m.generation_id = generation;
    }
    out = run(a, in);
    check_no_handover(in, out, "follow-up rebalance");
  }
  return out;
}

}  // namespace assignor_test
