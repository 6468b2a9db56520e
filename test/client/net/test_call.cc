// net::Call and the CoordinatorCache against librdkafka's mock cluster:
// retries with backoff until success, max retries, the deadline, routing to
// a partition's new leader after a metadata refresh, coordinator rediscovery
// after NOT_COORDINATOR, the owner going away mid-call, the client stopping,
// and one FindCoordinator shared by the users of a group.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "client/consumer/offset_requests.h"
#include "client/net/call.h"
#include "net_test_util.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;

namespace {

using InitCall = Call<proto::InitProducerIdRequest>;
using InitReply = Reply<proto::InitProducerIdResponse>;

struct Done {
  Error err;
  int32_t node = -1;
};

proto::InitProducerIdRequest init_request(int32_t, const ClusterMetadata*) {
  proto::InitProducerIdRequest r;
  r.transactional_id = std::nullopt;
  r.transaction_timeout_ms = 60000;
  return r;
}

// Starts an InitProducerId call to any broker; counts the attempts' answers.
void start_init(NetClient& nc, const std::shared_ptr<io::Lifetime>& owner, TimePoint deadline, int64_t max_retries,
                std::shared_ptr<std::atomic<int>> answers, Slot<Done> done) {
  on_loop(nc, [&] {
    CallSpec spec;
    spec.name = "InitProducerId";
    spec.route = Route::any_node();
    spec.deadline = deadline;
    spec.max_retries = max_retries;
    spec.owner = owner->weak();
    InitCall::start(
        nc, std::move(spec), init_request,
        [answers](const Error& err, InitReply& r) -> Outcome {
          answers->fetch_add(1);
          return {err.ok() ? Error::from_code(r.msg.error_code) : err};
        },
        [done](const Error& err, InitReply& r) { done.set(Done{err, r.node_id}); });
  });
}

void wait_metadata(NetClient& nc, const std::string& topic) {
  Slot<Error> s;
  on_loop(nc, [&] {
    nc.metadata().wait_for_topic(topic, after_ms(10000), [s](const Error& e, const auto&) { s.set(e); });
  });
  REQUIRE(s.wait());
  REQUIRE_MESSAGE(s.get().ok(), s.get().to_string());
}

int16_t offset_fetch_code(const Reply<proto::OffsetFetchResponse>& r) {
  if (r.version >= 8) return r.msg.groups.empty() ? int16_t{0} : r.msg.groups[0].error_code;
  return r.msg.error_code;
}

// An OffsetFetch call for partition t-0 of `group`, routed to its coordinator.
void start_offset_fetch(NetClient& nc, const std::shared_ptr<io::Lifetime>& owner, const std::string& group, Slot<Done> done) {
  on_loop(nc, [&] {
    CallSpec spec;
    spec.name = "OffsetFetch";
    spec.route = Route::coordinator_of({CoordinatorType::kGroup, group});
    spec.deadline = after_ms(10000);
    spec.owner = owner->weak();
    std::vector<TopicPartition> parts{TopicPartition("t", 0)};
    Call<proto::OffsetFetchRequest>::start(
        nc, std::move(spec),
        [group, parts](int32_t, const ClusterMetadata*) { return consumer::offset_fetch_request(group, &parts, false); },
        [](const Error& err, Reply<proto::OffsetFetchResponse>& r) -> Outcome {
          return {err.ok() ? Error::from_code(offset_fetch_code(r)) : err};
        },
        [done](const Error& err, Reply<proto::OffsetFetchResponse>& r) { done.set(Done{err, r.node_id}); });
  });
}

}  // namespace

TEST_CASE("Call: retriable answers are retried after the backoff until one succeeds") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  rd_kafka_mock_push_request_errors(mc.get(), 22 /* InitProducerId */, 3, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, after_ms(20000), INT64_MAX, answers, done);
  REQUIRE(done.wait());
  CHECK_MESSAGE(done.get().err.ok(), done.get().err.to_string());
  CHECK(answers->load() == 4);
  CHECK(on_loop(nc, [&] { return nc.calls().size(); }) == 0);
  nc.stop();
}

TEST_CASE("Retrier: waits retry.backoff.ms doubling up to retry.backoff.max.ms, each within the 20% jitter") {
  MockCluster mc(1);
  NetOptions o = test_options(mock_servers(mc));
  o.retry_backoff_ms = 10;
  o.retry_backoff_max_ms = 40;
  NetClient nc(o);
  nc.start();
  constexpr int kRetries = 8;
  std::unique_ptr<Retrier> r;
  std::vector<int64_t> waits;
  Slot<Error> over;
  on_loop(nc, [&] {
    r = std::make_unique<Retrier>(nc, "Test", after_ms(60000));
    r->start(
        [&] {
          if (r->attempts() > 0) waits.push_back(r->last_wait_ms());
          if (r->attempts() == kRetries) {
            r->stop();
            return over.set(Error());
          }
          r->retry(Error::from_code(errc::kCoordinatorLoadInProgress, "test"));
        },
        [&](const Error& e) { over.set(e); });
  });
  REQUIRE(over.wait());
  CHECK_MESSAGE(over.get().ok(), over.get().to_string());
  REQUIRE(waits.size() == kRetries);
  bool all_equal = true;
  for (size_t n = 0; n < waits.size(); ++n) {
    const double term = std::min(10.0 * double(1u << n), 40.0);  // 10, 20, 40, 40, ...
    CHECK_MESSAGE(waits[n] >= int64_t(0.8 * term) - 1, "retry ", n, ": ", waits[n]);
    CHECK_MESSAGE(waits[n] <= int64_t(1.2 * term), "retry ", n, ": ", waits[n]);
    if (n >= 2 && waits[n] != waits[2]) all_equal = false;
  }
  // Jitter: six draws around the 40 ms cap are not all the same.
  CHECK_FALSE(all_equal);
  on_loop(nc, [&] { r.reset(); });
  nc.stop();
}

