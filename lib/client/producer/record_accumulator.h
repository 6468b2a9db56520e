// RecordAccumulator: where send() leaves records and the sender picks up
// batches. The producer's data path without the network.
//
// Threads:
//   - append() is called from application threads, any number at once.
//     Each partition has its own queue and mutex, so threads producing to
//     different partitions do not contend. The partition map is found
//     through a small per-thread cache; on a miss it is read under a shared
//     lock, and written only when a partition is first seen.
//   - ready(), drain(), reenqueue(), expire(), mute() run on the network
//     thread (the sender). drain() only looks at the head of each queue,
//     append() only at the tail.
//   - Callbacks run on the CallbackExecutor given in the config (see
//     callback_executor.h), or inline on the completing thread without one.
//
// Memory: every batch holds max(batch.size, its one big record) bytes of
// buffer.memory from creation until its callbacks ran, its buffer reserved
// at that size up front; once it takes no more records, also what its
// per-record bookkeeping (sizes, timestamps, callbacks) grew to. Freed
// batches of batch.size go to a pool and are reused with their buffers
// (Java's BufferPool), so steady-state appends allocate nothing. (A
// compressed batch also holds its compressed copy once drained, and open
// batches' bookkeeping is counted only when they close.)
// batch.size counts uncompressed bytes, as in librdkafka. When an append
// needs a new batch and buffer.memory is used up, it blocks (up to
// max.block.ms) until a batch is freed, then fails with errc::kQueueFull.
//
// Order: a partition's batches are created, drained and re-enqueued in
// order; a retried batch goes back in front of the newer ones. Whether
// several batches of one partition may be in flight at once is the
// sender's call (mute() a partition to keep one in flight).
//
// Sticky partitioning (KIP-480): append(..., abort_on_new_batch = true)
// appends nothing when the record would need a new batch, so the producer
// can tell the partitioner (Partitioner::on_new_batch) and ask it again:
//
//   auto r = acc.append(topic, p, ts, key, value, headers, std::move(cb), now, partitioner.new_batch_hints());
//   if (r.aborted_for_new_batch) {
//     partitioner.on_new_batch(topic, p);
//     p = partitioner.partition(ctx);
//     r = acc.append(topic, p, ts, key, value, headers, std::move(cb), now);
//   }
//   if (r.batch_full || r.new_batch_created) sender.wakeup();
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/producer/interceptors.h"
#include "client/producer/partition_queue.h"
#include "client/producer/producer_batch.h"
#include "io/mutex.h"
#include "kfk/error.h"
#include "kfk/record.h"
#include "protocol/compression.h"

namespace kfk::producer {

class CallbackExecutor;

struct AccumulatorConfig {
  size_t batch_size = 16384;             // batch.size (uncompressed bytes, header included)
  int64_t linger_ms = 5;                 // linger.ms
  size_t buffer_memory = 32u << 20;      // buffer.memory
  int64_t max_block_ms = 60000;          // max.block.ms: how long append() waits for memory
  size_t max_request_size = 1u << 20;    // max.request.size: per record, and per drain()
  int64_t delivery_timeout_ms = 120000;  // delivery.timeout.ms
  int64_t retry_backoff_ms = 100;        // retry.backoff.ms: a re-enqueued batch waits this long,
  int64_t retry_backoff_max_ms = 1000;   // doubling per attempt up to retry.backoff.max.ms (KIP-580)
  proto::Compression compression = proto::Compression::kNone;  // compression.type
  int compression_level = -1;                                  // compression.level (-1: codec default)
  bool transactional = false;            // batches carry the transactional flag

