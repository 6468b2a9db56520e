#include "storage/leader_epoch_cache.h"

#include <string>

#include "storage/checkpoint_file.h"

namespace kfk::broker {

Status LeaderEpochCache::load(std::shared_ptr<const PartitionDir> dir, bool* was_corrupt) {
  dir_ = std::move(dir);
  UniqueFd dirfd = dir_->open();
  entries_.clear();
  if (was_corrupt != nullptr) *was_corrupt = false;
  std::vector<std::vector<std::string>> lines;
  Status s = read_checkpoint_at(dirfd.get(), kLeaderEpochCheckpoint, 0, 2, &lines);
  if (s.code == ErrorCode::CORRUPT_MESSAGE) {
    if (was_corrupt != nullptr) *was_corrupt = true;
    return Status::Ok();
  }
  if (!s.ok()) return s;
  for (const auto& l : lines) {
    EpochEntry e;
    if (!parse_int32(l[0], &e.epoch) || !parse_int64(l[1], &e.start_offset) || e.epoch < 0 || e.start_offset < 0 ||
        (!entries_.empty() && (e.epoch <= entries_.back().epoch || e.start_offset < entries_.back().start_offset))) {
      entries_.clear();
      if (was_corrupt != nullptr) *was_corrupt = true;
      return Status::Ok();
    }
    entries_.push_back(e);
  }
  return Status::Ok();
}

Status LeaderEpochCache::flush() {
  if (!dir_) return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, "leader epoch cache flushed before load");
  std::vector<std::string> lines;
  lines.reserve(entries_.size());
  for (const auto& e : entries_) lines.push_back(std::to_string(e.epoch) + " " + std::to_string(e.start_offset));
  // Durable, as Kafka: epoch changes are rare and a follower's truncation
  // depends on them.
  return write_checkpoint_at(dir_->open().get(), kLeaderEpochCheckpoint, 0, lines, true);
}

Status LeaderEpochCache::assign(int32_t epoch, int64_t start_offset, bool defer_flush) {
  if (epoch < 0) return Status::Ok();
  if (!entries_.empty() && epoch <= entries_.back().epoch) return Status::Ok();
  // A newer epoch can not start before an older one's start: drop any
  // entry that would (only after an unclean truncation).
  while (!entries_.empty() && entries_.back().start_offset > start_offset) entries_.pop_back();
  entries_.push_back({epoch, start_offset});
  return defer_flush ? Status::Ok() : flush();
}

std::optional<int32_t> LeaderEpochCache::latest_epoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

int32_t LeaderEpochCache::epoch_for_offset(int64_t offset) const {
  int32_t epoch = kUndefinedEpoch;
  for (const auto& e : entries_) {
    if (e.start_offset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}

std::pair<int32_t, int64_t> LeaderEpochCache::end_offset_for(int32_t requested, int64_t log_end_offset) const {
  if (requested == kUndefinedEpoch || entries_.empty()) return {kUndefinedEpoch, kUndefinedOffset};
  if (entries_.back().epoch == requested) return {requested, log_end_offset};
  // higher: the first entry with epoch > requested; floor: the last <= it.
  const EpochEntry* higher = nullptr;
  const EpochEntry* floor = nullptr;
  for (const auto& e : entries_) {
    if (e.epoch > requested) {
      higher = &e;
      break;
    }
    floor = &e;
  }
  if (higher == nullptr) return {kUndefinedEpoch, kUndefinedOffset};  // newer than anything known
  if (floor == nullptr) return {requested, higher->start_offset};     // older than anything known
  return {floor->epoch, higher->start_offset};
}

Status LeaderEpochCache::truncate_from_end(int64_t end_offset, bool defer_flush) {
  size_t before = entries_.size();
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) entries_.pop_back();
  if (entries_.size() == before || defer_flush) return Status::Ok();
  return flush();
}

Status LeaderEpochCache::truncate_from_start(int64_t start_offset, bool defer_flush) {
  // Remove entries starting at or before start_offset; the last removed one
  // is re-added starting at start_offset (Kafka's truncateFromStart).
  size_t n = 0;
  while (n < entries_.size() && entries_[n].start_offset <= start_offset) ++n;
  if (n == 0) return Status::Ok();
  EpochEntry last = entries_[n - 1];
  if (n == 1 && last.start_offset == start_offset) return Status::Ok();
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(n));
  entries_.insert(entries_.begin(), EpochEntry{last.epoch, start_offset});
  return defer_flush ? Status::Ok() : flush();
}

Status LeaderEpochCache::clear() {
  entries_.clear();
  return flush();
}

}  // namespace kfk::broker
