// kfk::Admin against broker-ref (one node: controller and leader of all).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "admin_test_util.h"
#include "kfk_test/brokers.h"

using namespace kfk;
using namespace kfk::admin_testing;
using namespace std::chrono_literals;

namespace {

// broker-ref with topics created only through the admin client.
std::unique_ptr<kfk::testing::BrokerRef> start_broker(std::map<std::string, std::string> config = {}) {
  config.emplace("auto.create.topics.enable", "false");
  return kfk::test::start_broker(std::move(config));
}

bool has_topic(const ListTopicsResult& r, const std::string& name) {
  for (const auto& t : r.topics)
    if (t.name == name) return true;
  return false;
}

}  // namespace

TEST_CASE("admin: create, describe, list, grow and delete topics (broker-ref)") {
  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());

  ClusterDescription cluster;
  REQUIRE(admin->describe_cluster(&cluster).ok());
  REQUIRE(cluster.brokers.size() == 1);
  CHECK(cluster.brokers[0].id == 1);
  CHECK(cluster.brokers[0].port == broker->port());
  CHECK(cluster.controller_id == 1);
  CHECK(cluster.cluster_id.has_value());

  CreateTopicsResult created;
  Error err = admin->create_topics({NewTopic{"orders", 3, 1, {{"retention.ms", "3600000"}}},
                                    NewTopic{"bad-rf", 1, 3}, NewTopic{"bad-parts", 0, 1}},
                                   &created);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  REQUIRE(created.topics.size() == 3);
  CHECK_MESSAGE(created.topics["orders"].error.ok(), created.topics["orders"].error.to_string());
  CHECK(created.topics["orders"].partitions == 3);
  CHECK(created.topics["orders"].replication_factor == 1);
  const TopicId orders_id = created.topics["orders"].topic_id;
  CHECK(!orders_id.is_zero());
  CHECK(created.topics["bad-rf"].error.code() == errc::kInvalidReplicationFactor);
  CHECK(created.topics["bad-parts"].error.code() == errc::kInvalidPartitions);

  // The same topic again: a per-topic error, the call itself succeeds.
  REQUIRE(admin->create_topics({NewTopic{"orders", 3, 1}}, &created).ok());
  CHECK(created.topics["orders"].error.code() == errc::kTopicAlreadyExists);

  // validate_only checks without creating; broker defaults with -1.
  CreateTopicsOptions validate;
  validate.validate_only = true;
  REQUIRE(admin->create_topics({NewTopic{"only-validated"}}, &created, validate).ok());
  CHECK_MESSAGE(created.topics["only-validated"].error.ok(), created.topics["only-validated"].error.to_string());

  ListTopicsResult listed;
  REQUIRE(admin->list_topics(&listed).ok());
  CHECK(has_topic(listed, "orders"));
  CHECK(!has_topic(listed, "only-validated"));
  CHECK(!has_topic(listed, "bad-rf"));

  DescribeTopicsResult described;
  REQUIRE(admin->describe_topics({"orders", "no-such-topic"}, &described).ok());
  REQUIRE(described.topics.size() == 2);
  const TopicDescription& d = described.topics["orders"];
  CHECK(d.error.ok());
  CHECK(d.name == "orders");
  CHECK(!d.internal);
  CHECK(d.topic_id == orders_id);
  REQUIRE(d.partitions.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(d.partitions[i].partition == i);
    CHECK(d.partitions[i].leader == 1);
    CHECK(d.partitions[i].replicas == std::vector<int32_t>{1});
    CHECK(d.partitions[i].isr == std::vector<int32_t>{1});
  }
  CHECK(described.topics["no-such-topic"].error.code() == errc::kUnknownTopicOrPartition);

  CreatePartitionsResult grown;
  REQUIRE(admin->create_partitions({{"orders", NewPartitions{5}}, {"no-such-topic", NewPartitions{2}}}, &grown).ok());
  CHECK_MESSAGE(grown.topics["orders"].ok(), grown.topics["orders"].to_string());
  CHECK(grown.topics["no-such-topic"].code() == errc::kUnknownTopicOrPartition);
  REQUIRE(admin->create_partitions({{"orders", NewPartitions{2}}}, &grown).ok());
  CHECK(grown.topics["orders"].code() == errc::kInvalidPartitions);
  REQUIRE(admin->describe_topics({"orders"}, &described).ok());
  CHECK(described.topics["orders"].partitions.size() == 5);

  DeleteTopicsResult deleted;
  REQUIRE(admin->delete_topics({"orders", "no-such-topic"}, &deleted).ok());
  CHECK(deleted.topics["orders"].ok());
  CHECK(deleted.topics["no-such-topic"].code() == errc::kUnknownTopicOrPartition);
  REQUIRE(admin->list_topics(&listed).ok());
  CHECK(!has_topic(listed, "orders"));
  admin->close();
}

