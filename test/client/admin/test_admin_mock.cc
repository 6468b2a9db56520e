// kfk::Admin against librdkafka's mock cluster: several brokers (leaders
// spread over them), injected errors and delays.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <stdexcept>

#include "admin_test_util.h"

using namespace kfk;
using namespace kfk::admin_testing;
using namespace std::chrono_literals;

namespace {

class Mock {
 public:
  explicit Mock(int brokers) {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    REQUIRE(rk_ != nullptr);
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    REQUIRE(mc_ != nullptr);
    // Debian's librdkafka 2.0.2 mock writes a malformed LeaderEpoch in
    // ListOffsets v4-v5 answers.
    rd_kafka_mock_set_apiversion(mc_, 2 /* ListOffsets */, 0, 3);
  }
  ~Mock() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  rd_kafka_mock_cluster_t* get() const { return mc_; }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
};

}  // namespace

TEST_CASE("admin: describe cluster, describe and list topics (mock cluster)") {
  Mock mock(3);
  rd_kafka_mock_topic_create(mock.get(), "spread", 6, 3);
  for (int p = 0; p < 6; ++p) rd_kafka_mock_partition_set_leader(mock.get(), "spread", p, 1 + p % 3);
  auto admin = make_admin(mock.bootstraps());

  ClusterDescription cluster;
  Error err = admin->describe_cluster(&cluster);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  REQUIRE(cluster.brokers.size() == 3);
  CHECK(cluster.brokers[0].id == 1);
  CHECK(cluster.brokers[2].id == 3);

  // librdkafka's mock creates any topic a Metadata request names, so a
  // per-topic error is injected instead.
  rd_kafka_mock_topic_set_error(mock.get(), "denied", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  DescribeTopicsResult d;
  REQUIRE(admin->describe_topics({"spread", "denied"}, &d).ok());
  const auto& t = d.topics["spread"];
  REQUIRE(t.error.ok());
  REQUIRE(t.partitions.size() == 6);
  for (int p = 0; p < 6; ++p) {
    CHECK(t.partitions[p].leader == 1 + p % 3);
    CHECK(t.partitions[p].replicas.size() == 3);
    CHECK(t.partitions[p].isr.size() == 3);
  }
  CHECK(d.topics["denied"].error.code() == errc::kTopicAuthorizationFailed);

  ListTopicsResult listed;
  REQUIRE(admin->list_topics(&listed).ok());
  bool found = false;
  for (const auto& l : listed.topics)
    if (l.name == "spread") found = l.partitions == 6;
  CHECK(found);
}

TEST_CASE("admin: list offsets goes to each partition's leader (mock cluster)") {
  Mock mock(3);
  rd_kafka_mock_topic_create(mock.get(), "lo", 3, 1);
  for (int p = 0; p < 3; ++p) rd_kafka_mock_partition_set_leader(mock.get(), "lo", p, 1 + p);
  rdkafka_produce(mock.bootstraps(), "lo", 0, {"a", "b", "c"});
  rdkafka_produce(mock.bootstraps(), "lo", 2, {"a", "b", "c", "d", "e"});
  auto admin = make_admin(mock.bootstraps());

  std::map<TopicPartition, OffsetSpec> q;
  for (int p = 0; p < 3; ++p) q[{"lo", p}] = OffsetSpec::latest();
  q[{"lo", 9}] = OffsetSpec::latest();
  ListOffsetsResult r;
  Error err = admin->list_offsets(q, &r);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(r.partitions[{"lo", 0}].offset == 3);
  CHECK(r.partitions[{"lo", 1}].offset == 0);
  CHECK(r.partitions[{"lo", 2}].offset == 5);
  CHECK(r.partitions[{"lo", 9}].error.code() == errc::kUnknownTopicOrPartition);
  for (int p = 0; p < 3; ++p) CHECK(r.partitions[{"lo", p}].error.ok());

  REQUIRE(admin->list_offsets({{{"lo", 2}, OffsetSpec::earliest()}}, &r).ok());
  CHECK(r.partitions[{"lo", 2}].offset == 0);
}

TEST_CASE("admin: retriable errors are retried until they clear (mock cluster)") {
  Mock mock(3);
  rd_kafka_mock_topic_create(mock.get(), "retry", 1, 1);
  rd_kafka_mock_partition_set_leader(mock.get(), "retry", 0, 2);
  rdkafka_produce(mock.bootstraps(), "retry", 0, {"x", "y"});
  auto admin = make_admin(mock.bootstraps());
  DescribeTopicsResult d;
  REQUIRE(admin->describe_topics({"retry"}, &d).ok());  // warm: metadata known

  // Three answers with a retriable per-partition error, then the real one.
  rd_kafka_mock_push_request_errors(mock.get(), 2 /* ListOffsets */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  ListOffsetsResult r;
  TopicPartition tp("retry", 0);
  Error err = admin->list_offsets({{tp, OffsetSpec::latest()}}, &r);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK_MESSAGE(r.partitions[tp].error.ok(), r.partitions[tp].error.to_string());
  CHECK(r.partitions[tp].offset == 2);

  // With retries=0 the first retriable error is the answer.
  {
    auto no_retry = make_admin(mock.bootstraps(), {{"retries", "0"}});
    rd_kafka_mock_push_request_errors(mock.get(), 2, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
    err = no_retry->list_offsets({{tp, OffsetSpec::latest()}}, &r);
    CHECK(err.code() == errc::kNotLeaderOrFollower);
    CHECK(r.partitions[tp].error.code() == errc::kNotLeaderOrFollower);
  }

  // A non-retriable error is final at once.
  rd_kafka_mock_push_request_errors(mock.get(), 2, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  REQUIRE(admin->list_offsets({{tp, OffsetSpec::latest()}}, &r).ok());
  CHECK(r.partitions[tp].error.code() == errc::kTopicAuthorizationFailed);

  // A Metadata failure (the lookup before ListOffsets) is retried too.
  rd_kafka_mock_push_request_errors(mock.get(), 3 /* Metadata */, 2, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  REQUIRE(admin->list_offsets({{tp, OffsetSpec::earliest()}}, &r).ok());
  CHECK(r.partitions[tp].error.ok());
  CHECK(r.partitions[tp].offset == 0);
}

TEST_CASE("admin: a retriable error that persists ends in a timeout (mock cluster)") {
  Mock mock(1);
  rd_kafka_mock_topic_create(mock.get(), "stuck", 1, 1);
  auto admin = make_admin(mock.bootstraps());
  std::vector<rd_kafka_resp_err_t> errs(200, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  rd_kafka_mock_push_request_errors_array(mock.get(), 2, errs.size(), errs.data());
  ListOffsetsOptions o;
  o.timeout = 600ms;
  ListOffsetsResult r;
  TopicPartition tp("stuck", 0);
  auto t0 = std::chrono::steady_clock::now();
  Error err = admin->list_offsets({{tp, OffsetSpec::latest()}}, &r, o);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(err.code() == errc::kTimedOut);
  CHECK(err.message().find("NOT_LEADER_OR_FOLLOWER") != std::string::npos);  // the last error is named
  CHECK(r.partitions[tp].error.code() == errc::kTimedOut);
  CHECK(took < 2000ms);
  rd_kafka_mock_clear_request_errors(mock.get(), 2);
}

TEST_CASE("admin: a slow broker makes the call time out, not hang (mock cluster)") {
  Mock mock(1);
  auto admin = make_admin(mock.bootstraps());
  ClusterDescription cluster;
  REQUIRE(admin->describe_cluster(&cluster).ok());
  rd_kafka_mock_broker_set_rtt(mock.get(), 1, 3000);
  DescribeClusterOptions o;
  o.timeout = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  Error err = admin->describe_cluster(&cluster, o);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(err.code() == errc::kTimedOut);
  CHECK(took >= 250ms);
  CHECK(took < 1500ms);
  rd_kafka_mock_broker_set_rtt(mock.get(), 1, 0);
}

TEST_CASE("admin: an API the brokers lack is an overall NO_COMMON_API_VERSION (mock cluster)") {
  Mock mock(1);
  // Whether librdkafka's mock speaks CreateTopics depends on its version:
  // take it away explicitly.
  rd_kafka_mock_set_apiversion(mock.get(), 19 /* CreateTopics */, -1, -1);
  auto admin = make_admin(mock.bootstraps());
  CreateTopicsResult created;
  CreateTopicsOptions o;
  o.timeout = 5000ms;
  Error err = admin->create_topics({NewTopic{"t", 1, 1}}, &created, o);
  CHECK_MESSAGE(err.code() == errc::kNoCommonApiVersion, err.to_string());
  CHECK(created.topics["t"].error.code() == errc::kNoCommonApiVersion);
}

TEST_CASE("admin: alter and list consumer group offsets via the coordinator (mock cluster)") {
  Mock mock(3);
  rd_kafka_mock_topic_create(mock.get(), "grp-topic", 3, 1);
  rd_kafka_mock_coordinator_set(mock.get(), "group", "g1", 2);
  auto admin = make_admin(mock.bootstraps());

  TopicPartition p0("grp-topic", 0), p1("grp-topic", 1), p2("grp-topic", 2);
  // The coordinator first says it moved, then commits.
  rd_kafka_mock_push_request_errors(mock.get(), 8 /* OffsetCommit */, 1, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
  AlterConsumerGroupOffsetsResult altered;
  Error err = admin->alter_consumer_group_offsets(
      "g1", {{p0, OffsetAndMetadata{42, std::string("meta-0")}}, {p1, OffsetAndMetadata{7}}}, &altered);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(altered.error.ok());
  CHECK_MESSAGE(altered.partitions[p0].ok(), altered.partitions[p0].to_string());
  CHECK(altered.partitions[p1].ok());

  rd_kafka_mock_push_request_errors(mock.get(), 9 /* OffsetFetch */, 1, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  ListConsumerGroupOffsetsResult listed;
  err = admin->list_consumer_group_offsets("g1", {p0, p1, p2}, &listed);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(listed.error.ok());
  CHECK(listed.partitions[p0].offset == 42);
  CHECK(listed.partitions[p0].metadata == std::optional<std::string>("meta-0"));
  CHECK(listed.partitions[p1].offset == 7);
  CHECK(listed.partitions[p2].offset == -1);  // never committed

  CHECK(admin->list_consumer_group_offsets("", {}, &listed).code() == errc::kInvalidArgument);
  CHECK(admin->alter_consumer_group_offsets("g1", {{p0, OffsetAndMetadata{-5}}}, &altered).code() ==
        errc::kInvalidArgument);
}
