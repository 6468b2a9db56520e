// kfk::Producer end to end: what kfk produced, librdkafka reads back byte for
// byte (keys, values, headers, timestamps), against broker-ref and against
// librdkafka's mock cluster, with every codec.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "kfk/admin.h"
#include "producer_test_util.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::producer_testing;

namespace {

struct Sent {
  ProducerRecord record;  // as sent (owned copies)
  RecordMetadata md;
  Error error;
  std::string topic;
};

// Sends `n` varied records to `topic` (keyed and keyless, null values,
// headers with null values, explicit timestamps) and waits for every
// outcome. Returns them in send order.
std::vector<Sent> send_varied(Producer& p, const std::string& topic, int n) {
  std::vector<Sent> sent(static_cast<size_t>(n));
  std::atomic<int> done{0};
  const int64_t base_ts = wall_ms() - 100000;
  for (int i = 0; i < n; ++i) {
    ProducerRecord r;
    r.topic = topic;
    if (i % 5 != 0) r.key = Bytes("key-" + std::to_string(i % 37));
    if (i % 11 != 3) r.value = Bytes(std::string(static_cast<size_t>(i % 300), static_cast<char>('a' + i % 26)) + "#" + std::to_string(i));
    if (i % 3 == 0) r.add_header("h1", 'v' + std::to_string(i)).add_header("null-header", std::nullopt);
    if (i % 2 == 0) r.timestamp = base_ts + i;
    sent[static_cast<size_t>(i)].record = r;
    p.send(std::move(r), [&sent, &done, i](const RecordMetadata& md, const Error& err) {
      auto& s = sent[static_cast<size_t>(i)];
      s.md = md;
      s.topic = std::string(md.topic);
      s.error = err;
      done.fetch_add(1);
    });
  }
  REQUIRE(p.flush(std::chrono::seconds(30)).ok());
  REQUIRE(done.load() == n);
  return sent;
}

// `append_time_is_real`: whether the broker's Produce answer carries a true
// LogAppendTime (-1 for CreateTime topics). librdkafka 2.0.2's mock answers
// every Produce with LogAppendTime 1234 although its topics are CreateTime;
// kfk, like librdkafka itself, reports what the broker said, so the metadata
// timestamp is only compared where the broker tells the truth.
void check_read_back(const std::vector<Sent>& sent, const std::vector<ReadRecord>& read, bool append_time_is_real) {
  std::map<std::pair<int32_t, int64_t>, const ReadRecord*> by_pos;
  for (const auto& r : read) by_pos[{r.partition, r.offset}] = &r;
  REQUIRE(read.size() == sent.size());
  for (const auto& s : sent) {
    REQUIRE_MESSAGE(s.error.ok(), s.error.to_string());
    auto it = by_pos.find({s.md.partition, s.md.offset});
    REQUIRE_MESSAGE(it != by_pos.end(), "missing " << s.md.partition << "@" << s.md.offset);
    const ReadRecord& r = *it->second;
    CHECK(r.key == (s.record.key ? std::optional<std::string>(std::string(s.record.key->view())) : std::nullopt));
    CHECK(r.value == (s.record.value ? std::optional<std::string>(std::string(s.record.value->view())) : std::nullopt));
    REQUIRE(r.headers.size() == s.record.headers.size());
    for (size_t h = 0; h < r.headers.size(); ++h) {
      CHECK(r.headers[h].first == s.record.headers[h].key);
      CHECK(r.headers[h].second == s.record.headers[h].value);
    }
    if (s.record.timestamp) CHECK(r.timestamp == *s.record.timestamp);
    if (append_time_is_real) CHECK(r.timestamp == s.md.timestamp);
    CHECK(s.topic == s.record.topic);
  }
}

}  // namespace

TEST_CASE("producer: broker-ref round trip with every codec, read back by librdkafka") {
  auto broker = start_broker({{"num.partitions", "3"}});
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    CAPTURE(codec);
    const std::string topic = std::string("rt-") + codec;
    auto p = make_producer(broker->bootstrap_servers(), {{"compression.type", codec}, {"linger.ms", "5"}});
    auto sent = send_varied(*p, topic, 600);
    auto m = p->metrics();
    CHECK(m.records_sent == 600);
    CHECK(m.records_failed == 0);
    CHECK(m.producer_id >= 0);  // idempotent by default
    REQUIRE(p->close(std::chrono::seconds(10)).ok());
    check_read_back(sent, rdkafka_read_all(broker->bootstrap_servers(), topic, 3, sent.size()), true);
  }
}

TEST_CASE("producer: mock cluster round trip with every codec, read back by librdkafka") {
  kfk::test::MockCluster mc(3);
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    CAPTURE(codec);
    const std::string topic = std::string("mrt-") + codec;
    mc.create_topic(topic, 4, 1);
    auto p = make_producer(mc.bootstraps(), {{"compression.type", codec}});
    auto sent = send_varied(*p, topic, 400);
    REQUIRE(p->close(std::chrono::seconds(10)).ok());
    check_read_back(sent, rdkafka_read_all(mc.bootstraps(), topic, 4, sent.size()), false);
  }
}

