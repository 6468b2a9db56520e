#include "server/fetch_session.h"

#include <algorithm>

namespace kfk::broker {

void FetchSession::update(const std::vector<CachedPartition>& requested, const std::vector<CachedPartition>& forgotten) {
  for (const auto& r : requested) {
    auto it = std::find_if(partitions.begin(), partitions.end(), [&](const CachedPartition& c) { return c.same_partition(r); });
    if (it == partitions.end()) {
      partitions.push_back(r);
      continue;
    }
    it->fetch_offset = r.fetch_offset;
    it->max_bytes = r.max_bytes;
    it->current_leader_epoch = r.current_leader_epoch;
    if (!r.topic.empty()) it->topic = r.topic;
  }
  for (const auto& f : forgotten)
    partitions.erase(std::remove_if(partitions.begin(), partitions.end(),
                                    [&](const CachedPartition& c) { return c.same_partition(f); }),
                     partitions.end());
}

FetchSessionCache::FetchSessionCache(size_t max_slots) : max_slots_(max_slots) {}

FetchSession* FetchSessionCache::find(int32_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void FetchSessionCache::remove(int32_t id) { sessions_.erase(id); }

FetchSession* FetchSessionCache::create(bool uses_topic_ids, std::vector<CachedPartition> partitions) {
  if (max_slots_ == 0) return nullptr;
  while (sessions_.size() >= max_slots_) {
    auto lru = std::min_element(sessions_.begin(), sessions_.end(),
                                [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
    sessions_.erase(lru);
  }
  std::uniform_int_distribution<int32_t> dist(1, INT32_MAX);
  int32_t id;
  do id = dist(rng_);
  while (sessions_.count(id));
  FetchSession& s = sessions_[id];
  s.id = id;
  s.epoch = 1;
  s.uses_topic_ids = uses_topic_ids;
  s.last_used = ++uses_;
  s.partitions = std::move(partitions);
  return &s;
}

}  // namespace kfk::broker
