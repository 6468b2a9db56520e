// broker-ref server: large zero-copy responses to slow readers, and a
// clean shutdown with requests in flight.
#include <thread>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

TEST_CASE("server: large fetches to a slow reader arrive intact and in order") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "big");
  // ~9 MB in 900 KB batches.
  std::vector<std::vector<uint8_t>> batches;
  for (int i = 0; i < 10; ++i) {
    std::vector<TestRecord> recs;
    for (int r = 0; r < 9; ++r) recs.push_back({'k' + std::to_string(r), std::string(100000, static_cast<char>('a' + (i + r) % 26)), 1000});
    batches.push_back(make_batch(recs));
    produce_ok(c, "big", 0, batches.back());
  }
  size_t total = 0;
  for (const auto& b : batches) total += b.size();

  // Three fetches pipelined, not read for a while: the socket buffer fills
  // and the broker must wait for writability without reordering bytes.
  for (int i = 0; i < 3; ++i) {
    auto req = fetch_request("big", 0, 0, 0, 0, 64 << 20);
    c.send(req, 12, 700 + i);
  }
  c.send(proto::ApiVersionsRequest{}, 2, 703);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 3; ++i) {
    auto f = c.recv<proto::FetchResponse>(12, 700 + i, 20000);
    const auto& p = f.responses[0].partitions[0];
    REQUIRE(p.records.size() == total);
    size_t at = 0;
    for (const auto& b : batches) {
      CHECK(std::equal(b.begin() + 16, b.end(), p.records.data() + at + 16));
      at += b.size();
    }
    // Read slowly between responses.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(c.recv<proto::ApiVersionsResponse>(2, 703).error_code == 0);
}

TEST_CASE("server: stop() answers a waiting fetch and shuts down promptly") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "bye");
  c.send(fetch_request("bye", 0, 0, 30000, 1), 12, 42);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int64_t t0 = now_ms();
  broker->stop();
  CHECK(now_ms() - t0 < 3000);
  auto f = c.recv<proto::FetchResponse>(12, 42, 2000);
  CHECK(f.responses.size() == 1);
  CHECK(c.wait_closed(2000));
}

TEST_CASE("server: many concurrent connections") {
  auto broker = start_broker();
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 64; ++i) conns.push_back(std::make_unique<RawConn>(broker->port()));
  ensure_topic(*conns[0], "many");
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < conns.size(); ++i) conns[i]->send(produce_request("many", 0, simple_batch(1)), 9, round);
    for (size_t i = 0; i < conns.size(); ++i)
      CHECK(conns[i]->recv<proto::ProduceResponse>(9, round).responses[0].partition_responses[0].error_code == 0);
  }
  auto f = conns[5]->call<proto::FetchResponse>(fetch_request("many", 0, 0), 12);
  CHECK(f.responses[0].partitions[0].high_watermark == 192);
}
