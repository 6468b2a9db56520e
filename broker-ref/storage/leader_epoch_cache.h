// Leader epoch -> start offset of that epoch, persisted in the partition's
// `leader-epoch-checkpoint` file (Kafka's text format: "0", the entry
// count, then "epoch startOffset" lines). Answers OffsetForLeaderEpoch and
// lets a future follower truncate correctly after a leader change.
//
// Thread ownership: owned by a Log, used under the Log's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "storage/fd_cache.h"
#include "storage/status.h"

namespace kfk::broker {

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

class LeaderEpochCache {
 public:
  static constexpr int32_t kUndefinedEpoch = -1;
  static constexpr int64_t kUndefinedOffset = -1;

  // Reads the checkpoint in `dir` (a missing file is an empty cache; a
  // malformed one is dropped and rebuilt from the log by the caller).
  Status load(std::shared_ptr<const PartitionDir> dir, bool* was_corrupt = nullptr);

  // Records that `epoch` starts at `start_offset`, when epoch is newer than
  // the latest one (older or equal epochs are ignored). Writes the file
  // unless `defer_flush` (the loader flushes once at the end).
  Status assign(int32_t epoch, int64_t start_offset, bool defer_flush = false);

  std::optional<int32_t> latest_epoch() const;
  // The epoch of the batch holding `offset` (the last entry starting at or
  // before it), or kUndefinedEpoch.
  int32_t epoch_for_offset(int64_t offset) const;
  // Kafka's LeaderEpochFileCache.endOffsetFor: (epoch, end offset) where the
  // end offset is the start of the next higher epoch, or the log end offset
  // for the latest epoch; (-1, -1) when unknown.
  std::pair<int32_t, int64_t> end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  // Drops entries starting at or after `end_offset` (log truncation).
  Status truncate_from_end(int64_t end_offset, bool defer_flush = false);
  // Log start offset moved: entries before it go, the one covering it now
  // starts there.
  Status truncate_from_start(int64_t start_offset, bool defer_flush = false);
  Status clear();

  Status flush();
  const std::vector<EpochEntry>& entries() const { return entries_; }

 private:
  std::shared_ptr<const PartitionDir> dir_;
  std::vector<EpochEntry> entries_;  // ascending epoch and start offset
};

}  // namespace kfk::broker
