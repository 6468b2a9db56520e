// GroupMember: the consumer's side of the classic group protocol and
// of offset storage. Runs on the network thread (every method), except
// where noted.
//
// Membership: FindCoordinator, then JoinGroup (KIP-394: a first join
// without member id is answered MEMBER_ID_REQUIRED with one to use),
// SyncGroup (the elected leader runs the assignor over the members'
// ConsumerProtocolSubscriptions), heartbeats every heartbeat.interval.ms on
// a dedicated connection to the coordinator, LeaveGroup on close (not for
// static members) and when max.poll.interval.ms passes without a poll.
//
// Assignment changes go through the application thread: the coordinator
// posts a RebalanceStep into the shared state and waits for poll() to run
// the listener (and commit, before revocation) and to report back with
// revoke_done() / assign_done(). Eager protocols revoke everything before
// joining; the cooperative one (KIP-429) revokes only what moved, after
// SyncGroup, then joins again.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/consumer/consumer_state.h"
#include "client/consumer/fetcher.h"
#include "client/core/resolved_config.h"
#include "client/net/coordinator_cache.h"
#include "client/net/net_client.h"
#include "io/lifetime.h"
#include "io/timer.h"

namespace kfk::consumer {


struct GroupOptions {
  std::string group_id;
  std::optional<std::string> group_instance_id;
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = 300000;  // max.poll.interval.ms
  int64_t heartbeat_interval_ms = 3000;
  int64_t max_poll_interval_ms = 300000;
  int64_t retry_backoff_ms = 100;
  int64_t request_timeout_ms = 30000;
  std::string client_rack;
  bool exclude_internal_topics = true;

  static GroupOptions from(const core::ResolvedConfig& rc);
};

using CommitResultFn = std::function<void(const Error&)>;
// The consumer's log sink (ConsumerOptions::log); called on the network thread.
using GroupLogFn = std::function<void(std::string_view message)>;

// What a commit fails with once the member is no longer in the group
// (removed for exceeding max.poll.interval.ms, or told UNKNOWN_MEMBER_ID /
// ILLEGAL_GENERATION / FENCED_INSTANCE_ID): Java's CommitFailedException.
extern const char* const kCommitFailedMessage;

class GroupMember {
 public:
  GroupMember(net::NetClient& nc, ConsumerState& state, GroupOptions opts,
                   std::vector<std::shared_ptr<PartitionAssignor>> assignors, GroupLogFn log);
  ~GroupMember();

  void start();
  // Stops timers; pending work fails with errc::kDestroyed.
  void shutdown();

  // Subscriptions (empty topics and no pattern: unsubscribed).
  void subscribe(std::set<std::string> topics);
  void subscribe_pattern(std::regex pattern);
  void unsubscribe();  // leaves the group
  std::vector<std::string> subscribed_topics() const {
    return std::vector<std::string>(subscribed_.begin(), subscribed_.end());
  }

  // The application finished a RebalanceStep.
  void step_done(RebalanceStep::Kind kind, bool rejoin_after);
  // poll() was called (resets the max.poll.interval.ms clock).
  void on_poll();

  // Offsets. `generation_bound`: commit as the current group member
  // (subscribe()); false for manual assignment (generation -1).
  void commit(std::map<TopicPartition, OffsetAndMetadata> offsets, net::TimePoint deadline, CommitResultFn cb);
  void fetch_committed(std::vector<TopicPartition> parts, net::TimePoint deadline, CommittedCallback cb);
  // LeaveGroup (unless static) and stop heartbeating; `cb` when done.
  void leave(const std::string& reason, std::function<void()> cb);

  int32_t generation() const { return generation_; }
  const std::string& member_id() const { return member_id_; }
  uint64_t rebalances() const { return rebalances_; }

 private:
  enum class Phase : uint8_t { kIdle, kAwaitRevoke, kJoining, kSyncing, kAwaitAssign, kStable };

  void ensure_active();
  void with_coordinator(net::TimePoint deadline, std::function<void(const Error&, int32_t node)> cb);
  void find_coordinator();
  net::CoordinatorKey coordinator_key() const { return {net::CoordinatorType::kGroup, opts_.group_id}; }
  void coordinator_dead(const std::string& why);
  void send_join();
  void on_join(const Error& err, proto::JoinGroupResponse& resp);
  void run_assignment(proto::JoinGroupResponse resp);
  void assign_when_metadata_ready(GroupAssignmentInput in, net::TimePoint deadline);
  void send_sync(std::vector<proto::SyncGroupRequest::SyncGroupRequestAssignment> assignments);
  void on_sync(const Error& err, proto::SyncGroupResponse& resp);
  void send_heartbeat();
  void on_heartbeat(const Error& err, proto::HeartbeatResponse& resp);
  void check_poll_interval();
  void request_rejoin(const std::string& why);
  void lose_partitions(const std::string& why, bool reset_member);
  void report_topic_errors(const net::ClusterMetadata& md);
  void fail_fatal(Error e);
  void retry_later(int64_t ms);
  // group_offsets.cc. after_ms: runs `fn` once after `ms` (a timer that
  // owns itself until it fires).
  void after_ms(int64_t ms, std::function<void()> fn);
  void retry_fetch_committed(std::vector<TopicPartition> parts, net::TimePoint deadline, CommittedCallback cb);
  void on_metadata(const net::MetadataManager::Snapshot& md);
  bool update_pattern_topics(const net::ClusterMetadata& md);
  bool cooperative() const;
  PartitionAssignor* assignor_named(const std::string& name) const;
  std::vector<uint8_t> subscription_metadata(const PartitionAssignor& a) const;
  int32_t node() const { return net::dedicated_id(coordinator_); }

  net::NetClient& nc_;
  ConsumerState& state_;
  GroupOptions opts_;
  std::vector<std::shared_ptr<PartitionAssignor>> assignors_;
  GroupLogFn log_;
  io::Lifetime lifetime_;  // io/lifetime.h
  bool shut_down_ = false;

  // Subscription.
  std::set<std::string> subscribed_;
  std::optional<std::regex> pattern_;
  bool active_ = false;  // subscribed: be a member

  // Coordinator.
  int32_t coordinator_ = -1;
  bool finding_ = false;
  std::vector<std::function<void(const Error&, int32_t)>> coordinator_waiters_;

  // Membership.
  Phase phase_ = Phase::kIdle;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string protocol_;
  bool rejoin_needed_ = true;
  std::set<TopicPartition> owned_;
  std::map<std::string, int32_t> assigned_topic_counts_;  // leader: partition counts the assignment used
  std::set<std::string> group_topics_;                    // leader: every member's topics
  bool leader_ = false;
  net::TimePoint last_poll_;
  bool poll_expired_ = false;
  // Removed from the group (poll expiry, unknown member, stale generation)
  // and not joined again yet: commits fail with kCommitFailedMessage.
  bool removed_ = false;
  // Subscribed topics whose metadata carries an error, and the error
  // reported for each (librdkafka's rkcg_errored_topics: once per topic
  // and error).
  std::map<std::string, int16_t> errored_topics_;
  uint64_t rebalances_ = 0;
  int join_attempts_ = 0;

  std::unique_ptr<io::Timer> heartbeat_timer_;
  std::unique_ptr<io::Timer> retry_timer_;
  std::unique_ptr<io::Timer> poll_timer_;
  bool heartbeat_in_flight_ = false;
};

}  // namespace kfk::consumer
