#include "server/broker.h"

#include "protocol/error_codes.h"

namespace kfk::broker {

Broker::Broker(uv_loop_t* loop, BrokerConfig config, std::unique_ptr<LogManager> logs, MetaProperties meta,
               std::unique_ptr<ProducerIdManager> producer_ids)
    : loop_(loop),
      config_(std::move(config)),
      logs_(std::move(logs)),
      meta_(std::move(meta)),
      producer_ids_(std::move(producer_ids)),
      advertised_(config_.advertised()),
      replicas_(meta_.node_id, *logs_, metadata_),
      controller_(meta_.node_id, meta_.cluster_id, *logs_, metadata_),
      sessions_(static_cast<size_t>(config_.get_long("max.incremental.fetch.session.cache.slots"))),
      waiters_(loop),
      auto_create_(config_.get_bool("auto.create.topics.enable")),
      num_partitions_(static_cast<int32_t>(config_.get_long("num.partitions"))),
      fetch_max_bytes_(static_cast<int32_t>(config_.get_long("fetch.max.bytes"))),
      emulated_kafka_(config_.emulated_kafka()) {
  // Runs on the loop thread, after each published image.
  controller_.set_listener([this](const MetadataImage& image, const std::vector<std::string>& changed) {
    replicas_.apply(image, changed);
  });
  controller_.start(endpoint());
  groups_ = std::make_unique<GroupCoordinator>(loop_, config_, controller_, replicas_, metadata_,
                                               [this](int32_t partition, size_t bytes) {
                                                 waiters_.notify(kOffsetsTopic, partition, bytes);
                                               });
}

Broker::~Broker() { (void)close(); }

BrokerEndpoint Broker::endpoint() const {
  BrokerEndpoint e;
  e.id = meta_.node_id;
  e.host = advertised_.host;
  e.port = advertised_.port;
  return e;
}

void Broker::set_advertised(const io::HostPort& hp) {
  advertised_ = hp;
  controller_.register_broker(endpoint());
}

Status Broker::close() {
  if (groups_) {
    groups_->shutdown();
    groups_->close();
  }
  waiters_.complete_all();
  waiters_.close();
  if (!logs_) return Status::Ok();
  Status s = logs_->close();
  return s;
}

}  // namespace kfk::broker
