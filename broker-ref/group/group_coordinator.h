// broker-ref's group coordinator: Kafka's classic GroupCoordinator. It
// coordinates the groups whose __consumer_offsets partition is loaded here
// (today: every partition, since one node leads them all); a group in
// another partition gets NOT_COORDINATOR. It is the first user of the
// coordinator runtime (coordinator/coordinator_runtime.h), which places
// groups, loads and unloads partitions, appends, keeps the deadline timer
// and posts held answers.
//
//   membership  group_membership.cc  JoinGroup / SyncGroup / Heartbeat /
//                                    LeaveGroup, the rebalance state machine
//   timers      group_timers.cc      session expiry, rebalance and sync
//                                    timeouts, group.initial.rebalance.delay.ms
//   offsets     group_offsets.cc     OffsetCommit / OffsetFetch /
//                                    OffsetDelete, DescribeGroups /
//                                    ListGroups / DeleteGroups
//   load        group_coordinator.cc a partition's groups rebuilt from its
//                                    records (replay, on_loaded), dropped on
//                                    unload
//   durability  group_log.h          __consumer_offsets records
//
// Requests that must wait (JoinGroup until the rebalance completes, a
// follower's SyncGroup until the leader's) are parked: the handler passes a
// `park` factory that turns its request into a deferred response and
// returns the callback that answers it. Answers to parked requests are
// always posted to a later loop turn (CoordinatorRuntime::post), in order,
// so one connection's handler never runs another connection's queue
// re-entrantly.
//
// Thread ownership: everything here runs on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/local_controller.h"
#include "coordinator/coordinator_runtime.h"
#include "group/group.h"
#include "group/group_log.h"
#include "replication/replica_manager.h"
#include "server/broker_config.h"

namespace kfk::broker {

struct JoinParams {
  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<std::pair<std::string, proto::Bytes>> protocols;
  std::string client_id;
  std::string client_host;
  bool require_known_member_id = false;  // JoinGroup v4+ (KIP-394)
};

struct SyncParams {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  std::map<std::string, proto::Bytes> assignments;
};

struct LeaveIdentity {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct OffsetCommitEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error = 0;  // out
};

struct OffsetFetchEntry {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error = 0;
};

struct GroupSummary {
  int16_t error = 0;
  std::string group_id;
  std::string state;
  std::string protocol_type;
  std::string protocol_data;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    proto::Bytes metadata;
    proto::Bytes assignment;
  };
  std::vector<Member> members;
};

struct ListedGroup {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

class GroupCoordinator : private CoordinatorShard {
 public:
  // notify(partition, bytes): an append to __consumer_offsets (wakes fetches).
  GroupCoordinator(uv_loop_t* loop, const BrokerConfig& config, LocalController& controller,
                   ReplicaManager& replicas, const MetadataCache& metadata,
                   std::function<void(int32_t, size_t)> notify);
  ~GroupCoordinator() override;
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Broker start: loads every __consumer_offsets partition this node leads
  // (groups and offsets rebuilt from their records).
  Status load();
  // Per partition, on leadership change (and in tests).
  CoordinatorRuntime& runtime() { return runtime_; }
  // Shutdown: answers every parked request now (NOT_COORDINATOR, so
  // clients look for the coordinator again); later requests get
  // COORDINATOR_NOT_AVAILABLE.
  void shutdown();
  // Releases the timer handles (the loop must run once more).
  void close();

  // FindCoordinator: creates __consumer_offsets on first use. NONE or
  // COORDINATOR_NOT_AVAILABLE.
  int16_t ensure_offsets_topic();

  // ------------------------------------------------ group_membership.cc
  // true: answered now (*out). false: parked (park() was called; the
  // callback it returned gets the answer later).
  bool join(const JoinParams& p, JoinResult* out, const std::function<JoinCallback()>& park);
  bool sync(const SyncParams& p, SyncResult* out, const std::function<SyncCallback()>& park);
  int16_t heartbeat(const std::string& group_id, const std::string& member_id,
                    const std::optional<std::string>& group_instance_id, int32_t generation_id);
  // Top-level error (INVALID_GROUP_ID, COORDINATOR_NOT_AVAILABLE) or NONE
  // with one error per identity in *errors.
  int16_t leave(const std::string& group_id, const std::vector<LeaveIdentity>& members, std::vector<int16_t>* errors);

