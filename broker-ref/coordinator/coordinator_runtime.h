// What a coordinator whose state lives on an internal compacted topic
// needs from the broker (Kafka's CoordinatorRuntime): the group
// coordinator uses it (__consumer_offsets), the transaction coordinator
// will (__transaction_state).
//
//   placement   partition_for(key): Utils.abs(Java hashCode) % partitions
//   topic       ensure_topic(): created compacted on first use, through the
//               controller
//   load        load(p) replays partition p's log into the shard
//               (CoordinatorShard::replay, then on_loaded); unload(p) hands
//               it back (on_unloaded). A partition answers requests only
//               while loaded: check(p) is NONE, COORDINATOR_LOAD_IN_PROGRESS
//               or NOT_COORDINATOR. Leadership decides: today one node
//               leads every partition and load_all() loads them at start;
//               with replication, leadership changes call load / unload.
//   append      append(p, records): one uncompressed batch appended as the
//               partition's leader (its epoch from the metadata image)
//   deadlines   one timer: schedule(due) replaces the previous deadline,
//               the shard's on_deadline runs when it passes
//   parked      post(fn): answers to held requests run on a later loop
//               turn, in the order posted, so one connection's handler
//               never runs another connection's queue re-entrantly
//
// Thread ownership: the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/local_controller.h"
#include "io/timer.h"
#include "protocol/record_batch.h"
#include "replication/replica_manager.h"

namespace kfk::broker {

// Java's String.hashCode of the UTF-16 form of `s` (UTF-8 in; malformed
// bytes count as U+FFFD, as Java's decoder substitutes them).
int32_t java_string_hash(std::string_view s);

// A coordinator's side of the runtime (Kafka's CoordinatorShard).
class CoordinatorShard {
 public:
  virtual ~CoordinatorShard() = default;
  // One record of `partition` while it loads, in log order. false: a record
  // it does not know (the runtime warns and goes on).
  virtual bool replay(int32_t partition, const proto::Record& record) = 0;
  // The partition's records are all replayed: its state is complete.
  virtual void on_loaded(int32_t partition) = 0;
  // The partition is no longer this node's: forget its state and answer
  // its held requests (NOT_COORDINATOR).
  virtual void on_unloaded(int32_t partition) = 0;
  // The deadline given to schedule() has passed.
  virtual void on_deadline() = 0;
};

struct CoordinatorRecord {
  proto::Bytes key;
  std::optional<proto::Bytes> value;  // nullopt: tombstone
  int64_t timestamp = 0;
};

struct CoordinatorRuntimeOptions {
  std::string topic;  // __consumer_offsets, __transaction_state
  int32_t num_partitions = 1;
  ConfigMap topic_overrides;  // cleanup.policy=compact, segment.bytes
  std::string name;           // for log lines: "group coordinator"
};

class CoordinatorRuntime {
 public:
  enum class PartitionState { kUnloaded, kLoading, kLoaded };

  // on_append(partition, bytes) after each append (wakes long-poll fetches).
  CoordinatorRuntime(uv_loop_t* loop, CoordinatorRuntimeOptions options, LocalController& controller,
                     ReplicaManager& replicas, std::function<void(int32_t, size_t)> on_append);
  ~CoordinatorRuntime();
  CoordinatorRuntime(const CoordinatorRuntime&) = delete;
  CoordinatorRuntime& operator=(const CoordinatorRuntime&) = delete;

  void set_shard(CoordinatorShard* shard) { shard_ = shard; }
  const std::string& topic() const { return options_.topic; }
  int32_t num_partitions() const { return options_.num_partitions; }
  int32_t partition_for(std::string_view key) const;
  Status ensure_topic();

  // Replays partition p (nothing when the topic does not exist yet) and
  // marks it loaded. NOT_COORDINATOR when another node leads it.
  Status load(int32_t partition);
  void unload(int32_t partition);
  // Every partition this node leads (today: all of them).
  Status load_all();
  PartitionState state(int32_t partition) const;
  // NONE, COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR.
  proto::ErrorCode check(int32_t partition) const;

  // Appends the records to the partition as one batch, as its leader.
  // COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR when it cannot.
  Status append(int32_t partition, const std::vector<CoordinatorRecord>& records, int64_t now_ms);

  void schedule(uint64_t due_ms);  // uv_now() milliseconds
  void cancel_deadline();
  uint64_t now() const { return uv_now(loop_); }

  void post(std::function<void()> fn);
  // Shutdown: runs what is posted now and stops the clocks.
  void shutdown();
  // Releases the timers (their handles are freed on a later loop iteration).
  void close();

 private:
  Status replay(int32_t partition, Log& log);
  void warn(const std::string& msg) const;
  void run_posted();

  uv_loop_t* loop_;
  CoordinatorRuntimeOptions options_;
  LocalController& controller_;
  ReplicaManager& replicas_;
  std::function<void(int32_t, size_t)> on_append_;
  CoordinatorShard* shard_ = nullptr;
  std::vector<PartitionState> states_;
  bool stopped_ = false;

  std::unique_ptr<io::Timer> deadline_timer_;
  std::unique_ptr<io::Timer> post_timer_;  // posted callbacks, next iteration
  std::vector<std::function<void()>> posted_;
};

}  // namespace kfk::broker
