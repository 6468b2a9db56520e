// Long-poll Fetch requests waiting for data (Kafka's fetch purgatory).
// A waiter completes when enough bytes were appended to its partitions,
// when its max wait passes, or at shutdown; completion runs its callback on
// the next loop iteration (never inside the Produce that triggered it, so a
// handler never re-enters another connection).
//
// Thread ownership: the loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "io/timer.h"
#include "storage/checkpoint_file.h"

namespace kfk::broker {

class FetchWaiters {
 public:
  explicit FetchWaiters(uv_loop_t* loop);
  ~FetchWaiters();
  FetchWaiters(const FetchWaiters&) = delete;
  FetchWaiters& operator=(const FetchWaiters&) = delete;

  // Waits until `bytes_needed` more bytes were appended to `partitions`
  // (counting `bytes_have` already there), or `max_wait_ms`. `done` runs once.
  void add(const std::vector<TopicPartition>& partitions, int64_t bytes_have, int64_t bytes_needed,
           int64_t max_wait_ms, std::function<void()> done);
  // Produce appended `bytes` to topic/partition.
  void notify(std::string_view topic, int32_t partition, size_t bytes);
  // Shutdown: completes every waiter now (synchronously).
  void complete_all();
  // Releases the timer (the loop must run once more to free its handle).
  void close();
  size_t size() const { return waiters_.size(); }

 private:
  struct Waiter {
    std::vector<TopicPartition> partitions;
    int64_t bytes_have = 0;
    int64_t bytes_needed = 0;
    uint64_t deadline = 0;  // uv_now() ms
    std::function<void()> done;
  };

  void finish(uint64_t id);
  void arm();
  void on_timer();

  uv_loop_t* loop_;
  std::unique_ptr<io::Timer> timer_;  // null once closed
  uint64_t next_id_ = 1;
  std::map<uint64_t, Waiter> waiters_;
  std::map<TopicPartition, std::set<uint64_t>, std::less<>> by_partition_;
  std::multimap<uint64_t, uint64_t> deadlines_;  // deadline -> id
  std::set<uint64_t> ready_;
};

}  // namespace kfk::broker
