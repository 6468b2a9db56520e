// kfk::Consumer with manual assignment against real sockets: librdkafka's
// mock cluster and broker-ref. What librdkafka produced must come back byte
// for byte.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "consumer_test_util.h"
#include "kfk-broker-ref/broker_ref.h"
#include "kfk_test/brokers.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::MockCluster;
using kfk::test::start_broker;

namespace {

std::vector<TopicPartition> partitions_of(const std::string& topic, int n) {
  std::vector<TopicPartition> out;
  for (int p = 0; p < n; ++p) out.emplace_back(topic, p);
  return out;
}

// Consumed records must be exactly the produced ones: same content, same
// offsets, each once, in offset order within a partition.
void check_same(std::vector<Msg> produced, std::vector<Msg> consumed) {
  REQUIRE(consumed.size() == produced.size());
  std::map<std::pair<int32_t, int64_t>, Msg> by_pos;
  for (auto& m : produced) by_pos[{m.partition, m.offset}] = m;
  std::map<int32_t, int64_t> last;
  for (auto& c : consumed) {
    auto it = by_pos.find({c.partition, c.offset});
    REQUIRE_MESSAGE(it != by_pos.end(), "unexpected record ", c.topic, "-", c.partition, "@", c.offset);
    CHECK(it->second.same_content(c));
    auto l = last.find(c.partition);
    if (l != last.end()) CHECK(c.offset > l->second);
    last[c.partition] = c.offset;
    by_pos.erase(it);
  }
  CHECK(by_pos.empty());
}

void consume_every_codec(const std::string& bootstrap, const std::function<void(const std::string&)>& create_topic) {
  for (std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    CAPTURE(codec);
    std::string topic = "codec-" + codec;
    create_topic(topic);
    auto produced = produce(bootstrap, topic, 200, codec);
    auto c = make_consumer(consumer_config(bootstrap, {{"max.poll.records", "37"}}));
    REQUIRE(c->assign(partitions_of(topic, 3)).ok());
    auto consumed = drain(*c, produced.size());
    check_same(produced, consumed);
    // Nothing more arrives.
    ConsumerRecords more = c->poll(std::chrono::milliseconds(200));
    CHECK(more.empty());
    for (auto& tp : partitions_of(topic, 3)) {
      int64_t pos = -1;
      REQUIRE(c->position(tp, &pos).ok());
      int64_t want = 0;
      for (auto& m : produced)
        if (m.partition == tp.partition) want = std::max(want, m.offset + 1);
      CHECK(pos == want);
    }
    CHECK(c->metrics().records_consumed == produced.size());
    CHECK(c->close(std::chrono::seconds(5)).ok());
  }
}

}  // namespace

TEST_CASE("consumer: reads everything librdkafka produced, every codec (mock cluster)") {
  MockCluster mc(3);
  consume_every_codec(mc.bootstraps(), [&](const std::string& t) { mc.create_topic(t, 3); });
}

TEST_CASE("consumer: reads everything librdkafka produced, every codec (broker-ref)") {
  auto broker = start_broker({{"num.partitions", "3"}});
  consume_every_codec(broker->bootstrap_servers(), [](const std::string&) {});
}

TEST_CASE("consumer: assign, seek, position, offsets_for_times, seek_to_beginning/end") {
  MockCluster mc(3);
  mc.create_topic("seek", 1);
  auto produced = produce(mc.bootstraps(), "seek", 50, "none", 0, 1700000000000);
  auto c = make_consumer(consumer_config(mc.bootstraps()));
  TopicPartition tp("seek", 0);
  CHECK(c->seek(tp, 3).code() == errc::kState);  // not assigned
  REQUIRE(c->assign({tp}).ok());
  CHECK(c->assignment() == std::vector<TopicPartition>{tp});

  int64_t pos = -1;
  REQUIRE(c->position(tp, &pos).ok());
  CHECK(pos == 0);  // earliest

  REQUIRE(c->seek(tp, 20).ok());
  auto got = drain(*c, 5);
  REQUIRE(got.size() >= 5);
  CHECK(got[0].offset == 20);
  CHECK(got[0].same_content(produced[20]));

  // offsets_for_times: against broker-ref below (librdkafka 2.0.2's mock
  // answers every ListOffsets by timestamp with -1).

  std::map<TopicPartition, int64_t> begin, end;
  REQUIRE(c->beginning_offsets({tp}, &begin).ok());
  REQUIRE(c->end_offsets({tp}, &end).ok());
  CHECK(begin[tp] == 0);
  CHECK(end[tp] == 50);

  REQUIRE(c->seek_to_end().ok());
  REQUIRE(c->position(tp, &pos).ok());
  CHECK(pos == 50);
  CHECK(c->poll(std::chrono::milliseconds(200)).empty());

  REQUIRE(c->seek_to_beginning({tp}).ok());
  got = drain(*c, 50);
  REQUIRE(got.size() == 50);
  CHECK(got.front().offset == 0);
  CHECK(got.back().offset == 49);
  CHECK(c->seek(TopicPartition("seek", 7), 1).code() == errc::kState);
  CHECK(c->seek(tp, -5).code() == errc::kInvalidArgument);
}

