// Log compaction (cleanup.policy=compact), Kafka's LogCleaner for one log.
//
//   1. Plan (under the Log's mutex): the cleanable range ends at the first
//      uncleanable offset = min(active segment base, first unstable offset,
//      high watermark, first segment younger than min.compaction.lag.ms);
//      the dirty part starts at the cleaner checkpoint.
//   2. Offset map (no mutex): key -> latest offset over the dirty part.
//   3. Rewrite (no mutex), in groups of consecutive segments up to
//      segment.bytes: keep a record if it is the latest for its key (or its
//      key is not in the map); keyless records go; tombstones get a delete
//      horizon (now + delete.retention.ms) the first time and go once it has
//      passed; control batches are kept; an emptied batch is kept as a bare
//      header when it is its producer's last batch. Offsets are preserved.
//   4. Swap (under the mutex, renames only): <base>.log.cleaned -> .swap (the
//      commit point), old segments -> .deleted, .swap -> .log. The loader
//      completes a swap interrupted by a crash (log_loader.cc).
//
// Thread ownership: compact() and needs_compaction() run on the
// LogManager's maintenance thread; source segments are non-active and so
// immutable (a concurrent truncate_to bumps generation_ and the swap aborts).
#include <algorithm>
#include <string>
#include <unordered_map>

#include "protocol/record_walk.h"
#include "storage/batch_rewriter.h"
#include "storage/batch_scanner.h"
#include "storage/log.h"

namespace kfk::broker {
namespace {

constexpr size_t kMaxDecompressed = 256u << 20;
constexpr size_t kWriteBuffer = 1u << 20;

struct Plan {
  std::vector<SegmentPtr> segs;   // cleanable segments, oldest first
  std::vector<int64_t> next_base; // the base offset following each
  std::vector<uint32_t> sizes;    // size snapshots
  std::vector<int64_t> index_entries;
  int64_t first_dirty = 0;
  uint64_t generation = 0;
  LogConfig cfg;
  std::map<int64_t, int64_t> producer_last_offsets;  // pid -> last data offset
};

std::string key_of(const proto::Record& r) {
  return std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size());
}

// The record walk's visitor building the offset map: the latest offset of
// each key at or past the first dirty offset. A batch that fails the walk
// fails the whole clean, so what it added before failing does not matter.
struct OffsetMapper {
  const proto::BatchHeader& h;
  int64_t first_dirty;
  std::unordered_map<std::string, int64_t>& map;
  size_t& map_bytes;

  void record(const proto::RecordFields& f) {
    const int64_t offset = proto::record_offset(h, f);
    if (!f.key || offset < first_dirty) return;
    std::string key(reinterpret_cast<const char*>(f.key->data()), f.key->size());
    auto [it, inserted] = map.insert_or_assign(std::move(key), offset);
    if (inserted) map_bytes += it->first.size() + 48;
  }
};

}  // namespace

struct CleanerAccess {
  // Requires the Log's mutex; fills `p` from the log's current state.
  static void plan(const std::map<int64_t, SegmentPtr>& segments, int64_t lso, int64_t hw, int64_t first_dirty,
                   int64_t first_unstable, int64_t now_ms, const LogConfig& cfg, Plan* p) {
    p->cfg = cfg;
    p->first_dirty = first_dirty;
    int64_t uncleanable = segments.rbegin()->first;  // active segment base
    uncleanable = std::min(uncleanable, hw);
    if (first_unstable >= 0) uncleanable = std::min(uncleanable, first_unstable);
    if (cfg.min_compaction_lag_ms > 0) {
      for (auto it = segments.begin(); std::next(it) != segments.end(); ++it) {
        if (std::next(it)->first <= first_dirty) continue;
        if (it->second->max_timestamp() > now_ms - cfg.min_compaction_lag_ms) {
          uncleanable = std::min(uncleanable, it->first);
          break;
        }
      }
    }
    for (auto it = segments.begin(); std::next(it) != segments.end(); ++it) {
      int64_t next = std::next(it)->first;
      if (next > uncleanable) break;
      if (next <= lso) continue;  // wholly below the log start: retention's job
      p->segs.push_back(it->second);
      p->next_base.push_back(next);
      p->sizes.push_back(it->second->size());
      p->index_entries.push_back(static_cast<int64_t>(it->second->offset_index().entries()));
    }
  }
};