TEST_CASE("producer: keyed records land where librdkafka's murmur2_random puts them") {
  kfk::test::MockCluster mc(3);
  mc.create_topic("placement", 7, 1);
  auto p = make_producer(mc.bootstraps(), {{"linger.ms", "1"}});
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE(rk != nullptr);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, "placement", nullptr);
  std::vector<std::future<DeliveryResult>> futures;
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) {
    keys.push_back("user-" + std::to_string(i * 7919));
    futures.push_back(p->send(ProducerRecord("placement", Bytes(keys.back()), Bytes("v"))));
  }
  for (size_t i = 0; i < futures.size(); ++i) {
    DeliveryResult r = futures[i].get();
    REQUIRE_MESSAGE(r.error.ok(), r.error.to_string());
    int32_t expected =
        rd_kafka_msg_partitioner_murmur2_random(rkt, keys[i].data(), keys[i].size(), 7, nullptr, nullptr);
    CHECK(r.metadata.partition == expected);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
}

TEST_CASE("producer: partitions_for, explicit partitions, metrics") {
  auto broker = start_broker({{"num.partitions", "4"}});
  auto p = make_producer(broker->bootstrap_servers());
  std::vector<PartitionMetadata> parts;
  REQUIRE(p->partitions_for("pf", &parts).ok());
  REQUIRE(parts.size() == 4);
  for (int i = 0; i < 4; ++i) {
    CHECK(parts[static_cast<size_t>(i)].partition == i);
    CHECK(parts[static_cast<size_t>(i)].leader == 1);
    CHECK(parts[static_cast<size_t>(i)].error.ok());
  }
  for (int i = 0; i < 4; ++i) {
    DeliveryResult r = p->send(ProducerRecord("pf", i, std::nullopt, Bytes("x"))).get();
    REQUIRE(r.error.ok());
    CHECK(r.metadata.partition == i);
    CHECK(r.metadata.offset == 0);
  }
  DeliveryResult bad = p->send(ProducerRecord("pf", 9, std::nullopt, Bytes("x"))).get();
  CHECK(bad.error.code() == errc::kUnknownTopicOrPartition);
  CHECK(bad.error.message().find("partition 9") != std::string::npos);
  auto m = p->metrics();
  CHECK(m.records_sent == 4);
  CHECK(m.requests_sent >= 1);
  CHECK(m.bytes_sent > 0);
}

TEST_CASE("producer: topic views follow metadata changes and stay per producer on one thread") {
  // send() remembers topic views per thread; they must follow new metadata
  // (partitions added) and never leak between producers that both send to
  // a topic of the same name from the same thread.
  auto small = start_broker({{"num.partitions", "2"}});
  auto large = start_broker({{"num.partitions", "5"}});
  auto ps = make_producer(small->bootstrap_servers());
  auto pl = make_producer(large->bootstrap_servers());
  for (int round = 0; round < 3; ++round) {
    DeliveryResult s = ps->send(ProducerRecord("views", 4, std::nullopt, Bytes("x"))).get();
    CHECK(s.error.code() == errc::kUnknownTopicOrPartition);
    DeliveryResult l = pl->send(ProducerRecord("views", 4, std::nullopt, Bytes("x"))).get();
    CHECK_MESSAGE(l.error.ok(), l.error.to_string());
    CHECK(l.metadata.partition == 4);
    REQUIRE(ps->send(ProducerRecord("views", 1, std::nullopt, Bytes("x"))).get().error.ok());
  }

  // Grow the small broker's topic. A send to a partition the producer does
  // not know fails but refreshes the metadata (metadata.max.age.ms is 5
  // minutes), so a later send reaches the new partition.
  Config ac{{"bootstrap.servers", small->bootstrap_servers()}};
  std::unique_ptr<Admin> admin;
  REQUIRE(Admin::create(ac, &admin).ok());
  CreatePartitionsResult grown;
  REQUIRE(admin->create_partitions({{"views", NewPartitions{6}}}, &grown).ok());
  REQUIRE(grown.topics["views"].ok());
  DeliveryResult later;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    later = ps->send(ProducerRecord("views", 5, std::nullopt, Bytes("x"))).get();
    if (later.error.ok()) break;
    CHECK(later.error.code() == errc::kUnknownTopicOrPartition);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  CHECK_MESSAGE(later.error.ok(), later.error.to_string());
  CHECK(later.metadata.partition == 5);
  // The other producer's view of its own "views" is untouched.
  CHECK(pl->send(ProducerRecord("views", 5, std::nullopt, Bytes("x"))).get().error.code() ==
        errc::kUnknownTopicOrPartition);
}