  CallbackExecutor* executor = nullptr;         // where callbacks run; null: inline
  const InterceptorChain* interceptors = nullptr;  // on_acknowledgement before each record's callback
  LogFn log;                                    // throwing callbacks are reported here (default stderr)
};

struct AppendResult {
  Error error;                  // not ok(): nothing appended, the callback was not taken
  bool batch_full = false;      // a batch of this partition is now complete: wake the sender
  bool new_batch_created = false;
  bool aborted_for_new_batch = false;  // only with abort_on_new_batch: nothing appended
};

// A (topic, partition) as the sender names it in drain().
struct PartitionRef {
  std::string_view topic;
  int32_t partition = -1;
};

struct ReadyResult {
  std::vector<int32_t> ready_nodes;  // leaders with something to send, ascending
  // How long until something may become ready (linger, backoff, expiry);
  // INT64_MAX when nothing is queued.
  int64_t next_ready_check_delay_ms = INT64_MAX;
  std::vector<std::string> unknown_leader_topics;  // with data but no known leader: refresh metadata
};

class RecordAccumulator {
 public:
  explicit RecordAccumulator(AccumulatorConfig config);
  // Completes whatever is still queued with errc::kDestroyed (inline). The
  // sender must be gone (no BatchPtr alive) and the executor idle.
  ~RecordAccumulator();
  RecordAccumulator(const RecordAccumulator&) = delete;
  RecordAccumulator& operator=(const RecordAccumulator&) = delete;

  const AccumulatorConfig& config() const { return config_; }

  // now_ms for append(): read the monotonic clock only if a new batch is
  // started. An append into the open batch needs no time at all, which
  // saves a clock read per record.
  static constexpr int64_t kNowIfNeeded = INT64_MIN;
  // Monotonic milliseconds (steady_clock), the time base of every now_ms.
  static int64_t mono_now_ms();

  // Encodes one record into the open batch of (topic, partition), starting a
  // new batch when there is none or the record does not fit. `timestamp` is
  // the record's (ms since the epoch); `now_ms` is monotonic time (linger,
  // expiry), or kNowIfNeeded. On success the callback is moved from; on failure it is left
  // untouched so the caller can report the error through it. Errors:
  // errc::kMessageTooLarge (the record alone exceeds max.request.size or
  // buffer.memory), errc::kQueueFull (no buffer.memory within max.block.ms),
  // errc::kDestroyed (closed), errc::kInvalidArgument (negative partition;
  // the partition count is the caller's business). With `wait_for_memory`
  // false, a full buffer.memory fails at once with errc::kQueueFull.
  // Called from application threads.
  AppendResult append(std::string_view topic, int32_t partition, int64_t timestamp,
                      std::optional<std::span<const uint8_t>> key, std::optional<std::span<const uint8_t>> value,
                      std::span<const Header> headers, DeliveryCallback&& callback, int64_t now_ms,
                      bool abort_on_new_batch = false, bool wait_for_memory = true);
  // The same for a ProducerRecord (its key, value and headers; the topic,
  // partition and timestamp given explicitly, as the producer resolved them).
  AppendResult append(const ProducerRecord& record, int32_t partition, int64_t timestamp, DeliveryCallback&& callback,
                      int64_t now_ms, bool abort_on_new_batch = false, bool wait_for_memory = true);

  // Which leaders have a sendable batch: the head batch of a partition is
  // sendable when it is full (or a newer batch exists), has lingered
  // linger.ms, a flush is in progress, an append is waiting for memory, or
  // the accumulator is closing; never while its retry backoff runs or its
  // partition is muted. leader_of returns -1 for an unknown leader.
  // Runs on the network thread.
  using LeaderFn = std::function<int32_t(std::string_view topic, int32_t partition)>;
  void ready(int64_t now_ms, const LeaderFn& leader_of, ReadyResult& out);
  ReadyResult ready(int64_t now_ms, const LeaderFn& leader_of) {
    ReadyResult r;
    ready(now_ms, leader_of, r);
    return r;
  }

