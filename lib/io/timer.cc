#include "io/timer.h"

namespace kfk::io {

struct Timer::Handle {
  uv_timer_t timer;
  Timer* owner;
};

Timer::Timer(uv_loop_t* loop, std::function<void()> on_fire) : handle_(new Handle), on_fire_(std::move(on_fire)) {
  uv_timer_init(loop, &handle_->timer);
  handle_->owner = this;
  handle_->timer.data = handle_;
}

Timer::~Timer() {
  handle_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::start(int64_t delay_ms) {
  if (delay_ms < 0) delay_ms = 0;
  repeat_ms_ = 0;
  armed_at_ = now() + Millis(delay_ms);
  uv_update_time(handle_->timer.loop);  // the cached loop time may lag: timers would fire early
  uv_timer_start(&handle_->timer, &Timer::on_timer, static_cast<uint64_t>(delay_ms), 0);
}

void Timer::start_repeating(int64_t delay_ms, int64_t repeat_ms) {
  if (delay_ms < 0) delay_ms = 0;
  if (repeat_ms < 1) repeat_ms = 1;
  repeat_ms_ = repeat_ms;
  armed_at_ = now() + Millis(delay_ms);
  uv_update_time(handle_->timer.loop);
  uv_timer_start(&handle_->timer, &Timer::on_timer, static_cast<uint64_t>(delay_ms), static_cast<uint64_t>(repeat_ms));
}

uv_loop_t* Timer::loop() const { return handle_->timer.loop; }

void Timer::start_at(TimePoint when) {
  if (when == kNever) {
    stop();
    return;
  }
  repeat_ms_ = 0;
  armed_at_ = when;
  uv_update_time(handle_->timer.loop);
  uv_timer_start(&handle_->timer, &Timer::on_timer, static_cast<uint64_t>(ms_until(when)), 0);
}

void Timer::stop() {
  armed_at_ = kNever;
  repeat_ms_ = 0;
  uv_timer_stop(&handle_->timer);
}

void Timer::on_timer(uv_timer_t* t) {
  Handle* h = static_cast<Handle*>(t->data);
  if (h->owner == nullptr) return;
  Timer* owner = h->owner;
  owner->armed_at_ = owner->repeat_ms_ > 0 ? now() + Millis(owner->repeat_ms_) : kNever;
  owner->on_fire_();  // may destroy the owner
}

}  // namespace kfk::io
