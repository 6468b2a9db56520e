// Timer: a one-shot uv_timer_t owned by a C++ object.
//
// Runs on the network thread: construct, start, stop and destroy it there
// only. The uv handle is freed asynchronously after the object is gone (its
// close callback runs on a later loop iteration), so destroying a Timer from
// inside its own callback is safe.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

#include "client/net/clock.h"

namespace kfk::net {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts the timer to fire once after `delay_ms`.
  void start(int64_t delay_ms);
  // (Re)starts the timer to fire once at `when` (kNever: stop).
  void start_at(TimePoint when);
  void stop();
  bool active() const { return armed_at_ != kNever; }
  // When the timer is due, or kNever.
  TimePoint armed_at() const { return armed_at_; }

 private:
  struct Handle;
  static void on_timer(uv_timer_t* t);

  Handle* handle_;
  std::function<void()> on_fire_;
  TimePoint armed_at_ = kNever;
};

}  // namespace kfk::net
