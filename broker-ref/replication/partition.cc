#include "replication/partition.h"

namespace kfk::broker {

using proto::ErrorCode;

Partition::Partition(std::string topic, int32_t index, proto::Uuid topic_id, std::shared_ptr<Log> log)
    : topic_(std::move(topic)), index_(index), topic_id_(topic_id), log_(std::move(log)) {}

void Partition::apply(const PartitionImage& image, int32_t node_id) {
  leader_id_ = image.leader;
  leader_epoch_ = image.leader_epoch;
  isr_ = image.isr;
  role_ = image.leader == node_id ? ReplicaRole::kLeader : ReplicaRole::kFollower;
}

ErrorCode Partition::check_leader_epoch(int32_t current_leader_epoch) const {
  if (current_leader_epoch < 0 || current_leader_epoch == leader_epoch_) return ErrorCode::NONE;
  return current_leader_epoch < leader_epoch_ ? ErrorCode::FENCED_LEADER_EPOCH : ErrorCode::UNKNOWN_LEADER_EPOCH;
}

ErrorCode Partition::check_local(int32_t current_leader_epoch, bool require_leader) const {
  if (ErrorCode e = check_leader_epoch(current_leader_epoch); e != ErrorCode::NONE) return e;
  if (require_leader && !is_leader()) return ErrorCode::NOT_LEADER_OR_FOLLOWER;
  return ErrorCode::NONE;
}

Status Partition::check_min_isr(int16_t required_acks, const LogConfig& config) const {
  const int32_t in_sync = static_cast<int32_t>(isr_.size());
  if (required_acks != -1 || in_sync >= config.min_insync_replicas) return Status::Ok();
  return Status::error(ErrorCode::NOT_ENOUGH_REPLICAS,
                       "The size of the current ISR " + std::to_string(in_sync) +
                           " is insufficient to satisfy the min.isr requirement of " +
                           std::to_string(config.min_insync_replicas) + " for partition " + topic_ + "-" +
                           std::to_string(index_));
}

Status Partition::append_as_leader(std::span<uint8_t> batches, int64_t now_ms, AppendInfo* info, AppendOrigin origin) {
  if (!is_leader())
    return Status::error(ErrorCode::NOT_LEADER_OR_FOLLOWER, "Leader not local for partition " + topic_ + "-" +
                                                                std::to_string(index_));
  return log_->append(batches, leader_epoch_, now_ms, info, origin);
}

std::pair<int32_t, int64_t> Partition::end_offset_for_epoch(int32_t leader_epoch) const {
  if (leader_epoch == leader_epoch_) return {leader_epoch_, log_->log_end_offset()};
  return log_->end_offset_for_epoch(leader_epoch);
}

}  // namespace kfk::broker
