// How the kfk tool stops on SIGINT/SIGTERM, whatever the broker does.
//
// The first signal asks the running mode to stop: interrupted() turns true,
// the mode's stop hook runs (on the watcher thread; e.g. Consumer::wakeup()),
// and a blocking read of standard input returns (EINTR). The mode then
// finishes cleanly within stop_budget(): consumers commit what they printed,
// producers deliver what they read. If the process has not exited
// kGraceMs after the signal (a call blocked on an unreachable broker), the
// watcher thread ends it with status 128+signal (130 SIGINT, 143 SIGTERM);
// a second signal ends it at once with that status.
//
// Threads: install() and finish() on the main thread; the signal handler
// runs on the main thread (other threads forward it there); the stop hook
// and the forced exit on the watcher thread.
#pragma once

#include <chrono>
#include <functional>

namespace kfk::tool {

// Milliseconds between the first signal and the forced exit.
inline constexpr int kGraceMs = 1000;

// Installs the handlers and starts the watcher thread (main(), once).
void install_interrupt_handling();
// Stops the watcher thread before main() returns.
void finish_interrupt_handling();

// True once SIGINT or SIGTERM arrived.
bool interrupted();

// Runs `hook` on the watcher thread when the first signal arrives (at once, on
// the calling thread, if it already did); an empty hook removes it. The hook must stay valid
// until it is replaced or removed (a mode removes it before its objects go).
void set_stop_hook(std::function<void()> hook);

// set_stop_hook() for a scope: declare it after the objects the hook uses,
// so that it is removed before they go.
class ScopedStopHook {
 public:
  explicit ScopedStopHook(std::function<void()> hook) { set_stop_hook(std::move(hook)); }
  ~ScopedStopHook() { set_stop_hook({}); }
  ScopedStopHook(const ScopedStopHook&) = delete;
  ScopedStopHook& operator=(const ScopedStopHook&) = delete;
};

// How long a final call (commit, flush, close) may take: `normal` while no
// signal arrived, else what is left of the grace period minus a margin for
// exiting (at least 0).
std::chrono::milliseconds stop_budget(std::chrono::milliseconds normal);

}  // namespace kfk::tool
