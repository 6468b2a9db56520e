// kfk::Admin against a scripted broker (RawServer from the network tests):
// exact control over what the "controller" answers, for the retry paths
// librdkafka's mock cannot drive (its 2.0.2 lacks CreateTopics).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "../net/net_test_util.h"
#include "admin_test_util.h"
#include "protocol/frame.h"

using namespace kfk;
using namespace kfk::admin_testing;
using namespace kfk::net::testing;
using namespace std::chrono_literals;

namespace {

// Answers ApiVersions, Metadata (no brokers, no controller: every request
// then goes to the bootstrap connection) and CreateTopics, whose first
// `not_controller` answers say NOT_CONTROLLER for every topic.
struct ScriptedController {
  explicit ScriptedController(int not_controller)
      : remaining_refusals(not_controller), server([this](const std::vector<uint8_t>& req, int) { return answer(req); }) {}

  std::vector<uint8_t> answer(const std::vector<uint8_t>& req) {
    auto [key, version] = api_of(req);
    proto::Reader r(req.data(), req.size());
    proto::ParsedRequestHeader h;
    proto::parse_request_header(r, h);
    proto::Writer w;
    if (key == proto::ApiVersionsRequest::kApiKey) return api_versions_answer(req);
    if (key == proto::MetadataRequest::kApiKey) {
      proto::MetadataResponse m;
      m.cluster_id = "scripted";
      m.controller_id = -1;
      proto::encode_response_frame(w, m, version, h.header.correlation_id);
      return w.flatten();
    }
    if (key == proto::CreateTopicsRequest::kApiKey) {
      proto::CreateTopicsRequest ct;
      ct.decode(r, version);
      proto::CreateTopicsResponse resp;
      bool refuse = remaining_refusals.fetch_sub(1) > 0;
      for (const auto& t : ct.topics) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(t.name);
        proto::CreateTopicsResponse::CreatableTopicResult tr;
        tr.name = t.name;
        tr.error_code = refuse ? 41 /* NOT_CONTROLLER */ : (t.name == "exists" ? 36 /* TOPIC_ALREADY_EXISTS */ : 0);
        tr.num_partitions = t.num_partitions;
        tr.replication_factor = t.replication_factor;
        resp.topics.push_back(tr);
      }
      proto::encode_response_frame(w, resp, version, h.header.correlation_id);
      return w.flatten();
    }
    return RawServer::close_marker();
  }

  std::atomic<int> remaining_refusals;
  std::mutex mu;
  std::vector<std::string> seen;  // topic names per CreateTopics attempt
  RawServer server;
};

}  // namespace

TEST_CASE("admin: CreateTopics retries NOT_CONTROLLER, then reports per-topic results (scripted broker)") {
  ScriptedController sc(2);
  auto admin = make_admin("127.0.0.1:" + std::to_string(sc.server.port()));
  CreateTopicsResult created;
  Error err = admin->create_topics({NewTopic{"fresh", 3, 1}, NewTopic{"exists", 1, 1}}, &created);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  CHECK(created.topics["fresh"].error.ok());
  CHECK(created.topics["fresh"].partitions == 3);
  CHECK(created.topics["exists"].error.code() == errc::kTopicAlreadyExists);
  std::lock_guard<std::mutex> lock(sc.mu);
  CHECK(sc.seen.size() == 6);  // both topics, three attempts
}

TEST_CASE("admin: CreateTopics gives up at the timeout when NOT_CONTROLLER persists (scripted broker)") {
  ScriptedController sc(1000000);
  auto admin = make_admin("127.0.0.1:" + std::to_string(sc.server.port()));
  CreateTopicsResult created;
  CreateTopicsOptions o;
  o.timeout = 500ms;
  auto t0 = std::chrono::steady_clock::now();
  Error err = admin->create_topics({NewTopic{"never", 1, 1}}, &created, o);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(err.code() == errc::kTimedOut);
  CHECK(err.message().find("NOT_CONTROLLER") != std::string::npos);
  CHECK(created.topics["never"].error.code() == errc::kTimedOut);
  CHECK(took >= 450ms);
  CHECK(took < 2000ms);
  std::lock_guard<std::mutex> lock(sc.mu);
  CHECK(sc.seen.size() >= 2);  // it did retry
}