TEST_CASE("admin: list offsets by spec and delete records (broker-ref)") {
  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"events", 2, 1}}, &created).ok());
  REQUIRE(created.topics["events"].error.ok());

  std::vector<std::string> values;
  std::vector<int64_t> ts;
  for (int i = 0; i < 10; ++i) {
    values.push_back('v' + std::to_string(i));
    ts.push_back(1000 * (i + 1));  // 1000 .. 10000
  }
  rdkafka_produce(broker->bootstrap_servers(), "events", 0, values, ts);

  TopicPartition p0("events", 0), p1("events", 1);
  ListOffsetsResult r;
  Error err = admin->list_offsets({{p0, OffsetSpec::earliest()}, {p1, OffsetSpec::latest()}}, &r);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(r.partitions[p0].error.ok());
  CHECK(r.partitions[p0].offset == 0);
  CHECK(r.partitions[p1].offset == 0);  // nothing written there

  REQUIRE(admin->list_offsets({{p0, OffsetSpec::latest()}}, &r).ok());
  CHECK(r.partitions[p0].offset == 10);

  REQUIRE(admin->list_offsets({{p0, OffsetSpec::for_timestamp(5500)}}, &r).ok());
  CHECK(r.partitions[p0].error.ok());
  CHECK(r.partitions[p0].offset == 5);
  CHECK(r.partitions[p0].timestamp == 6000);

  REQUIRE(admin->list_offsets({{p0, OffsetSpec::for_timestamp(99999)}}, &r).ok());
  CHECK(r.partitions[p0].offset == -1);

  REQUIRE(admin->list_offsets({{p0, OffsetSpec::max_timestamp()}}, &r).ok());
  CHECK_MESSAGE(r.partitions[p0].error.ok(), r.partitions[p0].error.to_string());
  CHECK(r.partitions[p0].offset == 9);
  CHECK(r.partitions[p0].timestamp == 10000);

  // Per-partition errors: an unknown topic, a partition the topic lacks.
  TopicPartition nope("no-such-topic", 0), p7("events", 7);
  REQUIRE(admin->list_offsets({{nope, OffsetSpec::latest()}, {p7, OffsetSpec::latest()}, {p0, OffsetSpec::latest()}},
                              &r)
              .ok());
  CHECK(r.partitions[nope].error.code() == errc::kUnknownTopicOrPartition);
  CHECK(r.partitions[p7].error.code() == errc::kUnknownTopicOrPartition);
  CHECK(r.partitions[p0].error.ok());
  CHECK(r.partitions[p0].offset == 10);

  DeleteRecordsResult del;
  REQUIRE(admin->delete_records({{p0, 4}, {p7, 1}}, &del).ok());
  CHECK_MESSAGE(del.partitions[p0].error.ok(), del.partitions[p0].error.to_string());
  CHECK(del.partitions[p0].low_watermark == 4);
  CHECK(del.partitions[p7].error.code() == errc::kUnknownTopicOrPartition);
  REQUIRE(admin->list_offsets({{p0, OffsetSpec::earliest()}}, &r).ok());
  CHECK(r.partitions[p0].offset == 4);

  REQUIRE(admin->delete_records({{p0, 100}}, &del).ok());
  CHECK(del.partitions[p0].error.code() == errc::kOffsetOutOfRange);
  REQUIRE(admin->delete_records({{p0, kDeleteAllRecords}}, &del).ok());
  CHECK(del.partitions[p0].error.ok());
  CHECK(del.partitions[p0].low_watermark == 10);

  // Bad arguments never reach the network.
  CHECK(admin->list_offsets({{TopicPartition("events", -1), OffsetSpec::latest()}}, &r).code() ==
        errc::kInvalidArgument);
  CHECK(admin->list_offsets({{p0, OffsetSpec::for_timestamp(-7)}}, &r).code() == errc::kInvalidArgument);
  CHECK(admin->delete_records({{p0, -5}}, &del).code() == errc::kInvalidArgument);
}

