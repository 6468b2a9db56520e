// "sticky" and "cooperative-sticky": cases from Java's
// AbstractStickyAssignorTest, generation conflicts, KIP-429 withholding and
// the user_data other clients exchange.
#include <doctest/doctest.h>

#include "assignor_test_util.h"
#include "client/consumer/assignors/sticky_user_data.h"

using namespace assignor_test;
using TPs = std::vector<kfk::TopicPartition>;
using kfk::RebalanceProtocol;

namespace {

// The eager sticky assignor learns previous ownership from user_data that
// each member's own assignor instance writes.
kfk::MemberSubscription eager_member(const std::string& id, std::vector<std::string> topics, const TPs& had,
                                     int32_t generation) {
  auto m = member(id, std::move(topics));
  m.user_data = kfk::assignors::encode_sticky_user_data(had, generation);
  return m;
}

}  // namespace

TEST_CASE("assignor: sticky, names and protocols") {
  CHECK(make("sticky")->name() == "sticky");
  CHECK(make("sticky")->supported_protocols() == std::vector<RebalanceProtocol>{RebalanceProtocol::kEager});
  auto coop = make("cooperative-sticky");
  CHECK(coop->name() == "cooperative-sticky");
  CHECK(coop->supported_protocols() ==
        std::vector<RebalanceProtocol>{RebalanceProtocol::kCooperative, RebalanceProtocol::kEager});
}

TEST_CASE("assignor: sticky, add and remove a consumer on one topic (testAddRemoveConsumerOneTopic)") {
  auto a = make("sticky");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"topic", 3}};
  add(in, member("consumer1", {"topic"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("topic", 0), tp("topic", 1), tp("topic", 2)});

  // consumer2 joins: consumer1 keeps its lowest two, consumer2 gets the third.
  in.members["consumer1"] = eager_member("consumer1", {"topic"}, parts(out, "consumer1"), 1);
  add(in, member("consumer2", {"topic"}));
  out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("topic", 0), tp("topic", 1)});
  CHECK(parts(out, "consumer2") == TPs{tp("topic", 2)});

  // consumer1 leaves: consumer2 keeps its partition and takes the rest.
  TPs had2 = parts(out, "consumer2");
  in.members.erase("consumer1");
  in.members["consumer2"] = eager_member("consumer2", {"topic"}, had2, 2);
  out = run(*a, in);
  CHECK(parts(out, "consumer2") == TPs{tp("topic", 0), tp("topic", 1), tp("topic", 2)});
}

TEST_CASE("assignor: cooperative-sticky, add a consumer takes two rebalances (KIP-429)") {
  auto a = make("cooperative-sticky");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"topic", 4}};
  add(in, member("consumer1", {"topic"}, {tp("topic", 0), tp("topic", 1), tp("topic", 2), tp("topic", 3)}, 1));
  add(in, member("consumer2", {"topic"}, {}, -1));
  // consumer1 still owns topic-2 and topic-3: nobody gets them this round.
  Assignment out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("topic", 0), tp("topic", 1)});
  CHECK(parts(out, "consumer2").empty());

  // consumer1 revoked them and rejoined: now consumer2 gets them.
  in.members["consumer1"].owned_partitions = parts(out, "consumer1");
  in.members["consumer1"].generation_id = 2;
  in.members["consumer2"].generation_id = 2;
  out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("topic", 0), tp("topic", 1)});
  CHECK(parts(out, "consumer2") == TPs{tp("topic", 2), tp("topic", 3)});
}

TEST_CASE("assignor: sticky, same subscriptions, a member leaves (testSameSubscriptions)") {
  // Topics t1..t9 with i partitions, nine members subscribed to all of them.
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    INFO(name);
    auto a = make(name);
    kfk::GroupAssignmentInput in;
    std::vector<std::string> topics;
    for (int i = 1; i <= 9; ++i) {
      topics.push_back('t' + std::to_string(i));
      in.partitions_per_topic['t' + std::to_string(i)] = i;
    }
    for (int i = 1; i <= 9; ++i) add(in, member("consumer" + std::to_string(i), topics));
    Assignment first = run(*a, in);
    check_complete(in, first, "initial");
    auto [lo, hi] = min_max(first);
    CHECK(hi - lo <= 1);  // 45 partitions: five each

    in.members.erase("consumer1");
    for (auto& [id, m] : in.members) {
      m.owned_partitions = parts(first, id);
      m.generation_id = 1;
      m.user_data = kfk::assignors::encode_sticky_user_data(m.owned_partitions, 1);
    }
    first.erase("consumer1");
    Assignment second = run(*a, in);
    check_complete(in, second, "after consumer1 left");
    std::tie(lo, hi) = min_max(second);
    CHECK(hi - lo <= 1);
    for (const auto& entry : second)
      for (const auto& p : first[entry.first].partitions)
        CHECK_MESSAGE(std::binary_search(entry.second.partitions.begin(), entry.second.partitions.end(), p),
                      entry.first << " lost " << p.to_string());
  }
}

