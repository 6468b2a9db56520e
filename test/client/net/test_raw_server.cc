// The connection against a scripted raw TCP server: Kafka's ApiVersions
// fallback for old brokers, local NO_COMMON_API_VERSION, malformed responses,
// setup timeouts, and random garbage (never a crash).
#include <doctest/doctest.h>

#include <random>

#include "net_test_util.h"
#include "protocol/frame.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;

namespace {

std::vector<uint8_t> framed(std::vector<uint8_t> body) {
  uint32_t n = static_cast<uint32_t>(body.size());
  std::vector<uint8_t> out(4 + body.size());
  out[0] = static_cast<uint8_t>(n >> 24);
  out[1] = static_cast<uint8_t>(n >> 16);
  out[2] = static_cast<uint8_t>(n >> 8);
  out[3] = static_cast<uint8_t>(n);
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

std::vector<uint8_t> be32(int32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

// Sends `n` Metadata requests to the bootstrap node and waits for them all.
std::vector<Error> send_metadata(NetClient& nc, int n, RequestOptions ro = {}, int wait_ms = 10000) {
  std::vector<Slot<Error>> slots(n);
  on_loop(nc, [&] {
    for (auto& s : slots)
      nc.send(-1, proto::MetadataRequest{}, [s](const Error& e, proto::MetadataResponse&) { s.set(e); }, ro);
  });
  std::vector<Error> out;
  for (auto& s : slots) out.push_back(s.wait(wait_ms) ? s.get() : Error(-999, "no callback"));
  return out;
}

}  // namespace

TEST_CASE("raw: an old broker answers ApiVersions v3 with UNSUPPORTED_VERSION in v0; the client retries lower") {
  std::vector<int16_t> tried;
  RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
    auto [key, version] = api_of(req);
    if (key == 18) {
      tried.push_back(version);
      if (version > 2) {  // as Kafka 2.0-2.3: error + its ranges, v0 layout
        proto::ApiVersionsResponse r;
        r.error_code = errc::kUnsupportedVersion;
        r.api_keys.push_back({18, 0, 2, {}});
        proto::Writer w;
        size_t at = proto::begin_response(w, 18, 0, correlation_id(req));
        r.encode(w, 0);
        proto::finish_frame(w, at);
        return w.flatten();
      }
      return api_versions_answer(req, {{18, 0, 2}, {3, 0, 7}});
    }
    proto::MetadataResponse m;
    proto::Writer w;
    proto::encode_response_frame(w, m, version, correlation_id(req));
    return w.flatten();
  });
  NetClient nc(test_options({srv.address()}));
  nc.start(false);
  auto errs = send_metadata(nc, 1);
  CHECK_MESSAGE(errs[0].ok(), errs[0].to_string());
  CHECK(tried == std::vector<int16_t>{3, 2});
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->api_versions().pick(3); }) == 7);
  nc.stop();
}

TEST_CASE("raw: Produce with acks=0 completes once written; the connection stays usable") {
  std::atomic<int> produce_acks0{0};
  std::atomic<size_t> produce_bytes{0};
  RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
    auto [key, version] = api_of(req);
    if (key == 18) return api_versions_answer(req);
    proto::Reader r(req.data(), req.size());
    proto::ParsedRequestHeader h;
    proto::parse_request_header(r, h);
    if (key == 0) {
      proto::ProduceRequest p;
      p.decode(r, version);
      if (r.ok() && p.acks == 0) {
        ++produce_acks0;
        produce_bytes = p.topic_data[0].partition_data[0].records.size();
        return {};  // as Kafka: no response at all
      }
    }
    proto::MetadataResponse m;
    proto::Writer w;
    proto::encode_response_frame(w, m, version, h.header.correlation_id);
    return w.flatten();
  });
  NetClient nc(test_options({srv.address()}));
  nc.start(false);
  RequestOptions ro;
  ro.min_version = 3;
  Slot<std::pair<Error, bool>> none;
  on_loop(nc, [&] {
    nc.send(-1, make_produce("p", 0, 3000), [none](const Error& e, Reply<proto::ProduceResponse>& r) {
      none.set({e, r.frame == nullptr});
    }, ro);
  });
  REQUIRE(none.wait());
  CHECK(none.get().first.ok());
  CHECK(none.get().second);
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->in_flight(); }) == 0);
  auto errs = send_metadata(nc, 1);  // same connection, next correlation id
  CHECK(errs[0].ok());
  CHECK(produce_acks0 == 1);
  CHECK(produce_bytes > 3000);
  CHECK(on_loop(nc, [&] { return nc.pool().find(-1)->connect_attempts(); }) == 1);
  nc.stop();
}

TEST_CASE("raw: no common version fails the request locally with NO_COMMON_API_VERSION") {
  int metadata_requests = 0;
  RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
    if (api_of(req).first == 18) return api_versions_answer(req, {{3, 0, 3}});
    ++metadata_requests;
    return {};
  });
  NetClient nc(test_options({srv.address()}));
  nc.start(false);
  RequestOptions ro;
  ro.min_version = 4;
  auto errs = send_metadata(nc, 1, ro);
  CHECK(errs[0].code() == errc::kNoCommonApiVersion);
  CHECK(std::string(errs[0].name()) == "NO_COMMON_API_VERSION");
  CHECK_FALSE(errs[0].retriable());
  // The API, the broker's range and kfk's.
  CHECK_MESSAGE(errs[0].message().find("Metadata v0-3") != std::string::npos, errs[0].to_string());
  CHECK_MESSAGE(errs[0].message().find("kfk needs v4-") != std::string::npos, errs[0].to_string());
  CHECK(metadata_requests == 0);
  nc.stop();
}