TEST_CASE("admin: describe and incrementally alter configs (broker-ref)") {
  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"conf", 1, 1, {{"retention.ms", "3600000"}}}}, &created).ok());
  REQUIRE(created.topics["conf"].error.ok());

  ConfigResource topic{ConfigResource::Type::kTopic, "conf"};
  ConfigResource missing{ConfigResource::Type::kTopic, "no-such-topic"};
  ConfigResource broker1{ConfigResource::Type::kBroker, "1"};
  DescribeConfigsResult described;
  Error err = admin->describe_configs({topic, missing, broker1}, &described);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  REQUIRE(described.resources[topic].error.ok());
  const ConfigEntry* retention = described.resources[topic].find("retention.ms");
  REQUIRE(retention != nullptr);
  CHECK(retention->value == "3600000");
  CHECK(retention->source == ConfigSource::kDynamicTopic);
  const ConfigEntry* cleanup = described.resources[topic].find("cleanup.policy");
  REQUIRE(cleanup != nullptr);
  CHECK(cleanup->is_default());
  CHECK(described.resources[missing].error.code() == errc::kUnknownTopicOrPartition);
  CHECK_MESSAGE(described.resources[broker1].error.ok(), described.resources[broker1].error.to_string());
  CHECK(!described.resources[broker1].entries.empty());

  AlterConfigsResult altered;
  err = admin->incremental_alter_configs(
      {{topic,
        {AlterConfigOp{AlterConfigOp::Type::kSet, "retention.ms", "1234"},
         AlterConfigOp{AlterConfigOp::Type::kAppend, "cleanup.policy", "compact"}}},
       {missing, {AlterConfigOp{AlterConfigOp::Type::kSet, "retention.ms", "1"}}}},
      &altered);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK_MESSAGE(altered.resources[topic].ok(), altered.resources[topic].to_string());
  CHECK(altered.resources[missing].code() == errc::kUnknownTopicOrPartition);
  REQUIRE(admin->describe_configs({topic}, &described).ok());
  CHECK(described.resources[topic].find("retention.ms")->value == "1234");
  // Both items, in either order (a broker may normalize the list).
  std::string policy = described.resources[topic].find("cleanup.policy")->value.value_or("null");
  CHECK_MESSAGE((policy == "delete,compact" || policy == "compact,delete"), policy);

  REQUIRE(admin->incremental_alter_configs({{topic,
                                             {AlterConfigOp{AlterConfigOp::Type::kDelete, "retention.ms", ""},
                                              AlterConfigOp{AlterConfigOp::Type::kSubtract, "cleanup.policy", "delete"}}}},
                                           &altered)
              .ok());
  CHECK(altered.resources[topic].ok());
  REQUIRE(admin->describe_configs({topic}, &described).ok());
  CHECK(described.resources[topic].find("retention.ms")->is_default());
  CHECK(described.resources[topic].find("cleanup.policy")->value == "compact");

  // A bad value is the broker's per-resource INVALID_CONFIG; validate_only
  // changes nothing.
  REQUIRE(admin->incremental_alter_configs(
                   {{topic, {AlterConfigOp{AlterConfigOp::Type::kSet, "retention.ms", "soon"}}}}, &altered)
              .ok());
  CHECK(altered.resources[topic].code() == errc::kBrokerInvalidConfig);
  AlterConfigsOptions validate;
  validate.validate_only = true;
  REQUIRE(admin->incremental_alter_configs(
                   {{topic, {AlterConfigOp{AlterConfigOp::Type::kSet, "retention.ms", "777"}}}}, &altered, validate)
              .ok());
  CHECK(altered.resources[topic].ok());
  REQUIRE(admin->describe_configs({topic}, &described).ok());
  CHECK(described.resources[topic].find("retention.ms")->is_default());

  CHECK(admin->describe_configs({ConfigResource{ConfigResource::Type::kBroker, "one"}}, &described).code() ==
        errc::kInvalidArgument);
}

