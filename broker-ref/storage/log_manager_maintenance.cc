// LogManager: the maintenance thread. Kafka spreads these over scheduler
// tasks (kafka-log-retention, kafka-log-cleaner-thread, kafka-recovery-point-
// checkpoint, kafka-delete-logs); one thread does them all here, in turn,
// so the cleaner and directory removal never run concurrently.
//
// Thread ownership: maintenance_loop() is the maintenance thread;
// run_maintenance() may also be called by tests (pass_mu_ serializes).
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "storage/log_manager.h"

namespace kfk::broker {

void LogManager::run_maintenance(bool force) {
  MutexLock pass(pass_mu_);
  const int64_t t = now();
  std::vector<std::string> dirs;
  StorageSettings st;
  {
    MutexLock lk(mu_);
    dirs.swap(pending_deletes_);
    st = settings_;
  }
  // Deleted partitions: their Logs are marked deleted, their dirs renamed.
  for (const auto& d : dirs) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_ + "/" + d, ec);
    if (ec) warn("could not remove " + data_dir_ + "/" + d + ": " + ec.message());
  }
  const auto logs = all_logs();
  for (const auto& [tp, log] : logs)
    if (Status s = log->maybe_flush(t); !s.ok()) warn("flush of " + log->dir() + " failed: " + s.message);

  if (force || t >= next_retention_ms_) {
    for (const auto& [tp, log] : logs)
      if (Status s = log->delete_old_segments(t); !s.ok()) warn("retention of " + log->dir() + ": " + s.message);
    next_retention_ms_ = t + st.retention_check_interval_ms;
  }
  if (st.cleaner_enable && (force || t >= next_clean_ms_)) {
    CleanerOptions co;
    co.max_map_bytes = static_cast<size_t>(st.cleaner_dedupe_buffer_size);
    for (const auto& [tp, log] : logs) {
      if (!log->needs_compaction(t)) continue;
      if (Status s = log->compact(t, co); !s.ok()) warn("cleaning of " + log->dir() + " failed: " + s.message);
    }
    next_clean_ms_ = t + st.cleaner_backoff_ms;
  }
  if (force || t >= next_checkpoint_ms_) {
    if (Status s = write_checkpoints(false); !s.ok()) warn("checkpoint write failed: " + s.message);
    next_checkpoint_ms_ = t + st.flush_offset_checkpoint_interval_ms;
  }
  // After retention and cleaning, which may have queued some.
  int64_t next_delete = INT64_MAX;
  for (const auto& [tp, log] : logs) next_delete = std::min(next_delete, log->remove_deleted_files(t));
  next_file_delete_ms_ = next_delete;
}

int64_t LogManager::next_wait_ms(int64_t t) {
  MutexLock pass(pass_mu_);  // the next_* deadlines belong to passes
  MutexLock lk(mu_);
  int64_t next = std::min({next_retention_ms_, next_checkpoint_ms_, next_file_delete_ms_,
                           settings_.cleaner_enable ? next_clean_ms_ : INT64_MAX});
  // flush.ms needs a look at least that often.
  int64_t flush_every = settings_.flush_scheduler_interval_ms;
  for (const auto& [n, topic] : topics_) flush_every = std::min(flush_every, topic.config.flush_ms);
  if (defaults_.flush_ms < flush_every) flush_every = defaults_.flush_ms;
  int64_t wait = next - t;
  if (flush_every < wait) wait = flush_every;
  return std::clamp<int64_t>(wait, 1, 60 * 60 * 1000);
}

void LogManager::maintenance_loop() {
  MutexLock lk(thread_mu_);
  while (!stop_) {
    lk.unlock();
    run_maintenance(false);
    int64_t wait = next_wait_ms(now());
    lk.lock();
    if (stop_) break;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait);
    while (!stop_ && !wake_ && cv_.wait_until(lk, deadline) != std::cv_status::timeout) {
    }
    wake_ = false;
  }
}

void LogManager::wake_maintenance() {
  MutexLock lk(thread_mu_);
  wake_ = true;
  cv_.notify_all();
}

void LogManager::stop_thread() {
  {
    MutexLock lk(thread_mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace kfk::broker
