#include "client/net/cluster_metadata.h"

#include <algorithm>

#include "client/core/classify.h"

namespace kfk::net {

const PartitionInfo* TopicInfo::partition(int32_t p) const {
  // Partitions are dense and sorted in a healthy topic: try the direct slot.
  if (p >= 0 && static_cast<size_t>(p) < partitions.size() && partitions[p].partition == p) return &partitions[p];
  auto it = std::lower_bound(partitions.begin(), partitions.end(), p,
                             [](const PartitionInfo& a, int32_t id) { return a.partition < id; });
  return it != partitions.end() && it->partition == p ? &*it : nullptr;
}

const BrokerInfo* ClusterMetadata::broker(int32_t node_id) const {
  auto it = brokers_.find(node_id);
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicInfo* ClusterMetadata::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicInfo* ClusterMetadata::topic(const proto::Uuid& id) const {
  if (id.is_zero()) return nullptr;
  for (const auto& [name, t] : topics_)
    if (t.id == id) return &t;
  return nullptr;
}

const PartitionInfo* ClusterMetadata::partition(std::string_view topic_name, int32_t p) const {
  const TopicInfo* t = topic(topic_name);
  return t ? t->partition(p) : nullptr;
}

int32_t ClusterMetadata::leader_of(std::string_view topic_name, int32_t p) const {
  const PartitionInfo* pi = partition(topic_name, p);
  return pi ? pi->leader_id : -1;
}

std::shared_ptr<const ClusterMetadata> ClusterMetadata::merge(const ClusterMetadata* prev,
                                                              const proto::MetadataResponse& resp, bool all_topics,
                                                              const EpochMap& last_seen, MergeStats* stats) {
  auto next = std::make_shared<ClusterMetadata>();
  MergeStats local;
  MergeStats& st = stats ? *stats : local;
  next->generation_ = (prev ? prev->generation_ : 0) + 1;
  next->updated_at_ = now();
  next->cluster_id_ = resp.cluster_id;
  next->controller_id_ = resp.controller_id;
  for (const auto& b : resp.brokers) next->brokers_[b.node_id] = BrokerInfo{b.node_id, b.host, b.port, b.rack};
  if (prev && !all_topics) next->topics_ = prev->topics_;

  for (const auto& rt : resp.topics) {
    if (!rt.name || rt.name->empty()) continue;  // v12+ may omit names (topic-id requests): kfk asks by name
    TopicInfo t;
    t.name = *rt.name;
    t.id = rt.topic_id;
    t.is_internal = rt.is_internal;
    t.error = rt.error_code;
    if (t.error != 0) {
      if (core::refreshes_metadata(t.error)) ++st.retriable_errors;
      next->topics_[t.name] = std::move(t);
      continue;
    }
    const TopicInfo* old = prev ? prev->topic(t.name) : nullptr;
    // A recreated topic (new id) starts over: old epochs mean nothing.
    bool same_topic = old && (old->id.is_zero() || t.id.is_zero() || old->id == t.id);
    for (const auto& rp : rt.partitions) {
      PartitionInfo p;
      p.partition = rp.partition_index;
      p.leader_id = rp.leader_id;
      p.leader_epoch = rp.leader_epoch;
      p.replicas = rp.replica_nodes;
      p.isr = rp.isr_nodes;
      p.offline_replicas = rp.offline_replicas;
      p.error = rp.error_code;
      if (p.error != 0 && core::refreshes_metadata(p.error)) ++st.retriable_errors;
      if (p.leader_epoch >= 0) {
        int32_t known = -1;
        const PartitionInfo* op = same_topic ? old->partition(p.partition) : nullptr;
        if (op) known = op->leader_epoch;
        if (same_topic) {
          auto it = last_seen.find(std::make_pair(t.name, p.partition));
          if (it != last_seen.end()) known = std::max(known, it->second);
        }
        if (p.leader_epoch < known) {
          ++st.stale_partitions;  // KIP-320: this broker is behind; keep what we know
          if (op) {
            t.partitions.push_back(*op);
            continue;
          }
        }
      }
      t.partitions.push_back(std::move(p));
    }
    std::sort(t.partitions.begin(), t.partitions.end(),
              [](const PartitionInfo& a, const PartitionInfo& b) { return a.partition < b.partition; });
    next->topics_[t.name] = std::move(t);
  }
  return next;
}

}  // namespace kfk::net
