// Unreachable brokers: each failed connection logged with its address and
// reason (rate-limited), the all-brokers-down condition naming every
// bootstrap entry, and a consumer's poll() reporting it (librdkafka's
// _ALL_BROKERS_DOWN) instead of returning empty batches.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "kfk/consumer.h"
#include "net_test_util.h"

using namespace kfk;
using namespace kfk::net;
using namespace kfk::net::testing;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("brokers down: every bootstrap entry is named with its reason; each failure is logged once") {
  LogLines log;
  NetOptions o = test_options({{"127.0.0.1", 1}, {"no-such-host.invalid", 9092}});
  o.shuffle_bootstrap = false;
  o.reconnect_backoff_ms = 10;
  o.reconnect_backoff_max_ms = 50;
  o.retry_backoff_ms = 10;
  o.retry_backoff_max_ms = 50;
  o.log = log.sink();
  NetClient nc(o);
  nc.start();
  Error down;
  for (int i = 0; i < 300 && down.ok(); ++i) {
    std::this_thread::sleep_for(50ms);
    down = nc.all_brokers_down();
  }
  REQUIRE(down.code() == errc::kAllBrokersDown);
  CHECK(contains(down.message(), "All 2 bootstrap brokers are down: "));
  CHECK(contains(down.message(), "127.0.0.1:1 (ECONNREFUSED"));
  CHECK(contains(down.message(), "no-such-host.invalid:9092 (host lookup failed"));

  // Many attempts later, each broker's failure was still logged once.
  uint64_t attempts = 0;
  for (int i = 0; i < 200 && attempts < 5; ++i) {
    std::this_thread::sleep_for(50ms);
    attempts = on_loop(nc, [&] { return nc.pool().find(-1)->connect_attempts(); });
  }
  CHECK(attempts >= 5);
  CHECK(log.count("Connect to broker -1 at 127.0.0.1:1 failed: ECONNREFUSED") == 1);
  CHECK(log.count("Connect to broker -2 at no-such-host.invalid:9092 failed: host lookup failed") == 1);
  CHECK(log.count("All 2 bootstrap brokers are down") == 1);

  // Reported again while it lasts.
  uint64_t seen = 0;
  CHECK(!nc.all_brokers_down_since(&seen).ok());
  const uint64_t first = seen;
  Error again;
  for (int i = 0; i < 200 && again.ok(); ++i) {
    std::this_thread::sleep_for(50ms);
    again = nc.all_brokers_down_since(&seen);
  }
  CHECK(again.code() == errc::kAllBrokersDown);
  CHECK(seen > first);
  nc.stop();
}

TEST_CASE("brokers down: a consumer's poll() reports every bootstrap broker down, repeatedly") {
  std::vector<std::string> logged;
  std::mutex mu;
  ConsumerOptions opts;
  opts.log = [&](std::string_view m) {
    std::lock_guard lock(mu);
    logged.emplace_back(m);
  };
  std::unique_ptr<Consumer> c;
  REQUIRE(Consumer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}}, &c, opts).ok());
  REQUIRE(c->assign({TopicPartition{"t", 0}}).ok());
  // Before: empty ok() batches for 75 s.
  int reports = 0;
  Error last;
  for (int i = 0; i < 60 && reports < 2; ++i) {
    ConsumerRecords recs = c->poll(500ms);
    if (!recs.error().ok()) {
      last = recs.error();
      REQUIRE(last.code() == errc::kAllBrokersDown);
      ++reports;
    }
  }
  CHECK(reports == 2);
  CHECK(last.retriable());
  CHECK(contains(last.message(), "All 1 bootstrap brokers are down: 127.0.0.1:1 (ECONNREFUSED"));
  std::lock_guard lock(mu);
  bool connect_logged = false;
  for (const auto& l : logged) connect_logged = connect_logged || contains(l, "Connect to broker -1 at 127.0.0.1:1");
  CHECK(connect_logged);
}
