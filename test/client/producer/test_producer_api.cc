// kfk::Producer's API contract: configuration errors at construction,
// per-record errors through the callback, custom partitioners and
// interceptors end to end, acks=0 against a broker that answers anyway.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "producer_test_util.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::producer_testing;

TEST_CASE("producer api: bad configuration fails at create, naming the key") {
  std::unique_ptr<Producer> p;
  Error e = Producer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"linger.msec", "5"}}, &p);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(e.message().find("linger.msec") != std::string::npos);
  CHECK(p == nullptr);
  e = Producer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"enable.idempotence", "true"}, {"acks", "1"}}, &p);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(e.message().find("acks") != std::string::npos);
  e = Producer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"compression.type", "brotli"}}, &p);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(e.message().find("compression.type") != std::string::npos);
  e = Producer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"partitioner", "no-such"}}, &p);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(e.message().find("partitioner") != std::string::npos);
  CHECK(e.message().find("murmur2_random") != std::string::npos);
}

TEST_CASE("producer api: per-record errors arrive through the callback with a clear message") {
  auto broker = start_broker({{"auto.create.topics.enable", "false"}});
  auto p = make_producer(broker->bootstrap_servers(), {{"max.block.ms", "800"}, {"max.request.size", "10000"}});
  DeliveryResult r = p->send(ProducerRecord("does-not-exist", Bytes("v"))).get();
  CHECK(!r.error.ok());
  CHECK((r.error.code() == errc::kUnknownTopicOrPartition || r.error.code() == errc::kTimedOut));
  CHECK(r.error.message().find("does-not-exist") != std::string::npos);
  CHECK(r.metadata.topic == "does-not-exist");

  // Too large for max.request.size: fails alone, nothing else is affected.
  auto broker2 = start_broker();
  auto q = make_producer(broker2->bootstrap_servers(), {{"max.request.size", "10000"}});
  DeliveryResult big = q->send(ProducerRecord("t", Bytes(std::string(20000, 'x')))).get();
  CHECK(big.error.code() == errc::kMessageTooLarge);
  DeliveryResult small = q->send(ProducerRecord("t", Bytes("ok"))).get();
  CHECK(small.error.ok());
}

TEST_CASE("producer api: flush and close from a callback fail instead of deadlocking") {
  auto broker = start_broker();
  auto p = make_producer(broker->bootstrap_servers());
  std::promise<std::pair<Error, Error>> got;
  p->send(ProducerRecord("cb", Bytes("v")), [&](const RecordMetadata&, const Error&) {
    got.set_value({p->flush(std::chrono::seconds(1)), p->close(std::chrono::seconds(1))});
  });
  auto [f, c] = got.get_future().get();
  CHECK(f.code() == errc::kState);
  CHECK(c.code() == errc::kState);
  CHECK(p->close(std::chrono::seconds(5)).ok());
}

namespace {
class EvenOnly : public Partitioner {
 public:
  int32_t partition(const PartitionerContext& ctx) override {
    calls.fetch_add(1);
    return 2 * static_cast<int32_t>(n.fetch_add(1) % static_cast<uint32_t>(ctx.num_partitions / 2));
  }
  std::atomic<int> calls{0};
  std::atomic<uint32_t> n{0};
};

class Stamp : public ProducerInterceptor {
 public:
  explicit Stamp(std::string v) : v_(std::move(v)) {}
  ProducerRecord on_send(ProducerRecord r) override {
    r.add_header("stamp", v_);
    return r;
  }
  void on_acknowledgement(const RecordMetadata& md, const Error& e) override {
    if (e.ok() && md.offset >= 0) acked.fetch_add(1);
  }
  std::atomic<int> acked{0};

 private:
  std::string v_;
};

class Thrower : public ProducerInterceptor {
 public:
  ProducerRecord on_send(ProducerRecord) override { throw std::runtime_error("boom"); }
  void on_acknowledgement(const RecordMetadata&, const Error&) override { throw std::runtime_error("boom"); }
};
}  // namespace

