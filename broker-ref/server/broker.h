// The state request handlers share: identity, configuration, the cluster
// seam (the metadata image, the controller that publishes it, the
// partitions this node hosts), storage, fetch sessions, waiting fetches,
// producer ids, the group coordinator.
//
// Handlers answer "who leads, with which epoch, who coordinates, which
// brokers" from metadata() and reach a partition's Log through replicas(),
// never from node_id() or storage directly; topic changes go through
// controller(), which publishes the next image.
//
// Thread ownership: created before the loop runs; used on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/local_controller.h"
#include "cluster/metadata_image.h"
#include "group/group_coordinator.h"
#include "replication/replica_manager.h"
#include "server/broker_config.h"
#include "server/fetch_session.h"
#include "server/fetch_waiters.h"
#include "server/node_state.h"
#include "storage/log_manager.h"

namespace kfk::broker {

class Broker {
 public:
  // Guard against absurd CreateTopics / CreatePartitions counts: every
  // partition is a directory and open files.
  static constexpr int32_t kMaxPartitionsPerTopic = 10000;

  Broker(uv_loop_t* loop, BrokerConfig config, std::unique_ptr<LogManager> logs, MetaProperties meta,
         std::unique_ptr<ProducerIdManager> producer_ids);
  ~Broker();

  uv_loop_t* loop() const { return loop_; }
  const BrokerConfig& config() const { return config_; }
  LogManager& logs() { return *logs_; }
  // This node's own identity (not: the leader, controller or coordinator;
  // those come from metadata()).
  int32_t node_id() const { return meta_.node_id; }
  const std::string& cluster_id() const { return meta_.cluster_id; }
  const io::HostPort& advertised() const { return advertised_; }
  // The listener's address: registers this broker's endpoint (a new image).
  void set_advertised(const io::HostPort& hp);

  // The current metadata image; snapshot() for an answer built from one.
  const MetadataImage& metadata() const { return metadata_.image(); }
  std::shared_ptr<const MetadataImage> metadata_snapshot() const { return metadata_.snapshot(); }
  LocalController& controller() { return controller_; }
  ReplicaManager& replicas() { return replicas_; }
  ProducerIdManager& producer_ids() { return *producer_ids_; }
  FetchSessionCache& fetch_sessions() { return sessions_; }
  FetchWaiters& fetch_waiters() { return waiters_; }
  GroupCoordinator& groups() { return *groups_; }

  bool shutting_down() const { return shutting_down_; }
  void set_shutting_down() { shutting_down_ = true; }

  // Cached config values.
  bool auto_create_topics() const { return auto_create_; }
  int32_t num_partitions() const { return num_partitions_; }
  int32_t fetch_max_bytes() const { return fetch_max_bytes_; }
  KafkaGeneration emulated_kafka() const { return emulated_kafka_; }

  static bool is_internal_topic(std::string_view name) {
    return name == "__consumer_offsets" || name == "__transaction_state";
  }
  // Closes storage (clean shutdown marker); the loop's handles close too.
  Status close();

 private:
  BrokerEndpoint endpoint() const;

  uv_loop_t* loop_;
  BrokerConfig config_;
  std::unique_ptr<LogManager> logs_;
  MetaProperties meta_;
  std::unique_ptr<ProducerIdManager> producer_ids_;
  io::HostPort advertised_;
  MetadataCache metadata_;
  ReplicaManager replicas_;
  LocalController controller_;
  FetchSessionCache sessions_;
  FetchWaiters waiters_;
  std::unique_ptr<GroupCoordinator> groups_;
  bool shutting_down_ = false;
  bool auto_create_;
  int32_t num_partitions_;
  int32_t fetch_max_bytes_;
  KafkaGeneration emulated_kafka_;
};

}  // namespace kfk::broker
