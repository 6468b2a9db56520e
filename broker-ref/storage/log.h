// One partition's log (Kafka's UnifiedLog + LocalLog): an ordered set of
// segments in `<data-dir>/<topic>-<partition>/`, the leader epoch cache and
// the producer state.
//
// Thread ownership:
//   - the broker's network loop thread calls append, read, the offset
//     queries, delete_records_before, truncate_to, set_high_watermark;
//   - the LogManager's maintenance thread calls delete_old_segments,
//     maybe_flush / flush and compact.
// Every public method takes the Log's mutex, held only for short work:
// appends (one write(2)), index lookups and a few header preads. fsync and
// the cleaner's copying run without it. Readers get shared_ptr'd segments,
// so a segment deleted by retention or replaced by the cleaner stays
// readable through its fd until the last reader lets go.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "io/mutex.h"
#include "protocol/types.h"
#include "storage/file_records.h"
#include "storage/file_util.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/log_segment.h"
#include "storage/producer_state.h"
#include "storage/status.h"

namespace kfk::broker {

struct LogOpenOptions {
  bool clean_shutdown = false;   // the data dir had the clean-shutdown marker
  int64_t recovery_point = 0;    // from recovery-point-offset-checkpoint
  int64_t log_start_offset = 0;  // from log-start-offset-checkpoint
  int64_t cleaner_checkpoint = -1;  // from cleaner-offset-checkpoint (-1: none)
  int64_t now_ms = 0;            // 0: wall clock
  // Single replica: the high watermark follows the log end offset on every
  // append. False leaves it to set_high_watermark() (replication).
  bool high_watermark_follows_leo = true;
  // Warnings (recovered bytes, rebuilt indexes...).
  std::function<void(const std::string&)> log;
};

enum class AppendOrigin {
  kClient,       // Produce: offsets assigned, producer state checked, no control batches
  kCoordinator,  // transaction markers (WriteTxnMarkers): control batches allowed
};

struct AppendInfo {
  int64_t base_offset = -1;      // first offset of the first batch
  int64_t last_offset = -1;      // last offset of the last batch
  int64_t log_append_time = -1;  // -1 unless the topic uses LogAppendTime
  int64_t log_start_offset = 0;
  int64_t max_timestamp = -1;
  int32_t record_count = 0;
  // An idempotent retry of a batch already in the log: nothing was
  // appended; the offsets are the original ones (answer with NONE).
  bool duplicate = false;
};

// A zero-copy slice of one segment file for a Fetch response: `size` bytes
// at `position` of `fd`, whole batches only (except the Kafka case of a
// first batch bigger than max_bytes with min_one_batch false, flagged).
struct ReadResult {
  Status status;
  int fd = -1;
  int64_t position = 0;
  size_t size = 0;
  FileHandle file;  // keeps fd open until the response is sent
  bool first_batch_incomplete = false;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;

  // The slice as a Records value for a Fetch response: external bytes
  // (FileRecords) that hold the segment file open.
  proto::Records records() const {
    if (size == 0) return proto::Records::view(nullptr, 0);
    return FileRecords::records(file, fd, position, size);
  }
};

// ListOffsets special timestamps.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;
inline constexpr int64_t kMaxTimestamp = -3;
inline constexpr int64_t kEarliestLocalTimestamp = -4;

struct TimestampOffset {
  int64_t offset = -1;     // -1: no such record
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;
};

struct RetentionResult {
  int segments_deleted = 0;
  int64_t bytes_deleted = 0;
};

struct CleanerOptions {
  size_t max_map_bytes = 128 << 20;  // log.cleaner.dedupe.buffer.size
  // Test hook: stop at a point of the swap as if the process died there.
  enum class CrashPoint { kNone, kAfterCleanedWritten, kAfterSwapRename, kAfterOldDeleted } crash_point = CrashPoint::kNone;
};

struct CleanResult {
  bool ran = false;
  int segments_cleaned = 0;  // source segments rewritten
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
  int64_t records_removed = 0;
  int64_t first_dirty_offset = 0;
  int64_t end_offset = 0;  // the next first dirty offset
};

struct SegmentInfo {
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  uint32_t size = 0;
  int64_t max_timestamp = -1;
  size_t index_entries = 0;
  size_t time_index_entries = 0;
};

class Log {
 public:
  // Opens (creating if needed) the partition directory and loads it:
  // leftover .deleted/.cleaned files removed, interrupted compaction swaps
  // completed, indexes sanity-checked (rebuilt when they do not match the
  // log) and, without a clean shutdown, every segment from the one holding
  // the recovery point re-validated batch by batch (CRC, structure), the log
  // truncated at the first torn or corrupt batch.
  static Status open(const std::string& dir, const LogConfig& config, const LogOpenOptions& options,
                     std::unique_ptr<Log>* out);
  // Closing without close() is a crash: nothing more is written.
  ~Log();
  // Clean close: seals the active segment, writes a producer snapshot,
  // fsyncs everything. The Log must not be used afterwards.
  Status close();

