// Log: retention, flushing and clean close.
//
// Thread ownership: delete_old_segments / flush / maybe_flush run on the
// LogManager's maintenance thread (close() on the thread closing the
// LogManager, after the maintenance thread stopped). fsync and file
// removal happen without the Log's mutex.
#include <algorithm>

#include "storage/log.h"

namespace kfk::broker {

Status Log::delete_old_segments(int64_t now_ms, RetentionResult* out) {
  RetentionResult local;
  RetentionResult& res = out != nullptr ? *out : local;
  res = RetentionResult{};
  std::vector<SegmentPtr> doomed;
  {
    MutexLock lk(mu_);
    if (deleted_) return Status::Ok();
    // Candidates: non-active segments, oldest first, each entirely below the
    // high watermark (nothing unreplicated is ever deleted).
    std::vector<SegmentPtr> cand;
    for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
      if (std::next(it)->first > high_watermark_) break;
      cand.push_back(it->second);
    }
    auto next_base = [&](size_t i) REQUIRES(mu_) {
      return i + 1 < cand.size() ? cand[i + 1]->base_offset() : active()->base_offset();
    };
    // Kafka runs three passes, each deleting a prefix; the union is the
    // longest prefix.
    size_t n = 0;
    if (config_.del && config_.retention_ms >= 0) {
      size_t k = 0;
      while (k < cand.size()) {
        int64_t ts = cand[k]->max_timestamp() >= 0 ? cand[k]->max_timestamp() : cand[k]->last_modified_ms();
        if (now_ms - ts <= config_.retention_ms) break;
        ++k;
      }
      n = std::max(n, k);
    }
    if (config_.del && config_.retention_bytes >= 0) {
      int64_t total = 0;
      for (const auto& [b, s] : segments_) total += s->size();
      int64_t diff = total - config_.retention_bytes;
      size_t k = 0;
      while (k < cand.size() && diff - static_cast<int64_t>(cand[k]->size()) >= 0) {
        diff -= cand[k]->size();
        ++k;
      }
      n = std::max(n, k);
    }
    {
      size_t k = 0;
      while (k < cand.size() && next_base(k) <= log_start_offset_) ++k;
      n = std::max(n, k);
    }
    for (size_t i = 0; i < n; ++i) {
      const SegmentPtr& seg = cand[i];
      // Kafka's async delete: rename now, remove once the mutex is released.
      // Readers holding the segment keep reading through its fd.
      if (Status s = seg->change_suffix(LogSegment::kDeletedSuffix); !s.ok()) {
        warn("retention could not rename " + seg->file_name(".log") + ": " + s.message);
        break;
      }
      segments_.erase(seg->base_offset());
      res.segments_deleted++;
      res.bytes_deleted += seg->size();
      doomed.push_back(seg);
    }
    if (!doomed.empty()) {
      log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
      cleaner_checkpoint_ = std::max(cleaner_checkpoint_, log_start_offset_);
      if (Status s = epochs_.truncate_from_start(log_start_offset_); !s.ok())
        warn("leader epoch checkpoint: " + s.message);
    }
  }
  delete_files_later(std::move(doomed), now_ms);
  return Status::Ok();
}

void Log::delete_files_later(std::vector<SegmentPtr> segs, int64_t now_ms) {
  {
    MutexLock lk(mu_);
    const int64_t delay = config_.file_delete_delay_ms;
    if (delay > 0 && !deleted_) {
      const int64_t due = now_ms > INT64_MAX - delay ? INT64_MAX : now_ms + delay;
      for (auto& s : segs) deleted_files_.emplace_back(due, std::move(s));
      return;
    }
  }
  for (auto& s : segs) s->remove_files();
}

int64_t Log::remove_deleted_files(int64_t now_ms) {
  std::vector<SegmentPtr> due;
  int64_t next = INT64_MAX;
  {
    MutexLock lk(mu_);
    for (auto it = deleted_files_.begin(); it != deleted_files_.end();) {
      if (it->first <= now_ms) {
        due.push_back(std::move(it->second));
        it = deleted_files_.erase(it);
      } else {
        next = std::min(next, it->first);
        ++it;
      }
    }
  }
  for (auto& s : due) s->remove_files();
  return next;
}

Status Log::flush_segments(const std::vector<SegmentPtr>& segs) {
  for (const auto& s : segs)
    if (Status st = s->flush(); !st.ok()) return st;
  // New segment files must survive too: their directory entries.
  return pdir_->fsync();
}

Status Log::flush(int64_t offset) {
  std::vector<SegmentPtr> segs;
  int64_t target = 0;
  {
    MutexLock lk(mu_);
    target = offset < 0 ? next_offset_ : std::min(offset, next_offset_);
    if (target <= recovery_point_) return Status::Ok();
    for (const auto& [b, s] : segments_)
      if (s->next_offset() > recovery_point_ && b < target) segs.push_back(s);
  }
  Status st = flush_segments(segs);  // without the mutex: appends go on
  MutexLock lk(mu_);
  if (!st.ok()) return st;
  recovery_point_ = std::max(recovery_point_, std::min(target, next_offset_));
  if (recovery_point_ >= next_offset_) unflushed_messages_ = 0;
  last_flush_ms_ = wall_clock_ms();
  return Status::Ok();
}

Status Log::maybe_flush(int64_t now_ms) {
  int64_t target = -2;
  {
    MutexLock lk(mu_);
    if (deleted_) return Status::Ok();
    if (pending_flush_offset_ > recovery_point_) target = pending_flush_offset_;
    if (config_.flush_ms != INT64_MAX && next_offset_ > recovery_point_ && now_ms - last_flush_ms_ >= config_.flush_ms)
      target = -1;
  }
  if (target == -2) return Status::Ok();
  Status s = flush(target);
  if (s.ok()) {
    MutexLock lk(mu_);
    last_flush_ms_ = now_ms;
  }
  return s;
}

Status Log::close() {
  {
    MutexLock lk(mu_);
    if (deleted_) return Status::Ok();
    (void)active()->seal();
    UniqueFd dfd = pdir_->open();
    if (Status s = producers_.write_snapshot(dfd.get(), next_offset_); !s.ok())
      warn("could not write a producer snapshot in " + dir_ + ": " + s.message);
    ProducerStateManager::retain_latest_snapshots(dfd.get(), 2);
  }
  if (Status s = flush(-1); !s.ok()) return s;
  // Sealing wrote to the active time index even with nothing to flush.
  MutexLock lk(mu_);
  if (Status s = active()->flush(); !s.ok()) return s;
  return pdir_->fsync();
}

int64_t Log::cleaner_checkpoint() const {
  MutexLock lk(mu_);
  return cleaner_checkpoint_;
}

}  // namespace kfk::broker
