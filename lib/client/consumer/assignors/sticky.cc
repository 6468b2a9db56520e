// The sticky algorithm; see sticky.h. Partitions are numbered densely
// (topic by name, then partition) so the hot loops work on int arrays.
#include "client/consumer/assignors/sticky.h"

#include <algorithm>
#include <climits>
#include <deque>
#include <list>
#include <queue>
#include <string_view>
#include <unordered_map>


namespace kfk::assignors {
namespace {

class StickyPlanner {
 public:
  StickyPlanner(const GroupAssignmentInput& in, const std::vector<StickyClaim>& claims) : in_(in) {
    index_topics();
    resolve_claims(claims);
  }

  void run() {
    if (members_.empty() || partitions_ == 0) return;
    if (equal_subscriptions())
      constrained();
    else
      general();
  }

  void withhold_transfers();
  void emit(std::map<std::string, MemberAssignment>* out) const;

 private:
  int topic_of_pid(int pid) const { return topic_of_[static_cast<size_t>(pid)]; }
  int32_t partition_of_pid(int pid) const { return pid - base_[static_cast<size_t>(topic_of_pid(pid))]; }
  int pid_of(const TopicPartition& tp) const;  // -1 when not assignable
  bool subscribed(int m, int t) const {
    const auto& ts = member_topics_[static_cast<size_t>(m)];
    return std::binary_search(ts.begin(), ts.end(), t);
  }
  void give(int pid, int m) {
    owner_[static_cast<size_t>(pid)] = m;
    ++count_[static_cast<size_t>(m)];
  }

  void index_topics();
  void resolve_claims(const std::vector<StickyClaim>& claims);
  bool equal_subscriptions() const;
  void constrained();
  void general();
  void balance(const std::vector<int>& topic_order);

  const GroupAssignmentInput& in_;
  std::vector<const MemberSubscription*> members_;  // member id order
  std::vector<std::string_view> topics_;            // topics with subscribers, by name
  std::unordered_map<std::string_view, int> topic_index_;
  std::vector<int> base_;      // first pid of each topic; one extra entry: the total
  std::vector<int> topic_of_;  // pid -> topic
  std::vector<std::vector<int>> subscribers_;    // topic -> members, ascending
  std::vector<std::vector<int>> member_topics_;  // member -> topics, ascending
  int partitions_ = 0;

