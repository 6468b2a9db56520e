// ProducerBatch: the records of one partition travelling together, encoded
// once (by proto::BatchBuilder) into the bytes that go on the wire.
//
// Life of a batch (owner: the RecordAccumulator that made it):
//   open      the newest batch of its partition; application threads append
//   sealed    closed for appends at batch.size (or when drained after
//             linger.ms / flush()); finished (compressed, header written)
//             by drain() on the network thread
//   in flight drained by the sender (a BatchPtr it holds); then either
//             RecordAccumulator::reenqueue (retry: same bytes, same
//             sequence numbers, back in its place in the partition's queue)
//             or ProducerBatch::complete
//   done      complete() hands the batch to the callback thread, which calls
//             every record's callback in order and then returns the batch
//             (its buffers, its buffer.memory) to the accumulator's pool.
//
// A BatchPtr that is destroyed without complete() completes the batch with
// errc::kPurged: a record's callback is never lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "kfk/error.h"
#include "kfk/record.h"
#include "protocol/record_batch.h"

namespace kfk::producer {

class RecordAccumulator;
struct PartitionQueue;
class ProducerBatch;

struct BatchRecycler {
  void operator()(ProducerBatch* batch) const noexcept;
};
// Owning handle for a batch outside its partition queue (drained, expired).
using BatchPtr = std::unique_ptr<ProducerBatch, BatchRecycler>;

class ProducerBatch {
 public:
  ProducerBatch(const ProducerBatch&) = delete;
  ProducerBatch& operator=(const ProducerBatch&) = delete;

  std::string_view topic() const { return topic_; }
  int32_t partition() const { return partition_; }
  int32_t record_count() const { return static_cast<int32_t>(records_.size()); }

  int64_t created_ms() const { return created_ms_; }
  int64_t drained_ms() const { return drained_ms_; }
  int64_t last_attempt_ms() const { return last_attempt_ms_; }
  // Times the batch was re-enqueued for a retry.
  int attempts() const { return attempts_; }
  bool in_retry() const { return attempts_ > 0; }

  // The batch as it goes on the wire. Only for a finished batch (every
  // batch handed out by drain() is finished).
  std::span<const uint8_t> bytes() const { return bytes_; }
  bool finished() const { return finished_; }
  // Wire size when finished; before, the uncompressed size so far.
  size_t size_bytes() const { return finished_ ? bytes_.size() : builder_.estimated_size(); }

  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }
  int32_t base_sequence() const { return base_sequence_; }
  bool has_sequence() const { return base_sequence_ >= 0; }
  // The last record's sequence (wrapping like Kafka's); -1 without sequence.
  int32_t last_sequence() const;

