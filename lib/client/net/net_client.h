// NetClient: the network runtime of one client: a NetworkThread, the
// ConnectionPool and the MetadataManager living on it, and the typed send().
// Producer, consumer and admin each own one.
//
//   net::NetClient nc(net::NetOptions::from(resolved_config));
//   nc.start();                                  // thread + metadata bootstrap
//   nc.post([&] {                                // on the network thread:
//     nc.send(net::kAnyNode, proto::ListGroupsRequest{},
//             [](const Error& err, proto::ListGroupsResponse& resp) { ... });
//   });
//   auto md = nc.metadata_snapshot();            // any thread
//   nc.stop();                                   // pending work: errc::kDestroyed
//
// Thread rules: the constructor, start(), stop(), post() and
// metadata_snapshot() from any thread (stop() not from the network thread);
// pool(), metadata() and send() only on the network thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "client/net/connection_pool.h"
#include "client/net/metadata_manager.h"
#include "client/net/network_thread.h"
#include "client/net/request.h"

namespace kfk::net {

class CallRegistry;
class CoordinatorCache;

class NetClient {
 public:
  explicit NetClient(NetOptions opts);
  ~NetClient();  // stop()
  NetClient(const NetClient&) = delete;
  NetClient& operator=(const NetClient&) = delete;

  // Starts the network thread, creates the pool and metadata manager on it
  // and sends the bootstrap metadata request (unless `bootstrap_metadata`
  // is false: then metadata().start() is the caller's).
  void start(bool bootstrap_metadata = true);
  // Fails every waiter and request with errc::kDestroyed, closes every
  // connection and joins the thread. Idempotent.
  void stop();
  // Any thread: runs `fn` on the network thread; false once stopped.
  bool post(std::function<void()> fn) { return thread_.post(std::move(fn)); }

  // Network thread only (checked in debug builds: KFK_DCHECK_ON_LOOP).
  ConnectionPool& pool() {
    KFK_DCHECK_ON_LOOP(loop());
    return *pool_;
  }
  MetadataManager& metadata() {
    KFK_DCHECK_ON_LOOP(loop());
    return *metadata_;
  }
  // The coordinators of groups and transactional ids (net::Call's
  // coordinator routes, the group member).
  CoordinatorCache& coordinators() {
    KFK_DCHECK_ON_LOOP(loop());
    return *coordinators_;
  }
  // The running net::Calls (ended with errc::kDestroyed by stop()).
  CallRegistry& calls() {
    KFK_DCHECK_ON_LOOP(loop());
    return *calls_;
  }
  uv_loop_t* loop() { return thread_.loop(); }
  template <class Req, class Callback>
  void send(int32_t node_id, Req req, Callback cb, RequestOptions opts = {}) {
    KFK_DCHECK_ON_LOOP(loop());
    send_request(*pool_, node_id, std::move(req), std::move(cb), opts);
  }

  // Any thread: the latest metadata (empty before the first answer).
  std::shared_ptr<const ClusterMetadata> metadata_snapshot() const;
  // Any thread: the generation of metadata_snapshot(), lock-free.
  uint64_t metadata_generation() const { return snapshot_->generation(); }
  const NetOptions& options() const { return opts_; }
  NetworkThread& thread() { return thread_; }

  // Any thread: ConnectionPool::all_brokers_down() as last reported (ok()
  // while some broker is up or not tried yet). The first report of an
  // episode is logged through NetOptions::log.
  Error all_brokers_down() const;
  // Any thread: the all-brokers-down error if it was reported again since
  // *seen (a counter the caller keeps, 0 at first), advancing *seen; ok()
  // otherwise. Lets a consumer's poll() repeat it while it lasts.
  Error all_brokers_down_since(uint64_t* seen) const;
  // Before start(): called on the network thread after each such report
  // (e.g. to wake a poll() waiting for records).
  void set_down_notifier(std::function<void()> fn) { down_notifier_ = std::move(fn); }

 private:
  NetOptions opts_;
  NetworkThread thread_;
  // Created and destroyed on the network thread.
  std::unique_ptr<ConnectionPool> pool_;
  std::unique_ptr<MetadataManager> metadata_;
  std::unique_ptr<CoordinatorCache> coordinators_;
  std::unique_ptr<CallRegistry> calls_;
  std::atomic<bool> started_{false};
  void on_all_down(const Error& e);  // network thread
  mutable std::mutex down_mu_;
  Error all_down_;
  uint64_t down_reports_ = 0;
  std::function<void()> down_notifier_;
  // The latest snapshot for other threads; outlives metadata_.
  std::shared_ptr<SnapshotCell> snapshot_ = std::make_shared<SnapshotCell>();
};

}  // namespace kfk::net
