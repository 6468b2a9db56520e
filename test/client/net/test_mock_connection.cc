// BrokerConnection / ConnectionPool over real sockets against librdkafka's
// mock cluster: negotiation, timeouts, reconnect backoff, pipelining,
// acks=0, idle close.
#include <doctest/doctest.h>

#include <thread>

#include "net_test_util.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;

namespace {

using MetaReply = Reply<proto::MetadataResponse>;

// Sends an empty Metadata request to `node` and waits for the answer.
std::pair<Error, int16_t> metadata_roundtrip(NetClient& nc, int32_t node, int wait_ms = 15000) {
  Slot<std::pair<Error, int16_t>> s;
  on_loop(nc, [&] {
    nc.send(node, proto::MetadataRequest{}, [s](const Error& e, MetaReply& r) { s.set({e, r.version}); });
  });
  if (!s.wait(wait_ms)) return {Error(errc::kTimedOut, "test wait"), -1};
  return s.get();
}

}  // namespace

TEST_CASE("mock: ApiVersions negotiation picks min(our max, broker max)") {
  MockCluster mc(3);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  const auto roundtrip = metadata_roundtrip(nc, -1);  // no structured binding: clang 14 cannot capture one
  const Error& err = roundtrip.first;
  const int16_t version = roundtrip.second;
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  auto [ready, meta_v, av_v, lo_range] = on_loop(nc, [&] {
    BrokerConnection* c = nc.pool().find(-1);
    return std::make_tuple(c->ready(), c->api_versions().pick(proto::MetadataRequest::kApiKey),
                           c->api_versions_version(), c->api_versions().broker_range(2));
  });
  CHECK(ready);
  // librdkafka 2.0.2's mock speaks ApiVersions v0-v2 and rejects v3 with an
  // empty key list: like the Java client, kfk then falls back to v0.
  CHECK(av_v == 0);
  CHECK(meta_v > 0);
  CHECK(version == meta_v);
  REQUIRE(lo_range.has_value());
  CHECK(lo_range->second == 3);  // ListOffsets capped by the fixture
  nc.stop();
}

TEST_CASE("mock: a broker capping an API is respected") {
  MockCluster mc(1);
  rd_kafka_mock_set_apiversion(mc.get(), 3 /* Metadata */, 0, 4);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  const auto roundtrip = metadata_roundtrip(nc, -1);  // no structured binding: clang 14 cannot capture one
  const Error& err = roundtrip.first;
  const int16_t version = roundtrip.second;
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(version == 4);
  nc.stop();
}

TEST_CASE("mock: a request past request.timeout.ms closes the connection, failing everything in flight") {
  MockCluster mc(1);
  NetOptions o = test_options(mock_servers(mc));
  o.request_timeout_ms = 300;
  NetClient nc(o);
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  rd_kafka_mock_broker_set_rtt(mc.get(), 1, 2000);
  std::vector<Slot<Error>> slots(3);
  auto start = std::chrono::steady_clock::now();
  on_loop(nc, [&] {
    for (auto& s : slots)
      nc.send(-1, proto::MetadataRequest{}, [s](const Error& e, proto::MetadataResponse&) { s.set(e); });
  });
  for (auto& s : slots) REQUIRE(s.wait());
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(took >= 250);
  CHECK(took < 1500);
  CHECK(slots[0].get().code() == errc::kTimedOut);
  CHECK(slots[0].get().retriable());
  CHECK(slots[1].get().code() == errc::kTransport);
  CHECK(slots[2].get().retriable());
  auto state = on_loop(nc, [&] { return nc.pool().find(-1)->state(); });
  CHECK(state != BrokerConnection::State::kReady);
  rd_kafka_mock_broker_set_rtt(mc.get(), 1, 0);
  CHECK(metadata_roundtrip(nc, -1).first.ok());  // reconnects
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->connect_attempts(); }) == 2);
  nc.stop();
}

TEST_CASE("mock: reconnect with exponential backoff while a broker is down") {
  MockCluster mc(1);
  NetOptions o = test_options(mock_servers(mc));
  o.reconnect_backoff_ms = 100;
  o.reconnect_backoff_max_ms = 400;
  o.request_timeout_ms = 2000;
  NetClient nc(o);
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  rd_kafka_mock_broker_set_down(mc.get(), 1);

  // Each request waits for the next attempt and fails with it.
  std::vector<int64_t> failed_at;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) {
    auto [err, v] = metadata_roundtrip(nc, -1, 5000);
    CHECK_FALSE(err.ok());
    CHECK(err.retriable());
    failed_at.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  // Attempts 2.. follow backoffs of ~100, 200, 400, 400 ms (+/-20%).
  CHECK(failed_at[2] - failed_at[1] >= 70);
  CHECK(failed_at[4] - failed_at[3] >= 300);
  CHECK(failed_at[5] - failed_at[4] >= 300);
  CHECK(failed_at[5] - failed_at[4] <= 1000);
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->consecutive_failures(); }) >= 5);

  rd_kafka_mock_broker_set_up(mc.get(), 1);
  bool back = eventually([&] { return metadata_roundtrip(nc, -1, 3000).first.ok(); }, 8000);
  CHECK(back);
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->consecutive_failures(); }) == 0);
  nc.stop();
}

