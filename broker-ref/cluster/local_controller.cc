#include "cluster/local_controller.h"

#include <algorithm>

namespace kfk::broker {

LocalController::LocalController(int32_t node_id, std::string cluster_id, LogManager& logs, MetadataCache& cache)
    : node_id_(node_id), cluster_id_(std::move(cluster_id)), logs_(logs), cache_(cache) {}

std::shared_ptr<const TopicImage> LocalController::topic_image(const TopicInfo& info,
                                                               const TopicImage* previous) const {
  auto t = std::make_shared<TopicImage>();
  t->name = info.name;
  t->id = info.id;
  t->partitions.resize(static_cast<size_t>(std::max(0, info.partitions)));
  for (int32_t p = 0; p < info.partitions; ++p) {
    PartitionImage& pi = t->partitions[static_cast<size_t>(p)];
    pi.leader = node_id_;
    pi.replicas = {node_id_};
    pi.isr = {node_id_};
    const PartitionImage* old = previous && previous->id == info.id ? previous->partition(p) : nullptr;
    if (old) {
      pi.leader_epoch = old->leader_epoch;
    } else if (std::shared_ptr<Log> log = logs_.log_shared(info.name, p)) {
      pi.leader_epoch = std::max(0, log->latest_epoch().value_or(0));
    }
  }
  return t;
}

void LocalController::publish(const std::vector<std::string>& changed) {
  const MetadataImage& old = cache_.image();
  MetadataImage::TopicMap topics = old.topics();
  for (const std::string& name : changed) {
    std::optional<TopicInfo> info = logs_.topic(name);
    if (!info) {
      topics.erase(name);
      continue;
    }
    auto it = topics.find(name);
    topics[name] = topic_image(*info, it == topics.end() ? nullptr : it->second.get());
  }
  auto image = std::make_shared<const MetadataImage>(old.version() + 1, cluster_id_, node_id_, brokers_,
                                                     std::move(topics));
  cache_.publish(image);
  if (listener_) listener_(*image, changed);
}

void LocalController::start(BrokerEndpoint self) {
  brokers_ = {std::move(self)};
  std::vector<std::string> all;
  for (const TopicInfo& t : logs_.topics()) all.push_back(t.name);
  publish(all);
}

void LocalController::register_broker(BrokerEndpoint self) {
  brokers_ = {std::move(self)};
  publish({});
}

Status LocalController::create_topic(const std::string& name, int32_t partitions, const ConfigMap& overrides,
                                     bool validate_only, TopicInfo* out) {
  Status s = logs_.create_topic(name, partitions, overrides, validate_only, out);
  if (s.ok() && !validate_only) publish({name});
  return s;
}

Status LocalController::delete_topic(const std::string& name) {
  Status s = logs_.delete_topic(name);
  if (s.ok()) publish({name});
  return s;
}

Status LocalController::create_partitions(const std::string& name, int32_t total, bool validate_only) {
  Status s = logs_.create_partitions(name, total, validate_only);
  if (s.ok() && !validate_only) publish({name});
  return s;
}

}  // namespace kfk::broker