bool Log::needs_compaction(int64_t now_ms) const {
  MutexLock lk(mu_);
  if (!config_.compact || deleted_) return false;
  Plan p;
  int64_t first_dirty = std::clamp(cleaner_checkpoint_, log_start_offset_, next_offset_);
  CleanerAccess::plan(segments_, log_start_offset_, high_watermark_, first_dirty, producers_.first_unstable_offset(),
                      now_ms, config_, &p);
  if (p.segs.empty()) return false;
  int64_t dirty = 0, total = 0;
  int64_t first_dirty_ts = -1;  // the first dirty segment's first batch timestamp
  for (size_t i = 0; i < p.segs.size(); ++i) {
    total += p.sizes[i];
    if (p.next_base[i] <= first_dirty) continue;
    if (dirty == 0) first_dirty_ts = p.segs[i]->rolling_timestamp();
    dirty += p.sizes[i];
  }
  if (dirty > 0 && static_cast<double>(dirty) >= config_.min_cleanable_dirty_ratio * static_cast<double>(total))
    return true;
  // Kafka's needCompactionNow: dirty records older than max.compaction.lag.ms
  // are cleaned whatever the dirty ratio.
  if (dirty > 0 && config_.max_compaction_lag_ms != INT64_MAX && first_dirty_ts >= 0 &&
      now_ms - first_dirty_ts > config_.max_compaction_lag_ms)
    return true;
  return clean_due_ms_ >= 0 && now_ms >= clean_due_ms_;
}

