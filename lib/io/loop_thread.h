// Which thread runs a libuv loop, checked where it matters.
//
// A uv loop, its handles and every object that owns handles belong to the
// one thread that runs the loop: the client's network thread, broker-ref's
// loop thread. Headers say so ("Runs on the network thread"); these checks
// make a call from any other thread fail loudly in debug builds and tests
// instead of racing silently:
//
//   // the thread that runs the loop:
//   io::LoopThreadScope on_loop(&loop_);   // for as long as uv_run runs
//   uv_run(&loop_, UV_RUN_DEFAULT);
//
//   // an entry point that must run on that thread:
//   void Sender::run() {
//     KFK_DCHECK_ON_LOOP(nc_.loop());
//
// KFK_DCHECK_ON_LOOP aborts with the file, line and function when the
// calling thread is not inside a LoopThreadScope of that loop. It is active
// when NDEBUG is not defined (debug and debugoptimized builds, which the
// tests use) and expands to nothing in release builds: no load, no branch.
//
// The scope is a thread_local pointer, set and restored around uv_run; a
// thread that drives a loop without one (a test running uv_run by hand)
// must open one too.
#pragma once

#include <cstdio>
#include <cstdlib>

#include <uv.h>

namespace kfk::io {

namespace detail {
// The loop the calling thread is running, or null. One per thread.
inline thread_local const uv_loop_t* running_loop = nullptr;
}  // namespace detail

// Marks the calling thread as the one running `loop` for the scope
// (nests: the previous loop is restored at the end).
class LoopThreadScope {
 public:
  explicit LoopThreadScope(const uv_loop_t* loop) : previous_(detail::running_loop) { detail::running_loop = loop; }
  ~LoopThreadScope() { detail::running_loop = previous_; }
  LoopThreadScope(const LoopThreadScope&) = delete;
  LoopThreadScope& operator=(const LoopThreadScope&) = delete;

 private:
  const uv_loop_t* previous_;
};

// True when the calling thread runs `loop` (inside its LoopThreadScope).
inline bool on_loop_thread(const uv_loop_t* loop) { return loop != nullptr && detail::running_loop == loop; }

[[noreturn]] inline void loop_check_failed(const char* file, int line, const char* func) {
  std::fprintf(stderr, "kfk: %s:%d: %s must run on its loop's thread, and this thread does not run that loop\n",
               file, line, func);
  std::abort();
}

}  // namespace kfk::io

#ifndef NDEBUG
#define KFK_DCHECK_ON_LOOP(loop) \
  (::kfk::io::on_loop_thread(loop) ? (void)0 : ::kfk::io::loop_check_failed(__FILE__, __LINE__, __func__))
#else
#define KFK_DCHECK_ON_LOOP(loop) ((void)0)
#endif
