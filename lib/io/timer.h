// Timer: a uv_timer_t (one-shot, or repeating) owned by a C++ object; the
// client's network thread and broker-ref's loop use it for every timer.
//
// Runs on its loop's thread: construct, start, stop and destroy it there
// only. The uv handle is freed asynchronously after the object is gone (its
// close callback runs on a later loop iteration), so destroying a Timer from
// inside its own callback is safe.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

#include "io/clock.h"

namespace kfk::io {

class Timer {
 public:
  Timer(uv_loop_t* loop, std::function<void()> on_fire);
  uv_loop_t* loop() const;
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)starts the timer to fire once after `delay_ms`.
  void start(int64_t delay_ms);
  // (Re)starts the timer to fire after `delay_ms`, then every `repeat_ms`
  // (> 0) until stopped.
  void start_repeating(int64_t delay_ms, int64_t repeat_ms);
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
  int64_t repeat_ms_ = 0;  // > 0: a repeating timer
};

}  // namespace kfk::io
