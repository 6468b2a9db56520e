#include "replication/replica_manager.h"

#include <algorithm>

namespace kfk::broker {

using proto::ErrorCode;

ReplicaManager::ReplicaManager(int32_t node_id, LogManager& logs, const MetadataCache& metadata)
    : node_id_(node_id), logs_(logs), metadata_(metadata) {}

void ReplicaManager::apply(const MetadataImage& image, const std::vector<std::string>& changed) {
  for (const std::string& name : changed) {
    const TopicImage* t = image.topic(name);
    if (t == nullptr) {
      partitions_.erase(name);
      continue;
    }
    apply_topic(*t, partitions_[name]);
  }
}

void ReplicaManager::apply_topic(const TopicImage& topic, std::vector<std::unique_ptr<Partition>>& parts) {
  parts.resize(topic.partitions.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const int32_t p = static_cast<int32_t>(i);
    const PartitionImage& pi = topic.partitions[i];
    const bool replica_here = std::find(pi.replicas.begin(), pi.replicas.end(), node_id_) != pi.replicas.end();
    std::shared_ptr<Log> log = replica_here ? logs_.log_shared(topic.name, p) : nullptr;
    if (!log) {
      parts[i].reset();
      continue;
    }
    // A topic deleted and created again under the same name is another
    // partition (new id, new Log).
    if (!parts[i] || parts[i]->log_shared() != log || !(parts[i]->topic_id() == topic.id))
      parts[i] = std::make_unique<Partition>(topic.name, p, topic.id, std::move(log));
    parts[i]->apply(pi, node_id_);
  }
}

Partition* ReplicaManager::hosted(std::string_view topic, int32_t partition, ErrorCode* error) const {
  auto it = partitions_.find(topic);
  if (it != partitions_.end() && partition >= 0 && static_cast<size_t>(partition) < it->second.size())
    if (Partition* p = it->second[static_cast<size_t>(partition)].get()) return p;
  *error = metadata_.image().partition(topic, partition) != nullptr ? ErrorCode::NOT_LEADER_OR_FOLLOWER
                                                                     : ErrorCode::UNKNOWN_TOPIC_OR_PARTITION;
  return nullptr;
}

Partition* ReplicaManager::local(std::string_view topic, int32_t partition, int32_t current_leader_epoch,
                                 bool require_leader, ErrorCode* error) const {
  Partition* p = hosted(topic, partition, error);
  if (p == nullptr) return nullptr;
  *error = p->check_local(current_leader_epoch, require_leader);
  return *error == ErrorCode::NONE ? p : nullptr;
}

Status ReplicaManager::lookup_error(ErrorCode e) {
  switch (e) {
    case ErrorCode::UNKNOWN_TOPIC_OR_PARTITION:
      return Status::error(e, "This server does not host this topic-partition.");
    case ErrorCode::NOT_LEADER_OR_FOLLOWER:
      return Status::error(e, "This server is not the leader for that topic-partition.");
    default: return Status::error(e, proto::error_name(e));
  }
}

Status ReplicaManager::delete_records(std::string_view topic, int32_t partition, int64_t offset,
                                      int64_t* low_watermark) {
  ErrorCode e = ErrorCode::NONE;
  if (leader(topic, partition, &e) == nullptr) return lookup_error(e);
  return logs_.delete_records(topic, partition, offset, low_watermark);
}

size_t ReplicaManager::hosted_count() const {
  size_t n = 0;
  for (const auto& [name, parts] : partitions_)
    for (const auto& p : parts) n += p != nullptr;
  return n;
}

}  // namespace kfk::broker
