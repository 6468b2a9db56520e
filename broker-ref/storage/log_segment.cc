#include "storage/log_segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "storage/batch_scanner.h"
#include "storage/leader_epoch_cache.h"

namespace kfk::broker {

namespace {

// A scan that stopped on a corrupt batch or a read error, as a Status.
Status scan_failure(BatchScanner::Step step, const BatchScanner& sc, const std::string& log) {
  if (step == BatchScanner::Step::kCorrupt)
    return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, "corrupt batch in " + log + " at position " +
                                                             std::to_string(sc.position()));
  return io_error("read " + log, sc.error_number());
}

}  // namespace

std::string LogSegment::file_name(const char* ext) const { return offset_file_name(base_, std::string(ext) + suffix_); }

int64_t LogSegment::last_modified_ms() const {
  // By name: retention asks this of every old segment, which must not
  // reopen them all.
  struct stat st;
  UniqueFd d = dir_->open();
  if (!d.valid() || ::fstatat(d.get(), log_.name().c_str(), &st, 0) != 0) return 0;
  return int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
}

bool LogSegment::index_full(int64_t max_entries) const {
  return static_cast<int64_t>(oi_.entries()) >= max_entries ||
         static_cast<int64_t>(ti_.entries()) >= max_entries * 8 / 12;
}

Status LogSegment::create(const PartitionDirPtr& dir, int64_t base_offset, const std::string& suffix, int64_t now_ms,
                          std::shared_ptr<LogSegment>* out) {
  std::shared_ptr<LogSegment> seg(new LogSegment(dir, base_offset, suffix));
  seg->log_.init(dir, seg->file_name(kLogExt));
  FileHandle fd;
  if (Status s = seg->log_.get(&fd, O_CREAT | O_TRUNC); !s.ok()) return s;
  bool existed = false;
  if (Status s = seg->oi_.open(dir, seg->file_name(kIndexExt), base_offset, &existed); !s.ok()) return s;
  if (Status s = seg->ti_.open(dir, seg->file_name(kTimeIndexExt), base_offset, &existed); !s.ok()) return s;
  if (seg->oi_.entries() > 0 || seg->ti_.entries() > 0) {  // stale files under the same name
    (void)seg->oi_.reset();
    (void)seg->ti_.reset();
    if (Status s = seg->oi_.finish_rebuild(); !s.ok()) return s;
    if (Status s = seg->ti_.finish_rebuild(); !s.ok()) return s;
  }
  seg->next_offset_ = base_offset;
  seg->offset_of_max_ts_ = base_offset;
  seg->created_ms_ = now_ms;
  *out = std::move(seg);
  return Status::Ok();
}

Status LogSegment::open(const PartitionDirPtr& dir, int64_t base_offset, const std::string& suffix, int64_t now_ms,
                        std::shared_ptr<LogSegment>* out, std::string* needs_recovery) {
  needs_recovery->clear();
  std::shared_ptr<LogSegment> seg(new LogSegment(dir, base_offset, suffix));
  std::string log = seg->file_name(kLogExt);
  seg->log_.init(dir, log);
  FileHandle fd;
  if (Status s = seg->log_.get(&fd); !s.ok()) return s;
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return io_error("stat " + log, errno);
  if (st.st_size > INT32_MAX) {
    // Positions are int32 in the index format; Kafka caps segments the same way.
    return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, log + " is larger than 2 GiB");
  }
  seg->size_ = static_cast<uint32_t>(st.st_size);
  seg->created_ms_ = now_ms;
  bool oi_existed = false, ti_existed = false;
  if (Status s = seg->oi_.open(dir, seg->file_name(kIndexExt), base_offset, &oi_existed); !s.ok()) return s;
  if (Status s = seg->ti_.open(dir, seg->file_name(kTimeIndexExt), base_offset, &ti_existed); !s.ok()) return s;

  std::string why;
  if (seg->size_ > 0 && (!oi_existed || !ti_existed)) why = "missing index file";
  if (why.empty()) why = seg->oi_.sanity_check(seg->size_);
  if (why.empty()) {
    if (Status s = seg->rescan_tail(*fd, &why); !s.ok()) return s;
  } else {
    // Do not trust the index to find the tail; recovery rebuilds it.
    (void)seg->oi_.reset();
    (void)seg->ti_.reset();
  }
  if (why.empty()) why = seg->ti_.sanity_check(seg->next_offset_);
  *needs_recovery = why;
  *out = std::move(seg);
  return Status::Ok();
}

