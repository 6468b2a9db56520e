// The fetcher's prefetch, end-of-partition reports and recycled response
// buffers end to end, against broker-ref (real fetch sessions) and
// librdkafka's mock cluster (none).
#include <doctest/doctest.h>

#include <map>
#include <thread>

#include "consumer_test_util.h"
#include "kfk_test/brokers.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::MockCluster;

namespace {

std::unique_ptr<kfk::testing::BrokerRef> start_broker(int partitions) {
  return kfk::test::start_broker({{"num.partitions", std::to_string(partitions)}});
}

std::vector<TopicPartition> partitions_of(const std::string& topic, int n) {
  std::vector<TopicPartition> out;
  for (int p = 0; p < n; ++p) out.emplace_back(topic, p);
  return out;
}

// produced, by (partition, offset).
std::map<std::pair<int32_t, int64_t>, Msg> index(const std::vector<Msg>& produced) {
  std::map<std::pair<int32_t, int64_t>, Msg> out;
  for (auto& m : produced) out[{m.partition, m.offset}] = m;
  return out;
}

}  // namespace

TEST_CASE("fetch: after seek(end - 1) with enable.partition.eof the last record comes before the end") {
  auto broker = start_broker(1);
  produce(broker->bootstrap_servers(), "eof-seek", 10, "none", 0);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    // reset=latest: the consumer starts at the end and learns it is there
    // (fetch.max.wait.ms is short) before the application seeks back.
    auto c = make_consumer(consumer_config(broker->bootstrap_servers(), {{"enable.partition.eof", "true"},
                                                                          {"auto.offset.reset", "latest"},
                                                                          {"fetch.max.wait.ms", "20"}}));
    TopicPartition tp("eof-seek", 0);
    REQUIRE(c->assign({tp}).ok());
    int64_t pos = -1;
    REQUIRE(c->position(tp, &pos).ok());
    REQUIRE(pos == 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the fetch at the end has come back empty
    REQUIRE(c->seek(tp, 9).ok());
    std::vector<int64_t> offsets;
    bool eof = false;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!eof && std::chrono::steady_clock::now() < end) {
      ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
      REQUIRE(recs.error().ok());
      for (auto& r : recs) offsets.push_back(r.offset);
      for (auto& e : recs.eof_partitions()) {
        CHECK(e == tp);
        CHECK_MESSAGE(offsets == std::vector<int64_t>{9}, "end of partition reported before the last record");
        eof = true;
      }
    }
    CHECK(eof);
    CHECK(offsets == std::vector<int64_t>{9});
    CHECK(c->close(std::chrono::seconds(5)).ok());
  }
}