TEST_CASE("Call: after max_retries the last error ends the call") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  rd_kafka_mock_push_request_errors(mc.get(), 22, 4, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, after_ms(20000), 2, answers, done);
  REQUIRE(done.wait());
  CHECK(done.get().err.code() == errc::kNotEnoughReplicas);
  CHECK(answers->load() == 3);
  nc.stop();
}

TEST_CASE("Call: a non-retriable answer ends the call at once") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  rd_kafka_mock_push_request_errors(mc.get(), 22, 1, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, after_ms(20000), INT64_MAX, answers, done);
  REQUIRE(done.wait());
  CHECK(done.get().err.code() == errc::kClusterAuthorizationFailed);
  CHECK(answers->load() == 1);
  nc.stop();
}

TEST_CASE("Call: at the deadline the call ends with a timeout naming the last error") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  std::vector<rd_kafka_resp_err_t> errs(200, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  rd_kafka_mock_push_request_errors_array(mc.get(), 22, errs.size(), errs.data());
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, after_ms(400), INT64_MAX, answers, done);
  REQUIRE(done.wait());
  const Error& e = done.get().err;
  CHECK(e.code() == errc::kTimedOut);
  CHECK(e.retriable());
  CHECK_MESSAGE(e.message().find("InitProducerId did not complete within the timeout") != std::string::npos, e.message());
  CHECK_MESSAGE(e.message().find("COORDINATOR_LOAD_IN_PROGRESS") != std::string::npos, e.message());
  CHECK(answers->load() >= 2);
  nc.stop();
}

TEST_CASE("Call: a leader route follows the partition's new leader after a metadata refresh") {
  MockCluster mc(3);
  mc.create_topic("t", 1, 3);
  rd_kafka_mock_partition_set_leader(mc.get(), "t", 0, 1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  wait_metadata(nc, "t");
  REQUIRE(nc.metadata_snapshot()->leader_of("t", 0) == 1);
  // The client's metadata still names broker 1; the first answer says it
  // no longer leads.
  rd_kafka_mock_partition_set_leader(mc.get(), "t", 0, 2);
  rd_kafka_mock_push_request_errors(mc.get(), 2 /* ListOffsets */, 1, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  const uint64_t refreshes = on_loop(nc, [&] { return nc.metadata().requests_sent(); });
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  on_loop(nc, [&] {
    CallSpec spec;
    spec.name = "ListOffsets";
    spec.route = Route::leader("t", 0);
    spec.deadline = after_ms(10000);
    spec.owner = owner->weak();
    Call<proto::ListOffsetsRequest>::start(
        nc, std::move(spec),
        [](int32_t, const ClusterMetadata* md) {
          return consumer::list_offsets_request({{TopicPartition("t", 0), -1}}, 0, 5000, md);
        },
        [answers](const Error& err, Reply<proto::ListOffsetsResponse>& r) -> Outcome {
          answers->fetch_add(1);
          if (!err.ok()) return {err};
          if (r.msg.topics.empty() || r.msg.topics[0].partitions.empty())
            return {Error::from_code(errc::kMalformedResponse, "no partition")};
          return {Error::from_code(r.msg.topics[0].partitions[0].error_code)};
        },
        [done](const Error& err, Reply<proto::ListOffsetsResponse>& r) { done.set(Done{err, r.node_id}); });
  });
  REQUIRE(done.wait());
  CHECK_MESSAGE(done.get().err.ok(), done.get().err.to_string());
  CHECK(done.get().node == 2);
  CHECK(answers->load() >= 2);
  CHECK(on_loop(nc, [&] { return nc.metadata().requests_sent(); }) > refreshes);
  nc.stop();
}

TEST_CASE("Call: NOT_COORDINATOR makes a coordinator route find the coordinator again") {
  MockCluster mc(3);
  mc.create_topic("t", 1, 3);
  rd_kafka_mock_coordinator_set(mc.get(), "group", "g", 1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  wait_metadata(nc, "t");
  auto owner = std::make_shared<io::Lifetime>();
  Slot<Done> first;
  start_offset_fetch(nc, owner, "g", first);
  REQUIRE(first.wait());
  REQUIRE_MESSAGE(first.get().err.ok(), first.get().err.to_string());
  CHECK(first.get().node == 1);
  const CoordinatorKey key{CoordinatorType::kGroup, "g"};
  CHECK(on_loop(nc, [&] { return nc.coordinators().cached(key); }) == 1);
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) == 1);

  // The group moves to broker 2; broker 1 says so.
  rd_kafka_mock_coordinator_set(mc.get(), "group", "g", 2);
  rd_kafka_mock_push_request_errors(mc.get(), 9 /* OffsetFetch */, 1, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
  Slot<Done> second;
  start_offset_fetch(nc, owner, "g", second);
  REQUIRE(second.wait());
  CHECK_MESSAGE(second.get().err.ok(), second.get().err.to_string());
  CHECK(second.get().node == 2);
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) >= 2);
  CHECK(on_loop(nc, [&] { return nc.coordinators().cached(key); }) == 2);
  nc.stop();
}

