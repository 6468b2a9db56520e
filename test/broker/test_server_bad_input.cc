// broker-ref server: bad input closes only the offending connection (or
// is answered with an error); other clients keep working.
#include <cstdlib>
#include <random>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

std::vector<uint8_t> size_prefixed(const std::vector<uint8_t>& body) {
  proto::Writer w;
  w.i32(static_cast<int32_t>(body.size()));
  w.raw(body.data(), body.size());
  return w.take();
}

std::vector<uint8_t> be32(int32_t v) {
  uint32_t n = static_cast<uint32_t>(v);
  return {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
}

// A request header (v1 layout) followed by `body`.
std::vector<uint8_t> raw_request(int16_t key, int16_t version, const std::vector<uint8_t>& body) {
  proto::Writer w;
  w.i16(key);
  w.i16(version);
  w.i32(42);
  w.nullable_string(std::string("bad-client"), false);
  if (version >= 0 && proto::request_header_version(key, version) == 2) w.uvarint(0);
  w.raw(body.data(), body.size());
  return size_prefixed(w.flatten());
}

void check_healthy(int port) {
  RawConn good(port);
  CHECK(good.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 2).error_code == 0);
  ensure_topic(good, "healthy");
  produce_ok(good, "healthy", 0, simple_batch(1));
}

}  // namespace