TEST_CASE("admin: bad config names the key; bad arguments; closed client") {
  std::unique_ptr<Admin> a;
  Error err = Admin::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"retry.backoff.ms", "soon"}}, &a);
  CHECK(err.code() == errc::kInvalidClientConfig);
  CHECK(err.message().find("retry.backoff.ms") != std::string::npos);
  CHECK(a == nullptr);
  err = Admin::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"no.such.key", "1"}}, &a);
  CHECK(err.code() == errc::kInvalidClientConfig);
  CHECK(err.message().find("no.such.key") != std::string::npos);

  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());
  CreateTopicsResult created;
  CHECK(admin->create_topics({NewTopic{"x"}, NewTopic{"x"}}, &created).code() == errc::kInvalidArgument);
  CHECK(admin->create_topics({NewTopic{""}}, &created).code() == errc::kInvalidArgument);
  CreatePartitionsResult grown;
  CHECK(admin->create_partitions({{"x", NewPartitions{0}}}, &grown).code() == errc::kInvalidArgument);
  CHECK(admin->create_topics({}, &created).ok());
  CHECK(created.topics.empty());

  admin->close();
  ClusterDescription cluster;
  CHECK(admin->describe_cluster(&cluster).code() == errc::kDestroyed);
  admin->close();  // idempotent
}

TEST_CASE("admin: the timeout is honoured when no broker answers") {
  // A port nothing listens on: every connection attempt fails.
  auto broker = start_broker();
  std::string dead = broker->bootstrap_servers();
  broker->stop();
  auto admin = make_admin(dead);
  DescribeClusterOptions o;
  o.timeout = 400ms;
  ClusterDescription cluster;
  auto t0 = std::chrono::steady_clock::now();
  Error err = admin->describe_cluster(&cluster, o);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(err.code() == errc::kTimedOut);
  CHECK(err.retriable());
  CHECK(took >= 350ms);
  CHECK(took < 2000ms);

  ListOffsetsOptions lo;
  lo.timeout = 300ms;
  ListOffsetsResult r;
  TopicPartition tp("t", 0);
  err = admin->list_offsets({{tp, OffsetSpec::latest()}}, &r, lo);
  CHECK(err.code() == errc::kTimedOut);
  CHECK(r.partitions[tp].error.code() == errc::kTimedOut);
}

TEST_CASE("admin: concurrent calls from several threads (broker-ref)") {
  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      CreateTopicsResult created;
      std::string name = "conc-" + std::to_string(i);
      if (admin->create_topics({NewTopic{name, 2, 1}}, &created).ok() && created.topics[name].error.ok()) {
        DescribeTopicsResult d;
        if (admin->describe_topics({name}, &d).ok() && d.topics[name].partitions.size() == 2) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 4);
}