Status LogSegment::rescan_tail(const UniqueFd& fd, std::string* corrupt_why) {
  corrupt_why->clear();
  auto last = oi_.last();
  uint32_t start = last ? last->position : 0;
  next_offset_ = base_;
  max_ts_ = -1;
  offset_of_max_ts_ = base_;
  if (auto t = ti_.last()) {
    max_ts_ = t->timestamp;
    offset_of_max_ts_ = t->offset;
  }
  bytes_since_index_ = static_cast<int64_t>(size_) - start;
  rolling_ts_ = -1;
  if (size_ == 0) return Status::Ok();

  // The first batch's timestamp drives segment.ms.
  uint8_t hdr[proto::kBatchHeaderSize];
  proto::BatchHeader first;
  if (pread_full(fd.get(), hdr, sizeof hdr, 0) == static_cast<int64_t>(sizeof hdr) &&
      proto::parse_batch_header(hdr, first))
    rolling_ts_ = first.max_timestamp;

  BatchScanner sc(fd.get(), start, size_);
  for (;;) {
    switch (sc.next(false)) {
      case BatchScanner::Step::kBatch: {
        const auto& h = sc.header();
        next_offset_ = h.last_offset() + 1;
        if (h.max_timestamp > max_ts_) {
          max_ts_ = h.max_timestamp;
          offset_of_max_ts_ = h.last_offset();
        }
        continue;
      }
      case BatchScanner::Step::kEnd:
        return Status::Ok();
      case BatchScanner::Step::kCorrupt:
        *corrupt_why = std::string("corrupt tail at position ") + std::to_string(sc.position()) + ": " +
                       (sc.why() ? sc.why() : "?");
        return Status::Ok();
      case BatchScanner::Step::kError:
        return io_error("read " + file_name(kLogExt), sc.error_number());
    }
  }
}

void LogSegment::index_batch(const proto::BatchHeader& h, uint32_t position, int32_t index_interval_bytes) {
  if (position == 0) rolling_ts_ = h.max_timestamp;
  if (h.max_timestamp > max_ts_) {
    max_ts_ = h.max_timestamp;
    offset_of_max_ts_ = h.last_offset();
  }
  if (bytes_since_index_ > index_interval_bytes) {
    if (oi_.append(h.last_offset(), position).ok()) {
      (void)ti_.maybe_append(max_ts_, offset_of_max_ts_);
      bytes_since_index_ = 0;
    }
  }
  bytes_since_index_ += static_cast<int64_t>(h.total_size());
  next_offset_ = h.last_offset() + 1;
}

// Appends land in blocks reserved ahead of them. Writing past the end of
// an ext4 file reserves delayed-allocation blocks page by page under the
// write, and allocates them again at writeback; writing into reserved
// (unwritten) extents skips that: about a third less broker CPU per byte
// appended with 10 KB records on this project's machines. Only a
// segment past 1 MiB reserves, at most as much again as it holds and at
// most 16 MiB ahead, so small partitions take no extra disk; a rolled or
// truncated segment gives the rest back. A file system without fallocate
// (or a full disk) just appends as before: the write reports the error.
void LogSegment::preallocate_for(int fd, size_t bytes) {
#ifdef FALLOC_FL_KEEP_SIZE
  constexpr uint64_t kMinSegment = 1u << 20, kMaxAhead = 16u << 20;
  const uint64_t end = uint64_t{size_} + bytes;
  if (!can_preallocate_ || end <= preallocated_end_ || end < kMinSegment) return;
  const uint64_t from = std::max<uint64_t>(preallocated_end_, size_);
  const uint64_t ahead = std::min<uint64_t>(kMaxAhead, std::max<uint64_t>(size_, bytes));
  const uint64_t to = (end + ahead + kMinSegment - 1) / kMinSegment * kMinSegment;
  if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(to - from)) == 0)
    preallocated_end_ = to;
  else
    can_preallocate_ = false;
#else
  (void)fd;
  (void)bytes;
#endif
}