  std::vector<int> rightful_;    // pid -> member whose claim won, or -1
  std::vector<int> prev_owner_;  // rightful_, if still subscribed to the topic
  std::vector<int> owner_;       // pid -> member in the plan, or -1
  std::vector<int> count_;       // member -> partitions in the plan
};

void StickyPlanner::index_topics() {
  for (const auto& [id, m] : in_.members) members_.push_back(&m);
  const size_t nm = members_.size();
  // Candidate topics: those with partitions; keep the ones someone subscribes to.
  std::unordered_map<std::string_view, int> candidate;
  std::vector<std::string_view> names;
  for (const auto& [topic, count] : in_.partitions_per_topic)
    if (count > 0) {
      candidate.emplace(topic, static_cast<int>(names.size()));
      names.push_back(topic);
    }
  std::vector<std::vector<int>> cand_subs(names.size());
  std::vector<int> mine;
  for (size_t m = 0; m < nm; ++m) {
    mine.clear();
    for (const auto& topic : members_[m]->topics)
      if (auto it = candidate.find(topic); it != candidate.end()) mine.push_back(it->second);
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    for (int c : mine) cand_subs[static_cast<size_t>(c)].push_back(static_cast<int>(m));
  }
  member_topics_.resize(nm);
  base_.push_back(0);
  for (size_t c = 0; c < names.size(); ++c) {
    if (cand_subs[c].empty()) continue;
    const int t = static_cast<int>(topics_.size());
    topics_.push_back(names[c]);
    topic_index_.emplace(names[c], t);
    for (int m : cand_subs[c]) member_topics_[static_cast<size_t>(m)].push_back(t);  // ascending t
    subscribers_.push_back(std::move(cand_subs[c]));
    const int32_t count = in_.partitions_per_topic.find(std::string(names[c]))->second;
    partitions_ += count;
    base_.push_back(partitions_);
    topic_of_.insert(topic_of_.end(), static_cast<size_t>(count), t);
  }
  owner_.assign(static_cast<size_t>(partitions_), -1);
  prev_owner_.assign(static_cast<size_t>(partitions_), -1);
  rightful_.assign(static_cast<size_t>(partitions_), -1);
  count_.assign(nm, 0);
}

int StickyPlanner::pid_of(const TopicPartition& tp) const {
  auto it = topic_index_.find(tp.topic);
  if (it == topic_index_.end()) return -1;
  const size_t t = static_cast<size_t>(it->second);
  if (tp.partition < 0 || tp.partition >= base_[t + 1] - base_[t]) return -1;
  return base_[t] + tp.partition;
}

void StickyPlanner::resolve_claims(const std::vector<StickyClaim>& claims) {
  std::vector<int32_t> best(static_cast<size_t>(partitions_), INT32_MIN);
  std::vector<int> claimant(static_cast<size_t>(partitions_), -1);  // latest claimant at the best generation
  for (size_t m = 0; m < members_.size() && m < claims.size(); ++m) {
    const int mi = static_cast<int>(m);
    const int32_t g = claims[m].generation;
    for (const auto& tp : claims[m].partitions) {
      const int pid = pid_of(tp);
      if (pid < 0) continue;
      const size_t p = static_cast<size_t>(pid);
      if (claimant[p] == mi) continue;  // listed twice
      if (claimant[p] < 0 || g > best[p]) {
        claimant[p] = mi, best[p] = g, rightful_[p] = mi;
      } else if (g == best[p]) {
        // Two members own it in the same generation: nobody does (Java logs
        // an error and drops it from both).
        claimant[p] = mi, rightful_[p] = -1;
      }
    }
  }
  // Conflicts are settled first, then a member keeps nothing of a topic it
  // no longer subscribes to: a stale claim does not outlive a newer one just
  // because the newer owner is leaving the topic.
  for (int pid = 0; pid < partitions_; ++pid) {
    const int m = rightful_[static_cast<size_t>(pid)];
    prev_owner_[static_cast<size_t>(pid)] = m >= 0 && subscribed(m, topic_of_pid(pid)) ? m : -1;
  }
}

bool StickyPlanner::equal_subscriptions() const {
  for (const auto& ts : member_topics_)
    if (ts != member_topics_.front()) return false;
  return true;
}

// Java's ConstrainedAssignmentBuilder (without rack awareness).
void StickyPlanner::constrained() {
  const int nm = static_cast<int>(members_.size());
  const int min_quota = partitions_ / nm;
  const int expected_over = partitions_ % nm;
  const int max_quota = min_quota + (expected_over > 0 ? 1 : 0);
  int over = 0;

  std::vector<std::vector<int>> owned(static_cast<size_t>(nm));
  for (int pid = 0; pid < partitions_; ++pid)
    if (int m = prev_owner_[static_cast<size_t>(pid)]; m >= 0) owned[static_cast<size_t>(m)].push_back(pid);

  std::list<int> under;             // members below min_quota, in member order
  std::deque<int> at_min;           // members at min_quota that may take one more
  for (int m = 0; m < nm; ++m) {
    auto& own = owned[static_cast<size_t>(m)];
    // Keep the lowest partition numbers across topics (Java sorts by
    // partition, then topic), spreading each topic over the members.
    std::sort(own.begin(), own.end(), [&](int a, int b) {
      int32_t pa = partition_of_pid(a), pb = partition_of_pid(b);
      return pa != pb ? pa < pb : topic_of_pid(a) < topic_of_pid(b);
    });
    const int have = static_cast<int>(own.size());
    int keep = 0;
    if (have < min_quota) {
      keep = have;
      under.push_back(m);
    } else if (have >= max_quota && over < expected_over) {
      keep = max_quota;
      if (++over == expected_over) at_min.clear();
    } else {
      keep = min_quota;
      if (over < expected_over) at_min.push_back(m);
    }
    for (int i = 0; i < keep; ++i) give(own[static_cast<size_t>(i)], m);
  }

  auto it = under.begin();
  for (int pid = 0; pid < partitions_; ++pid) {
    if (owner_[static_cast<size_t>(pid)] >= 0) continue;
    int m = -1;
    bool from_under = false;
    if (it == under.end()) it = under.begin();
    if (it != under.end()) {
      m = *it, from_under = true;
    } else if (!at_min.empty()) {
      m = at_min.front();
      at_min.pop_front();
    } else {
      // Unreachable when the quotas add up; stay valid regardless.
      m = static_cast<int>(std::min_element(count_.begin(), count_.end()) - count_.begin());
    }
    give(pid, m);
    if (from_under) {
      if (count_[static_cast<size_t>(m)] == min_quota) {
        it = under.erase(it);
        if (over < expected_over) at_min.push_back(m);
      } else {
        ++it;
      }
    } else if (count_[static_cast<size_t>(m)] == max_quota && max_quota > min_quota) {
      ++over;
    }
  }
}

// Unequal subscriptions (Java's GeneralAssignmentBuilder semantics).
void StickyPlanner::general() {
  for (int pid = 0; pid < partitions_; ++pid)
    if (int m = prev_owner_[static_cast<size_t>(pid)]; m >= 0) give(pid, m);

  // Topics with the fewest subscribers first: they have the fewest choices.
  std::vector<int> order(topics_.size());
  for (size_t t = 0; t < order.size(); ++t) order[t] = static_cast<int>(t);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return subscribers_[static_cast<size_t>(a)].size() < subscribers_[static_cast<size_t>(b)].size();
  });

