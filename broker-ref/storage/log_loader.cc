// Log::open: loading a partition directory, with Kafka's LogLoader steps:
//   1. delete leftovers (.tmp, .deleted, .cleaned files; orphan indexes);
//   2. complete interrupted compaction swaps (.log.swap present: the swap
//      was committed, so the old segments it covers go and it becomes .log);
//   3. open segments, sanity-checking their indexes;
//   4. without a clean shutdown, re-validate every segment from the one
//      holding the recovery point (CRC, structure, increasing offsets);
//      truncate at the first torn/corrupt batch and drop later segments;
//   5. leader epoch cache and producer state consistent with the result.
//
// Thread ownership: runs on the thread calling Log::open (the LogManager's
// startup thread) before the Log is shared.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "storage/batch_scanner.h"
#include "storage/log.h"

namespace kfk::broker {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void remove_segment_files(int dirfd, int64_t base, const std::string& suffix) {
  for (const char* ext : {LogSegment::kIndexExt, LogSegment::kTimeIndexExt, LogSegment::kLogExt})
    unlink_at(dirfd, offset_file_name(base, std::string(ext) + suffix));
}

}  // namespace

struct Log::Loader {
  static Status load(Log& log, const LogOpenOptions& o) REQUIRES(log.mu_);
};

Status Log::open(const std::string& dir, const LogConfig& config, const LogOpenOptions& options,
                 std::unique_ptr<Log>* out) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return io_error("create log dir " + dir, errno);
  std::unique_ptr<Log> log(new Log());
  // Nobody else sees the Log yet; held anyway so that loading is checked
  // against the same rules as every other method (uncontended: free).
  MutexLock lk(log->mu_);
  log->dir_ = dir;
  log->pdir_ = std::make_shared<PartitionDir>(dir);
  log->config_ = config;
  log->log_fn_ = options.log;
  log->hw_follows_leo_ = options.high_watermark_follows_leo;
  if (Status s = Loader::load(*log, options); !s.ok()) return s;
  lk.unlock();
  *out = std::move(log);
  return Status::Ok();
}