TEST_CASE("fetch: the end of partition follows the last record without waiting for another long poll") {
  auto broker = start_broker(2);
  auto produced = produce(broker->bootstrap_servers(), "eof-now", 40);
  // A fetch at the end would wait a minute: the end must be known from the
  // response that carried the last records.
  auto c = make_consumer(consumer_config(broker->bootstrap_servers(),
                                         {{"enable.partition.eof", "true"}, {"fetch.max.wait.ms", "60000"}}));
  REQUIRE(c->assign(partitions_of("eof-now", 2)).ok());
  std::map<int32_t, int64_t> count;
  std::map<int32_t, int> eofs;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (eofs.size() < 2 && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    for (auto& r : recs) {
      CHECK(eofs.count(r.partition) == 0);
      count[r.partition]++;
    }
    for (auto& tp : recs.eof_partitions()) eofs[tp.partition]++;
  }
  std::map<int32_t, int64_t> ends;
  for (auto& m : produced) ends[m.partition] = std::max(ends[m.partition], m.offset + 1);
  for (int32_t p = 0; p < 2; ++p) {
    CAPTURE(p);
    CHECK(count[p] == ends[p]);
    CHECK(eofs[p] == 1);
  }
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("fetch: prefetching many small responses keeps order and exactness across seeks and pauses (broker-ref)") {
  auto broker = start_broker(4);
  auto produced = produce(broker->bootstrap_servers(), "prefetch", 3000, "lz4");
  auto by_pos = index(produced);
  std::map<int32_t, int64_t> ends;
  for (auto& m : produced) ends[m.partition] = std::max(ends[m.partition], m.offset + 1);
  // Tiny responses and polls: many fetches ahead of poll() per partition.
  auto c = make_consumer(consumer_config(broker->bootstrap_servers(), {{"max.partition.fetch.bytes", "2048"},
                                                                        {"max.poll.records", "11"}}));
  REQUIRE(c->assign(partitions_of("prefetch", 4)).ok());
  std::map<int32_t, int64_t> next;
  bool seeked = false, paused = false, resumed = false;
  int polls_paused = 0;
  TopicPartition p0("prefetch", 0), p1("prefetch", 1);
  auto done = [&] {
    if (!seeked || !resumed) return false;
    for (auto& [p, e] : ends)
      if (next[p] != e) return false;
    return true;
  };
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done() && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    REQUIRE(recs.error().ok());
    for (auto& r : recs) {
      REQUIRE_MESSAGE(r.offset == next[r.partition], "partition ", r.partition, " offset ", r.offset, " expected ",
                      next[r.partition]);
      CHECK(copy_of(r).same_content(by_pos.at({r.partition, r.offset})));
      next[r.partition]++;
      if (paused) CHECK(r.partition != 1);
    }
    // Mid-stream: back to the first quarter of p0 (dropping what is
    // buffered and prefetched for it), and p1 paused for a while.
    if (!seeked && next[0] > ends[0] * 3 / 4) {
      REQUIRE(c->seek(p0, ends[0] / 4).ok());
      next[0] = ends[0] / 4;
      seeked = true;
    }
    if (!paused && !resumed && next[1] > ends[1] / 3) {
      REQUIRE(c->pause({p1}).ok());
      paused = true;
    } else if (paused && ++polls_paused > 20) {
      REQUIRE(c->resume({p1}).ok());
      paused = false;
      resumed = true;
    }
  }
  CHECK(seeked);
  CHECK(resumed);
  for (auto& end : ends) {  // no structured binding: clang 14 cannot capture one (CAPTURE)
    const auto p = end.first;
    const auto e = end.second;
    CAPTURE(p);
    CHECK(next[p] == e);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(c->poll(std::chrono::milliseconds(200)).empty());  // nothing repeated afterwards
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("fetch: every partition reports its end after its records (mock cluster, no fetch sessions)") {
  MockCluster mc(1);
  mc.create_topic("mock-eof", 3);
  auto produced = produce(mc.bootstraps(), "mock-eof", 300, "snappy");
  std::map<int32_t, int64_t> ends;
  for (auto& m : produced) ends[m.partition] = std::max(ends[m.partition], m.offset + 1);
  auto c = make_consumer(consumer_config(mc.bootstraps(), {{"enable.partition.eof", "true"},
                                                           {"max.partition.fetch.bytes", "4096"},
                                                           {"max.poll.records", "50"}}));
  REQUIRE(c->assign(partitions_of("mock-eof", 3)).ok());
  std::map<int32_t, int64_t> next;
  std::map<int32_t, int> eofs;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (eofs.size() < 3 && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    for (auto& r : recs) {
      REQUIRE(r.offset == next[r.partition]);
      next[r.partition]++;
    }
    for (auto& tp : recs.eof_partitions()) {
      CHECK(next[tp.partition] == ends[tp.partition]);
      eofs[tp.partition]++;
    }
  }
  for (int32_t p = 0; p < 3; ++p) {
    CAPTURE(p);
    CHECK(eofs[p] == 1);
    CHECK(next[p] == ends[p]);
  }
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("fetch: records held by the application survive the recycling of response buffers (broker-ref)") {
  // Responses of ~300 KB (above net::FramePool::kMinPooled), polls of a
  // few records: every response is spread over several polls. Every
  // fourth poll's records are kept to the end, the others dropped at once,
  // so their buffers are recycled for later responses while the kept ones
  // must stay intact.
  auto broker = start_broker(1);
  auto produced = produce(broker->bootstrap_servers(), "recycle", 6000, "none", 0);
  auto by_pos = index(produced);
  const int64_t end_offset = static_cast<int64_t>(produced.size());
  auto c = make_consumer(consumer_config(broker->bootstrap_servers(), {{"max.partition.fetch.bytes", "300000"},
                                                                        {"fetch.max.bytes", "300000"},
                                                                        {"max.poll.records", "97"}}));
  REQUIRE(c->assign({TopicPartition("recycle", 0)}).ok());
  std::vector<ConsumerRecords> kept;
  int64_t next = 0;
  int polls = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (next < end_offset && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    REQUIRE(recs.error().ok());
    if (recs.empty()) continue;
    for (auto& r : recs) {
      REQUIRE(r.offset == next);
      CHECK(copy_of(r).same_content(by_pos.at({0, r.offset})));
      ++next;
    }
    if (polls++ % 4 == 0) kept.push_back(std::move(recs));
  }
  CHECK(next == end_offset);
  REQUIRE(kept.size() > 4);
  size_t checked = 0;
  for (auto& recs : kept) {
    for (auto& r : recs) {
      CHECK(copy_of(r).same_content(by_pos.at({0, r.offset})));
      ++checked;
    }
  }
  CHECK(checked > 0);
  CHECK(c->close(std::chrono::seconds(5)).ok());
}