TEST_CASE("consumer: offsets_for_times finds the first record at or after a time (broker-ref time index)") {
  auto broker = start_broker({{"num.partitions", "1"}});
  auto produced = produce(broker->bootstrap_servers(), "times", 50, "none", 0, 1700000000000);
  auto c = make_consumer(consumer_config(broker->bootstrap_servers()));
  TopicPartition tp("times", 0);
  REQUIRE(c->assign({tp}).ok());
  std::map<TopicPartition, OffsetAndTimestamp> ot;
  REQUIRE(c->offsets_for_times({{tp, 1700000000000 + 42}}, &ot).ok());
  CHECK(ot[tp].offset == 42);
  CHECK(ot[tp].timestamp == 1700000000000 + 42);
  REQUIRE(c->offsets_for_times({{tp, 1700000000000 + 1000}}, &ot).ok());
  CHECK(ot[tp].offset == -1);
  // And reading from there starts at that record.
  REQUIRE(c->offsets_for_times({{tp, 1700000000000 + 10}}, &ot).ok());
  REQUIRE(c->seek(tp, ot[tp].offset).ok());
  auto got = drain(*c, 3);
  REQUIRE(got.size() >= 3);
  CHECK(got[0].offset == 10);
  CHECK(got[0].same_content(produced[10]));
}

TEST_CASE("consumer: pause and resume") {
  MockCluster mc(1);
  mc.create_topic("pr", 2);
  produce(mc.bootstraps(), "pr", 20, "none", 0);
  produce(mc.bootstraps(), "pr", 20, "none", 1);
  auto c = make_consumer(consumer_config(mc.bootstraps()));
  TopicPartition p0("pr", 0), p1("pr", 1);
  REQUIRE(c->assign({p0, p1}).ok());
  REQUIRE(c->pause({p1}).ok());
  CHECK(c->paused() == std::vector<TopicPartition>{p1});
  auto got = drain(*c, 20);
  CHECK(got.size() == 20);
  for (auto& m : got) CHECK(m.partition == 0);
  CHECK(c->poll(std::chrono::milliseconds(300)).empty());  // p1 paused, p0 done
  REQUIRE(c->resume({p1}).ok());
  CHECK(c->paused().empty());
  got = drain(*c, 20);
  CHECK(got.size() == 20);
  for (auto& m : got) CHECK(m.partition == 1);
  CHECK(c->pause({TopicPartition("other", 0)}).code() == errc::kState);
}

TEST_CASE("consumer: wakeup() interrupts a blocked poll from another thread") {
  MockCluster mc(1);
  mc.create_topic("wk", 1);
  auto c = make_consumer(consumer_config(mc.bootstraps()));
  REQUIRE(c->assign({TopicPartition("wk", 0)}).ok());
  auto start = std::chrono::steady_clock::now();
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c->wakeup();
  });
  ConsumerRecords r = c->poll(std::chrono::seconds(20));
  t.join();
  CHECK(r.error().code() == errc::kWakeup);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  // The next poll is normal again.
  CHECK(c->poll(std::chrono::milliseconds(50)).error().ok());
}

TEST_CASE("consumer: auto.offset.reset=none reports kNoOffset naming the partition, until a seek") {
  MockCluster mc(1);
  mc.create_topic("none", 1);
  produce(mc.bootstraps(), "none", 5, "none", 0);
  auto c = make_consumer(consumer_config(mc.bootstraps(), {{"auto.offset.reset", "none"}}));
  TopicPartition tp("none", 0);
  REQUIRE(c->assign({tp}).ok());
  Error err;
  for (int i = 0; i < 50 && err.ok(); ++i) err = c->poll(std::chrono::milliseconds(100)).error();
  CHECK(err.code() == errc::kNoOffset);
  CHECK(err.message().find("none-0") != std::string::npos);
  CHECK(c->poll(std::chrono::milliseconds(10)).error().code() == errc::kNoOffset);  // stays
  REQUIRE(c->seek(tp, 2).ok());
  auto got = drain(*c, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0].offset == 2);
}

TEST_CASE("consumer: a retriable fetch error is retried without losing or repeating records") {
  MockCluster mc(1);
  mc.create_topic("flaky", 1);
  auto produced = produce(mc.bootstraps(), "flaky", 30, "none", 0);
  rd_kafka_mock_push_request_errors(mc.get(), 1 /* Fetch */, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  auto c = make_consumer(consumer_config(mc.bootstraps()));
  REQUIRE(c->assign({TopicPartition("flaky", 0)}).ok());
  check_same(produced, drain(*c, 30));
}

TEST_CASE("consumer: invalid arguments and states give clear errors") {
  MockCluster mc(1);
  auto c = make_consumer(consumer_config(mc.bootstraps()));
  CHECK(c->poll(std::chrono::milliseconds(1)).error().code() == errc::kState);
  CHECK(c->subscribe({"t"}).code() == errc::kInvalidClientConfig);  // no group.id
  CHECK(c->assign({TopicPartition("", 0)}).code() == errc::kInvalidArgument);
  CHECK(c->commit_sync().code() == errc::kInvalidGroupId);
  int64_t pos;
  CHECK(c->position(TopicPartition("x", 0), &pos).code() == errc::kState);
  CHECK(c->close().ok());
  CHECK(c->poll(std::chrono::milliseconds(1)).error().code() == errc::kDestroyed);
  std::unique_ptr<Consumer> bad;
  CHECK(Consumer::create(Config{{"bootstrap.servers", "x:1"}, {"fetch.min.bytes", "-3"}}, &bad).code() ==
        errc::kInvalidClientConfig);
}