TEST_CASE("assignor: sticky, reassignment after one consumer leaves (testReassignmentAfterOneConsumerLeaves)") {
  // 20 topics, topic i with i partitions; consumer i subscribes to topics 1..i.
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    INFO(name);
    auto a = make(name);
    kfk::GroupAssignmentInput in;
    for (int i = 1; i < 20; ++i) in.partitions_per_topic["topic" + std::to_string(i)] = i;
    for (int i = 1; i < 20; ++i) {
      std::vector<std::string> topics;
      for (int j = 1; j <= i; ++j) topics.push_back("topic" + std::to_string(j));
      add(in, member("consumer" + std::to_string(i), topics));
    }
    Assignment first = run(*a, in);
    check_complete(in, first, "initial");
    check_sticky_balance(in, first, "initial");

    in.members.erase("consumer10");
    for (auto& [id, m] : in.members) {
      m.owned_partitions = parts(first, id);
      m.generation_id = 1;
      m.user_data = kfk::assignors::encode_sticky_user_data(m.owned_partitions, 1);
    }
    Assignment second = run(*a, in);
    if (std::string(name) == "cooperative-sticky") {
      check_no_handover(in, second, "after consumer10 left");
      int32_t generation = 1;
      second = settle(*a, in, second, 5, generation);
    }
    check_complete(in, second, "after consumer10 left");
    check_sticky_balance(in, second, "after consumer10 left");
    // Only consumer10's partitions need a new home; balancing may move a
    // few more, but most of the assignment stays.
    size_t kept = 0, total = 0;
    for (const auto& [id, a2] : second)
      for (const auto& p : first[id].partitions) {
        ++total;
        kept += std::binary_search(a2.partitions.begin(), a2.partitions.end(), p) ? 1 : 0;
      }
    CHECK(kept * 10 >= total * 9);
  }
}

TEST_CASE("assignor: sticky, generation conflicts: the higher generation wins, a tie drops the claim") {
  auto a = make("cooperative-sticky");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 4}};
  // Stale consumer2 (generation 1) still lists t-1, which consumer1 got in
  // generation 2.
  add(in, member("consumer1", {"t"}, {tp("t", 0), tp("t", 1)}, 2));
  add(in, member("consumer2", {"t"}, {tp("t", 1), tp("t", 2), tp("t", 3)}, 1));
  Assignment out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("t", 0), tp("t", 1)});
  CHECK(parts(out, "consumer2") == TPs{tp("t", 2), tp("t", 3)});

  // Same generation: nobody owns t-1 by right and both list it; it waits
  // until both have revoked it.
  in.members["consumer2"].generation_id = 2;
  out = run(*a, in);
  check_withheld_are_owned(in, out, "tie");
  CHECK(parts(out, "consumer1") == TPs{tp("t", 0)});
  CHECK(parts(out, "consumer2") == TPs{tp("t", 2), tp("t", 3)});
  in.members["consumer1"].owned_partitions = parts(out, "consumer1");
  in.members["consumer2"].owned_partitions = parts(out, "consumer2");
  in.members["consumer1"].generation_id = in.members["consumer2"].generation_id = 3;
  out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("t", 0), tp("t", 1)});
  CHECK(parts(out, "consumer2") == TPs{tp("t", 2), tp("t", 3)});

  // Eager sticky reads the same conflict from user_data.
  auto s = make("sticky");
  kfk::GroupAssignmentInput ein;
  ein.partitions_per_topic = {{"t", 4}};
  add(ein, eager_member("consumer1", {"t"}, {tp("t", 1), tp("t", 2), tp("t", 3)}, 1));
  add(ein, eager_member("consumer2", {"t"}, {tp("t", 0), tp("t", 1)}, 2));
  out = run(*s, ein);
  CHECK(parts(out, "consumer1") == TPs{tp("t", 2), tp("t", 3)});
  CHECK(parts(out, "consumer2") == TPs{tp("t", 0), tp("t", 1)});
}