TEST_CASE("mock: 100 pipelined requests complete in order") {
  MockCluster mc(1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  Slot<bool> done;
  auto order = std::make_shared<std::vector<int>>();
  size_t max_in_flight = on_loop(nc, [&] {
    for (int i = 0; i < 100; ++i) {
      nc.send(-1, proto::MetadataRequest{}, [order, i, done](const Error& e, proto::MetadataResponse& r) {
        order->push_back(e.ok() && !r.brokers.empty() ? i : -1);
        if (order->size() == 100) done.set(true);
      });
    }
    return nc.pool().find(-1)->in_flight();
  });
  CHECK(max_in_flight == 100);
  REQUIRE(done.wait());
  for (int i = 0; i < 100; ++i) CHECK((*order)[i] == i);
  nc.stop();
}

TEST_CASE("mock: acks=0 Produce answered anyway: the answers are dropped, the connection stays") {
  // librdkafka's mock answers every Produce, even acks=0 ones, which real
  // Kafka never does. A client must tolerate it (not take the answer for a
  // stream out of sync).
  MockCluster mc(1);
  mc.create_topic("p0", 1, 1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  RequestOptions ro;
  ro.min_version = 3;
  auto written = std::make_shared<std::atomic<int>>(0);
  on_loop(nc, [&] {
    for (int i = 0; i < 50; ++i)
      nc.send(-1, make_produce("p0", 0, 100), [written](const Error& e, proto::ProduceResponse&) {
        if (e.ok()) written->fetch_add(1);
      }, ro);
  });
  REQUIRE(eventually([&] { return written->load() == 50; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the mock's 50 answers arrive meanwhile
  // Still the same connection, and it still pairs answers with requests.
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  auto attempts = on_loop(nc, [&] { return nc.pool().find(-1)->connect_attempts(); });
  CHECK(attempts == 1);
  nc.stop();
}

TEST_CASE("mock: Produce (acks=all) carries a spliced record batch") {
  MockCluster mc(1);
  mc.create_topic("p", 1, 1);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  RequestOptions ro;
  ro.min_version = 3;  // RecordBatch v2
  Slot<std::pair<Error, int16_t>> acked;
  on_loop(nc, [&] {
    nc.send(-1, make_produce("p", -1, 2000), [acked](const Error& e, proto::ProduceResponse& r) {
      int16_t code = -2;
      if (!r.responses.empty() && !r.responses[0].partition_responses.empty())
        code = r.responses[0].partition_responses[0].error_code;
      acked.set({e, code});
    }, ro);
  });
  REQUIRE(acked.wait());
  CHECK_MESSAGE(acked.get().first.ok(), acked.get().first.to_string());
  CHECK(acked.get().second == 0);
  nc.stop();
}

TEST_CASE("mock: idle connections close after connections.max.idle.ms and reopen on demand") {
  MockCluster mc(1);
  NetOptions o = test_options(mock_servers(mc));
  o.connections_max_idle_ms = 200;
  NetClient nc(o);
  nc.start(false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  CHECK(eventually([&] {
    return on_loop(nc, [&] { return nc.pool().find(-1)->state(); }) == BrokerConnection::State::kDisconnected;
  }, 3000));
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->in_backoff(); }) == false);
  REQUIRE(metadata_roundtrip(nc, -1).first.ok());
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->connect_attempts(); }) == 2);
  nc.stop();
}

TEST_CASE("mock: unknown node ids fail at once; stop fails pending work with DESTROYED") {
  MockCluster mc(1);
  rd_kafka_mock_broker_set_rtt(mc.get(), 1, 3000);
  NetClient nc(test_options(mock_servers(mc)));
  nc.start(false);
  Slot<Error> unknown, pending;
  on_loop(nc, [&] {
    nc.send(42, proto::MetadataRequest{}, [unknown](const Error& e, proto::MetadataResponse&) { unknown.set(e); });
    nc.send(-1, proto::MetadataRequest{}, [pending](const Error& e, proto::MetadataResponse&) { pending.set(e); });
  });
  REQUIRE(unknown.wait(1000));
  CHECK(unknown.get().code() == errc::kTransport);
  nc.stop();
  REQUIRE(pending.wait(1000));
  CHECK(pending.get().code() == errc::kDestroyed);
}
