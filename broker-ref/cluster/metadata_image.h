// The cluster as the handlers see it (Kafka's MetadataImage and
// KRaftMetadataCache): the brokers with their endpoints, the controller,
// and every topic with its id and, per partition, the leader, the leader
// epoch, the replicas and the ISR. An image is immutable once published;
// a new one shares the topics that did not change with the previous one.
//
// MetadataCache holds the current image. One writer (the controller,
// cluster/local_controller.h) publishes; readers take a snapshot and answer
// a whole request from it, so one answer never mixes two images.
//
// Thread ownership: images are immutable (any thread may read one it
// holds); MetadataCache is used on the broker's loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/types.h"

namespace kfk::broker {

struct BrokerEndpoint {
  int32_t id = -1;
  std::string host;
  int32_t port = -1;
  std::optional<std::string> rack;
};

struct PartitionImage {
  int32_t leader = -1;  // -1: no leader
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct TopicImage {
  std::string name;
  proto::Uuid id;
  std::vector<PartitionImage> partitions;  // by partition index

  const PartitionImage* partition(int32_t p) const {
    return p >= 0 && static_cast<size_t>(p) < partitions.size() ? &partitions[static_cast<size_t>(p)] : nullptr;
  }
};

class MetadataImage {
 public:
  using TopicMap = std::map<std::string, std::shared_ptr<const TopicImage>, std::less<>>;

  MetadataImage() = default;
  MetadataImage(uint64_t version, std::string cluster_id, int32_t controller_id, std::vector<BrokerEndpoint> brokers,
                TopicMap topics);

  // Increases with every published image.
  uint64_t version() const { return version_; }
  const std::string& cluster_id() const { return cluster_id_; }
  int32_t controller_id() const { return controller_id_; }
  const std::vector<BrokerEndpoint>& brokers() const { return brokers_; }
  const BrokerEndpoint* broker(int32_t id) const;

  const TopicMap& topics() const { return topics_; }
  const TopicImage* topic(std::string_view name) const;
  const TopicImage* topic_by_id(const proto::Uuid& id) const;
  const PartitionImage* partition(std::string_view topic, int32_t p) const;

 private:
  uint64_t version_ = 0;
  std::string cluster_id_;
  int32_t controller_id_ = -1;
  std::vector<BrokerEndpoint> brokers_;
  TopicMap topics_;
  std::map<std::string, const TopicImage*, std::less<>> by_id_;  // id bytes -> topic
};

class MetadataCache {
 public:
  MetadataCache() : image_(std::make_shared<const MetadataImage>()) {}
  // The current image; holding it keeps it alive and unchanged.
  std::shared_ptr<const MetadataImage> snapshot() const { return image_; }
  const MetadataImage& image() const { return *image_; }
  void publish(std::shared_ptr<const MetadataImage> image) { image_ = std::move(image); }

 private:
  std::shared_ptr<const MetadataImage> image_;
};

}  // namespace kfk::broker
