// The partitions this node hosts (Kafka's ReplicaManager), kept in step
// with the metadata image: a partition whose replicas include this node is
// hosted (leader or follower, with its Log); the others are not. Handlers
// look partitions up here instead of in storage, and get Kafka's errors
// from one place:
//   not in the image                          UNKNOWN_TOPIC_OR_PARTITION
//   in the image, not hosted here             NOT_LEADER_OR_FOLLOWER
//   hosted, stale / future leader epoch       FENCED_ / UNKNOWN_LEADER_EPOCH
//   hosted as a follower, leader required     NOT_LEADER_OR_FOLLOWER
// A lookup is one map search and returns a pointer: nothing is allocated.
//
// Thread ownership: the loop thread. A Partition* is valid until the next
// image is applied (a handler uses it within one loop turn; a deferred
// Fetch looks its partitions up again when it completes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/metadata_image.h"
#include "replication/partition.h"
#include "storage/log_manager.h"

namespace kfk::broker {

class ReplicaManager {
 public:
  ReplicaManager(int32_t node_id, LogManager& logs, const MetadataCache& metadata);
  ReplicaManager(const ReplicaManager&) = delete;
  ReplicaManager& operator=(const ReplicaManager&) = delete;

  // Kafka's applyDelta: brings the named topics in line with `image`
  // (partitions created, dropped, made leader or follower).
  void apply(const MetadataImage& image, const std::vector<std::string>& changed);

  // Kafka's getPartitionOrError: the hosted partition, or nullptr with
  // *error UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER.
  Partition* hosted(std::string_view topic, int32_t partition, proto::ErrorCode* error) const;
  // hosted() and then Partition::check_local (Kafka's getPartitionOrError
  // plus getLocalLog): the partition, or nullptr with *error.
  Partition* local(std::string_view topic, int32_t partition, int32_t current_leader_epoch, bool require_leader,
                   proto::ErrorCode* error) const;
  // The leader partition, no epoch given (Produce, DeleteRecords, the
  // coordinators' appends).
  Partition* leader(std::string_view topic, int32_t partition, proto::ErrorCode* error) const {
    return local(topic, partition, -1, true, error);
  }

  // A lookup's error with Kafka's message for it (Produce, DeleteRecords).
  static Status lookup_error(proto::ErrorCode e);

  // DeleteRecords as the partition's leader (Kafka's deleteRecords): the
  // leader lookup's error, or LogManager::delete_records (the new log
  // start offset checkpointed before it answers).
  Status delete_records(std::string_view topic, int32_t partition, int64_t offset, int64_t* low_watermark);

  size_t hosted_count() const;
  int32_t node_id() const { return node_id_; }

 private:
  void apply_topic(const TopicImage& topic, std::vector<std::unique_ptr<Partition>>& parts);

  int32_t node_id_;
  LogManager& logs_;
  const MetadataCache& metadata_;
  // By topic name; a null entry is a partition not hosted here.
  std::map<std::string, std::vector<std::unique_ptr<Partition>>, std::less<>> partitions_;
};

}  // namespace kfk::broker