TEST_CASE("assignor: cooperative-sticky, a member that drops a topic revokes it before anyone gets it") {
  auto a = make("cooperative-sticky");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"a", 2}, {"b", 2}};
  // consumer1 unsubscribed from b but still owns b-0 and b-1 (and a partition
  // of a deleted topic); consumer2 lists a partition that does not exist.
  add(in, member("consumer1", {"a"}, {tp("a", 0), tp("b", 0), tp("b", 1), tp("gone", 0)}, 3));
  add(in, member("consumer2", {"a", "b"}, {tp("a", 1), tp("a", 7)}, 3));
  Assignment out = run(*a, in);
  check_withheld_are_owned(in, out, "round 1");
  check_no_handover(in, out, "round 1");
  // The balanced target is consumer1 {a-0, a-1}, consumer2 {b-0, b-1}; every
  // move waits for a revocation.
  CHECK(parts(out, "consumer1") == TPs{tp("a", 0)});
  CHECK(parts(out, "consumer2").empty());
  int32_t generation = 3;
  out = settle(*a, in, out, 3, generation);
  check_complete(in, out, "settled");
  CHECK(generation == 4);  // one follow-up rebalance
  CHECK(parts(out, "consumer1") == TPs{tp("a", 0), tp("a", 1)});
  CHECK(parts(out, "consumer2") == TPs{tp("b", 0), tp("b", 1)});
}

TEST_CASE("assignor: sticky user_data is Java's StickyAssignorUserData") {
  using namespace kfk::assignors;
  std::vector<uint8_t> v1 = encode_sticky_user_data({tp("t", 0), tp("t", 1)}, 3);
  const std::vector<uint8_t> golden = {0, 0, 0, 1,               // one topic
                                       0, 1, 't',                // "t"
                                       0, 0, 0, 2,               // two partitions
                                       0, 0, 0, 0, 0, 0, 0, 1,   // 0, 1
                                       0, 0, 0, 3};              // generation
  CHECK(v1 == golden);
  StickyUserData d;
  REQUIRE(decode_sticky_user_data(v1, d));
  CHECK(d.partitions == TPs{tp("t", 0), tp("t", 1)});
  CHECK(d.generation == 3);

  std::vector<uint8_t> v0(golden.begin(), golden.end() - 4);  // no generation: v0
  REQUIRE(decode_sticky_user_data(v0, d));
  CHECK(d.partitions == TPs{tp("t", 0), tp("t", 1)});
  CHECK(d.generation == -1);

  for (size_t cut : {size_t{0}, size_t{3}, size_t{6}, size_t{10}, size_t{14}}) {
    std::vector<uint8_t> torn(golden.begin(), golden.begin() + static_cast<long>(cut));
    CHECK_FALSE(decode_sticky_user_data(torn, d));
    CHECK(d.partitions.empty());
  }
  std::vector<uint8_t> huge = {0, 0, 0, 1, 0, 1, 't', 0x7f, 0xff, 0xff, 0xff};  // count beyond the bytes
  CHECK_FALSE(decode_sticky_user_data(huge, d));

  CHECK(encode_cooperative_user_data(258) == std::vector<uint8_t>{0, 0, 1, 2});
  CHECK(decode_cooperative_user_data({0, 0, 1, 2}) == 258);
  CHECK(decode_cooperative_user_data({}) == -1);
}

TEST_CASE("assignor: sticky assignors write and read their own user_data across rebalances") {
  auto leader = make("sticky");
  auto follower = make("sticky");
  CHECK(leader->subscription_user_data({"t"}).empty());  // nothing owned yet
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 6}};
  add(in, member("a", {"t"}));
  add(in, member("b", {"t"}));
  Assignment out = run(*leader, in);
  leader->on_assignment(out["a"], 1);
  follower->on_assignment(out["b"], 1);
  // b leaves and c joins: a keeps all three of its partitions.
  in.members.erase("b");
  in.members["a"].user_data = leader->subscription_user_data({"t"});
  add(in, member("c", {"t"}));
  Assignment next = run(*leader, in);
  CHECK(parts(next, "a") == parts(out, "a"));
  CHECK(parts(next, "c").size() == 3);
  // A malformed user_data is ignored, as Java ignores it.
  in.members["a"].user_data = {1, 2, 3};
  check_complete(in, run(*leader, in), "malformed user_data");

  auto coop = make("cooperative-sticky");
  CHECK(coop->subscription_user_data({"t"}) == std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff});  // generation -1
  coop->on_assignment({}, 7);
  CHECK(coop->subscription_user_data({"t"}) == std::vector<uint8_t>{0, 0, 0, 7});
}

TEST_CASE("assignor: cooperative-sticky reads the generation from user_data for v0/v1 subscriptions") {
  auto a = make("cooperative-sticky");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 2}};
  auto m1 = member("m1", {"t"}, {tp("t", 0), tp("t", 1)});
  m1.user_data = kfk::assignors::encode_cooperative_user_data(5);
  auto m2 = member("m2", {"t"}, {tp("t", 0), tp("t", 1)});
  m2.user_data = kfk::assignors::encode_cooperative_user_data(4);
  add(in, m1);
  add(in, m2);
  Assignment out = run(*a, in);
  // m1's generation 5 wins both; one moves to m2 after m1 revokes it.
  CHECK(parts(out, "m1") == TPs{tp("t", 0)});
  CHECK(parts(out, "m2").empty());
}