TEST_CASE("Call: once its owner is gone a call ends without calling back") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  std::vector<rd_kafka_resp_err_t> errs(500, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  rd_kafka_mock_push_request_errors_array(mc.get(), 22, errs.size(), errs.data());
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, kNever, INT64_MAX, answers, done);
  REQUIRE(eventually([&] { return answers->load() >= 2; }));
  REQUIRE(on_loop(nc, [&] { return nc.calls().size(); }) == 1);
  on_loop(nc, [&] { owner.reset(); });  // the owner dies on the loop thread, mid-call
  CHECK(eventually([&] { return on_loop(nc, [&] { return nc.calls().size(); }) == 0; }));
  const int seen = answers->load();
  CHECK_FALSE(done.wait(200));
  CHECK(answers->load() <= seen + 1);  // at most the answer in flight was read
  nc.stop();
}

TEST_CASE("Call: stopping the client ends running calls with kDestroyed") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  std::vector<rd_kafka_resp_err_t> errs(500, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  rd_kafka_mock_push_request_errors_array(mc.get(), 22, errs.size(), errs.data());
  auto owner = std::make_shared<io::Lifetime>();
  auto answers = std::make_shared<std::atomic<int>>(0);
  Slot<Done> done;
  start_init(nc, owner, kNever, INT64_MAX, answers, done);
  REQUIRE(eventually([&] { return answers->load() >= 1; }));
  nc.stop();
  REQUIRE(done.wait());
  CHECK(done.get().err.code() == errc::kDestroyed);
}

TEST_CASE("CoordinatorCache: one FindCoordinator for two users of a group; invalidation") {
  MockCluster mc(3);
  mc.create_topic("t", 1, 3);
  rd_kafka_mock_coordinator_set(mc.get(), "group", "shared", 3);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start();
  wait_metadata(nc, "t");
  const CoordinatorKey key{CoordinatorType::kGroup, "shared"};
  Slot<Done> a, b;
  on_loop(nc, [&] {
    // Two users asking in the same loop turn share one request.
    nc.coordinators().lookup(key, after_ms(5000), [a](const Error& e, int32_t n) { a.set(Done{e, n}); });
    nc.coordinators().lookup(key, after_ms(5000), [b](const Error& e, int32_t n) { b.set(Done{e, n}); });
  });
  REQUIRE(a.wait());
  REQUIRE(b.wait());
  CHECK(a.get().err.ok());
  CHECK(a.get().node == 3);
  CHECK(b.get().node == 3);
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) == 1);

  // Cached: answered at once, no request.
  CHECK(on_loop(nc, [&] {
          int32_t got = -1;
          nc.coordinators().lookup(key, after_ms(5000), [&got](const Error&, int32_t n) { got = n; });
          return got;
        }) == 3);
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) == 1);

  // A stale failure (another node) keeps the entry; one from the
  // coordinator drops it, and the next user looks it up again.
  on_loop(nc, [&] { nc.coordinators().invalidate(key, 1); });
  CHECK(on_loop(nc, [&] { return nc.coordinators().cached(key); }) == 3);
  on_loop(nc, [&] { nc.coordinators().invalidate(key, 3); });
  CHECK(on_loop(nc, [&] { return nc.coordinators().cached(key); }) == -1);
  Slot<Done> c;
  on_loop(nc, [&] { nc.coordinators().lookup(key, after_ms(5000), [c](const Error& e, int32_t n) { c.set(Done{e, n}); }); });
  REQUIRE(c.wait());
  CHECK(c.get().node == 3);
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) == 2);

  // Another group is another key: its own request.
  Slot<Done> d;
  on_loop(nc, [&] {
    nc.coordinators().lookup({CoordinatorType::kGroup, "other"}, after_ms(5000),
                             [d](const Error& e, int32_t n) { d.set(Done{e, n}); });
  });
  REQUIRE(d.wait());
  CHECK(d.get().err.ok());
  CHECK(on_loop(nc, [&] { return nc.coordinators().requests_sent(); }) == 3);
  nc.stop();
}
