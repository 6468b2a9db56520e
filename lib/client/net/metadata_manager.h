// MetadataManager: keeps ClusterMetadata fresh. Runs on the network thread
// (every method except snapshot(), which any thread may call).
//
// - Bootstrap: the first refresh goes to a bootstrap.servers entry (the
//   pool tries them in random order, skipping ones that failed).
// - Refreshes are coalesced: at most one Metadata request is in flight; a
//   refresh asked for meanwhile is sent after it. Consecutive refreshes are
//   spaced by retry.backoff.ms (exponentially up to retry.backoff.max.ms
//   after failures), as the Java client's metadata backoff. A topic of
//   interest added for the first time is asked for without that spacing
//   (Java's requestUpdateForNewTopics()): a producer's first send does not
//   wait retry.backoff.ms behind the bootstrap refresh.
// - Triggers: request_refresh(), handle_error() with a metadata-invalidating
//   code, a broker connection failing, a response with retriable topic or
//   partition errors or stale leader epochs, waiters, and metadata.max.age.ms.
// - The request asks for the topics of interest (add_topics()), or for all
//   topics (set_all_topics(true)); version: the highest both sides support.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/net/cluster_metadata.h"
#include "client/net/connection_pool.h"
#include "io/backoff.h"
#include "io/lifetime.h"
#include "io/mutex.h"
#include "io/timer.h"

namespace kfk::net {

// The latest snapshot, readable from any thread. Outlives the manager when
// shared (NetClient keeps one for its whole life).
class SnapshotCell {
 public:
  std::shared_ptr<const ClusterMetadata> get() const {
    MutexLock lock(mu_);
    return snap_ ? snap_ : std::make_shared<ClusterMetadata>();
  }
  void set(std::shared_ptr<const ClusterMetadata> s) {
    MutexLock lock(mu_);
    const uint64_t g = s ? s->generation() : 0;
    snap_ = std::move(s);
    generation_.store(g, std::memory_order_release);
  }
  // The generation get() would return, without the lock or a reference
  // count: lets a per-record path check that what it derived from a
  // snapshot is still current.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const ClusterMetadata> snap_ GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
};

class MetadataManager {
 public:
  using Snapshot = std::shared_ptr<const ClusterMetadata>;
  using WaitCallback = std::function<void(const Error&, const Snapshot&)>;
  using UpdateListener = std::function<void(const Snapshot&)>;

  // `cell` receives every new snapshot (a private one when null).
  MetadataManager(ConnectionPool& pool, const NetOptions& opts, std::shared_ptr<SnapshotCell> cell = nullptr);
  ~MetadataManager();  // shutdown()

  // Sends the first (bootstrap) refresh and starts the periodic one.
  void start();
  // Fails every waiter with errc::kDestroyed and stops refreshing.
  void shutdown();

  // Topics of interest. Adding a topic not yet known triggers a refresh.
  void add_topics(const std::vector<std::string>& topics);
  void remove_topic(const std::string& topic);
  void set_all_topics(bool all);
  const std::set<std::string>& topics() const { return topics_; }

  // Asks for a refresh (coalesced, honouring the backoff).
  void request_refresh(const std::string& reason);
  // Requests a refresh when `code` means cached metadata is stale (see
  // core::refreshes_metadata()); returns whether it did.
  bool handle_error(int16_t code, const std::string& context = {});
  // A leader epoch seen in a fetch response: metadata with an older epoch
  // for that partition is ignored and refreshed again (KIP-320).
  void update_last_seen_epoch(const std::string& topic, int32_t partition, int32_t epoch);

  // Calls `cb` once `topic` has partitions in the metadata (at once if it
  // already has), adding it to the topics of interest. Fails early on a
  // non-retriable topic error (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC);
  // at `deadline` fails with UNKNOWN_TOPIC_OR_PARTITION if the brokers said
  // so, else errc::kTimedOut. (max.block.ms for producer sends.)
  void wait_for_topic(const std::string& topic, TimePoint deadline, WaitCallback cb);
  // Calls `cb` after the next successful update (requesting one), or with
  // errc::kTimedOut at `deadline`.
  void wait_for_update(TimePoint deadline, WaitCallback cb);

  // Called after every successful update.
  void add_update_listener(UpdateListener l) { listeners_.push_back(std::move(l)); }

  // Loop thread: the current snapshot (never null; empty before bootstrap).
  const Snapshot& current() const { return current_; }
  // Any thread.
  Snapshot snapshot() const;

  // Counters, for tests and metrics.
  uint64_t requests_sent() const { return requests_sent_; }
  uint64_t updates() const { return updates_; }
  bool refresh_in_flight() const { return in_flight_; }

 private:
  struct Waiter {
    std::string topic;  // empty: any update
    TimePoint deadline;
    WaitCallback cb;
    uint64_t after_generation = 0;
    TimePoint started{};
  };

  void send_refresh();
  // A refresh for topics not asked for before: skips the spacing after a
  // successful answer (not the backoff after failures).
  void refresh_for_new_topics();
  void on_response(const Error& err, proto::MetadataResponse& resp);
  void schedule();
  void on_timer();
  void check_waiters(bool timed_out_only);
  Error topic_failure(const Waiter& w, bool at_deadline) const;

  ConnectionPool& pool_;
  NetOptions opts_;
  io::Lifetime lifetime_;  // io/lifetime.h
  bool started_ = false;
  bool shut_down_ = false;

  std::set<std::string> topics_;
  bool all_topics_ = false;
  EpochMap last_seen_;

  Snapshot current_;
  std::shared_ptr<SnapshotCell> cell_;

  bool in_flight_ = false;
  bool pending_ = false;  // a refresh is wanted once the backoff allows
  bool new_topics_ = false;  // topics added since the last request was built: no spacing
  std::string pending_reason_;
  TimePoint last_attempt_{};
  TimePoint not_before_{};  // backoff: no request before this
  int consecutive_failures_ = 0;        // failed requests in a row
  int consecutive_error_updates_ = 0;   // answers with retriable errors in a row
  io::ExponentialBackoff backoff_;
  io::Timer timer_;

  std::vector<Waiter> waiters_;
  std::vector<UpdateListener> listeners_;
  uint64_t requests_sent_ = 0;
  uint64_t updates_ = 0;
};

}  // namespace kfk::net
