// The controller of a one-node cluster: the only writer of the metadata
// image. Topic changes (CreateTopics, auto-creation, DeleteTopics,
// CreatePartitions, the coordinators' internal topics) go through it: it
// applies them to the topic catalog (still node-local storage,
// LogManager's __meta/topics) and publishes a new image, which it hands to
// the listener (the ReplicaManager, then whoever follows leadership).
//
// This node is the controller, the only registered broker, and every
// partition's leader; replicas = ISR = [this node]. A partition's leader
// epoch comes from storage: the latest epoch in its log's leader epoch
// cache (0 for an empty log, as KRaft starts), so it never goes back
// across restarts. With replication, a controller elsewhere replaces this
// one and the image arrives from the metadata log; the readers stay.
//
// Thread ownership: the loop thread (publish and every topic change).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/metadata_image.h"
#include "storage/log_manager.h"

namespace kfk::broker {

class LocalController {
 public:
  // Called after each publish with the new image and the names of the
  // topics that changed (created, grown or deleted); every topic on the
  // first publish.
  using Listener = std::function<void(const MetadataImage& image, const std::vector<std::string>& changed)>;

  LocalController(int32_t node_id, std::string cluster_id, LogManager& logs, MetadataCache& cache);

  void set_listener(Listener l) { listener_ = std::move(l); }
  // Publishes the first image: this broker and every topic in storage.
  void start(BrokerEndpoint self);
  // The node's endpoint changed (the listener bound its port).
  void register_broker(BrokerEndpoint self);

  // As LogManager's, publishing the change (nothing for validate_only).
  Status create_topic(const std::string& name, int32_t partitions, const ConfigMap& overrides, bool validate_only,
                      TopicInfo* out);
  Status delete_topic(const std::string& name);
  Status create_partitions(const std::string& name, int32_t total, bool validate_only);

  // Whether a manual replica assignment (CreateTopics / CreatePartitions)
  // can be placed: in a one-node cluster, exactly [this node].
  bool can_assign(const std::vector<int32_t>& broker_ids) const { return broker_ids == std::vector<int32_t>{node_id_}; }
  // Brokers a replication factor can use (Kafka's "registered" brokers).
  int32_t registered_brokers() const { return static_cast<int32_t>(cache_.image().brokers().size()); }
  int32_t node_id() const { return node_id_; }
  const MetadataImage& image() const { return cache_.image(); }

 private:
  std::shared_ptr<const TopicImage> topic_image(const TopicInfo& info, const TopicImage* previous) const;
  void publish(const std::vector<std::string>& changed);

  int32_t node_id_;
  std::string cluster_id_;
  LogManager& logs_;
  MetadataCache& cache_;
  Listener listener_;
  std::vector<BrokerEndpoint> brokers_;
};

}  // namespace kfk::broker
