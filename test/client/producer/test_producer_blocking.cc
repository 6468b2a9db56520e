// What makes send() wait, and when it must not: the bounded metadata wait
// for a topic the cluster says does not exist or with no broker reachable
// (only the first send waits), try_send() (never waits), send() from a
// delivery callback (never waits for buffer.memory), and a first send that
// does not wait retry.backoff.ms behind the bootstrap metadata.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "kfk/admin.h"
#include "producer_test_util.h"
#include "kfk_test/log_lines.h"

using namespace kfk;
using namespace kfk::producer_testing;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// send() and the wait for its outcome; *ms: how long both took (send()
// itself blocks while it waits for metadata).
DeliveryResult timed_send(Producer& p, ProducerRecord rec, int64_t* ms) {
  auto t0 = std::chrono::steady_clock::now();
  DeliveryResult r = p.send(std::move(rec)).get();
  *ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

TEST_CASE("producer blocking: only the first send to a topic the cluster says is missing waits max.block.ms") {
  auto broker = start_broker({{"auto.create.topics.enable", "false"}});
  auto p = make_producer(broker->bootstrap_servers(), {{"max.block.ms", "6000"}});
  DeliveryResult first = p->send(ProducerRecord("missing", Bytes("1"))).get();
  CHECK(first.error.code() == errc::kUnknownTopicOrPartition);
  CHECK(contains(first.error.message(), "missing"));

  // The cluster answered: the second send fails at once (before, it waited
  // the whole max.block.ms again).
  int64_t ms = 0;
  DeliveryResult r = timed_send(*p, ProducerRecord("missing", Bytes("2")), &ms);
  CHECK(ms < 3000);
  CHECK(r.error.code() == errc::kUnknownTopicOrPartition);
  CHECK(contains(r.error.message(), "topic missing does not exist"));

  // Once the topic exists, sends to it succeed again.
  std::unique_ptr<Admin> admin;
  REQUIRE(Admin::create(Config{{"bootstrap.servers", broker->bootstrap_servers()}}, &admin).ok());
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"missing", 1, 1, {}}}, &created).ok());
  REQUIRE(created.topics.at("missing").error.ok());
  DeliveryResult later;
  for (int i = 0; i < 100; ++i) {  // the metadata shows the topic within a few refreshes
    later = p->send(ProducerRecord("missing", Bytes("3"))).get();
    if (later.error.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(later.error.ok());
}

TEST_CASE("producer blocking: unreachable brokers are named, logged once, and later sends fail at once") {
  kfk::test::LogLines log;
  ProducerOptions opts;
  opts.log = log.sink();
  auto p = make_producer("127.0.0.1:1", {{"max.block.ms", "4000"}}, opts);
  DeliveryResult first = p->send(ProducerRecord("t", Bytes("1"))).get();
  CHECK(first.error.code() == errc::kAllBrokersDown);
  CHECK(contains(first.error.message(), "All 1 bootstrap brokers are down: 127.0.0.1:1 (ECONNREFUSED"));
  CHECK(contains(first.error.message(), "topic t"));

  int64_t ms = 0;
  DeliveryResult r = timed_send(*p, ProducerRecord("t", Bytes("2")), &ms);
  CHECK(ms < 2000);
  CHECK(r.error.code() == errc::kAllBrokersDown);
  CHECK(contains(r.error.message(), "127.0.0.1:1"));

  // Each failed connection is logged with its address and reason, the same
  // reason once (many attempts were made meanwhile); the InitProducerId
  // retries are not what the log blames.
  CHECK(log.count("Connect to broker -1 at 127.0.0.1:1 failed: ECONNREFUSED") == 1);
  CHECK(log.count("All 1 bootstrap brokers are down") == 1);
  CHECK(log.count("InitProducerId") == 0);
  CHECK(p->close(5s).ok());
}

TEST_CASE("producer blocking: try_send never waits, and leaves the record with the caller on failure") {
  auto broker = start_broker();
  auto p = make_producer(broker->bootstrap_servers(),
                         {{"buffer.memory", "65536"}, {"batch.size", "16384"}, {"max.block.ms", "30000"}});
  // Unknown metadata: fails at once (retriable) and asks for it.
  ProducerRecord rec("try", Bytes("v"));
  bool called = false;
  DeliveryCallback cb = [&](const RecordMetadata&, const Error&) { called = true; };
  Error e = p->try_send(std::move(rec), std::move(cb));
  CHECK(e.code() == errc::kUnknownTopicOrPartition);
  CHECK(e.retriable());
  CHECK(rec.value.has_value());
  CHECK(static_cast<bool>(cb));
  for (int i = 0; i < 200 && !e.ok(); ++i) {
    std::this_thread::sleep_for(50ms);
    e = p->try_send(std::move(rec), std::move(cb));
  }
  REQUIRE(e.ok());
  (void)p->flush(20s);
  CHECK(called);

  // Callback thread held: no batch memory comes back, so buffer.memory
  // fills and try_send reports QUEUE_FULL at once.
  std::promise<void> entered, go;
  auto go_f = go.get_future().share();
  p->send(ProducerRecord("try", 0, std::nullopt, Bytes("hold")), [&, go_f](const RecordMetadata&, const Error&) {
    entered.set_value();
    go_f.wait();
  });
  entered.get_future().wait();
  const std::string big(1000, 'x');
  Error full;
  int queued = 0;
  for (int i = 0; i < 1000 && full.ok(); ++i) {
    ProducerRecord r("try", 0, std::nullopt, Bytes(big));
    DeliveryCallback c = [](const RecordMetadata&, const Error&) {};
    full = p->try_send(std::move(r), std::move(c));
    if (full.ok()) {
      ++queued;
    } else {
      CHECK(r.value.has_value());  // still the caller's
      CHECK(static_cast<bool>(c));
    }
  }
  CHECK(full.code() == errc::kQueueFull);
  CHECK(queued > 10);
  go.set_value();
  CHECK(p->flush(20s).ok());
}

TEST_CASE("producer blocking: send() from a delivery callback does not wait for buffer.memory") {
  auto broker = start_broker();
  auto p = make_producer(broker->bootstrap_servers(),
                         {{"buffer.memory", "65536"}, {"batch.size", "16384"}, {"max.block.ms", "20000"}});
  REQUIRE(p->send(ProducerRecord("cbmem", 0, std::nullopt, Bytes("warm"))).get().error.ok());
  std::promise<void> entered, go;
  auto go_f = go.get_future().share();
  std::promise<int64_t> nested_ms;
  std::promise<Error> nested_error;
  p->send(ProducerRecord("cbmem", 0, std::nullopt, Bytes("hold")), [&, go_f](const RecordMetadata&, const Error&) {
    entered.set_value();
    go_f.wait();
    auto t0 = std::chrono::steady_clock::now();
    p->send(ProducerRecord("cbmem", 0, std::nullopt, Bytes(std::string(20000, 'y'))),
            [&](const RecordMetadata&, const Error& err) { nested_error.set_value(err); });
    nested_ms.set_value(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  });
  entered.get_future().wait();
  Error full;
  for (int i = 0; i < 1000 && full.ok(); ++i) {
    ProducerRecord r("cbmem", 0, std::nullopt, Bytes(std::string(1000, 'x')));
    full = p->try_send(std::move(r), [](const RecordMetadata&, const Error&) {});
  }
  REQUIRE(full.code() == errc::kQueueFull);
  go.set_value();
  // Before: the nested send waited the whole max.block.ms (20 s).
  CHECK(nested_ms.get_future().get() < 10000);
  Error err = nested_error.get_future().get();
  CHECK(err.code() == errc::kQueueFull);
  CHECK(contains(err.message(), "delivery callback"));
  CHECK(p->flush(20s).ok());
}

TEST_CASE("producer blocking: the first send does not wait retry.backoff.ms behind the bootstrap metadata") {
  auto broker = start_broker();
  auto p = make_producer(broker->bootstrap_servers(),
                         {{"retry.backoff.ms", "20000"}, {"retry.backoff.max.ms", "20000"}, {"max.block.ms", "60000"}});
  std::this_thread::sleep_for(300ms);  // the bootstrap metadata has been answered
  // Before: the topic's metadata request waited retry.backoff.ms (20 s).
  int64_t ms = 0;
  CHECK(timed_send(*p, ProducerRecord("fresh", Bytes("v")), &ms).error.ok());
  CHECK(ms < 10000);
}
