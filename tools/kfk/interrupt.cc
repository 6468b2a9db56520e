// SIGINT/SIGTERM handling of the kfk tool (see interrupt.h).
#include "interrupt.h"

#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

namespace kfk::tool {
namespace {

std::atomic<int> g_signal{0};            // the first signal's number; 0: none yet
std::atomic<int64_t> g_signal_at_ms{0};  // CLOCK_MONOTONIC ms when it arrived
pthread_t g_main_thread;
sem_t g_wake;  // posted by the handler (async-signal-safe) and by finish

std::mutex g_mu;  // guards what follows
std::condition_variable g_cv;
bool g_done = false;
std::function<void()> g_hook;
std::thread g_watcher;

int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Runs on whichever thread the kernel picked. Only async-signal-safe calls.
extern "C" void on_stop_signal(int sig) {
  int saved_errno = errno;
  if (!pthread_equal(pthread_self(), g_main_thread)) {
    // The main thread is the one blocked in read()/poll(): give it the
    // signal so that its call returns with EINTR.
    pthread_kill(g_main_thread, sig);
    errno = saved_errno;
    return;
  }
  if (g_signal.load() == 0) g_signal_at_ms.store(monotonic_ms());
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) _exit(128 + expected);  // the second signal
  sem_post(&g_wake);
  errno = saved_errno;
}

// The watcher thread: waits for the first signal, runs the stop hook, and
// ends the process if main() has not returned within the grace period.
void watch() {
  while (sem_wait(&g_wake) != 0 && errno == EINTR) {
  }
  std::unique_lock<std::mutex> lock(g_mu);
  if (g_done) return;
  const int sig = g_signal.load();
  if (g_hook) g_hook();
  if (g_cv.wait_for(lock, std::chrono::milliseconds(kGraceMs), [] { return g_done; })) return;
  const std::string msg = "kfk: interrupted: stopped without waiting for the broker\n";
  (void)!write(STDERR_FILENO, msg.data(), msg.size());
  _exit(128 + sig);
}

}  // namespace

void install_interrupt_handling() {
  g_main_thread = pthread_self();
  sem_init(&g_wake, 0, 0);
  // The watcher never takes the signals (it inherits this mask).
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  g_watcher = std::thread(watch);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read of stdin returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void finish_interrupt_handling() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_done = true;
    g_hook = nullptr;
  }
  g_cv.notify_all();
  sem_post(&g_wake);
  if (g_watcher.joinable()) g_watcher.join();
}

bool interrupted() { return g_signal.load() != 0; }

void set_stop_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(g_mu);  // waits while the watcher runs the old hook
  g_hook = std::move(hook);
  if (g_hook && interrupted()) g_hook();
}

std::chrono::milliseconds stop_budget(std::chrono::milliseconds normal) {
  if (!interrupted()) return normal;
  constexpr int64_t kExitMarginMs = 150;  // left for close() and the process exit
  int64_t left = kGraceMs - kExitMarginMs - (monotonic_ms() - g_signal_at_ms.load());
  return std::chrono::milliseconds(std::max<int64_t>(0, std::min<int64_t>(left, normal.count())));
}

}  // namespace kfk::tool
