// One partition as this node hosts it (Kafka's Partition): its role
// (leader or follower), the leader and leader epoch it was told of by the
// metadata image, the ISR, and its Log. Handlers reach a Log only through
// a Partition (replication/replica_manager.h), which checks the request's
// leader epoch and the role as Kafka does, and appends as the leader
// (stamping its epoch into the batches). A follower's append of the
// leader's batches (AppendOrigin::kReplication) and the delayed produce of
// acks=all belong here too, once there is replication.
//
// Thread ownership: the loop thread (the Log inside is shared with the
// storage maintenance thread under its own mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cluster/metadata_image.h"
#include "protocol/error_codes.h"
#include "storage/log.h"

namespace kfk::broker {

enum class ReplicaRole { kLeader, kFollower };

class Partition {
 public:
  Partition(std::string topic, int32_t index, proto::Uuid topic_id, std::shared_ptr<Log> log);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  const proto::Uuid& topic_id() const { return topic_id_; }
  ReplicaRole role() const { return role_; }
  bool is_leader() const { return role_ == ReplicaRole::kLeader; }
  int32_t leader_id() const { return leader_id_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  int64_t high_watermark() const { return log_->high_watermark(); }
  Log& log() const { return *log_; }
  const std::shared_ptr<Log>& log_shared() const { return log_; }

  // Takes the leader, epoch and ISR of the image's entry for this partition
  // (Kafka's makeLeader / makeFollower).
  void apply(const PartitionImage& image, int32_t node_id);

  // Kafka's checkCurrentLeaderEpoch: a request's current_leader_epoch
  // (negative: absent, unchecked) older than ours is FENCED_LEADER_EPOCH,
  // newer is UNKNOWN_LEADER_EPOCH.
  proto::ErrorCode check_leader_epoch(int32_t current_leader_epoch) const;
  // Kafka's getLocalLog: the epoch check, then (require_leader) the role:
  // NOT_LEADER_OR_FOLLOWER on a follower.
  proto::ErrorCode check_local(int32_t current_leader_epoch, bool require_leader) const;
  // acks=-1 against min.insync.replicas (Kafka's appendRecordsToLeader):
  // NOT_ENOUGH_REPLICAS when the ISR is smaller.
  Status check_min_isr(int16_t required_acks, const LogConfig& config) const;
  // Appends as the leader, stamping the leader epoch (Kafka's
  // appendRecordsToLeader); NOT_LEADER_OR_FOLLOWER on a follower.
  Status append_as_leader(std::span<uint8_t> batches, int64_t now_ms, AppendInfo* info,
                          AppendOrigin origin = AppendOrigin::kClient);
  // OffsetForLeaderEpoch (Kafka's lastOffsetForLeaderEpoch once
  // check_local passed): the current epoch ends at the log end offset,
  // also before anything was appended in it (Kafka assigns the epoch's
  // start when the leader is elected); others from the epoch cache.
  std::pair<int32_t, int64_t> end_offset_for_epoch(int32_t leader_epoch) const;

 private:
  std::string topic_;
  int32_t index_;
  proto::Uuid topic_id_;
  std::shared_ptr<Log> log_;
  ReplicaRole role_ = ReplicaRole::kFollower;
  int32_t leader_id_ = -1;
  int32_t leader_epoch_ = 0;
  std::vector<int32_t> isr_;
};

}  // namespace kfk::broker
