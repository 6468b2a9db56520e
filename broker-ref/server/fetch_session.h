// Incremental fetch sessions (KIP-227, Fetch v7+): the partitions a client
// fetches are cached under a session id so that later requests only name
// what changed, and responses only carry partitions with news (records,
// a moved high watermark / last stable offset / log start offset, errors).
//
// Epochs: a new session expects epoch 1 next; every incremental request
// must carry the expected epoch, which then advances (wrapping to 1).
// The cache is bounded (max.incremental.fetch.session.cache.slots); when
// full, the least recently used session is evicted.
//
// Thread ownership: the loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "protocol/types.h"
#include "server/fetch_read.h"

namespace kfk::broker {

// A partition in a fetch session: what the latest request said about it
// (the FetchTarget part) plus what the client last heard.
struct CachedPartition : FetchTarget {
  // What the client last heard (-1: nothing yet, so it is always sent).
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;

  bool same_partition(const CachedPartition& o) const {
    return partition == o.partition && (topic_id.is_zero() ? topic == o.topic : topic_id == o.topic_id);
  }
};

struct FetchSession {
  int32_t id = 0;
  int32_t epoch = 1;  // the epoch the next request must carry
  bool uses_topic_ids = false;
  uint64_t last_used = 0;  // FetchSessionCache's use counter
  std::vector<CachedPartition> partitions;  // insertion order

  // Adds or updates the request's partitions (keeping the cached response
  // state of existing ones), then removes `forgotten`.
  void update(const std::vector<CachedPartition>& requested, const std::vector<CachedPartition>& forgotten);
};

inline int32_t next_fetch_epoch(int32_t epoch) { return epoch >= INT32_MAX ? 1 : epoch + 1; }

class FetchSessionCache {
 public:
  explicit FetchSessionCache(size_t max_slots);
  FetchSession* find(int32_t id);
  void remove(int32_t id);
  // A new session with a fresh nonzero id, evicting the least recently used
  // one when full; nullptr when the cache has no slots at all.
  FetchSession* create(bool uses_topic_ids, std::vector<CachedPartition> partitions);
  // Marks a session used (for the LRU order).
  void touch(FetchSession* s) { s->last_used = ++uses_; }
  size_t size() const { return sessions_.size(); }

 private:
  size_t max_slots_;
  uint64_t uses_ = 0;
  std::map<int32_t, FetchSession> sessions_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace kfk::broker
