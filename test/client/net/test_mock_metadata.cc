// MetadataManager against librdkafka's mock cluster: bootstrap, topics and
// leaders, unknown topics, error-driven refreshes, leader changes.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_test_util.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;

namespace {

Error wait_topic(NetClient& nc, const std::string& topic, int ms = 10000) {
  Slot<Error> s;
  on_loop(nc, [&] {
    nc.metadata().wait_for_topic(topic, after_ms(ms), [s](const Error& e, const auto&) { s.set(e); });
  });
  if (!s.wait(ms + 5000)) return Error(errc::kTimedOut, "test wait");
  return s.get();
}

// A loopback port with nothing listening.
int dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("mock metadata: brokers, controller, topics, partitions, leaders") {
  MockCluster mc(3);
  mc.create_topic("topic-a", 4, 3);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  Error e = wait_topic(nc, "topic-a");
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  auto md = nc.metadata_snapshot();
  CHECK(md->brokers().size() == 3);
  for (const auto& [id, b] : md->brokers()) {
    CHECK(id >= 1);
    CHECK(id <= 3);
    CHECK(b.port > 0);
  }
  // (librdkafka 2.0.2's mock reports its own controller_id field, 0.)
  CHECK(md->cluster_id().has_value());
  const TopicInfo* t = md->topic("topic-a");
  REQUIRE(t != nullptr);
  REQUIRE(t->partitions.size() == 4);
  for (int p = 0; p < 4; ++p) {
    CHECK(t->partitions[p].partition == p);
    CHECK(md->leader_of("topic-a", p) >= 1);
    CHECK(t->partitions[p].replicas.size() == 3);
  }
  // The pool now knows the brokers by id: a request to one of them works.
  int32_t leader = md->leader_of("topic-a", 0);
  Slot<Error> s;
  on_loop(nc, [&] {
    nc.send(leader, proto::MetadataRequest{}, [s](const Error& err, proto::MetadataResponse&) { s.set(err); });
  });
  REQUIRE(s.wait());
  CHECK(s.get().ok());
  nc.stop();
}

TEST_CASE("mock metadata: unknown topics are reported as such") {
  // The 2.0.2 mock auto-creates every topic it is asked about, whatever
  // allow_auto_topic_creation says: make it answer UNKNOWN_TOPIC_OR_PARTITION
  // the way a broker with auto-creation off does.
  MockCluster mc(1);
  mc.create_topic("no-such-topic", 2, 1);
  rd_kafka_mock_topic_set_error(mc.get(), "no-such-topic", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  NetOptions o = test_options(mock_servers(mc));
  o.allow_auto_topic_creation = false;
  NetClient nc(o);
  nc.start();
  Error e = wait_topic(nc, "no-such-topic", 600);
  CHECK(e.code() == errc::kUnknownTopicOrPartition);
  CHECK(e.message().find("no-such-topic") != std::string::npos);
  auto md = nc.metadata_snapshot();
  REQUIRE(md->topic("no-such-topic") != nullptr);
  CHECK(md->topic("no-such-topic")->error == errc::kUnknownTopicOrPartition);
  // It appears once it exists.
  rd_kafka_mock_topic_set_error(mc.get(), "no-such-topic", RD_KAFKA_RESP_ERR_NO_ERROR);
  CHECK(wait_topic(nc, "no-such-topic").ok());
  CHECK(nc.metadata_snapshot()->topic("no-such-topic")->partitions.size() == 2);
  nc.stop();
}

TEST_CASE("mock metadata: injected errors make a refresh happen") {
  MockCluster mc(1);
  mc.create_topic("topic-a", 1, 1);
  // A topic being created (LEADER_NOT_AVAILABLE) is asked about again, with
  // backoff, until it is usable.
  rd_kafka_mock_topic_set_error(mc.get(), "topic-a", RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  Slot<Error> ready;
  on_loop(nc, [&] {
    nc.metadata().wait_for_topic("topic-a", after_ms(10000), [ready](const Error& e, const auto&) { ready.set(e); });
  });
  CHECK(eventually([&] { return on_loop(nc, [&] { return nc.metadata().requests_sent(); }) >= 4; }, 5000));
  CHECK_FALSE(ready.wait(0));
  rd_kafka_mock_topic_set_error(mc.get(), "topic-a", RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(ready.wait());
  CHECK(ready.get().ok());

  // An error in another response (here ListOffsets) asks for a refresh.
  rd_kafka_mock_push_request_errors(mc.get(), 2 /* ListOffsets */, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  uint64_t before = on_loop(nc, [&] { return nc.metadata().updates(); });
  Slot<int16_t> code;
  on_loop(nc, [&] {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    proto::ListOffsetsRequest::ListOffsetsTopic t;
    t.name = "topic-a";
    proto::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = 0;
    p.timestamp = -1;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    int32_t leader = nc.metadata().current()->leader_of("topic-a", 0);
    nc.send(leader, req, [&nc, code](const Error& e, proto::ListOffsetsResponse& r) {
      int16_t c = e.ok() && !r.topics.empty() ? r.topics[0].partitions[0].error_code : -2;
      nc.metadata().handle_error(c, "ListOffsets");
      code.set(c);
    });
  });
  REQUIRE(code.wait());
  CHECK(code.get() == errc::kNotLeaderOrFollower);
  CHECK(eventually([&] { return on_loop(nc, [&] { return nc.metadata().updates(); }) > before; }));
  CHECK_FALSE(on_loop(nc, [&] { return nc.metadata().handle_error(errc::kTopicAuthorizationFailed); }));
  nc.stop();
}

TEST_CASE("mock metadata: a leader change is followed") {
  MockCluster mc(3);
  mc.create_topic("topic-a", 2, 3);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  REQUIRE(wait_topic(nc, "topic-a").ok());
  auto md = nc.metadata_snapshot();
  int32_t old_leader = md->leader_of("topic-a", 0);
  int32_t old_epoch = md->partition("topic-a", 0)->leader_epoch;
  int32_t new_leader = old_leader % 3 + 1;
  rd_kafka_mock_partition_set_leader(mc.get(), "topic-a", 0, new_leader);
  on_loop(nc, [&] { nc.metadata().handle_error(errc::kNotLeaderOrFollower, "test"); });
  CHECK(eventually([&] { return nc.metadata_snapshot()->leader_of("topic-a", 0) == new_leader; }));
  CHECK(nc.metadata_snapshot()->partition("topic-a", 0)->leader_epoch >= old_epoch);
  nc.stop();
}

TEST_CASE("mock metadata: bootstrap skips a dead first address") {
  MockCluster mc(1);
  mc.create_topic("topic-a", 1, 1);
  std::vector<io::HostPort> servers{{"127.0.0.1", dead_port()}};
  for (const auto& s : mock_servers(mc)) servers.push_back(s);
  NetClient nc(test_options(servers));
  nc.start();
  Error e = wait_topic(nc, "topic-a");
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  CHECK(on_loop(nc, [&] {
    BrokerConnection* dead = nc.pool().find(-1);
    return dead != nullptr && dead->connect_attempts() >= 1 && !dead->ready();
  }));
  nc.stop();
}

TEST_CASE("mock metadata: periodic refresh every metadata.max.age.ms") {
  MockCluster mc(1);
  NetOptions o = test_options(mock_servers(mc));
  o.metadata_max_age_ms = 150;
  NetClient nc(o);
  nc.start();
  CHECK(eventually([&] { return on_loop(nc, [&] { return nc.metadata().updates(); }) >= 4; }, 5000));
  nc.stop();
}
