#include "client/producer/callback_executor.h"

#include <cstdio>
#include <exception>

namespace kfk::producer {

CallbackExecutor::CallbackExecutor() {
  MutexLock lk(mu_);
  thread_ = std::thread([this] { run(); });
  thread_id_ = thread_.get_id();
}

CallbackExecutor::~CallbackExecutor() {
  {
    MutexLock lk(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void CallbackExecutor::submit(void (*fn)(void*), void* arg) {
  bool was_empty;
  {
    MutexLock lk(mu_);
    was_empty = queue_.empty();
    queue_.push_back(Task{fn, arg, {}});
    ++submitted_;
  }
  // The worker only sleeps on an empty queue: one notify per burst suffices.
  if (was_empty) wake_.notify_one();
}

void CallbackExecutor::post(std::function<void()> task) {
  bool was_empty;
  {
    MutexLock lk(mu_);
    was_empty = queue_.empty();
    queue_.push_back(Task{nullptr, nullptr, std::move(task)});
    ++submitted_;
  }
  if (was_empty) wake_.notify_one();
}

void CallbackExecutor::wait_idle() {
  if (on_executor_thread()) return;
  MutexLock lk(mu_);
  const uint64_t target = submitted_;
  while (done_ < target) idle_.wait(lk);
}

void CallbackExecutor::run() {
  MutexLock lk(mu_);
  // thread_id_ is written by the constructor while holding mu_; reading it
  // here, after taking mu_, is ordered after that write.
  while (true) {
    while (!stopping_ && queue_.empty()) wake_.wait(lk);
    if (queue_.empty()) break;  // stopping, and nothing left to run
    running_.swap(queue_);
    lk.unlock();
    for (Task& t : running_) {
      // Callbacks are wrapped where they are invoked (ProducerBatch); this
      // is the last line of defence for posted tasks.
      try {
        if (t.fn != nullptr)
          t.fn(t.arg);
        else if (t.task)
          t.task();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kfk producer: callback task threw: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "kfk producer: callback task threw\n");
      }
    }
    const size_t n = running_.size();
    running_.clear();  // destroys posted std::functions outside the lock
    lk.lock();
    done_ += n;
    idle_.notify_all();
  }
}

}  // namespace kfk::producer
