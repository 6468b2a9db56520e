// kfk::Producer under faults: errors injected into librdkafka's mock
// cluster (retriable errors, sequence errors, leader moves, brokers down)
// and broker-ref restarts. With idempotence, no record may be lost,
// duplicated or reordered within a partition, and every send completes
// (success or error) within delivery.timeout.ms.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <filesystem>
#include <unistd.h>

#include "producer_test_util.h"
#include "kfk_test/mock_cluster.h"
#include "kfk_test/wait.h"

using namespace kfk;
using namespace kfk::producer_testing;
using kfk::test::MockCluster;

namespace {

// Sends `per_partition` records to each of `partitions` partitions with
// values "p<partition>-<n>" in order, calling `between(i)` every 100
// records (to inject faults while records are in flight). Returns the
// outcomes by partition, in send order.
struct Outcome {
  std::vector<Error> errors;
  std::atomic<int> done{0};
};

void send_sequences(Producer& p, const std::string& topic, int partitions, int per_partition, Outcome& out,
                    const std::function<void(int)>& between = {}) {
  out.errors.assign(static_cast<size_t>(partitions * per_partition), Error());
  for (int n = 0; n < per_partition; ++n) {
    for (int part = 0; part < partitions; ++part) {
      const int idx = n * partitions + part;
      p.send(ProducerRecord(topic, part, std::nullopt, Bytes('p' + std::to_string(part) + "-" + std::to_string(n))),
             [&out, idx](const RecordMetadata&, const Error& e) {
               out.errors[static_cast<size_t>(idx)] = e;
               out.done.fetch_add(1);
             });
    }
    if (between && n % 100 == 99) between(n);
  }
}

// Every partition holds exactly "p<part>-0" .. "p<part>-<n-1>", in order.
void check_exactly_once_in_order(const std::vector<ReadRecord>& read, int partitions, int per_partition) {
  std::map<int32_t, std::vector<std::string>> by_part;
  std::vector<ReadRecord> sorted = read;
  std::sort(sorted.begin(), sorted.end(),
            [](const ReadRecord& a, const ReadRecord& b) { return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset); });
  for (const auto& r : sorted) by_part[r.partition].push_back(r.value.value_or("<null>"));
  for (int part = 0; part < partitions; ++part) {
    const auto& got = by_part[part];
    CAPTURE(part);
    REQUIRE(got.size() == static_cast<size_t>(per_partition));
    for (int n = 0; n < per_partition; ++n)
      REQUIRE(got[static_cast<size_t>(n)] == 'p' + std::to_string(part) + "-" + std::to_string(n));
  }
}

void push_produce_errors(MockCluster& mc, std::vector<rd_kafka_resp_err_t> errs) {
  rd_kafka_mock_push_request_errors_array(mc.get(), 0 /* Produce */, errs.size(), errs.data());
}

}  // namespace

