// connections.max.idle.ms: idle connections are closed; busy ones (a held
// JoinGroup) and active ones are not.
#include <thread>

#include "group_test_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

TEST_CASE("server: connections.max.idle.ms closes idle connections only") {
  auto broker = start_broker({{"connections.max.idle.ms", "400"}, {"group.initial.rebalance.delay.ms", "1500"}});
  RawConn idle(broker->port());
  RawConn active(broker->port());
  GroupConn waiting(broker->port());
  // A JoinGroup held for the initial rebalance delay (1.5 s) is not idleness.
  waiting.join_send(JoinSpec{.group = "idle-test", .version = 3});
  int64_t start = now_ms();
  // The active connection sends a request every 100 ms.
  proto::ApiVersionsRequest av;
  bool active_ok = true;
  while (now_ms() - start < 1000) {
    auto r = active.call<proto::ApiVersionsResponse>(av, 0);
    active_ok = active_ok && r.error_code == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(active_ok);
  CHECK(idle.wait_closed(100));  // closed long ago (400 ms + one sweep)
  auto j = waiting.join_recv();
  CHECK(j.error_code == 0);
  CHECK(now_ms() - start >= 1400);
  // Once answered and silent, it is closed too.
  CHECK(waiting.c.wait_closed(1500));
  // The default (10 minutes) keeps connections.
  auto relaxed = start_broker();
  RawConn quiet(relaxed->port());
  CHECK(!quiet.wait_closed(700));
}

TEST_CASE("server: connections.max.idle.ms is validated") {
  testing::BrokerRef::Options o;
  o.config = {{"connections.max.idle.ms", "0"}};
  std::string error;
  CHECK(testing::BrokerRef::start(o, &error) == nullptr);
  CHECK(error.find("connections.max.idle.ms") != std::string::npos);
}