TEST_CASE("raw: malformed responses close the connection and fail requests, without crashing") {
  struct Case {
    const char* name;
    std::function<std::vector<uint8_t>(const std::vector<uint8_t>&)> answer;  // for the first Metadata request
    int expect_first;
  };
  std::vector<Case> cases = {
      {"unknown correlation id", [](const auto& req) { return framed(be32(correlation_id(req) + 1000)); },
       errc::kMalformedResponse},
      {"truncated body",
       [](const auto& req) {
         auto b = be32(correlation_id(req));
         b.insert(b.end(), {0, 0, 0, 0, 0, 0, 0, 9});  // throttle + a broker count with nothing after
         return framed(b);
       },
       errc::kMalformedResponse},
      {"negative size", [](const auto&) { return std::vector<uint8_t>{0xff, 0xff, 0xff, 0xfe, 1, 2, 3}; },
       errc::kMalformedResponse},
      {"size too small", [](const auto&) { return std::vector<uint8_t>{0, 0, 0, 2, 1, 2}; },
       errc::kMalformedResponse},
      {"closed mid-frame", [](const auto&) { return RawServer::close_marker(); }, errc::kTransport},
  };
  for (const auto& c : cases) {
    std::string name = c.name;
    CAPTURE(name);
    bool answered = false;
    RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
      if (api_of(req).first == 18) return api_versions_answer(req);
      if (answered) return {};  // later requests: hold them
      answered = true;
      return c.answer(req);
    });
    NetOptions o = test_options({srv.address()});
    o.max_response_bytes = 1 << 20;
    NetClient nc(o);
    nc.start(false);
    auto errs = send_metadata(nc, 3);
    CHECK(errs[0].code() == c.expect_first);
    CHECK(errs[1].code() != 0);
    CHECK(errs[2].code() != 0);
    CHECK(errs[1].retriable());  // innocent bystanders may be retried
    auto state = on_loop(nc, [&] { return nc.pool().find(-1)->state(); });
    CHECK(state == BrokerConnection::State::kDisconnected);
    nc.stop();
  }
}

TEST_CASE("raw: a response larger than the limit closes the connection") {
  RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
    if (api_of(req).first == 18) return api_versions_answer(req);
    return be32(64 << 20);  // announces 64 MiB
  });
  NetOptions o = test_options({srv.address()});
  o.max_response_bytes = 1 << 20;
  NetClient nc(o);
  nc.start(false);
  auto errs = send_metadata(nc, 1);
  CHECK(errs[0].code() == errc::kMalformedResponse);
  CHECK(errs[0].message().find("invalid response size") != std::string::npos);
  nc.stop();
}

TEST_CASE("raw: a silent peer hits the connection setup timeout, which grows per failure") {
  RawServer srv([&](const std::vector<uint8_t>&, int) -> std::vector<uint8_t> { return {}; });
  NetOptions o = test_options({srv.address()});
  o.connection_setup_timeout_ms = 150;
  o.connection_setup_timeout_max_ms = 1000;
  o.reconnect_backoff_ms = 10;
  NetClient nc(o);
  nc.start(false);
  auto t0 = std::chrono::steady_clock::now();
  auto errs = send_metadata(nc, 1);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(errs[0].code() == errc::kTransport);
  CHECK(errs[0].message().find("setup timed out") != std::string::npos);
  CHECK(took >= 100);
  CHECK(took < 1000);
  send_metadata(nc, 1);
  int64_t second = on_loop(nc, [&] { return nc.pool().find(-1)->current_setup_timeout_ms(); });
  CHECK(second >= 240);  // 300 ms +/-20%
  nc.stop();
}

TEST_CASE("raw: random garbage never crashes the client") {
  std::mt19937 rng(12345);
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    std::vector<uint8_t> garbage(rng() % 64);
    for (auto& b : garbage) b = static_cast<uint8_t>(rng());
    bool frame_it = round % 2 == 0;
    bool keep_cid = round % 4 == 0;
    RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
      bool handshake = api_of(req).first == 18;
      if (handshake && round % 3 != 0) return api_versions_answer(req);
      std::vector<uint8_t> body = garbage;
      if (keep_cid) {
        auto cid = be32(correlation_id(req));
        body.insert(body.begin(), cid.begin(), cid.end());
      }
      return frame_it ? framed(body) : body;
    });
    NetOptions o = test_options({srv.address()});
    o.request_timeout_ms = 300;
    o.connection_setup_timeout_ms = 300;
    NetClient nc(o);
    nc.start(false);
    auto errs = send_metadata(nc, 2, {}, 5000);
    for (const auto& e : errs) CHECK(e.code() != -999);  // every callback ran
    nc.stop();
  }
}

TEST_CASE("raw: writing to a peer that closed gives errors, not SIGPIPE") {
  RawServer srv([&](const std::vector<uint8_t>& req, int) -> std::vector<uint8_t> {
    if (api_of(req).first == 18) return api_versions_answer(req);
    return RawServer::close_marker();
  });
  NetClient nc(test_options({srv.address()}));
  nc.start(false);
  REQUIRE(send_metadata(nc, 1)[0].code() == errc::kTransport);  // connected, then closed
  RequestOptions ro;
  ro.min_version = 3;
  std::vector<Slot<Error>> slots(20);
  on_loop(nc, [&] {
    for (auto& s : slots)
      nc.send(-1, make_produce("p", -1, 200000), [s](const Error& e, proto::ProduceResponse&) { s.set(e); }, ro);
  });
  for (auto& s : slots) {
    REQUIRE(s.wait());
    CHECK(s.get().code() == errc::kTransport);
  }
  nc.stop();
}