void LogSegment::reserve(uint64_t bytes) {
#ifdef FALLOC_FL_KEEP_SIZE
  if (!can_preallocate_ || preallocated_end_ >= bytes || size_ >= bytes) return;
  FileHandle fd;
  if (!log_.get(&fd).ok()) return;
  const uint64_t from = std::max<uint64_t>(preallocated_end_, size_);
  if (::fallocate(fd->get(), FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(bytes - from)) == 0)
    preallocated_end_ = bytes;
  else
    can_preallocate_ = false;
#else
  (void)bytes;
#endif
}

// Frees the blocks reserved past the end of the log (a sealed segment
// grows no more): truncating to the same size drops them (punching a hole
// would not: ext4 punches only below the file's size).
void LogSegment::release_preallocation() {
  FileHandle fd;
  if (preallocated_end_ > size_ && log_.get(&fd).ok()) (void)::ftruncate(fd->get(), size_);
  preallocated_end_ = 0;
}

Status LogSegment::append(std::span<const uint8_t> bytes, std::span<const proto::BatchHeader> headers,
                          int32_t index_interval_bytes) {
  if (bytes.empty()) return Status::Ok();
  if (uint64_t{size_} + bytes.size() > INT32_MAX)
    return Status::error(ErrorCode::RECORD_LIST_TOO_LARGE, "segment " + file_name(kLogExt) + " would exceed 2 GiB");
  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  preallocate_for(fd->get(), bytes.size());
  int err = 0;
  if (!pwrite_all(fd->get(), bytes.data(), bytes.size(), size_, &err)) {
    // Leave the file as it was: a partial batch must never be served.
    (void)::ftruncate(fd->get(), size_);
    return io_error("append to " + file_name(kLogExt), err);
  }
  uint32_t pos = size_;
  for (const auto& h : headers) {
    index_batch(h, pos, index_interval_bytes);
    pos += static_cast<uint32_t>(h.total_size());
  }
  size_ += static_cast<uint32_t>(bytes.size());
  return Status::Ok();
}

Status LogSegment::find_batch(int64_t offset, std::optional<BatchPos>* out) const {
  out->reset();
  if (offset >= next_offset_) return Status::Ok();
  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  BatchScanner sc(fd->get(), oi_.lookup(offset).position, size_, 16 * 1024);
  for (;;) {
    switch (auto step = sc.next(false); step) {
      case BatchScanner::Step::kBatch:
        if (sc.header().last_offset() >= offset) {
          *out = BatchPos{static_cast<uint32_t>(sc.position()), static_cast<uint32_t>(sc.header().total_size()),
                          sc.header()};
          return Status::Ok();
        }
        continue;
      case BatchScanner::Step::kEnd:
        return Status::Ok();
      case BatchScanner::Step::kCorrupt:
      case BatchScanner::Step::kError:
        return scan_failure(step, sc, file_name(kLogExt));
    }
  }
}

Status LogSegment::whole_batches_end(uint32_t start, uint32_t limit, uint32_t* end) const {
  *end = start;
  if (limit > size_) limit = size_;
  if (limit <= start) return Status::Ok();
  // Index entries sit at batch starts: begin the scan at the last one
  // before the limit so the scan stays short.
  uint32_t from = start;
  if (auto e = oi_.floor_by_position(limit); e && e->position > start) from = e->position;
  *end = from;
  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  BatchScanner sc(fd->get(), from, size_, 16 * 1024);
  for (;;) {
    switch (auto step = sc.next(false); step) {
      case BatchScanner::Step::kBatch:
        if (sc.next_position() > limit) return Status::Ok();
        *end = static_cast<uint32_t>(sc.next_position());
        continue;
      case BatchScanner::Step::kEnd:
        return Status::Ok();
      case BatchScanner::Step::kCorrupt:
      case BatchScanner::Step::kError:
        return scan_failure(step, sc, file_name(kLogExt));
    }
  }
}

