// One log segment: `<base>.log` (record batches back to back, exactly as
// appended) with its `.index` and `.timeindex`. Kafka's LogSegment.
//
// Thread ownership: created and mutated (append, truncate, rename, seal)
// only under the owning Log's mutex, or by the single thread that builds it
// before it is published (loader, cleaner). Readers hold a
// std::shared_ptr<LogSegment>: the fd stays open until the last holder lets
// go, so a fetch in flight survives retention deleting the segment. fd() and
// base_offset() never change and may be used without the Log's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "protocol/record_batch.h"
#include "storage/fd_cache.h"
#include "storage/file_util.h"
#include "storage/segment_index.h"

namespace kfk::broker {

class LeaderEpochCache;

class LogSegment {
 public:
  static constexpr const char* kLogExt = ".log";
  static constexpr const char* kIndexExt = ".index";
  static constexpr const char* kTimeIndexExt = ".timeindex";
  // Suffixes added after the extension (Kafka's names).
  static constexpr const char* kDeletedSuffix = ".deleted";
  static constexpr const char* kCleanedSuffix = ".cleaned";
  static constexpr const char* kSwapSuffix = ".swap";

  // A new, empty segment (files with the same names are truncated).
  static Status create(const PartitionDirPtr& dir, int64_t base_offset, const std::string& suffix, int64_t now_ms,
                       std::shared_ptr<LogSegment>* out);
  // An existing segment: loads the indexes and finds the next offset by
  // scanning from the last index entry. *needs_recovery gets a reason when an
  // index is missing or fails its sanity check, or the tail does not parse;
  // the caller then runs recover().
  static Status open(const PartitionDirPtr& dir, int64_t base_offset, const std::string& suffix, int64_t now_ms,
                     std::shared_ptr<LogSegment>* out, std::string* needs_recovery);

  LogSegment(const LogSegment&) = delete;
  LogSegment& operator=(const LogSegment&) = delete;

  int64_t base_offset() const { return base_; }
  // The open `.log` (reopened when the cache closed it).
  Status log_file(FileHandle* out) const { return log_.get(out); }
  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Last offset + 1 (base offset when empty).
  int64_t next_offset() const { return next_offset_; }
  // Largest batch max timestamp (-1: none) and the last offset of its batch.
  int64_t max_timestamp() const { return max_ts_; }
  int64_t offset_of_max_timestamp() const { return offset_of_max_ts_; }
  // The first batch's max timestamp (segment.ms rolls by it); -1: none.
  int64_t rolling_timestamp() const { return rolling_ts_; }
  int64_t created_ms() const { return created_ms_; }
  int64_t last_modified_ms() const;
  const std::string& suffix() const { return suffix_; }
  std::string file_name(const char* ext) const;

  // True when `last_offset` still fits the indexes' int32 relative offsets.
  bool can_hold(int64_t last_offset) const { return last_offset - base_ <= INT32_MAX; }
  bool index_full(int64_t max_entries) const;

  // Appends batches laid out back to back in `bytes` with one write;
  // `headers` are theirs, in order, with final offsets. Index entries follow
  // Kafka: one when more than index_interval_bytes were appended since the
  // last one (an index write failure only leaves the index sparser).
  Status append(std::span<const uint8_t> bytes, std::span<const proto::BatchHeader> headers,
                int32_t index_interval_bytes);

  struct BatchPos {
    uint32_t position = 0;
    uint32_t size = 0;
    proto::BatchHeader header;
  };
  // The first batch whose last offset is >= offset (offset index, then a
  // scan of batch headers). nullopt: none in this segment.
  Status find_batch(int64_t offset, std::optional<BatchPos>* out) const;
  // The end of the whole batches that start at `start` and end by `limit`
  // (`start` when the first one does not fit).
  Status whole_batches_end(uint32_t start, uint32_t limit, uint32_t* end) const;

  struct RecoverResult {
    uint32_t valid_bytes = 0;
    uint32_t truncated_bytes = 0;
    std::string why;  // why the tail was cut
  };
  // Re-validates every batch (structure, CRC, increasing offsets), truncates
  // at the first bad one and rebuilds both indexes. Batches with a leader
  // epoch are fed to `epochs` (deferred flush).
  Status recover(int32_t index_interval_bytes, LeaderEpochCache* epochs, RecoverResult* out);
  // Removes the batch holding `offset` and everything after it.
  Status truncate_to(int64_t offset, uint32_t* truncated_bytes);
  // The segment stops being active: record its final max timestamp in the
  // time index (Kafka's onBecomeInactiveSegment) and close the index files
  // (lookups are in memory; they reopen if truncation needs them).
  Status seal();
  // fsync of the log and both indexes.
  Status flush();
  // Renames all three files to the new suffix, indexes first and the log
  // last (the log's name is what recovery trusts).
  Status change_suffix(const std::string& new_suffix);
  void remove_files();
  // preallocate=true (Kafka's file preallocation): reserves disk blocks for
  // the whole segment (`bytes`, segment.bytes) at once, the file's size
  // staying the log's (fallocate KEEP_SIZE); given back when the segment is
  // sealed, as Kafka trims a preallocated segment at roll. A file system
  // without fallocate keeps appending as before.
  void reserve(uint64_t bytes);

  const OffsetIndex& offset_index() const { return oi_; }
  const TimeIndex& time_index() const { return ti_; }

 private:
  LogSegment(PartitionDirPtr dir, int64_t base, std::string suffix)
      : dir_(std::move(dir)), base_(base), suffix_(std::move(suffix)) {}
  void index_batch(const proto::BatchHeader& h, uint32_t position, int32_t index_interval_bytes);
  // Recomputes next offset, max timestamp, bytes since the last index entry
  // and the rolling timestamp from the indexes plus a scan of the tail.
  Status rescan_tail(const UniqueFd& fd, std::string* corrupt_why);

  void preallocate_for(int fd, size_t bytes);
  void release_preallocation();

  PartitionDirPtr dir_;
  int64_t base_;
  std::string suffix_;
  mutable CachedFile log_;
  uint32_t size_ = 0;
  // Disk blocks are reserved past the end of the .log up to here
  // (fallocate with FALLOC_FL_KEEP_SIZE: the file's size stays the log's).
  uint64_t preallocated_end_ = 0;
  bool can_preallocate_ = true;  // false once the file system refused
  int64_t next_offset_ = 0;
  int64_t max_ts_ = -1;
  int64_t offset_of_max_ts_ = 0;
  int64_t rolling_ts_ = -1;
  int64_t created_ms_ = 0;
  int64_t bytes_since_index_ = 0;
  OffsetIndex oi_;
  TimeIndex ti_;
};

using SegmentPtr = std::shared_ptr<LogSegment>;

}  // namespace kfk::broker
