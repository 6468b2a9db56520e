// "range" and "roundrobin": the examples of Java's RangeAssignor and
// RoundRobinAssignor javadoc and tests, expected exactly.
#include <doctest/doctest.h>

#include "assignor_test_util.h"

using namespace assignor_test;
using TPs = std::vector<kfk::TopicPartition>;

TEST_CASE("assignor: range, javadoc example (two members, two topics of three partitions)") {
  auto a = make("range");
  CHECK(a->name() == "range");
  CHECK(a->supported_protocols() == std::vector<kfk::RebalanceProtocol>{kfk::RebalanceProtocol::kEager});
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t0", 3}, {"t1", 3}};
  add(in, member("C0", {"t0", "t1"}));
  add(in, member("C1", {"t0", "t1"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "C0") == TPs{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)});
  CHECK(parts(out, "C1") == TPs{tp("t0", 2), tp("t1", 2)});
}

TEST_CASE("assignor: range, mixed subscriptions (RangeAssignorTest.testMultipleConsumersMixedTopics)") {
  auto a = make("range");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"topic1", 3}, {"topic2", 2}};
  add(in, member("consumer1", {"topic1"}));
  add(in, member("consumer2", {"topic1", "topic2"}));
  add(in, member("consumer3", {"topic1"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "consumer1") == TPs{tp("topic1", 0)});
  CHECK(parts(out, "consumer2") == TPs{tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)});
  CHECK(parts(out, "consumer3") == TPs{tp("topic1", 2)});
}

TEST_CASE("assignor: range, more members than partitions, absent topics, no subscribers") {
  auto a = make("range");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 1}, {"other", 4}};  // nobody subscribes to "other"
  add(in, member("m1", {"t", "missing"}));             // "missing" does not exist
  add(in, member("m2", {"t"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "m1") == TPs{tp("t", 0)});
  CHECK(parts(out, "m2").empty());  // present, empty

  kfk::GroupAssignmentInput none;
  none.partitions_per_topic = {{"t", 3}};
  add(none, member("m", {}));
  out = run(*a, none);
  CHECK(out.size() == 1);
  CHECK(parts(out, "m").empty());
}

TEST_CASE("assignor: range and roundrobin order static members first, by group.instance.id") {
  // Java's MemberInfo order: a restarted static member gets a new member id
  // but keeps its place, hence its partitions.
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 4}};
  auto s1 = member("zzz-new-id", {"t"});
  s1.group_instance_id = "instance-a";
  auto s2 = member("aaa-id", {"t"});
  s2.group_instance_id = "instance-b";
  add(in, s1);
  add(in, s2);
  add(in, member("dynamic-0", {"t"}));
  add(in, member("dynamic-1", {"t"}));
  Assignment r = run(*make("range"), in);
  CHECK(parts(r, "zzz-new-id") == TPs{tp("t", 0)});
  CHECK(parts(r, "aaa-id") == TPs{tp("t", 1)});
  CHECK(parts(r, "dynamic-0") == TPs{tp("t", 2)});
  CHECK(parts(r, "dynamic-1") == TPs{tp("t", 3)});
  Assignment rr = run(*make("roundrobin"), in);
  CHECK(same_partitions(rr, r));  // one partition each, dealt in the same order
}

TEST_CASE("assignor: roundrobin, javadoc example 1 (equal subscriptions)") {
  auto a = make("roundrobin");
  CHECK(a->name() == "roundrobin");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t0", 3}, {"t1", 3}};
  add(in, member("C0", {"t0", "t1"}));
  add(in, member("C1", {"t0", "t1"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "C0") == TPs{tp("t0", 0), tp("t0", 2), tp("t1", 1)});
  CHECK(parts(out, "C1") == TPs{tp("t0", 1), tp("t1", 0), tp("t1", 2)});
}

TEST_CASE("assignor: roundrobin, javadoc example 2 (members skipped when not subscribed)") {
  auto a = make("roundrobin");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t0", 1}, {"t1", 2}, {"t2", 3}};
  add(in, member("C0", {"t0"}));
  add(in, member("C1", {"t0", "t1"}));
  add(in, member("C2", {"t0", "t1", "t2"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "C0") == TPs{tp("t0", 0)});
  CHECK(parts(out, "C1") == TPs{tp("t1", 0)});
  CHECK(parts(out, "C2") == TPs{tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)});
}

TEST_CASE("assignor: roundrobin, the dealer carries over between topics") {
  // RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions with three
  // partitions per topic is the javadoc case; with odd counts the position
  // carries across topic boundaries instead of restarting at the first member.
  auto a = make("roundrobin");
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"a", 1}, {"b", 1}, {"c", 1}};
  add(in, member("m0", {"a", "b", "c"}));
  add(in, member("m1", {"a", "b", "c"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "m0") == TPs{tp("a", 0), tp("c", 0)});
  CHECK(parts(out, "m1") == TPs{tp("b", 0)});
}