  using Slot = std::pair<int, int>;  // (count, member): least loaded, then member id
  std::vector<Slot> heap;
  for (int t : order) {
    const size_t ts = static_cast<size_t>(t);
    heap.clear();
    for (int pid = base_[ts]; pid < base_[ts + 1]; ++pid) {
      if (owner_[static_cast<size_t>(pid)] >= 0) continue;
      if (heap.empty()) {
        for (int m : subscribers_[ts]) heap.emplace_back(count_[static_cast<size_t>(m)], m);
        std::make_heap(heap.begin(), heap.end(), std::greater<>());
      }
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      const int m = heap.back().second;
      give(pid, m);
      heap.back().first = count_[static_cast<size_t>(m)];
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  }
  balance(order);
}

// Moves partitions from the fullest holder of a topic to its emptiest
// subscriber while they differ by two or more. Each move lowers the sum of
// squared counts, so this terminates; at the end no partition can move to a
// subscriber with two or more fewer partitions.
void StickyPlanner::balance(const std::vector<int>& topic_order) {
  bool moved = true;
  while (moved) {
    moved = false;
    for (int t : topic_order) {
      const size_t ts = static_cast<size_t>(t);
      for (;;) {
        int lo = -1;
        for (int m : subscribers_[ts])
          if (lo < 0 || count_[static_cast<size_t>(m)] < count_[static_cast<size_t>(lo)]) lo = m;
        int hi = -1;
        for (int pid = base_[ts]; pid < base_[ts + 1]; ++pid) {
          int o = owner_[static_cast<size_t>(pid)];
          if (hi < 0 || count_[static_cast<size_t>(o)] > count_[static_cast<size_t>(hi)]) hi = o;
        }
        if (hi < 0 || count_[static_cast<size_t>(hi)] - count_[static_cast<size_t>(lo)] < 2) break;
        // Prefer a partition hi did not own before, then one lo owned before.
        int pick = -1, pick_rank = 3;
        for (int pid = base_[ts]; pid < base_[ts + 1] && pick_rank > 0; ++pid) {
          const size_t p = static_cast<size_t>(pid);
          if (owner_[p] != hi) continue;
          int rank = prev_owner_[p] == lo ? 0 : prev_owner_[p] != hi ? 1 : 2;
          if (rank < pick_rank) pick = pid, pick_rank = rank;
        }
        --count_[static_cast<size_t>(hi)];
        give(pick, lo);
        moved = true;
      }
    }
  }
}

// A partition is withheld from a member that did not own it by right (lost
// a generation conflict, or never had it) while another member still lists
// it: that member revokes it first. The member that won the claim keeps it
// even if a stale member lists it too.
void StickyPlanner::withhold_transfers() {
  // lister[pid]: the member listing it in owned_partitions, -1 none, -2 several.
  std::vector<int> lister(static_cast<size_t>(partitions_), -1);
  for (size_t m = 0; m < members_.size(); ++m)
    for (const auto& tp : members_[m]->owned_partitions) {
      const int pid = pid_of(tp);
      if (pid < 0) continue;
      int& l = lister[static_cast<size_t>(pid)];
      const int mi = static_cast<int>(m);
      l = (l == -1 || l == mi) ? mi : -2;
    }
  for (int pid = 0; pid < partitions_; ++pid) {
    const size_t p = static_cast<size_t>(pid);
    const int to = owner_[p], l = lister[p];
    if (to < 0 || rightful_[p] == to || l == -1 || l == to) continue;
    owner_[p] = -1;  // assigned in the follow-up rebalance
    --count_[static_cast<size_t>(to)];
  }
}

void StickyPlanner::emit(std::map<std::string, MemberAssignment>* out) const {
  out->clear();
  std::vector<MemberAssignment*> slot;
  slot.reserve(members_.size());
  for (size_t m = 0; m < members_.size(); ++m) {
    MemberAssignment* a = &(*out)[members_[m]->member_id];
    a->partitions.reserve(static_cast<size_t>(count_[m]));
    slot.push_back(a);
  }
  for (int pid = 0; pid < partitions_; ++pid)
    if (int m = owner_[static_cast<size_t>(pid)]; m >= 0)
      slot[static_cast<size_t>(m)]->partitions.emplace_back(std::string(topics_[static_cast<size_t>(topic_of_pid(pid))]),
                                                            partition_of_pid(pid));
}

}  // namespace

void sticky_assign(const GroupAssignmentInput& in, const std::vector<StickyClaim>& claims,
                   const StickyOptions& options, std::map<std::string, MemberAssignment>* out) {
  StickyPlanner planner(in, claims);
  planner.run();
  if (options.cooperative) planner.withhold_transfers();
  planner.emit(out);
}

}  // namespace kfk::assignors
