#include <doctest/doctest.h>

#include "client/core/backoff.h"

using kfk::core::ExponentialBackoff;

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