  // ------------------------------------------------ network loop thread
  // Appends batches (already validated by the caller: CRC, structure),
  // assigning offsets from the log end offset by rewriting base offsets in
  // place, stamping `leader_epoch` (if >= 0) and LogAppendTime (if the topic
  // says so). Checks: max.message.bytes (MESSAGE_TOO_LARGE), a request larger
  // than a segment (RECORD_LIST_TOO_LARGE), keyless records in compacted
  // topics (INVALID_RECORD), producer state (see ProducerStateManager).
  // On error nothing is appended (the buffer may have been partly rewritten).
  Status append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t now_ms, AppendInfo* info,
                AppendOrigin origin = AppendOrigin::kClient);
  // Whole batches starting at the one holding `offset`, up to max_bytes (at
  // least one batch when min_one_batch), from a single segment, not past
  // `max_offset` (-1: the log end; consumers pass the high watermark).
  // OFFSET_OUT_OF_RANGE below the log start offset or above the log end.
  ReadResult read(int64_t offset, size_t max_bytes, bool min_one_batch, int64_t max_offset = -1) const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  int64_t high_watermark() const;
  void set_high_watermark(int64_t offset);  // clamped to [log start, log end]
  // min(high watermark, first offset of an open transaction).
  int64_t last_stable_offset() const;
  int64_t recovery_point() const;

  // ListOffsets: the first offset whose record timestamp is >= ts (time
  // index, then a scan), or the special kLatest/kEarliest/kMaxTimestamp.
  // kLatestTimestamp answers the log end offset; callers bound it by the
  // high watermark / last stable offset for their isolation level.
  Status offset_for_timestamp(int64_t ts, TimestampOffset* out) const;
  // DeleteRecords: moves the log start offset (-1: to the high watermark).
  // Segments wholly below it go at the next retention pass.
  Status delete_records_before(int64_t offset, int64_t* new_log_start_offset);
  // Removes everything at or after `offset` (whole batches; future
  // replication). Producer state is rebuilt, leader epochs truncated.
  Status truncate_to(int64_t offset);
  // OffsetForLeaderEpoch: (epoch, end offset), (-1, -1) when unknown.
  std::pair<int32_t, int64_t> end_offset_for_epoch(int32_t epoch) const;
  std::optional<int32_t> latest_epoch() const;
  std::vector<EpochEntry> leader_epochs() const;
  std::optional<ProducerEntry> producer(int64_t producer_id) const;
  size_t producer_count() const;

  // --------------------------------------------------- maintenance thread
  // Retention: whole non-active segments past retention.ms / retention.bytes
  // (cleanup.policy delete) or wholly below the log start offset. Files are
  // renamed .deleted, then removed after file.delete.delay.ms (at once,
  // after the mutex is released, when it is 0).
  Status delete_old_segments(int64_t now_ms, RetentionResult* out = nullptr);
  // fsync up to `offset` (-1: everything) and advance the recovery point.
  Status flush(int64_t offset = -1);
  // Flushes what a segment roll left behind, and everything when flush.ms
  // has passed since the last flush.
  Status maybe_flush(int64_t now_ms);
  // Compaction (cleanup.policy compact): see log_cleaner.cc.
  bool needs_compaction(int64_t now_ms) const;
  Status compact(int64_t now_ms, const CleanerOptions& options, CleanResult* out = nullptr);
  int64_t cleaner_checkpoint() const;
  // file.delete.delay.ms: the files of segments deleted by retention or
  // replaced by the cleaner stay (as *.deleted) this long, as Kafka's; this
  // removes those due and returns when the next is (INT64_MAX: none).
  int64_t remove_deleted_files(int64_t now_ms);

