#include "cluster/metadata_image.h"

namespace kfk::broker {
namespace {

std::string_view id_key(const proto::Uuid& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}

}  // namespace

MetadataImage::MetadataImage(uint64_t version, std::string cluster_id, int32_t controller_id,
                             std::vector<BrokerEndpoint> brokers, TopicMap topics)
    : version_(version),
      cluster_id_(std::move(cluster_id)),
      controller_id_(controller_id),
      brokers_(std::move(brokers)),
      topics_(std::move(topics)) {
  for (const auto& [name, t] : topics_) by_id_.emplace(std::string(id_key(t->id)), t.get());
}

const BrokerEndpoint* MetadataImage::broker(int32_t id) const {
  for (const auto& b : brokers_)
    if (b.id == id) return &b;
  return nullptr;
}

const TopicImage* MetadataImage::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

const TopicImage* MetadataImage::topic_by_id(const proto::Uuid& id) const {
  if (id.is_zero()) return nullptr;
  auto it = by_id_.find(id_key(id));
  return it == by_id_.end() ? nullptr : it->second;
}

const PartitionImage* MetadataImage::partition(std::string_view topic, int32_t p) const {
  const TopicImage* t = this->topic(topic);
  return t ? t->partition(p) : nullptr;
}

}  // namespace kfk::broker