TEST_CASE("server: bad frames close only their connection") {
  auto broker = start_broker({{"socket.request.max.bytes", "1048576"}});
  const int port = broker->port();
  RawConn bystander(port);  // opened before, used after
  ensure_topic(bystander, "healthy");

  SUBCASE("negative size") {
    RawConn c(port);
    c.send_bytes(be32(-1));
    CHECK(c.wait_closed());
  }
  SUBCASE("zero size") {
    RawConn c(port);
    c.send_bytes(be32(0));
    CHECK(c.wait_closed());
  }
  SUBCASE("oversize size prefix") {
    RawConn c(port);
    c.send_bytes(be32(200 << 20));
    CHECK(c.wait_closed());
  }
  SUBCASE("truncated frame, then the client goes away") {
    RawConn c(port);
    auto f = RawConn::frame(metadata_request({"x"}), 9, 1);
    c.send_bytes(f.data(), f.size() - 5);
    ::shutdown(c.fd(), SHUT_WR);
    CHECK(c.wait_closed());
  }
  SUBCASE("truncated header") {
    RawConn c(port);
    c.send_bytes(size_prefixed({0, 3}));
    CHECK(c.wait_closed());
  }
  SUBCASE("unknown API key") {
    RawConn c(port);
    c.send_bytes(raw_request(999, 0, {}));
    CHECK(c.wait_closed());
  }
  SUBCASE("unsupported version") {
    RawConn c(port);
    c.send_bytes(raw_request(0, 42, {}));
    CHECK(c.wait_closed());
  }
  SUBCASE("negative version") {
    RawConn c(port);
    c.send_bytes(raw_request(3, -1, {}));
    CHECK(c.wait_closed());
  }
  SUBCASE("malformed body") {
    RawConn c(port);
    c.send_bytes(raw_request(3, 9, {0x7f, 0xff, 0xff, 0xff, 0x0f}));
    CHECK(c.wait_closed());
  }
  SUBCASE("trailing bytes after the body are ignored") {
    RawConn c(port);
    auto f = RawConn::frame(proto::ApiVersionsRequest{}, 2, 9);
    f.insert(f.end(), {1, 2, 3});
    uint32_t n = static_cast<uint32_t>(f.size() - 4);
    f[0] = uint8_t(n >> 24);
    f[1] = uint8_t(n >> 16);
    f[2] = uint8_t(n >> 8);
    f[3] = uint8_t(n);
    c.send_bytes(f);
    CHECK(c.recv<proto::ApiVersionsResponse>(2, 9).error_code == 0);
  }
  SUBCASE("random bytes") {
    std::mt19937 rng(1234);
    for (int round = 0; round < 30; ++round) {
      RawConn c(port);
      std::vector<uint8_t> junk(1 + rng() % 300);
      for (auto& b : junk) b = static_cast<uint8_t>(rng());
      if (round % 2 == 0) junk = size_prefixed(junk);  // a plausible frame of junk
      c.send_bytes(junk);
      ::shutdown(c.fd(), SHUT_WR);
      CHECK(c.wait_closed());
    }
  }
  SUBCASE("random mutations of valid requests") {
    // KFK_SERVER_FUZZ_ROUNDS=N runs longer (e.g. under sanitizers).
    const char* env = std::getenv("KFK_SERVER_FUZZ_ROUNDS");
    const int rounds = env ? std::atoi(env) : 300;
    std::mt19937 rng(99);
    auto batch = simple_batch(3);
    auto zbatch = simple_batch(3, "z", 1000, {-1, -1, -1, false, proto::Compression::kLz4});
    auto fetch_session = fetch_request("healthy", 0, 0);
    fetch_session.session_epoch = 0;
    proto::ListOffsetsRequest lo;
    lo.topics.resize(1);
    lo.topics[0].name = "healthy";
    lo.topics[0].partitions.resize(1);
    lo.topics[0].partitions[0].timestamp = 1000;
    proto::DescribeConfigsRequest dc;
    dc.resources.resize(2);
    dc.resources[0].resource_type = 2;
    dc.resources[0].resource_name = "healthy";
    dc.resources[1].resource_type = 4;
    dc.include_synonyms = true;
    proto::IncrementalAlterConfigsRequest iac;
    iac.resources.resize(1);
    iac.resources[0].resource_type = 2;
    iac.resources[0].resource_name = "fuzz-cfg";
    iac.resources[0].configs.resize(1);
    iac.resources[0].configs[0].name = "cleanup.policy";
    iac.resources[0].configs[0].config_operation = 2;
    iac.resources[0].configs[0].value = "compact";
    proto::OffsetForLeaderEpochRequest ofle;
    ofle.topics.resize(1);
    ofle.topics[0].topic = "healthy";
    ofle.topics[0].partitions.resize(1);
    proto::DeleteRecordsRequest dr;
    dr.topics.resize(1);
    dr.topics[0].name = "fuzz-del";
    dr.topics[0].partitions.resize(1);
    proto::InitProducerIdRequest ip;
    ip.transactional_id = std::nullopt;
    std::vector<std::vector<uint8_t>> seeds = {
        RawConn::frame(produce_request("healthy", 0, batch), 9, 1),
        RawConn::frame(produce_request("healthy", 0, zbatch), 3, 1),
        RawConn::frame(produce_request("healthy", 0, batch), 11, 1),
        RawConn::frame(fetch_request("healthy", 0, 0), 12, 1),
        RawConn::frame(fetch_request("healthy", 0, 0), 4, 1),
        RawConn::frame(fetch_session, 17, 1),
        RawConn::frame(metadata_request({"healthy"}), 12, 1),
        RawConn::frame(metadata_request({"healthy"}), 0, 1),
        RawConn::frame(proto::ApiVersionsRequest{}, 3, 1),
        RawConn::frame(lo, 7, 1),
        RawConn::frame(lo, 0, 1),
        RawConn::frame(dc, 4, 1),
        RawConn::frame(iac, 1, 1),
        RawConn::frame(ofle, 4, 1),
        RawConn::frame(dr, 2, 1),
        RawConn::frame(ip, 4, 1),
        RawConn::frame(proto::DescribeClusterRequest{}, 1, 1),
    };
    for (int round = 0; round < rounds; ++round) {
      auto f = seeds[rng() % seeds.size()];
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) f[4 + rng() % (f.size() - 4)] = static_cast<uint8_t>(rng());
      RawConn c(port);
      c.send_bytes(f);
      ::shutdown(c.fd(), SHUT_WR);
      // Whatever the broker makes of it, it answers or closes; never dies.
      CHECK(c.wait_closed(5000));
    }
  }

  CHECK(bystander.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 2).error_code == 0);
  produce_ok(bystander, "healthy", 0, simple_batch(2));
  check_healthy(port);
}

TEST_CASE("server: a corrupt batch is refused and nothing of it is written") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "crc");
  auto good = simple_batch(2);
  auto bad = simple_batch(5);
  bad[bad.size() / 2] ^= 0xff;
  auto r = c.call<proto::ProduceResponse>(produce_request("crc", 0, bad), 9);
  CHECK(r.responses[0].partition_responses[0].error_code == 2);
  CHECK(produce_ok(c, "crc", 0, good) == 0);
  // Truncated batch bytes.
  std::vector<uint8_t> cut(good.begin(), good.end() - 3);
  r = c.call<proto::ProduceResponse>(produce_request("crc", 0, cut), 9);
  CHECK(r.responses[0].partition_responses[0].error_code == 2);
  auto f = c.call<proto::FetchResponse>(fetch_request("crc", 0, 0), 12);
  CHECK(f.responses[0].partitions[0].high_watermark == 2);
  check_healthy(broker->port());
}
