// The network layer against broker-ref (kfk's in-process test broker, which
// speaks the current protocol: ApiVersions v3, flexible Metadata/Produce,
// leader epochs). Nothing in the client may rely on broker-ref's quirks:
// these are the same checks as against any Kafka.
#include <doctest/doctest.h>

#include "kfk-broker-ref/broker_ref.h"
#include "net_test_util.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;

namespace {

std::vector<io::HostPort> servers_of(const kfk::testing::BrokerRef& b) {
  io::HostPort hp;
  REQUIRE(core::parse_host_port(b.bootstrap_servers(), hp));
  return {hp};
}

}  // namespace

TEST_CASE("broker-ref: ApiVersions v3, flexible Metadata, topics with leader epochs") {
  auto broker = start_broker({{"num.partitions", "3"}});
  NetClient nc(test_options(servers_of(*broker)));
  nc.start();
  Slot<Error> s;
  on_loop(nc, [&] {
    nc.metadata().wait_for_topic("auto-created", after_ms(10000), [s](const Error& e, const auto&) { s.set(e); });
  });
  REQUIRE(s.wait());
  REQUIRE_MESSAGE(s.get().ok(), s.get().to_string());
  auto md = nc.metadata_snapshot();
  CHECK(md->brokers().size() == 1);
  CHECK(md->controller_id() == 1);
  const TopicInfo* t = md->topic("auto-created");
  REQUIRE(t != nullptr);
  CHECK(t->partitions.size() == 3);
  CHECK(md->leader_of("auto-created", 0) == 1);
  auto [av, meta] = on_loop(nc, [&] {
    BrokerConnection* c = nc.pool().find(1) ? nc.pool().find(1) : nc.pool().find(-1);
    return std::make_pair(c->api_versions_version(), c->api_versions().pick(proto::MetadataRequest::kApiKey));
  });
  CHECK(av == 3);
  CHECK(meta >= 9);  // flexible
  nc.stop();
}

TEST_CASE("broker-ref: Produce acks=0 gets no answer and acks=all does, on one connection") {
  auto broker = start_broker();
  NetClient nc(test_options(servers_of(*broker)));
  nc.start();
  Slot<Error> s;
  on_loop(nc, [&] {
    nc.metadata().wait_for_topic("p", after_ms(10000), [s](const Error& e, const auto&) { s.set(e); });
  });
  REQUIRE(s.wait());
  REQUIRE(s.get().ok());
  RequestOptions ro;
  ro.min_version = 3;
  Slot<Error> fire, acked;
  Slot<int16_t> code;
  on_loop(nc, [&] {
    nc.send(1, make_produce("p", 0, 1500), [fire](const Error& e, proto::ProduceResponse&) { fire.set(e); }, ro);
    nc.send(1, make_produce("p", -1, 1500), [acked, code](const Error& e, proto::ProduceResponse& r) {
      code.set(r.responses.empty() ? -2 : r.responses[0].partition_responses[0].error_code);
      acked.set(e);
    }, ro);
  });
  REQUIRE(fire.wait());
  CHECK(fire.get().ok());
  REQUIRE(acked.wait());
  CHECK_MESSAGE(acked.get().ok(), acked.get().to_string());
  CHECK(code.get() == 0);
  CHECK(on_loop(nc, [&] { return nc.pool().find(1)->connect_attempts(); }) == 1);
  nc.stop();
}