TEST_CASE("producer api: custom partitioner (object and by name) and interceptors reach the broker") {
  auto broker = start_broker({{"num.partitions", "6"}});
  auto even = std::make_shared<EvenOnly>();
  auto stamp1 = std::make_shared<Stamp>("one");
  auto stamp2 = std::make_shared<Stamp>("two");
  std::vector<std::string> logged;
  std::mutex log_mu;
  ProducerOptions o;
  o.partitioner = even;
  o.interceptors = {stamp1, std::make_shared<Thrower>(), stamp2};
  o.log = [&](std::string_view m) {
    std::lock_guard lk(log_mu);
    logged.emplace_back(m);
  };
  auto p = make_producer(broker->bootstrap_servers(), {}, o);
  std::set<int32_t> parts;
  for (int i = 0; i < 60; ++i) {
    DeliveryResult r = p->send(ProducerRecord("custom", Bytes('k' + std::to_string(i)), Bytes("v"))).get();
    REQUIRE(r.error.ok());
    parts.insert(r.metadata.partition);
  }
  CHECK(parts == std::set<int32_t>{0, 2, 4});
  CHECK(even->calls.load() >= 60);
  CHECK(stamp1->acked.load() == 60);
  CHECK(stamp2->acked.load() == 60);
  (void)p->close(std::chrono::seconds(5));
  {
    std::lock_guard lk(log_mu);
    CHECK(!logged.empty());  // the throwing interceptor was reported, not fatal
  }
  auto read = rdkafka_read_all(broker->bootstrap_servers(), "custom", 6, 60);
  REQUIRE(read.size() == 60);
  for (const auto& r : read) {
    REQUIRE(r.headers.size() == 2);
    CHECK(r.headers[0] == std::make_pair(std::string("stamp"), std::optional<std::string>("one")));
    CHECK(r.headers[1] == std::make_pair(std::string("stamp"), std::optional<std::string>("two")));
  }

  // By name, through configuration.
  REQUIRE(register_partitioner("test-even", [] { return std::make_unique<EvenOnly>(); }).ok());
  auto q = make_producer(broker->bootstrap_servers(), {{"partitioner", "test-even"}});
  for (int i = 0; i < 12; ++i) CHECK(q->send(ProducerRecord("custom2", Bytes("v"))).get().metadata.partition % 2 == 0);
  (void)q->close(std::chrono::seconds(5));
  CHECK(unregister_partitioner("test-even"));
}

TEST_CASE("producer api: acks=0 against a broker that answers anyway (librdkafka's mock)") {
  kfk::test::MockCluster mc(1);
  mc.create_topic("acks0", 1, 1);
  auto p = make_producer(mc.bootstraps(), {{"acks", "0"}, {"enable.idempotence", "false"}, {"linger.ms", "1"}});
  std::atomic<int> ok{0}, failed{0};
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 200; ++i)
      p->send(ProducerRecord("acks0", 0, std::nullopt, Bytes('r' + std::to_string(round) + "-" + std::to_string(i))),
              [&](const RecordMetadata& md, const Error& e) {
                (e.ok() && md.offset == -1 ? ok : failed).fetch_add(1);
              });
    REQUIRE(p->flush(std::chrono::seconds(10)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the mock's answers arrive
  }
  CHECK(ok.load() == 1000);
  CHECK(failed.load() == 0);
  (void)p->close(std::chrono::seconds(5));
  // The answers did not break the stream: everything is there, in order.
  auto read = rdkafka_read_all(mc.bootstraps(), "acks0", 1, 1000);
  REQUIRE(read.size() == 1000);
  for (int i = 0; i < 1000; ++i)
    CHECK(read[static_cast<size_t>(i)].value == 'r' + std::to_string(i / 200) + "-" + std::to_string(i % 200));
}
