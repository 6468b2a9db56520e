// Idempotent / transactional producer state of one partition (Kafka's
// ProducerStateManager): producer id -> epoch, the last 5 batches'
// sequence and offset ranges (duplicate detection), last timestamp,
// coordinator epoch and the first offset of an open transaction.
//
// Persisted as `<20-digit offset>.snapshot` files in the partition dir
// (own binary format, CRC32C-protected), taken at segment roll and clean
// shutdown; on open the latest snapshot is loaded and the batch headers
// after it are replayed.
//
// Thread ownership: owned by a Log, used under the Log's mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "protocol/record_batch.h"
#include "storage/status.h"

namespace kfk::broker {

struct ProducerBatchInfo {
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t timestamp = -1;  // the batch's max timestamp
  bool operator==(const ProducerBatchInfo&) const = default;
};

struct ProducerEntry {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  std::deque<ProducerBatchInfo> batches;  // oldest first, at most kNumBatchesToRetain
  int64_t last_timestamp = -1;
  int32_t coordinator_epoch = -1;
  int64_t current_txn_first_offset = -1;  // -1: no open transaction

  int32_t last_seq() const { return batches.empty() ? -1 : batches.back().last_seq; }
  int64_t last_data_offset() const { return batches.empty() ? -1 : batches.back().last_offset; }
  bool operator==(const ProducerEntry&) const = default;
};

// The marker of a control batch (transaction commit/abort).
struct ControlMarker {
  proto::ControlType type = proto::ControlType::kAbort;
  int32_t coordinator_epoch = -1;
};
// Decodes a control batch's first record; nullopt when it is not one.
std::optional<ControlMarker> parse_control_marker(const proto::BatchSpan& batch);

class ProducerStateManager {
 public:
  static constexpr size_t kNumBatchesToRetain = 5;

  // Checks for one append call, staged so that several batches of the same
  // producer in one request are checked against each other (Kafka's
  // ProducerAppendInfo). Nothing changes until commit().
  class Append {
   public:
    explicit Append(const ProducerStateManager& m) : mgr_(m) {}
    // Checks one batch whose header already carries its final offsets.
    // Errors: INVALID_PRODUCER_EPOCH (older epoch), OUT_OF_ORDER_SEQUENCE_NUMBER,
    // UNKNOWN_PRODUCER_ID (unknown producer, sequence != 0),
    // TRANSACTION_COORDINATOR_FENCED (marker from an older coordinator),
    // INVALID_RECORD (producer id without a sequence). When *duplicate is set
    // the batch was appended before: the caller answers with those offsets.
    Status check(const proto::BatchHeader& h, const std::optional<ControlMarker>& marker,
                 std::optional<ProducerBatchInfo>* duplicate);
    bool empty() const { return staged_.empty(); }

   private:
    friend class ProducerStateManager;
    const ProducerEntry* current(int64_t pid) const;
    const ProducerStateManager& mgr_;
    std::map<int64_t, ProducerEntry> staged_;
  };

  void commit(Append&& a);
  // Applies a batch already in the log (recovery, snapshot catch-up): no checks.
  void replay(const proto::BatchHeader& h, const std::optional<ControlMarker>& marker);

  const ProducerEntry* find(int64_t producer_id) const;
  const std::map<int64_t, ProducerEntry>& entries() const { return producers_; }
  // Smallest first offset of an open transaction, or -1.
  int64_t first_unstable_offset() const;
  void clear() { producers_.clear(); }

  // Snapshot files in the partition dir.
  Status write_snapshot(int dirfd, int64_t offset) const;
  // Loads the newest valid snapshot at or below max_offset; snapshots above
  // it and corrupt ones are deleted. *offset = its offset, or -1 (state
  // cleared) when there is none.
  Status load_latest_snapshot(int dirfd, int64_t max_offset, int64_t* offset);
  static std::vector<int64_t> list_snapshots(int dirfd);  // ascending
  static void delete_snapshots_above(int dirfd, int64_t offset);
  static void retain_latest_snapshots(int dirfd, size_t keep);

  // Serialization, exposed for tests.
  std::vector<uint8_t> encode_snapshot() const;
  bool decode_snapshot(std::span<const uint8_t> bytes);

 private:
  static void apply_batch(ProducerEntry& e, const proto::BatchHeader& h, const std::optional<ControlMarker>& marker);
  std::map<int64_t, ProducerEntry> producers_;
};

}  // namespace kfk::broker