Status Log::compact(int64_t now_ms, const CleanerOptions& options, CleanResult* out) {
  CleanResult local;
  CleanResult& res = out != nullptr ? *out : local;
  res = CleanResult{};
  Plan p;
  {
    MutexLock lk(mu_);
    if (!config_.compact || deleted_) return Status::Ok();
    int64_t first_dirty = std::clamp(cleaner_checkpoint_, log_start_offset_, next_offset_);
    CleanerAccess::plan(segments_, log_start_offset_, high_watermark_, first_dirty,
                        producers_.first_unstable_offset(), now_ms, config_, &p);
    p.generation = generation_;
    for (const auto& [pid, e] : producers_.entries()) p.producer_last_offsets[pid] = e.last_data_offset();
  }
  res.first_dirty_offset = p.first_dirty;
  res.end_offset = p.first_dirty;
  if (p.segs.empty()) return Status::Ok();
  res.ran = true;

  // 2. Offset map over the dirty part.
  std::unordered_map<std::string, int64_t> map;
  size_t map_bytes = 0;
  bool full = false;
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  int64_t end_offset = p.first_dirty;
  for (size_t i = 0; i < p.segs.size() && !full; ++i) {
    if (p.next_base[i] <= p.first_dirty) continue;
    FileHandle fd;
    if (Status s = p.segs[i]->log_file(&fd); !s.ok()) return s;
    BatchScanner sc(fd->get(), 0, p.sizes[i], kWriteBuffer);
    for (;;) {
      BatchScanner::Step st = sc.next(true);
      if (st == BatchScanner::Step::kEnd) break;
      if (st != BatchScanner::Step::kBatch)
        return Status::error(ErrorCode::KAFKA_STORAGE_ERROR,
                             "cleaner: unreadable batch in " + offset_file_name(p.segs[i]->base_offset(), ".log") +
                                 " of " + dir_);
      const proto::BatchHeader& h = sc.header();
      if (h.last_offset() < p.first_dirty || h.is_control()) continue;
      const char* why = nullptr;
      std::span<const uint8_t> data;
      if (!proto::batch_records(sc.batch(), scratch, kMaxDecompressed, &data, &why) ||
          !proto::walk_records(h, data, OffsetMapper{h, p.first_dirty, map, map_bytes}, &why))
        return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, std::string("cleaner: undecodable batch in ") + dir_ +
                                                                 ": " + (why ? why : "?"));
      end_offset = h.last_offset() + 1;
      if (map_bytes > options.max_map_bytes) {
        full = true;  // clean what the map covers; the rest stays dirty
        break;
      }
    }
    if (!full) end_offset = p.next_base[i];
  }
  res.end_offset = end_offset;

  // 3 + 4. Rewrite groups of segments below end_offset and swap them in.
  const int64_t clean_limit = std::max(end_offset, p.first_dirty);
  int64_t due = -1;  // earliest pending tombstone horizon
  size_t i = 0;
  while (i < p.segs.size() && p.segs[i]->base_offset() < clean_limit) {
    size_t j = i;
    int64_t group_bytes = 0;
    int64_t group_entries = 0;
    while (j < p.segs.size() && p.segs[j]->base_offset() < clean_limit &&
           (j == i || (group_bytes + p.sizes[j] <= p.cfg.segment_bytes &&
                       group_entries + p.index_entries[j] < p.cfg.max_index_entries() &&
                       p.next_base[j] - 1 - p.segs[i]->base_offset() <= INT32_MAX))) {
      group_bytes += p.sizes[j];
      group_entries += p.index_entries[j];
      ++j;
    }
    std::vector<SegmentPtr> group(p.segs.begin() + static_cast<ptrdiff_t>(i), p.segs.begin() + static_cast<ptrdiff_t>(j));
    std::vector<uint32_t> sizes(p.sizes.begin() + static_cast<ptrdiff_t>(i), p.sizes.begin() + static_cast<ptrdiff_t>(j));
    i = j;

    SegmentPtr cleaned;
    if (Status s = LogSegment::create(pdir_, group.front()->base_offset(), LogSegment::kCleanedSuffix, now_ms,
                                      &cleaned);
        !s.ok())
      return s;
    std::vector<uint8_t> buf;
    std::vector<proto::BatchHeader> headers;
    std::vector<uint8_t> rebuilt;
    bool changed = false;
    Status fail;
    auto flush_buf = [&]() {
      if (buf.empty()) return;
      if (fail.ok()) fail = cleaned->append(buf, headers, p.cfg.index_interval_bytes);
      buf.clear();
      headers.clear();
    };
    auto emit = [&](std::span<const uint8_t> bytes) {
      proto::BatchHeader h;
      (void)proto::parse_batch_header(bytes, h);
      buf.insert(buf.end(), bytes.begin(), bytes.end());
      headers.push_back(h);
      if (buf.size() >= kWriteBuffer) flush_buf();
    };
    for (size_t k = 0; k < group.size() && fail.ok(); ++k) {
      res.bytes_before += sizes[k];
      FileHandle fd;
      if (fail = group[k]->log_file(&fd); !fail.ok()) break;
      BatchScanner sc(fd->get(), 0, sizes[k], kWriteBuffer);
      for (;;) {
        BatchScanner::Step st = sc.next(true);
        if (st == BatchScanner::Step::kEnd) break;
        if (st != BatchScanner::Step::kBatch) {
          fail = Status::error(ErrorCode::KAFKA_STORAGE_ERROR,
                               "cleaner: unreadable batch in " + offset_file_name(group[k]->base_offset(), ".log") +
                                   " of " + dir_);
          break;
        }
        const proto::BatchHeader h = sc.header();
        if (h.is_control()) {  // markers are kept (no transaction index here)
          emit(sc.bytes());
          continue;
        }
        const char* why = nullptr;
        if (!proto::decode_records(sc.batch(), recs, scratch, kMaxDecompressed, &why)) {
          fail = Status::error(ErrorCode::KAFKA_STORAGE_ERROR, std::string("cleaner: undecodable batch: ") +
                                                                   (why ? why : "?"));
          break;
        }
        std::optional<int64_t> horizon;
        if (h.attributes & proto::batch_attr::kDeleteHorizon) horizon = h.base_timestamp;
        std::vector<const proto::Record*> kept;
        bool tombstones = false;
        int64_t removed = 0;
        for (const auto& r : recs) {
          bool keep = r.key.has_value();  // keyless records never survive compaction
          if (keep) {
            auto it = map.find(key_of(r));
            if (it != map.end() && r.offset < it->second) keep = false;
          }
          if (keep && !r.value) {
            if (horizon && now_ms >= *horizon) keep = false;
            else tombstones = true;
          }
          if (keep) kept.push_back(&r);
          else ++removed;
        }
        res.records_removed += removed;
        const bool needs_horizon = tombstones && !horizon;
        if (tombstones) {
          int64_t hz = horizon ? *horizon : now_ms + p.cfg.delete_retention_ms;
          due = due < 0 ? hz : std::min(due, hz);
        }
        if (removed == 0 && !needs_horizon) {
          emit(sc.bytes());
          continue;
        }
        changed = true;
        if (kept.empty()) {
          auto last = p.producer_last_offsets.find(h.producer_id);
          if (h.producer_id >= 0 && last != p.producer_last_offsets.end() && last->second == h.last_offset()) {
            write_empty_batch(h, &rebuilt);
            emit(rebuilt);
          }
          continue;
        }
        std::optional<int64_t> hz;
        if (tombstones) hz = horizon ? *horizon : now_ms + p.cfg.delete_retention_ms;
        rebuild_batch(h, kept, hz, &rebuilt);
        emit(rebuilt);
      }
    }
    flush_buf();
    if (fail.ok() && changed) {
      (void)cleaned->seal();
      fail = cleaned->flush();  // durable before it can replace anything
    }
    if (!fail.ok() || !changed) {
      cleaned->remove_files();
      if (!fail.ok()) return fail;
      res.bytes_after += group_bytes;
      continue;
    }
    if (options.crash_point == CleanerOptions::CrashPoint::kAfterCleanedWritten) return Status::Ok();

    {
      MutexLock lk(mu_);
      bool intact = !deleted_ && generation_ == p.generation;
      for (const auto& g : group) {
        auto it = segments_.find(g->base_offset());
        intact = intact && it != segments_.end() && it->second == g;
      }
      if (!intact) {
        cleaned->remove_files();
        return Status::Ok();  // the log changed under us: try again later
      }
      if (Status s = cleaned->change_suffix(LogSegment::kSwapSuffix); !s.ok()) {
        cleaned->remove_files();
        return s;
      }
      if (options.crash_point == CleanerOptions::CrashPoint::kAfterSwapRename) return Status::Ok();
      for (const auto& g : group) {
        if (Status s = g->change_suffix(LogSegment::kDeletedSuffix); !s.ok()) return s;  // loader completes the swap
      }
      if (options.crash_point == CleanerOptions::CrashPoint::kAfterOldDeleted) return Status::Ok();
      if (Status s = cleaned->change_suffix(""); !s.ok()) return s;
      for (const auto& g : group) segments_.erase(g->base_offset());
      segments_[cleaned->base_offset()] = cleaned;
      res.bytes_after += cleaned->size();
    }
    delete_files_later(group, now_ms);
    (void)pdir_->fsync();
    res.segments_cleaned += static_cast<int>(group.size());
  }

  MutexLock lk(mu_);
  if (generation_ == p.generation) cleaner_checkpoint_ = std::max(cleaner_checkpoint_, end_offset);
  clean_due_ms_ = due;
  return Status::Ok();
}

}  // namespace kfk::broker
