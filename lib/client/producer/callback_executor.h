// CallbackExecutor: the producer's callback thread.
//
// Why a thread of its own: Java runs delivery callbacks on its I/O thread,
// so one slow callback stalls the network for every partition. kfk's network
// thread only hands completed batches over (ProducerBatch::complete); this
// single worker runs the records' callbacks in submission order, which keeps
// the per-partition record order, and a slow callback delays only later
// callbacks. Batches (and their buffer.memory) are released after their
// callbacks ran, so callbacks that cannot keep up slow send() down instead of
// letting memory grow.
#pragma once

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "io/mutex.h"

namespace kfk::producer {

class CallbackExecutor {
 public:
  CallbackExecutor();
  // Runs whatever is still queued, then stops the thread.
  ~CallbackExecutor();
  CallbackExecutor(const CallbackExecutor&) = delete;
  CallbackExecutor& operator=(const CallbackExecutor&) = delete;

  // Queues fn(arg). No allocation once the queue has grown to its working
  // size. Called from any thread (the network thread, mostly).
  void submit(void (*fn)(void*), void* arg);
  // Queues an arbitrary task (may allocate).
  void post(std::function<void()> task);

  // Blocks until everything submitted before the call has run. Must not be
  // called on the executor thread (returns at once there).
  void wait_idle();

  // True on the executor's own thread (to refuse blocking calls, like
  // flush(), from inside a callback).
  bool on_executor_thread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  struct Task {
    void (*fn)(void*) = nullptr;
    void* arg = nullptr;
    std::function<void()> task;
  };
  void run();

  Mutex mu_;
  CondVar wake_;                        // the worker: work arrived or stopping
  CondVar idle_;                        // wait_idle(): a round finished
  std::vector<Task> queue_ GUARDED_BY(mu_);  // filled by submitters
  std::vector<Task> running_;  // the worker's own; swapped with queue_ under mu_ (keeps both capacities)
  uint64_t submitted_ GUARDED_BY(mu_) = 0;
  uint64_t done_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread::id thread_id_;
  std::thread thread_;
};

}  // namespace kfk::producer
