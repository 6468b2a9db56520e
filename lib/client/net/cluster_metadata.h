// ClusterMetadata: an immutable snapshot of what the brokers said about the
// cluster (brokers, controller, cluster id, topics, partitions, leaders and
// leader epochs). Built on the network thread by MetadataManager; shared as
// shared_ptr<const ClusterMetadata>, so any thread may read a snapshot it
// holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client/net/clock.h"
#include "protocol/metadata.h"

namespace kfk::net {

struct BrokerInfo {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct PartitionInfo {
  int32_t partition = 0;
  int32_t leader_id = -1;     // -1: no leader right now
  int32_t leader_epoch = -1;  // -1: unknown (Metadata < v7)
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  int16_t error = 0;  // e.g. LEADER_NOT_AVAILABLE
};

struct TopicInfo {
  std::string name;
  proto::Uuid id;  // zero before Metadata v10
  bool is_internal = false;
  // Topic-level error of the last response naming the topic:
  // UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED,
  // LEADER_NOT_AVAILABLE (being created), ... Partitions are empty then.
  int16_t error = 0;
  std::vector<PartitionInfo> partitions;  // sorted by partition id

  const PartitionInfo* partition(int32_t p) const;
  bool usable() const { return error == 0 && !partitions.empty(); }
};

// Leader epochs seen elsewhere (fetch responses): metadata older than these
// is stale.
using EpochMap = std::map<std::pair<std::string, int32_t>, int32_t, std::less<>>;

class ClusterMetadata {
 public:
  // How a response was merged.
  struct MergeStats {
    int stale_partitions = 0;  // kept the old info (older leader epoch)
    int retriable_errors = 0;  // topic/partition errors worth a quick refresh
  };

  ClusterMetadata() = default;

  // The snapshot after `resp`: brokers, controller and cluster id are
  // replaced; topics named in the response are replaced, keeping a
  // partition's previous info when the response carries an older leader
  // epoch than `prev` (or `last_seen`) knows (KIP-320). Topics not in the
  // response are kept unless `all_topics` (the request asked for every
  // topic, so absence means deletion).
  static std::shared_ptr<const ClusterMetadata> merge(const ClusterMetadata* prev, const proto::MetadataResponse& resp,
                                                      bool all_topics, const EpochMap& last_seen,
                                                      MergeStats* stats);

  const std::optional<std::string>& cluster_id() const { return cluster_id_; }
  int32_t controller_id() const { return controller_id_; }
  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  const BrokerInfo* broker(int32_t node_id) const;
  const std::map<std::string, TopicInfo, std::less<>>& topics() const { return topics_; }
  const TopicInfo* topic(std::string_view name) const;
  const TopicInfo* topic(const proto::Uuid& id) const;
  const PartitionInfo* partition(std::string_view topic, int32_t partition) const;
  // -1 when unknown or leaderless.
  int32_t leader_of(std::string_view topic, int32_t partition) const;
  // Counts successful updates; 0 for the empty snapshot before the first.
  uint64_t generation() const { return generation_; }
  TimePoint updated_at() const { return updated_at_; }

 private:
  std::optional<std::string> cluster_id_;
  int32_t controller_id_ = -1;
  std::map<int32_t, BrokerInfo> brokers_;
  std::map<std::string, TopicInfo, std::less<>> topics_;
  uint64_t generation_ = 0;
  TimePoint updated_at_{};
};

}  // namespace kfk::net