  // ------------------------------------------------------------ any thread
  void set_config(const LogConfig& config);
  LogConfig config() const;
  const std::string& dir() const { return dir_; }
  int64_t size_bytes() const;
  std::vector<SegmentInfo> segments() const;
  // Called (without the mutex) after a segment roll: the LogManager wakes
  // its maintenance thread to flush the rolled segment.
  void set_roll_listener(std::function<void()> fn);
  // delete_topic: the directory is going away; maintenance skips this log
  // and no file of it is reopened (the name may soon be a new topic's).
  void mark_deleted();
  bool deleted() const;

  // Produce-path helper: INVALID_RECORD when a batch has a record without a
  // key (compacted topics reject them, as Kafka).
  static Status validate_keys_for_compaction(const proto::BatchSpan& batch);

 private:
  Log() = default;
  struct Loader;  // log_loader.cc
  friend struct Loader;

  const SegmentPtr& active() const REQUIRES(mu_) { return segments_.rbegin()->second; }
  Status roll_locked(int64_t now_ms) REQUIRES(mu_);
  // segment.jitter.ms: the active segment's random roll jitter, drawn once
  // per segment as Kafka's randomSegmentJitter (uniform in
  // [0, min(segment.jitter.ms, segment.ms))).
  int64_t roll_jitter_locked(const LogConfig& cfg) REQUIRES(mu_);
  SegmentPtr floor_segment(int64_t offset) const REQUIRES(mu_);
  Status rebuild_producer_state_locked(int64_t up_to) REQUIRES(mu_);
  Status replay_producer_state_locked(int64_t from, int64_t to) REQUIRES(mu_);
  Status offset_for_timestamp_locked(int64_t ts, TimestampOffset* out) const REQUIRES(mu_);
  Status max_timestamp_offset_locked(TimestampOffset* out) const REQUIRES(mu_);
  Status flush_segments(const std::vector<SegmentPtr>& segs);
  void warn(const std::string& msg) const;
  int64_t now_or_wall(int64_t now_ms) const;
  // Without mu_: removes the files now, or queues them for
  // remove_deleted_files after file.delete.delay.ms.
  void delete_files_later(std::vector<SegmentPtr> segs, int64_t now_ms) EXCLUDES(mu_);

  // Set by open() before the Log is shared, constant after.
  std::string dir_;
  PartitionDirPtr pdir_;  // no descriptor kept: opened when needed
  std::function<void(const std::string&)> log_fn_;

  mutable Mutex mu_;
  LogConfig config_ GUARDED_BY(mu_);
  std::map<int64_t, SegmentPtr> segments_ GUARDED_BY(mu_);  // by base offset; never empty
  int64_t log_start_offset_ GUARDED_BY(mu_) = 0;
  int64_t next_offset_ GUARDED_BY(mu_) = 0;  // log end offset
  int64_t high_watermark_ GUARDED_BY(mu_) = 0;
  bool hw_follows_leo_ GUARDED_BY(mu_) = true;
  int64_t recovery_point_ GUARDED_BY(mu_) = 0;
  int64_t pending_flush_offset_ GUARDED_BY(mu_) = 0;  // roll left data below this to fsync
  int64_t unflushed_messages_ GUARDED_BY(mu_) = 0;
  int64_t last_flush_ms_ GUARDED_BY(mu_) = 0;
  int64_t cleaner_checkpoint_ GUARDED_BY(mu_) = 0;  // first dirty offset
  int64_t jitter_segment_ GUARDED_BY(mu_) = -1;     // base offset of the segment roll_jitter_ms_ was drawn for
  int64_t roll_jitter_ms_ GUARDED_BY(mu_) = 0;
  int64_t clean_due_ms_ GUARDED_BY(mu_) = 0;  // a tombstone's delete horizon passes (-1: none)
  uint64_t generation_ GUARDED_BY(mu_) = 0;   // bumped by truncation: the cleaner aborts
  bool deleted_ GUARDED_BY(mu_) = false;
  LeaderEpochCache epochs_ GUARDED_BY(mu_);
  ProducerStateManager producers_ GUARDED_BY(mu_);
  std::function<void()> on_roll_ GUARDED_BY(mu_);
  std::vector<std::pair<int64_t, SegmentPtr>> deleted_files_ GUARDED_BY(mu_);  // (due ms, renamed segment)
};

}  // namespace kfk::broker