Status Log::Loader::load(Log& log, const LogOpenOptions& o) {
  // The directory's descriptor is held while loading only.
  UniqueFd dir_fd = log.pdir_->open();
  if (!dir_fd.valid()) return io_error("open log dir " + log.dir_, errno);
  const int dfd = dir_fd.get();
  const int64_t now = o.now_ms != 0 ? o.now_ms : wall_clock_ms();
  const int32_t interval = log.config_.index_interval_bytes;

  // 1. Leftovers of interrupted work.
  std::set<int64_t> bases, swaps;
  for (const auto& name : list_dir_at(dfd)) {
    if (ends_with(name, ".tmp") || ends_with(name, LogSegment::kDeletedSuffix) ||
        ends_with(name, LogSegment::kCleanedSuffix)) {
      unlink_at(dfd, name);
      continue;
    }
    if (auto b = parse_offset_file_name(name, ".log.swap")) swaps.insert(*b);
    if (auto b = parse_offset_file_name(name, ".log")) bases.insert(*b);
  }

  // 2. Committed swaps: the .log.swap replaces every segment whose base lies
  // in [swap base, swap next offset); its indexes are rebuilt.
  std::set<int64_t> must_recover;
  for (int64_t x : swaps) {
    SegmentPtr seg;
    std::string why;
    if (Status s = LogSegment::open(log.pdir_, x, LogSegment::kSwapSuffix, now, &seg, &why); !s.ok()) return s;
    LogSegment::RecoverResult rr;
    if (Status s = seg->recover(interval, nullptr, &rr); !s.ok()) return s;
    int64_t limit = std::max(seg->next_offset(), x + 1);
    for (auto it = bases.lower_bound(x); it != bases.end() && *it < limit;) {
      remove_segment_files(dfd, *it, "");
      it = bases.erase(it);
    }
    if (Status s = seg->change_suffix(""); !s.ok()) return s;
    bases.insert(x);
    must_recover.insert(x);
    log.warn("completed an interrupted compaction swap of segment " + offset_file_name(x, ".log"));
  }
  // Index files without a log (and swap indexes without a swap log).
  for (const auto& name : list_dir_at(dfd)) {
    for (const char* ext : {".index", ".timeindex", ".index.swap", ".timeindex.swap"}) {
      auto b = parse_offset_file_name(name, ext);
      if (b && (ends_with(name, ".swap") || !bases.count(*b))) unlink_at(dfd, name);
    }
  }

  // 3. Open segments.
  std::map<int64_t, std::string> needs;
  for (int64_t b : bases) {
    SegmentPtr seg;
    std::string why;
    if (Status s = LogSegment::open(log.pdir_, b, "", now, &seg, &why); !s.ok()) return s;
    if (!why.empty()) needs[b] = why;
    log.segments_[b] = std::move(seg);
  }

  bool epochs_corrupt = false;
  if (Status s = log.epochs_.load(log.pdir_, &epochs_corrupt); !s.ok()) return s;
  if (epochs_corrupt) log.warn("malformed leader-epoch-checkpoint in " + log.dir_ + ": rebuilding it from the log");
  const std::vector<EpochEntry> epochs_before = log.epochs_.entries();

  // 4. Recovery. Without a clean shutdown, everything from the segment
  // holding the recovery point on was possibly not flushed.
  int64_t recover_from = INT64_MAX;
  if (!o.clean_shutdown && !log.segments_.empty()) {
    auto it = log.segments_.upper_bound(std::max<int64_t>(o.recovery_point, 0));
    recover_from = it == log.segments_.begin() ? it->first : std::prev(it)->first;
  }
  if (epochs_corrupt) recover_from = log.segments_.empty() ? INT64_MAX : log.segments_.begin()->first;
  for (auto it = log.segments_.begin(); it != log.segments_.end(); ++it) {
    const int64_t b = it->first;
    bool reason = needs.count(b) > 0;
    if (b < recover_from && !reason && !must_recover.count(b)) continue;
    LogSegment::RecoverResult rr;
    if (Status s = it->second->recover(interval, &log.epochs_, &rr); !s.ok()) return s;
    if (reason) log.warn("rebuilt the indexes of " + log.dir_ + "/" + offset_file_name(b, ".log") + ": " + needs[b]);
    if (rr.truncated_bytes > 0) {
      log.warn("truncated " + std::to_string(rr.truncated_bytes) + " invalid bytes at the end of " + log.dir_ + "/" +
               offset_file_name(b, ".log") + " (" + rr.why + ")");
      // As Kafka: what follows a torn batch was never acknowledged as
      // durable; drop later segments so offsets stay contiguous.
      for (auto later = std::next(it); later != log.segments_.end();) {
        log.warn("deleting segment " + offset_file_name(later->first, ".log") + " after the truncation point");
        later->second->remove_files();
        later = log.segments_.erase(later);
      }
      break;
    }
  }

  if (log.segments_.empty()) {
    SegmentPtr seg;
    if (Status s = LogSegment::create(log.pdir_, std::max<int64_t>(o.log_start_offset, 0), "", now, &seg); !s.ok()) return s;
    log.segments_[seg->base_offset()] = std::move(seg);
  }
  for (auto it = log.segments_.begin(); std::next(it) != log.segments_.end(); ++it) (void)it->second->seal();

  // 5. Offsets, epochs, producer state.
  log.next_offset_ = log.active()->next_offset();
  log.log_start_offset_ = std::min(std::max(o.log_start_offset, log.segments_.begin()->first), log.next_offset_);
  log.high_watermark_ = log.next_offset_;
  log.recovery_point_ = o.clean_shutdown ? log.next_offset_ : std::clamp<int64_t>(o.recovery_point, 0, log.next_offset_);
  log.pending_flush_offset_ = log.recovery_point_;
  log.last_flush_ms_ = now;
  (void)log.epochs_.truncate_from_end(log.next_offset_, true);
  (void)log.epochs_.truncate_from_start(log.log_start_offset_, true);
  if (log.epochs_.entries() != epochs_before || epochs_corrupt) {
    if (Status s = log.epochs_.flush(); !s.ok()) return s;
  }
  if (Status s = log.rebuild_producer_state_locked(log.next_offset_); !s.ok()) return s;
  log.cleaner_checkpoint_ = o.cleaner_checkpoint >= 0
                                ? std::clamp(o.cleaner_checkpoint, log.log_start_offset_, log.next_offset_)
                                : log.log_start_offset_;
  // One cleaning pass after startup rediscovers pending tombstone horizons.
  log.clean_due_ms_ = log.config_.compact ? 0 : -1;
  return Status::Ok();
}

Status Log::rebuild_producer_state_locked(int64_t up_to) {
  int64_t snap = -1;
  if (Status s = producers_.load_latest_snapshot(pdir_->open().get(), up_to, &snap); !s.ok()) return s;
  return replay_producer_state_locked(snap >= 0 ? snap : segments_.begin()->first, up_to);
}

Status Log::replay_producer_state_locked(int64_t from, int64_t to) {
  for (const auto& [base, seg] : segments_) {
    if (seg->next_offset() <= from) continue;
    if (base >= to) break;
    FileHandle fd;
    if (Status s = seg->log_file(&fd); !s.ok()) return s;
    BatchScanner sc(fd->get(), seg->offset_index().lookup(from).position, seg->size());
    for (;;) {
      BatchScanner::Step st = sc.next(false);
      if (st == BatchScanner::Step::kError) return io_error("read " + seg->file_name(".log"), sc.error_number());
      if (st != BatchScanner::Step::kBatch) break;
      const proto::BatchHeader& h = sc.header();
      if (h.base_offset >= to) break;
      if (h.last_offset() < from || h.producer_id < 0) continue;
      std::optional<ControlMarker> marker;
      if (h.is_control()) {
        std::vector<uint8_t> bytes(h.total_size());
        if (pread_full(fd->get(), bytes.data(), bytes.size(), static_cast<int64_t>(sc.position())) ==
            static_cast<int64_t>(bytes.size()))
          marker = parse_control_marker(proto::BatchSpan{h, bytes});
      }
      producers_.replay(h, marker);
    }
  }
  return Status::Ok();
}

}  // namespace kfk::broker
