#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>

#include "io/backoff.h"

using kfk::io::ExponentialBackoff;

TEST_CASE("backoff: doubles per attempt with +/-20% jitter, capped at the max") {
  ExponentialBackoff b(100, 1000);
  for (int i = 0; i < 200; ++i) {
    int64_t v0 = b.backoff_ms(0);
    CHECK(v0 >= 80);
    CHECK(v0 <= 120);
    int64_t v2 = b.backoff_ms(2);
    CHECK(v2 >= 320);
    CHECK(v2 <= 480);
    int64_t v10 = b.backoff_ms(10);
    CHECK(v10 >= 800);
    CHECK(v10 <= 1200);
  }
}

TEST_CASE("backoff: max below initial keeps the initial value; zero stays zero") {
  ExponentialBackoff b(500, 100, 0.0);
  CHECK(b.backoff_ms(0) == 500);
  CHECK(b.backoff_ms(5) == 500);
  ExponentialBackoff z(0, 1000);
  CHECK(z.backoff_ms(3) == 0);
}

TEST_CASE("backoff: without jitter it doubles exactly; with jitter it spreads within the range") {
  ExponentialBackoff exact(100, 800, 0.0);
  CHECK(exact.backoff_ms(0) == 100);
  CHECK(exact.backoff_ms(1) == 200);
  CHECK(exact.backoff_ms(3) == 800);
  CHECK(exact.backoff_ms(9) == 800);
  CHECK(exact.backoff_ms(-1) == 100);

  ExponentialBackoff wide(1000, 1000, 0.5);
  int64_t lo = INT64_MAX, hi = 0;
  for (int i = 0; i < 500; ++i) {
    int64_t v = wide.backoff_ms(0);
    CHECK(v >= 500);
    CHECK(v <= 1500);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(lo < hi);  // jittered, not constant
}
