// NetworkThread: one libuv loop on its own std::thread. Every client
// (producer, consumer, admin) owns one; all socket I/O, timers and
// protocol state of that client live on it.
//
// Thread rules:
//   - post() and stop() may be called from any thread (stop() not from the
//     loop thread itself: it joins it);
//   - loop(), add_stop_hook() and everything handed a uv_loop_t* run on the
//     loop thread only (inside posted functions or loop callbacks).
//
//   NetworkThread nt;
//   nt.start();
//   nt.post([&] { /* on the loop thread */ });
//   nt.stop();   // runs the stop hooks, closes every handle, joins
#pragma once

#include <uv.h>

#include <functional>
#include <thread>
#include <vector>

#include "io/loop_thread.h"
#include "io/mutex.h"

namespace kfk::net {

class NetworkThread {
 public:
  NetworkThread();
  ~NetworkThread();  // stop()
  NetworkThread(const NetworkThread&) = delete;
  NetworkThread& operator=(const NetworkThread&) = delete;

  // Starts the loop thread. Once only.
  void start();

  // Any thread: runs `fn` on the loop thread, in posting order. Returns
  // false, and drops `fn` (destroying it on the calling thread), once stop()
  // has begun or before start().
  bool post(std::function<void()> fn);

  // Any thread except the loop thread. Runs the functions already posted,
  // then the stop hooks (last registered first) on the loop thread, waits
  // for every uv handle to close and joins. Idempotent.
  void stop();

  // Loop thread only.
  uv_loop_t* loop() { return &loop_; }
  // Any thread: whether the caller is this loop's thread (io/loop_thread.h).
  bool in_loop_thread() const { return io::on_loop_thread(&loop_); }
  // Loop thread only: `hook` runs during stop(), before the loop ends. Owners
  // of loop objects tear them down here (failing pending work with
  // errc::kDestroyed and closing their handles).
  void add_stop_hook(std::function<void()> hook);

  // Any thread.
  bool running() const;

 private:
  static void on_async(uv_async_t* a);
  void drain();
  void run();

  uv_loop_t loop_;
  uv_async_t async_;
  std::thread thread_;

  mutable Mutex mu_;
  std::vector<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  Mutex stop_mu_;                          // serializes stop()
  bool stopped_ GUARDED_BY(stop_mu_) = false;  // stop() completed

  std::vector<std::function<void()>> stop_hooks_;  // loop thread only
  bool hooks_ran_ = false;                         // loop thread only
};

}  // namespace kfk::net