TEST_CASE("producer faults: retriable errors and leader moves lose, duplicate and reorder nothing") {
  MockCluster mc(3);
  mc.create_topic("faults", 3, 3);
  auto p = make_producer(mc.bootstraps(), {{"linger.ms", "2"}, {"batch.size", "2000"}, {"retry.backoff.ms", "20"},
                                            {"retry.backoff.max.ms", "200"}});
  Outcome out;
  int round = 0;
  send_sequences(*p, "faults", 3, 1500, out, [&](int) {
    switch (round++ % 4) {
      case 0:
        push_produce_errors(mc, {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                 RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
        break;
      case 1:
        push_produce_errors(mc, {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE});
        break;
      case 2:
        // Move every leader to the next broker.
        for (int part = 0; part < 3; ++part)
          rd_kafka_mock_partition_set_leader(mc.get(), "faults", part, 1 + (part + round) % 3);
        break;
      default:
        push_produce_errors(mc, {RD_KAFKA_RESP_ERR__TRANSPORT});  // the mock closes the connection
        break;
    }
  });
  REQUIRE(p->flush(std::chrono::seconds(60)).ok());
  REQUIRE(out.done.load() == 4500);
  for (const auto& e : out.errors) REQUIRE_MESSAGE(e.ok(), e.to_string());
  CHECK(p->metrics().records_retried > 0);
  (void)p->close(std::chrono::seconds(10));
  check_exactly_once_in_order(rdkafka_read_all(mc.bootstraps(), "faults", 3, 4500), 3, 1500);
}

TEST_CASE("producer faults: OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID bump the epoch (KIP-360)") {
  MockCluster mc(1);
  mc.create_topic("bump", 2, 1);
  auto p = make_producer(mc.bootstraps(), {{"linger.ms", "2"}, {"retry.backoff.ms", "10"}});
  // Wait for the first producer id, then make the next produce fail with a
  // sequence error the producer cannot explain by an earlier failure.
  REQUIRE(p->send(ProducerRecord("bump", 0, std::nullopt, Bytes("warm-up"))).get().error.ok());
  const auto before = p->metrics();
  push_produce_errors(mc, {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER});
  Outcome out;
  send_sequences(*p, "bump", 2, 300, out, [&](int n) {
    if (n == 199) push_produce_errors(mc, {RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID});
  });
  REQUIRE(p->flush(std::chrono::seconds(30)).ok());
  for (const auto& e : out.errors) REQUIRE_MESSAGE(e.ok(), e.to_string());
  auto m = p->metrics();
  CHECK(m.epoch_bumps >= 2);
  // librdkafka's mock cannot bump an idempotent epoch (it answers
  // INVALID_PRODUCER_ID_MAPPING): the producer took a new id instead.
  CHECK((m.producer_epoch > before.producer_epoch || m.producer_id != before.producer_id));
  (void)p->close(std::chrono::seconds(10));
  auto read = rdkafka_read_all(mc.bootstraps(), "bump", 2, 601);
  // The warm-up record first, then the sequences.
  std::vector<ReadRecord> rest;
  for (auto& r : read)
    if (r.value != std::optional<std::string>("warm-up")) rest.push_back(r);
  CHECK(rest.size() + 1 == read.size());
  check_exactly_once_in_order(rest, 2, 300);
}

TEST_CASE("producer faults: every send completes within delivery.timeout.ms when brokers are down") {
  MockCluster mc(1);
  mc.create_topic("down", 2, 1);
  auto p = make_producer(mc.bootstraps(), {{"delivery.timeout.ms", "1500"}, {"request.timeout.ms", "1000"},
                                            {"linger.ms", "0"}, {"retry.backoff.ms", "50"}});
  REQUIRE(p->send(ProducerRecord("down", 0, std::nullopt, Bytes("up"))).get().error.ok());
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  const auto start = std::chrono::steady_clock::now();
  std::mutex mu;
  std::vector<std::pair<Error, double>> results;
  for (int i = 0; i < 200; ++i) {
    p->send(ProducerRecord("down", i % 2, std::nullopt, Bytes('v' + std::to_string(i))),
            [&](const RecordMetadata&, const Error& e) {
              double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
              std::lock_guard lk(mu);
              results.emplace_back(e, ms);
            });
  }
  REQUIRE(kfk::test::eventually([&] { std::lock_guard lk(mu); return results.size() == 200; }, 10000));
  for (const auto& [e, ms] : results) {
    CHECK(e.code() == errc::kMsgTimedOut);
    CHECK(ms < 1500 + 1000);  // the deadline, plus scheduling slack on a loaded machine
  }
  (void)p->close(std::chrono::milliseconds(100));
}

TEST_CASE("producer faults: close(timeout) returns in time and purges what is left") {
  MockCluster mc(1);
  mc.create_topic("purge", 1, 1);
  auto p = make_producer(mc.bootstraps(), {{"linger.ms", "0"}});
  REQUIRE(p->send(ProducerRecord("purge", 0, std::nullopt, Bytes("up"))).get().error.ok());
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  std::atomic<int> purged{0}, other{0};
  for (int i = 0; i < 100; ++i)
    p->send(ProducerRecord("purge", 0, std::nullopt, Bytes("x")), [&](const RecordMetadata&, const Error& e) {
      (e.code() == errc::kPurged ? purged : other).fetch_add(1);
    });
  const auto start = std::chrono::steady_clock::now();
  Error e = p->close(std::chrono::milliseconds(300));
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK(e.code() == errc::kTimedOut);
  CHECK(ms < 300 + 700);
  CHECK(purged.load() == 100);
  CHECK(other.load() == 0);
  // Later sends fail at once.
  DeliveryResult r = p->send(ProducerRecord("purge", 0, std::nullopt, Bytes("late"))).get();
  CHECK(r.error.code() == errc::kDestroyed);
}

TEST_CASE("producer faults: broker-ref restarts lose, duplicate and reorder nothing") {
  const std::string dir = "/tmp/kfk-producer-restart-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto broker = start_broker({{"num.partitions", "3"}}, dir);
  const int port = broker->port();
  const std::string bootstrap = broker->bootstrap_servers();
  auto p = make_producer(bootstrap, {{"linger.ms", "2"}, {"batch.size", "4000"}, {"reconnect.backoff.ms", "20"},
                                      {"reconnect.backoff.max.ms", "200"}, {"retry.backoff.ms", "20"}});
  Outcome out;
  int restarts = 0;
  send_sequences(*p, "restart", 3, 2000, out, [&](int n) {
    if (n % 500 != 499) return;
    broker->stop();
    broker.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    broker = start_broker({{"num.partitions", "3"}}, dir, port);
    ++restarts;
  });
  REQUIRE(p->flush(std::chrono::seconds(60)).ok());
  for (const auto& e : out.errors) REQUIRE_MESSAGE(e.ok(), e.to_string());
  CHECK(restarts == 4);
  (void)p->close(std::chrono::seconds(10));
  check_exactly_once_in_order(rdkafka_read_all(bootstrap, "restart", 3, 6000), 3, 2000);
  broker->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("producer faults: a batch the broker finds too large is split until it fits") {
  auto broker = start_broker({{"num.partitions", "1"}, {"message.max.bytes", "3000"}});
  auto p = make_producer(broker->bootstrap_servers(), {{"linger.ms", "20"}, {"batch.size", "60000"}});
  Outcome out;
  out.errors.assign(200, Error());
  for (int n = 0; n < 200; ++n)
    p->send(ProducerRecord("split", 0, std::nullopt, Bytes("p0-" + std::to_string(n) + std::string(100, 'x'))),
            [&out, n](const RecordMetadata&, const Error& e) {
              out.errors[static_cast<size_t>(n)] = e;
              out.done.fetch_add(1);
            });
  REQUIRE(p->flush(std::chrono::seconds(30)).ok());
  for (const auto& e : out.errors) REQUIRE_MESSAGE(e.ok(), e.to_string());
  (void)p->close(std::chrono::seconds(10));
  auto read = rdkafka_read_all(broker->bootstrap_servers(), "split", 1, 200);
  REQUIRE(read.size() == 200);
  for (int n = 0; n < 200; ++n)
    CHECK(read[static_cast<size_t>(n)].value->rfind("p0-" + std::to_string(n) + "x", 0) == 0);
}

TEST_CASE("producer: a slow callback does not stall sending to other partitions") {
  auto broker = start_broker({{"num.partitions", "2"}});
  auto p = make_producer(broker->bootstrap_servers(), {{"linger.ms", "0"}});
  std::atomic<bool> in_slow{false}, slow_done{false};
  p->send(ProducerRecord("slow", 0, std::nullopt, Bytes("first")), [&](const RecordMetadata&, const Error&) {
    in_slow = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    slow_done = true;
  });
  REQUIRE(kfk::test::eventually([&] { return in_slow.load(); }));
  for (int i = 0; i < 50; ++i) p->send(ProducerRecord("slow", 1, std::nullopt, Bytes("other")), nullptr);
  // The network thread keeps sending and the broker keeps acknowledging
  // while the callback thread is stuck.
  CHECK(kfk::test::eventually([&] { return p->metrics().records_sent == 51; }, 1200));
  CHECK_FALSE(slow_done.load());
  REQUIRE(p->flush(std::chrono::seconds(10)).ok());
  CHECK(slow_done.load());
}
