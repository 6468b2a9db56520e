// kfk::Admin consumer group calls against broker-ref (librdkafka 2.0.2's
// mock cluster lacks ListGroups, DescribeGroups, DeleteGroups and
// OffsetDelete). A librdkafka consumer provides a group with a member.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "admin_test_util.h"
#include "kfk_test/brokers.h"

using namespace kfk;
using namespace kfk::admin_testing;
using namespace std::chrono_literals;

namespace {

constexpr int kGroupSubscribedToTopic = 86;

// A librdkafka group member subscribed to `topic`; polls until it owns
// `partitions` partitions.
class RdMember {
 public:
  RdMember(const std::string& bootstrap, const std::string& group, const std::string& topic, int partitions) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", group.c_str(), errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "client.id", "rk-member", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "partition.assignment.strategy", "range", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    REQUIRE_MESSAGE(rk_ != nullptr, errstr);
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
    REQUIRE(rd_kafka_subscribe(rk_, sub) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(sub);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    int owned = 0;
    while (owned < partitions && std::chrono::steady_clock::now() < deadline) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100)) rd_kafka_message_destroy(m);
      rd_kafka_topic_partition_list_t* a = nullptr;
      if (rd_kafka_assignment(rk_, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        owned = a->cnt;
        rd_kafka_topic_partition_list_destroy(a);
      }
    }
    REQUIRE(owned == partitions);
  }
  ~RdMember() { close(); }

  void commit(const std::string& topic, int32_t partition, int64_t offset) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic.c_str(), partition)->offset = offset;
    CHECK(rd_kafka_commit(rk_, l, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
  }
  void close() {
    if (rk_ == nullptr) return;
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
};

bool listed(const ListConsumerGroupsResult& r, const std::string& group) {
  return std::any_of(r.groups.begin(), r.groups.end(), [&](const auto& g) { return g.group_id == group; });
}

}  // namespace

TEST_CASE("admin: list, describe, delete consumer groups and their offsets (broker-ref)") {
  auto broker =
      kfk::test::start_broker({{"auto.create.topics.enable", "false"}, {"group.initial.rebalance.delay.ms", "0"}});
  auto admin = make_admin(broker->bootstrap_servers());

  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"gt", 2, 1}}, &created).ok());
  REQUIRE(created.topics["gt"].error.ok());
  rdkafka_produce(broker->bootstrap_servers(), "gt", 0, {"a", "b", "c"});

  // Arguments are checked before anything is sent.
  DescribeConsumerGroupsResult described;
  CHECK(admin->describe_consumer_groups({"g1", ""}, &described).code() == errc::kInvalidArgument);
  DeleteConsumerGroupOffsetsResult deleted_offsets;
  CHECK(admin->delete_consumer_group_offsets("g1", {TopicPartition("gt", -1)}, &deleted_offsets).code() ==
        errc::kInvalidArgument);

  auto member = std::make_unique<RdMember>(broker->bootstrap_servers(), "g1", "gt", 2);
  member->commit("gt", 0, 3);

  ListConsumerGroupsResult groups;
  REQUIRE(admin->list_consumer_groups(&groups).ok());
  CHECK(groups.broker_errors.empty());
  REQUIRE(listed(groups, "g1"));
  for (const auto& g : groups.groups) {
    if (g.group_id != "g1") continue;
    CHECK(g.protocol_type == "consumer");
    CHECK(g.state == std::optional<std::string>("Stable"));
    CHECK(g.coordinator == 1);
  }
  ListConsumerGroupsOptions empty_only;
  empty_only.states = {"Empty"};
  REQUIRE(admin->list_consumer_groups(&groups, empty_only).ok());
  CHECK(!listed(groups, "g1"));

  REQUIRE(admin->describe_consumer_groups({"g1", "nobody", "g1"}, &described).ok());
  REQUIRE(described.groups.size() == 2);
  const auto& g1 = described.groups["g1"];
  CHECK(g1.error.ok());
  CHECK(g1.group_id == "g1");
  CHECK(g1.state == "Stable");
  CHECK(g1.protocol_type == "consumer");
  CHECK(g1.assignor == "range");
  CHECK(g1.coordinator == 1);
  REQUIRE(g1.members.size() == 1);
  CHECK(g1.members[0].client_id == "rk-member");
  CHECK(!g1.members[0].member_id.empty());
  CHECK(!g1.members[0].host.empty());
  CHECK(!g1.members[0].group_instance_id.has_value());
  CHECK(g1.members[0].assignment == std::vector<TopicPartition>{{"gt", 0}, {"gt", 1}});
  CHECK(described.groups["nobody"].error.ok());
  CHECK(described.groups["nobody"].state == "Dead");
  CHECK(described.groups["nobody"].members.empty());

  // A group with members can be neither deleted nor lose offsets of a
  // topic it consumes.
  DeleteConsumerGroupsResult deleted;
  REQUIRE(admin->delete_consumer_groups({"g1"}, &deleted).ok());
  CHECK(deleted.groups["g1"].code() == errc::kNonEmptyGroup);
  REQUIRE(admin->delete_consumer_group_offsets("g1", {TopicPartition("gt", 0)}, &deleted_offsets).ok());
  CHECK(deleted_offsets.partitions[TopicPartition("gt", 0)].code() == kGroupSubscribedToTopic);

  member->close();
  REQUIRE(admin->describe_consumer_groups({"g1"}, &described).ok());
  CHECK(described.groups["g1"].state == "Empty");
  CHECK(described.groups["g1"].members.empty());
  REQUIRE(admin->list_consumer_groups(&groups, empty_only).ok());
  CHECK(listed(groups, "g1"));

  ListConsumerGroupOffsetsResult committed;
  REQUIRE(admin->list_consumer_group_offsets("g1", {TopicPartition("gt", 0)}, &committed).ok());
  CHECK(committed.partitions[TopicPartition("gt", 0)].offset == 3);
  REQUIRE(admin->delete_consumer_group_offsets("g1", {TopicPartition("gt", 0)}, &deleted_offsets).ok());
  CHECK(deleted_offsets.error.ok());
  CHECK(deleted_offsets.partitions[TopicPartition("gt", 0)].ok());
  REQUIRE(admin->list_consumer_group_offsets("g1", {TopicPartition("gt", 0)}, &committed).ok());
  CHECK(committed.partitions[TopicPartition("gt", 0)].offset == -1);

  REQUIRE(admin->delete_consumer_groups({"g1", "nobody"}, &deleted).ok());
  CHECK_MESSAGE(deleted.groups["g1"].ok(), deleted.groups["g1"].to_string());
  CHECK(deleted.groups["nobody"].code() == errc::kGroupIdNotFound);
  REQUIRE(admin->list_consumer_groups(&groups).ok());
  CHECK(!listed(groups, "g1"));
  REQUIRE(admin->delete_consumer_group_offsets("g1", {TopicPartition("gt", 0)}, &deleted_offsets).ok());
  CHECK(deleted_offsets.error.code() == errc::kGroupIdNotFound);
}
