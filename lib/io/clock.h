// Monotonic time for deadlines, timeouts and backoffs on a libuv loop
// (the client's network thread, broker-ref's loop). Plain functions, any
// thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace kfk::io {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

inline constexpr TimePoint kNever = TimePoint::max();
// Millisecond spans beyond this (about 30 years) mean "never": keeps
// configured INT64_MAX-ish values from overflowing time arithmetic.
inline constexpr int64_t kForeverMs = int64_t{1} << 40;

inline TimePoint now() { return Clock::now(); }
inline TimePoint add_ms(TimePoint t, int64_t ms) {
  if (t == kNever || ms >= kForeverMs) return kNever;
  return t + Millis(ms);
}
inline TimePoint after_ms(int64_t ms) { return add_ms(Clock::now(), ms); }
// Milliseconds from now until `t`, rounded up, never negative.
inline int64_t ms_until(TimePoint t) {
  if (t == kNever) return kForeverMs;
  auto d = t - Clock::now();
  if (d <= Clock::duration::zero()) return 0;
  return std::chrono::duration_cast<Millis>(d + Millis(1) - Clock::duration(1)).count();
}

}  // namespace kfk::io
