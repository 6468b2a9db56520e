// CoordinatorCache: which broker coordinates a (key type, key): a consumer
// group (key type 0) or a transactional id (key type 1). librdkafka's
// rdkafka_coord.c.
//
// Runs on the network thread (every method).
//
// A key not cached is looked up with one FindCoordinator (to any broker;
// v4+ sends the key in coordinator_keys, v0-v3 in key/key_type: the
// connection picks the version); callers asking for the same key while that
// request is in flight share its answer. The answer is cached until
// invalidate(): callers do that when the coordinator says it moved
// (NOT_COORDINATOR), is not available (COORDINATOR_NOT_AVAILABLE), or a
// request to it failed in transport (core::rediscovers_coordinator). A
// coordinator the pool does not know yet waits for the next metadata update.
// The cache never retries: a failed lookup is handed to every waiter, whose
// retry policy (net::Call) decides.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/net/clock.h"
#include "io/lifetime.h"
#include "kfk/error.h"

namespace kfk::net {

class ConnectionPool;
class MetadataManager;

enum class CoordinatorType : int8_t { kGroup = 0, kTransaction = 1 };

struct CoordinatorKey {
  CoordinatorType type = CoordinatorType::kGroup;
  std::string key;
  auto operator<=>(const CoordinatorKey&) const = default;
  std::string to_string() const;  // "group 'g1'", "transactional id 't1'"
};

class CoordinatorCache {
 public:
  // Error (ok or not) and the coordinator's broker id (-1 on error).
  using Callback = std::function<void(const Error&, int32_t node_id)>;

  CoordinatorCache(ConnectionPool& pool, MetadataManager& metadata);
  ~CoordinatorCache();  // shutdown()
  CoordinatorCache(const CoordinatorCache&) = delete;
  CoordinatorCache& operator=(const CoordinatorCache&) = delete;

  // Calls `cb` with the coordinator of `key`: at once when cached, else when
  // the shared FindCoordinator answers (or fails; `deadline` bounds its
  // request and the wait for an unknown broker's address).
  void lookup(const CoordinatorKey& key, TimePoint deadline, Callback cb);
  // Forgets `key`'s coordinator if it is still `node_id` (-1: whichever),
  // so a stale failure does not drop a coordinator found since.
  void invalidate(const CoordinatorKey& key, int32_t node_id = -1);
  // The cached coordinator, or -1.
  int32_t cached(const CoordinatorKey& key) const;
  // Fails every waiter with errc::kDestroyed; later lookups fail at once.
  void shutdown();

  // FindCoordinator requests sent (tests, metrics).
  uint64_t requests_sent() const { return requests_sent_; }

 private:
  struct Entry {
    int32_t node_id = -1;
    bool in_flight = false;
    std::vector<Callback> waiters;
  };

  void find(const CoordinatorKey& key, TimePoint deadline);
  void resolved(const CoordinatorKey& key, const Error& err, int32_t node_id, TimePoint deadline);
  void complete(const CoordinatorKey& key, const Error& err, int32_t node_id);

  ConnectionPool& pool_;
  MetadataManager& metadata_;
  std::map<CoordinatorKey, Entry> entries_;
  io::Lifetime lifetime_;  // io/lifetime.h
  bool shut_down_ = false;
  uint64_t requests_sent_ = 0;
};

}  // namespace kfk::net