Status LogSegment::recover(int32_t index_interval_bytes, LeaderEpochCache* epochs, RecoverResult* out) {
  *out = RecoverResult{};
  (void)oi_.reset();
  (void)ti_.reset();
  max_ts_ = -1;
  offset_of_max_ts_ = base_;
  rolling_ts_ = -1;
  bytes_since_index_ = 0;
  next_offset_ = base_;

  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  BatchScanner sc(fd->get(), 0, size_, 1024 * 1024);
  uint32_t valid = 0;
  int64_t min_base = base_;
  bool done = false;
  while (!done) {
    switch (sc.next(true)) {
      case BatchScanner::Step::kBatch: {
        const auto& h = sc.header();
        if (!proto::verify_batch_crc(sc.bytes())) {
          out->why = "CRC mismatch in the batch at position " + std::to_string(sc.position());
          done = true;
          break;
        }
        if (h.base_offset < min_base || h.last_offset_delta < 0 || !can_hold(h.last_offset())) {
          out->why = "batch offsets out of order at position " + std::to_string(sc.position());
          done = true;
          break;
        }
        index_batch(h, static_cast<uint32_t>(sc.position()), index_interval_bytes);
        if (epochs != nullptr && h.partition_leader_epoch >= 0)
          (void)epochs->assign(h.partition_leader_epoch, h.base_offset, /*defer_flush=*/true);
        valid = static_cast<uint32_t>(sc.next_position());
        min_base = h.last_offset() + 1;
        break;
      }
      case BatchScanner::Step::kEnd:
        done = true;
        break;
      case BatchScanner::Step::kCorrupt:
        out->why = std::string(sc.why() ? sc.why() : "corrupt batch") + " at position " + std::to_string(sc.position());
        done = true;
        break;
      case BatchScanner::Step::kError:
        // Never truncate on a read error: the data may be fine.
        (void)oi_.finish_rebuild();
        (void)ti_.finish_rebuild();
        return io_error("read " + file_name(kLogExt), sc.error_number());
    }
  }
  out->valid_bytes = valid;
  out->truncated_bytes = size_ - valid;
  if (valid < size_) {
    if (::ftruncate(fd->get(), valid) != 0) return io_error("truncate " + file_name(kLogExt), errno);
    size_ = valid;
  }
  if (Status s = oi_.finish_rebuild(); !s.ok()) return s;
  return ti_.finish_rebuild();
}

Status LogSegment::truncate_to(int64_t offset, uint32_t* truncated_bytes) {
  *truncated_bytes = 0;
  std::optional<BatchPos> at;
  if (Status s = find_batch(offset, &at); !s.ok()) return s;
  if (!at) return Status::Ok();
  if (Status s = oi_.truncate_to_offset(offset); !s.ok()) return s;
  if (Status s = ti_.truncate_to_offset(offset); !s.ok()) return s;
  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  if (::ftruncate(fd->get(), at->position) != 0) return io_error("truncate " + file_name(kLogExt), errno);
  preallocated_end_ = 0;  // truncation freed every block past the new end
  *truncated_bytes = size_ - at->position;
  size_ = at->position;
  std::string why;
  return rescan_tail(*fd, &why);
}

Status LogSegment::seal() {
  release_preallocation();
  Status s = max_ts_ < 0 ? Status::Ok() : ti_.maybe_append(max_ts_, offset_of_max_ts_);
  oi_.file().close();
  ti_.file().close();
  return s;
}

Status LogSegment::flush() {
  // Runs without the Log's mutex (names may be changing: the cache reopens
  // under its own). fsync flushes the file whichever descriptor asks.
  FileHandle fd;
  if (Status s = log_.get(&fd); !s.ok()) return s;
  if (::fsync(fd->get()) != 0) return io_error("fsync " + offset_file_name(base_, kLogExt), errno);
  if (Status s = oi_.file().flush(); !s.ok()) return s;
  return ti_.file().flush();
}

Status LogSegment::change_suffix(const std::string& new_suffix) {
  auto name = [&](const char* ext, const std::string& sfx) { return offset_file_name(base_, std::string(ext) + sfx); };
  if (Status s = oi_.file().rename(name(kIndexExt, new_suffix)); !s.ok()) return s;
  if (Status s = ti_.file().rename(name(kTimeIndexExt, new_suffix)); !s.ok()) return s;
  if (Status s = log_.rename(name(kLogExt, new_suffix)); !s.ok()) return s;
  suffix_ = new_suffix;
  return Status::Ok();
}

void LogSegment::remove_files() {
  oi_.file().remove();
  ti_.file().remove();
  log_.remove();
}

}  // namespace kfk::broker
