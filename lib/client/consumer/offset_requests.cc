#include "client/consumer/offset_requests.h"

namespace kfk::consumer {

proto::OffsetCommitRequest offset_commit_request(const std::string& group,
                                                 const std::map<TopicPartition, OffsetAndMetadata>& offsets) {
  proto::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id_or_member_epoch = -1;
  for (const auto& [tp, om] : offsets) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) {
      req.topics.emplace_back();
      req.topics.back().name = tp.topic;
    }
    proto::OffsetCommitRequest::OffsetCommitRequestPartition p;
    p.partition_index = tp.partition;
    p.committed_offset = om.offset;
    p.committed_leader_epoch = om.leader_epoch.value_or(-1);
    p.committed_metadata = om.metadata;
    req.topics.back().partitions.push_back(std::move(p));
  }
  return req;
}

proto::OffsetFetchRequest offset_fetch_request(const std::string& group, const std::vector<TopicPartition>* partitions,
                                               bool require_stable) {
  proto::OffsetFetchRequest req;
  req.require_stable = require_stable;
  req.group_id = group;
  proto::OffsetFetchRequest::OffsetFetchRequestGroup g;
  g.group_id = group;
  if (partitions == nullptr) {
    req.topics = std::nullopt;
    g.topics = std::nullopt;
  } else {
    req.topics.emplace();
    g.topics.emplace();
    for (const auto& tp : *partitions) {
      if (req.topics->empty() || req.topics->back().name != tp.topic) {
        req.topics->push_back({tp.topic, {}, {}});
        g.topics->push_back({tp.topic, {}, {}});
      }
      req.topics->back().partition_indexes.push_back(tp.partition);
      g.topics->back().partition_indexes.push_back(tp.partition);
    }
  }
  req.groups.push_back(std::move(g));
  return req;
}

proto::ListOffsetsRequest list_offsets_request(const std::vector<std::pair<TopicPartition, int64_t>>& partitions,
                                               int8_t isolation_level, int32_t timeout_ms,
                                               const net::ClusterMetadata* md) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = isolation_level;
  req.timeout_ms = timeout_ms;
  for (const auto& [tp, timestamp] : partitions) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) {
      req.topics.emplace_back();
      req.topics.back().name = tp.topic;
    }
    proto::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = tp.partition;
    p.timestamp = timestamp;
    p.max_num_offsets = 1;  // v0
    const net::PartitionInfo* pi = md != nullptr ? md->partition(tp.topic, tp.partition) : nullptr;
    p.current_leader_epoch = pi != nullptr ? pi->leader_epoch : -1;
    req.topics.back().partitions.push_back(p);
  }
  return req;
}

}  // namespace kfk::consumer
