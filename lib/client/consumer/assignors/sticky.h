// The sticky assignment shared by "sticky" and "cooperative-sticky" (Java's
// AbstractStickyAssignor semantics):
//   - valid:    every partition of a topic with subscribers goes to exactly one
//               subscriber of its topic;
//   - balanced: no partition could move to another subscriber of its topic
//               that has two or more fewer partitions (with equal
//               subscriptions: counts differ by at most one);
//   - sticky:   partitions stay with their previous owner as far as balance
//               allows.
// Previous ownership comes from each member's claims (the two assignors read
// them from different places). When members claim the same partition, the
// higher generation wins; claims tied at the highest generation are all
// dropped, as Java does (the partition is then assigned afresh).
//
// With equal subscriptions this runs Java's ConstrainedAssignmentBuilder
// algorithm: every member keeps its owned partitions up to its quota (sorted
// by partition, then topic), the rest are dealt round robin to members under
// quota. Otherwise it keeps all valid owned partitions, gives unowned ones
// (topics with the fewest subscribers first) to the least-loaded subscriber,
// then moves partitions from the fullest to the emptiest subscriber of their
// topic until balanced, moving newly assigned partitions before owned ones.
// O(P log M + M*T) for P partitions, M members and T topics in the common
// cases.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kfk/assignor.h"

namespace kfk::assignors {

struct StickyClaim {
  std::vector<TopicPartition> partitions;
  int32_t generation = -1;
};

struct StickyOptions {
  // KIP-429: leave out of the result every partition assigned to a member
  // other than its rightful previous owner while another member still lists
  // it in owned_partitions; that member revokes it and the follow-up
  // rebalance assigns it (Java's CooperativeStickyAssignor.adjustAssignment,
  // which also withholds from a stale member that lists the partition itself).
  bool cooperative = false;
};

// `claims` is aligned with `in.members` (member id order). Fills `out` with an
// entry for every member.
void sticky_assign(const GroupAssignmentInput& in, const std::vector<StickyClaim>& claims,
                   const StickyOptions& options, std::map<std::string, MemberAssignment>* out);

}  // namespace kfk::assignors
