// Runs on the network thread (the whole file).
#include "client/net/coordinator_cache.h"

#include <algorithm>

#include "client/net/metadata_manager.h"
#include "client/net/request.h"

namespace kfk::net {

std::string CoordinatorKey::to_string() const {
  return (type == CoordinatorType::kGroup ? "group '" : "transactional id '") + key + "'";
}

CoordinatorCache::CoordinatorCache(ConnectionPool& pool, MetadataManager& metadata)
    : pool_(pool), metadata_(metadata) {}

CoordinatorCache::~CoordinatorCache() { shutdown(); }

void CoordinatorCache::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  lifetime_.end();
  auto entries = std::move(entries_);
  entries_.clear();
  const Error destroyed = Error::from_code(errc::kDestroyed, "client closed");
  for (auto& [key, e] : entries)
    for (auto& w : e.waiters) w(destroyed, -1);
}

int32_t CoordinatorCache::cached(const CoordinatorKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? -1 : it->second.node_id;
}

void CoordinatorCache::invalidate(const CoordinatorKey& key, int32_t node_id) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.node_id < 0) return;
  if (node_id >= 0 && it->second.node_id != node_id) return;
  it->second.node_id = -1;
}

void CoordinatorCache::lookup(const CoordinatorKey& key, TimePoint deadline, Callback cb) {
  if (shut_down_) return cb(Error::from_code(errc::kDestroyed, "client closed"), -1);
  Entry& e = entries_[key];
  if (e.node_id >= 0 && pool_.knows(e.node_id)) return cb(Error(), e.node_id);
  e.waiters.push_back(std::move(cb));
  if (!e.in_flight) find(key, deadline);
}

void CoordinatorCache::find(const CoordinatorKey& key, TimePoint deadline) {
  entries_[key].in_flight = true;
  ++requests_sent_;
  proto::FindCoordinatorRequest req;
  req.key = key.key;                                // v0-v3
  req.key_type = static_cast<int8_t>(key.type);     // v1-v3
  req.coordinator_keys = {key.key};                 // v4+
  RequestOptions ro;
  ro.timeout_ms = std::max<int64_t>(1, std::min(pool_.options().request_timeout_ms, ms_until(deadline)));
  if (key.type != CoordinatorType::kGroup) ro.min_version = 1;  // v0 knows only groups
  io::Lifetime::Weak alive = lifetime_.weak();
  send_request(
      pool_, kAnyNode, std::move(req),
      [this, alive, key, deadline](const Error& err, Reply<proto::FindCoordinatorResponse>& reply) {
        if (!alive.alive()) return;
        if (!err.ok()) return resolved(key, err, -1, deadline);
        const auto& r = reply.msg;
        int16_t code = r.error_code;
        std::optional<std::string> message = r.error_message;
        int32_t node = r.node_id;
        if (reply.version >= 4) {
          auto it = std::find_if(r.coordinators.begin(), r.coordinators.end(),
                                 [&](const auto& c) { return c.key == key.key; });
          if (it == r.coordinators.end())
            return resolved(key,
                            Error::from_code(errc::kMalformedResponse, "FindCoordinator answer without " + key.to_string()),
                            -1, deadline);
          code = it->error_code;
          message = it->error_message;
          node = it->node_id;
        }
        if (code != 0) {
          std::string what = "FindCoordinator for " + key.to_string();
          if (message && !message->empty()) what += ": " + *message;
          return resolved(key, Error::from_code(code, what), -1, deadline);
        }
        resolved(key, Error(), node, deadline);
      },
      ro);
}

void CoordinatorCache::resolved(const CoordinatorKey& key, const Error& err, int32_t node_id, TimePoint deadline) {
  if (!err.ok() || pool_.knows(node_id)) return complete(key, err, node_id);
  // A broker this client has not seen in the metadata yet: learn its
  // address first.
  io::Lifetime::Weak alive = lifetime_.weak();
  metadata_.wait_for_update(deadline, [this, alive, key, node_id](const Error& e, const auto&) {
    if (!alive.alive()) return;
    if (e.ok() && pool_.knows(node_id)) return complete(key, Error(), node_id);
    complete(key,
             e.code() == errc::kDestroyed
                 ? e
                 : Error::from_code(errc::kCoordinatorNotAvailable,
                                    "coordinator " + std::to_string(node_id) + " of " + key.to_string() +
                                        " not in the metadata yet"),
             -1);
  });
}

void CoordinatorCache::complete(const CoordinatorKey& key, const Error& err, int32_t node_id) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.in_flight = false;
  e.node_id = err.ok() ? node_id : -1;
  const int32_t node = e.node_id;
  auto waiters = std::move(e.waiters);
  e.waiters.clear();
  // A waiter may invalidate or look up again: each gets this answer.
  for (auto& w : waiters) w(err, node);
}

}  // namespace kfk::net
