// The network layer's names for io's monotonic clock (io/clock.h), so that
// client code reads `net::now()` and `TimePoint` as before. Any thread.
#pragma once

#include "io/clock.h"

namespace kfk::net {

using io::Clock;
using io::TimePoint;
using io::Millis;
using io::kNever;
using io::kForeverMs;
using io::now;
using io::add_ms;
using io::after_ms;
using io::ms_until;

}  // namespace kfk::net
