// IdempotenceState: the idempotent producer's id, epoch and per-partition
// sequence numbers, and the per-partition in-flight counts the sender's
// ordering rules need.
//
// Runs on the network thread (the Sender owns it).
//
// Kafka's rules (KIP-98, KIP-360): each batch carries (producer id, epoch,
// base sequence); the broker accepts a batch whose base sequence is the last
// one it appended for the partition plus one, drops a repeated one
// (DUPLICATE_SEQUENCE_NUMBER) and rejects a gap (OUT_OF_ORDER_SEQUENCE_NUMBER).
// Sequences wrap from INT32_MAX to 0. A new epoch restarts every partition
// at sequence 0.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kfk::producer {

class IdempotenceState {
 public:
  struct Partition {
    int32_t next_sequence = 0;   // the base sequence of the next new batch
    int32_t last_acked = -1;     // the last sequence the broker acknowledged
    int in_flight = 0;           // batches of this partition in flight
  };

  bool has_producer_id() const { return producer_id_ >= 0; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }

  // A new id or epoch: every partition restarts at sequence 0 (in-flight
  // counts are kept: the sender only bumps with nothing in flight).
  void set_producer(int64_t producer_id, int16_t producer_epoch);
  void clear_producer() { producer_id_ = -1; producer_epoch_ = -1; }

  // Bump requested (a gap in some partition's sequence); cleared by
  // set_producer().
  bool bump_pending() const { return bump_pending_; }
  void request_bump() { bump_pending_ = true; }

  Partition& partition(std::string_view topic, int32_t partition);

  // Sequence arithmetic, wrapping like Kafka's DefaultRecordBatch.
  static int32_t add(int32_t sequence, int32_t count) {
    int64_t s = int64_t{sequence} + count;
    if (s > INT32_MAX) s -= int64_t{INT32_MAX} + 1;
    return static_cast<int32_t>(s);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  bool bump_pending_ = false;
  std::unordered_map<std::string, std::vector<Partition>, Hash, std::equal_to<>> topics_;
};

}  // namespace kfk::producer