  // --------------------------------------------------- group_offsets.cc
  // Fills each entry's error.
  void commit_offsets(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                      const std::optional<std::string>& group_instance_id, std::vector<OffsetCommitEntry>* entries);
  // topics nullopt: every committed offset of the group. Returns the
  // group-level error.
  int16_t fetch_offsets(const std::string& group_id,
                        const std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>& topics,
                        std::vector<OffsetFetchEntry>* out);
  GroupSummary describe(const std::string& group_id) const;
  int16_t list(const std::vector<std::string>& states_filter, std::vector<ListedGroup>* out) const;
  int16_t delete_group(const std::string& group_id);
  // Top-level error, and per partition errors in *errors (same order).
  int16_t delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions,
                         std::vector<int16_t>* errors);

  // DeleteTopics: every group forgets its committed offsets of `topic`
  // (tombstones in __consumer_offsets), and a group left Empty without
  // offsets becomes Dead and is removed, as Kafka's onPartitionsDeleted /
  // cleanupGroupMetadata. A group recreated later on a topic of the same
  // name starts from auto.offset.reset instead of the old topic's offsets.
  void remove_offsets_of_deleted_topic(const std::string& topic);

  // For tests and logs.
  size_t group_count() const { return groups_.size(); }
  int32_t partition_for(const std::string& group_id) const { return log_.partition_for(group_id); }

 private:
  // CoordinatorShard
  bool replay(int32_t partition, const proto::Record& record) override;
  void on_loaded(int32_t partition) override;
  void on_unloaded(int32_t partition) override;
  void on_deadline() override { on_timer(); }
  Group group_from_log(const std::string& id, LoadedGroup&& lg);
  // COORDINATOR_NOT_AVAILABLE (shutting down), COORDINATOR_LOAD_IN_PROGRESS
  // or NOT_COORDINATOR (the group's partition is not loaded here), or NONE.
  proto::ErrorCode unavailable(const std::string& group_id) const;
  // Answers every parked request of `g` with `error` (now, or posted).
  void answer_parked(Group& g, int16_t error, bool now);

  // membership
  bool join_new_member(Group& g, const JoinParams& p, JoinResult* out, const std::function<JoinCallback()>& park);
  bool join_existing_member(Group& g, const JoinParams& p, JoinResult* out, const std::function<JoinCallback()>& park);
  void add_member_and_rebalance(Group& g, const std::string& member_id, const JoinParams& p,
                                const std::function<JoinCallback()>& park);
  void update_member_and_rebalance(Group& g, GroupMember& m, const JoinParams& p,
                                   const std::function<JoinCallback()>& park);
  bool update_static_member(Group& g, const std::string& old_id, const std::string& new_id, const JoinParams& p,
                            JoinResult* out, const std::function<JoinCallback()>& park);
  JoinResult current_generation_result(const Group& g, const std::string& member_id, bool with_members) const;
  void maybe_prepare_rebalance(Group& g, const std::string& why);
  void prepare_rebalance(Group& g, const std::string& why);
  void try_complete_join(Group& g);
  void complete_join(Group& g);
  void remove_member_and_update(Group& g, const std::string& member_id, const std::string& why);
  void remove_member(Group& g, const std::string& member_id, int16_t join_error);
  void reset_assignments_and_fail_syncs(Group& g, int16_t error);
  void touch_session(const Group& g, GroupMember& m);
  bool persist_group(Group& g);  // false when the append failed (logged)
  Group* find(const std::string& id);
  const Group* find(const std::string& id) const;
  void post_join(GroupMember& m, JoinResult r);
  void post_sync(GroupMember& m, SyncResult r);

  // timers (group_timers.cc)
  void post(std::function<void()> fn) { runtime_.post(std::move(fn)); }
  void arm();
  void on_timer();
  void expire(Group& g, uint64_t now);
  void maybe_drop(const std::string& id);

  uint64_t now() const { return runtime_.now(); }
  int64_t wall_now() const;
  void log(const std::string& msg) const;

  const MetadataCache& metadata_;
  CoordinatorRuntime runtime_;
  GroupLog log_;
  int32_t min_session_ms_;
  int32_t max_session_ms_;
  int32_t initial_delay_ms_;
  int32_t max_group_size_;
  int32_t max_metadata_bytes_;
  std::map<std::string, Group> groups_;
  std::map<std::string, LoadedGroup> loading_;  // partitions being replayed
  bool shutting_down_ = false;
};

}  // namespace kfk::broker