  // Sets producerId / producerEpoch / baseSequence (idempotent and
  // transactional producers; the sender does this when it drains the batch,
  // or again after an epoch bump). Rewrites the header and CRC of a
  // finished batch in place. Runs on the network thread.
  void set_producer_state(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

  // Java's hasReachedDeliveryTimeout: created at least delivery.timeout.ms ago.
  bool has_reached_delivery_timeout(int64_t now_ms, int64_t delivery_timeout_ms) const {
    return now_ms - created_ms_ >= delivery_timeout_ms;
  }
  // errc::kMsgTimedOut naming the partition and the age (Java's
  // "Expiring N record(s) for t-p: X ms has passed since batch creation").
  Error expiry_error(int64_t now_ms) const;

  // Completes every record of the batch: each record's callback (and the
  // interceptors' on_acknowledgement) gets its RecordMetadata, offset =
  // base_offset + its index (-1 when base_offset < 0, e.g. acks=0 or an
  // error), timestamp = log_append_time when >= 0 (LogAppendTime topic),
  // else the record's own; on error offset and timestamp are -1. Callbacks
  // run on the accumulator's CallbackExecutor (or right here without one),
  // in record order; the batch is then recycled. Takes the batch over.
  // Runs on the network thread (any thread is fine).
  static void complete(BatchPtr&& batch, int64_t base_offset, int64_t log_append_time, Error error);

 private:
  friend class RecordAccumulator;
  friend struct BatchRecycler;

  enum class State : uint8_t { kOpen, kSealing, kSealed, kInFlight, kDone };

  // What completion needs of each record: 16 bytes, no allocation.
  struct RecordInfo {
    int64_t timestamp;
    int32_t key_size;    // -1: null
    int32_t value_size;  // -1: null
  };

  explicit ProducerBatch(RecordAccumulator* owner);

  // (Re)starts a pooled or new batch for one partition.
  void start(PartitionQueue* queue, std::string_view topic, int32_t partition, uint64_t queue_seq, int64_t now_ms,
             const proto::BatchBuilder::Options& options, size_t reserved);
  // Room for this many records and callbacks without regrowing (a fresh
  // batch, before it is visible to other threads).
  void reserve_bookkeeping(size_t records, size_t callbacks) {
    records_.reserve(records);
    callbacks_.reserve(callbacks);
  }
  // True when a record of (at most) record_bound bytes fits under batch_size.
  bool has_room_for(size_t record_bound, size_t batch_size) const {
    return records_.empty() || builder_.estimated_size() + record_bound <= batch_size;
  }
  void append(int64_t timestamp, std::optional<std::span<const uint8_t>> key,
              std::optional<std::span<const uint8_t>> value, std::span<const proto::RecordHeader> headers,
              DeliveryCallback&& callback);
  // Heap held per record beside the bytes (72 B with a callback: as much
  // as a small record's own bytes), counted against buffer.memory too.
  size_t bookkeeping_bytes() const {
    return records_.capacity() * sizeof(RecordInfo) + callbacks_.capacity() * sizeof(DeliveryCallback);
  }
  // Builds the final bytes (compressing), then applies the producer state.
  void finish();
  // Runs the callbacks, then hands the batch back to its owner.
  void run_completion();
  static void run_completion_thunk(void* self) { static_cast<ProducerBatch*>(self)->run_completion(); }

  RecordAccumulator* owner_;
  PartitionQueue* queue_ = nullptr;
  std::string_view topic_;  // the partition queue's copy
  int32_t partition_ = -1;
  State state_ = State::kOpen;  // guarded by the partition queue's mutex while queued
  bool finished_ = false;

  proto::BatchBuilder builder_;
  std::span<const uint8_t> bytes_;       // into builder_ once finished
  std::vector<RecordInfo> records_;      // one per record; capacity kept across reuse
  std::vector<DeliveryCallback> callbacks_;  // up to the last record that has one; capacity kept

  uint64_t id_ = 0;         // accumulator-wide creation order (flush)
  uint64_t queue_seq_ = 0;   // creation order within the partition (retries keep their place)
  // Order among the batches split from one (same queue_seq_): each covers
  // [split_lo_, split_hi_) of its original's range; parts of a split
  // subdivide it (2^62 leaves room for 62 halvings).
  static constexpr uint64_t kSplitRange = uint64_t{1} << 62;
  uint64_t split_lo_ = 0;
  uint64_t split_hi_ = kSplitRange;
  size_t reserved_ = 0;     // buffer.memory held for the bytes
  size_t charged_ = 0;      // buffer.memory held for records_ and callbacks_ (see bookkeeping_bytes())
  int64_t created_ms_ = 0;
  int64_t drained_ms_ = -1;
  int64_t last_attempt_ms_ = 0;
  int attempts_ = 0;

  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;

  int64_t base_offset_ = -1;
  int64_t log_append_time_ = -1;
  Error error_;

  // The accumulator's list of incomplete batches (flush() waits on it).
  ProducerBatch* incomplete_prev_ = nullptr;
  ProducerBatch* incomplete_next_ = nullptr;
};

}  // namespace kfk::producer