  // Takes at most one batch from the head of each given partition (the
  // partitions `node` leads), rotating the starting partition between calls
  // for fairness, until the next batch would take the total past
  // max_request_size (the first batch is always taken: one batch larger
  // than the limit still goes, alone). Skips muted partitions, batches in
  // retry backoff, and partitions whose head `filter` rejects (the sender's
  // ordering rules; called under the partition lock). With
  // `sendable_only`, also skips heads that ready() would not call sendable
  // (open, lingering, nothing behind them): for a further request to a
  // node in the same pass, which would otherwise take a batch that has
  // just been started and ship it nearly empty. Drained batches are
  // finished (compressed) and appended to `out`.
  // Runs on the network thread.
  using DrainFilter = std::function<bool(const ProducerBatch&)>;
  void drain(int32_t node, std::span<const PartitionRef> partitions, size_t max_request_size, int64_t now_ms,
             std::vector<BatchPtr>& out, const DrainFilter& filter = {}, bool sendable_only = false);

  // Puts a drained batch back for a retry, in front of the newer batches of
  // its partition (never reordering them). It keeps its bytes and sequence
  // numbers; it becomes sendable after retry.backoff.ms.
  // Runs on the network thread.
  void reenqueue(BatchPtr&& batch, int64_t now_ms);

  // For a batch the broker rejected as too large (MESSAGE_TOO_LARGE with
  // more than one record, Java's splitAndReenqueue): re-encodes its records
  // into batches of at most half its size (and at most batch.size,
  // uncompressed sizing), so repeated rejections end at single records.
  // The new batches take its place in
  // the partition's order, each record keeping its callback. Returns how
  // many batches it became, and `batch` is then empty; 0 when it holds a
  // single record (nothing to split: `batch` is left for the caller to
  // complete with the error). The new batches carry no sequence numbers.
  // Runs on the network thread.
  size_t split_and_reenqueue(BatchPtr& batch, int64_t now_ms);

  // Removes the batches that waited delivery.timeout.ms in the queues
  // (from the head of each partition) and completes their records with
  // errc::kMsgTimedOut. Returns how many records expired. take_expired()
  // hands them over instead (uncompleted), for a sender that needs to
  // inspect them first.
  // Runs on the network thread.
  size_t expire(int64_t now_ms);
  std::vector<BatchPtr> take_expired(int64_t now_ms);

  // While muted, a partition's batches are neither ready nor drained (max
  // in-flight 1 per partition: mute on drain, unmute on completion).
  void mute(std::string_view topic, int32_t partition);
  void unmute(std::string_view topic, int32_t partition);
  bool is_muted(std::string_view topic, int32_t partition) const;

  // flush(): begin_flush() makes everything sendable at once; then
  // await_flush_completion() blocks until every batch that existed at
  // begin_flush() has completed and its callbacks ran (errc::kTimedOut
  // after `timeout_ms`, errc::kState when called from a callback).
  // Called from application threads; wake the sender in between.
  uint64_t begin_flush();
  Error await_flush_completion(uint64_t flush_token, int64_t timeout_ms);

  // Stops accepting appends (errc::kDestroyed); everything queued becomes
  // sendable. Blocked appends fail at once.
  void close();
  // Completes every queued (not in-flight) batch with `error`, e.g.
  // errc::kPurged at close. Returns how many records.
  size_t abort_undrained(const Error& error);

  // State, for the sender and for metrics.
  bool has_undrained() const;
  bool has_incomplete() const;
  size_t queued_batch_count() const;
  size_t buffered_bytes() const;        // buffer.memory in use by batches
  size_t available_memory() const;      // buffer.memory left, the pool counted as free
  int waiting_appends() const { return waiters_.load(std::memory_order_relaxed); }

 private:
  friend class ProducerBatch;
  friend struct BatchRecycler;
  using State = ProducerBatch::State;

  PartitionQueue& queue_for(std::string_view topic, int32_t partition);
  PartitionQueue* find_queue(std::string_view topic, int32_t partition) const;
  template <class Fn>
  void for_each_queue(Fn&& fn) const;

