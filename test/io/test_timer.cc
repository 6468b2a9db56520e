#include <memory>

#include "io/timer.h"
#include "io_test_util.h"

using kfk::io::Timer;
using kfk::io::test::Loop;

TEST_CASE("Timer fires once, when due and not while armed far ahead") {
  Loop loop;
  int fired = 0;
  Timer t(loop.get(), [&] { ++fired; });
  auto armed = kfk::io::now();
  t.start(3'600'000);  // an hour: must not fire while the loop turns now
  CHECK(t.active());
  CHECK(t.armed_at() >= armed + kfk::io::Millis(3'600'000));
  loop.settle();
  CHECK(fired == 0);
  t.start(1);  // re-arming replaces the hour
  REQUIRE(loop.run_until([&] { return fired == 1; }));
  CHECK_FALSE(t.active());
  loop.settle();
  CHECK(fired == 1);
}

TEST_CASE("Timer: stop, start_at(kNever) and restart") {
  Loop loop;
  int fired = 0;
  Timer t(loop.get(), [&] { ++fired; });
  t.start(0);
  t.stop();
  CHECK_FALSE(t.active());
  t.start(0);
  t.start_at(kfk::io::kNever);
  CHECK_FALSE(t.active());
  loop.settle();
  CHECK(fired == 0);
  t.start_at(kfk::io::now());
  REQUIRE(loop.run_until([&] { return fired == 1; }));
}

TEST_CASE("Timer: destroyed inside its own callback; destroyed while armed") {
  Loop loop;
  bool fired = false;
  std::unique_ptr<Timer> t;
  t = std::make_unique<Timer>(loop.get(), [&] {
    fired = true;
    t.reset();
  });
  t->start(0);
  REQUIRE(loop.run_until([&] { return fired; }));
  CHECK(t == nullptr);

  bool late = false;
  auto armed = std::make_unique<Timer>(loop.get(), [&] { late = true; });
  armed->start(0);
  armed.reset();
  loop.settle();
  CHECK_FALSE(late);
}

TEST_CASE("Timer: repeating until stopped") {
  Loop loop;
  int fired = 0;
  Timer t(loop.get(), [&] {
    if (++fired == 3) t.stop();
  });
  t.start_repeating(0, 1);
  CHECK(t.active());
  REQUIRE(loop.run_until([&] { return fired == 3; }));
  CHECK_FALSE(t.active());
  loop.settle();
  CHECK(fired == 3);
  CHECK(t.loop() == loop.get());
}
