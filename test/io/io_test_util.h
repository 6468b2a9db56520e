// Helpers for the io tests: a private libuv loop run until a condition
// holds. Runs on the test's thread (which is the loop's thread).
#pragma once

#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <thread>

namespace kfk::io::test {

class Loop {
 public:
  Loop() { uv_loop_init(&loop_); }
  ~Loop() {
    uv_walk(
        &loop_, [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` holds; false if it still does not after
  // `limit` (a guard against hanging, not a timing assertion).
  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  // Lets pending close callbacks run.
  void settle() {
    for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  }

 private:
  uv_loop_t loop_{};
};

}  // namespace kfk::io::test