  // Counts what a batch's bookkeeping grew to (once it takes no more
  // records) against buffer.memory.
  // Counts a batch's bookkeeping against buffer.memory once it takes no
  // more records, and remembers its size for its partition's next batch.
  void charge_bookkeeping(ProducerBatch* batch);
  // Takes a batch of `reserve` bytes from the pool or buffer.memory, waiting
  // up to max.block.ms (not at all unless `wait`; *waited_ms: how long).
  // Null on failure, with *error set.
  ProducerBatch* allocate(size_t reserve, bool wait, Error* error, int64_t* waited_ms);
  // Returns a batch's memory (to the pool when it fits) after its callbacks
  // ran; wakes blocked appends and flush waiters.
  void recycle(ProducerBatch* batch);
  // Marks a batch an application thread filled as sealed (drain() finishes it).
  void seal(ProducerBatch* batch);
  void insert_in_order(PartitionQueue& q, ProducerBatch* batch) REQUIRES(q.mu);
  // ready()'s test for a partition's head batch, apart from backoff and
  // muting.
  bool head_sendable(const PartitionQueue& q, int64_t now_ms) const REQUIRES(q.mu);
  // A partition's head batch is closed (full): more than one batch, or the
  // head is no longer open.
  static bool head_full(const PartitionQueue& q) REQUIRES(q.mu);
  // Nobody waits for linger.ms: send() is blocked on memory, a flush() is
  // waiting, or the producer is closing.
  bool linger_waived() const;
  // Returns a batch taken by allocate() that ended up unused.
  void release_unused(ProducerBatch* batch);
  proto::BatchBuilder::Options batch_options() const;
  // The wait before a batch's next attempt after `attempts` attempts:
  // retry.backoff.ms doubled per earlier retry, capped by
  // retry.backoff.max.ms (no jitter: ready() and drain() must agree).
  int64_t retry_backoff_ms(int attempts) const {
    int64_t b = config_.retry_backoff_ms;
    const int64_t cap = std::max(config_.retry_backoff_max_ms, config_.retry_backoff_ms);
    for (int i = 1; i < attempts && b < cap; ++i) b *= 2;
    return std::min(b, cap);
  }
  void log(std::string_view message) const;

  AccumulatorConfig config_;
  const uint64_t id_;  // unique per accumulator (keys the per-thread queue cache)

  mutable SharedMutex queues_mu_;
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const PartitionRef& k) const noexcept;
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const PartitionRef& a, const PartitionRef& b) const noexcept {
      return a.partition == b.partition && a.topic == b.topic;
    }
  };
  // Keys view the queue's own topic string; queues live as long as the
  // accumulator, so references to them stay valid without the lock.
  std::unordered_map<PartitionRef, std::unique_ptr<PartitionQueue>, KeyHash, KeyEq> queues_ GUARDED_BY(queues_mu_);

  // buffer.memory, the pool, the incomplete list.
  mutable Mutex mem_mu_;
  CondVar mem_cv_;    // memory freed, or closing
  CondVar flush_cv_;  // a batch completed
  size_t used_ GUARDED_BY(mem_mu_) = 0;                   // held by live batches (bytes and bookkeeping)
  std::vector<ProducerBatch*> pool_ GUARDED_BY(mem_mu_);  // free batches of batch_size
  size_t pool_bytes_ GUARDED_BY(mem_mu_) = 0;  // held by pool_: batch_size and kept bookkeeping capacity each
  std::atomic<int> waiters_{0};                // appends blocked on memory
  int flush_waiters_ GUARDED_BY(mem_mu_) = 0;
  uint64_t next_batch_id_ GUARDED_BY(mem_mu_) = 1;
  ProducerBatch* incomplete_head_ GUARDED_BY(mem_mu_) = nullptr;  // oldest first
  ProducerBatch* incomplete_tail_ GUARDED_BY(mem_mu_) = nullptr;

  std::atomic<int> flushes_in_progress_{0};
  std::atomic<bool> closed_{false};
  std::unordered_map<int32_t, size_t> drain_index_;  // network thread only
};

}  // namespace kfk::producer
