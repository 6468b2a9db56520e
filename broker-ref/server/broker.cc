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
      sessions_(static_cast<size_t>(config_.get_long("max.incremental.fetch.session.cache.slots"))),
      waiters_(loop),
      auto_create_(config_.get_bool("auto.create.topics.enable")),
      num_partitions_(static_cast<int32_t>(config_.get_long("num.partitions"))),
      fetch_max_bytes_(static_cast<int32_t>(config_.get_long("fetch.max.bytes"))),
      emulated_kafka_(config_.emulated_kafka()) {
  groups_ = std::make_unique<GroupCoordinator>(loop_, *logs_, config_, [this](int32_t partition, size_t bytes) {
    waiters_.notify(kOffsetsTopic, partition, bytes);
  });
}

Broker::~Broker() { (void)close(); }

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

int16_t Broker::check_leader_epoch(int32_t current_leader_epoch) {
  if (current_leader_epoch < 0 || current_leader_epoch == kLeaderEpoch) return 0;
  return proto::to_int(current_leader_epoch < kLeaderEpoch ? proto::ErrorCode::FENCED_LEADER_EPOCH
                                                           : proto::ErrorCode::UNKNOWN_LEADER_EPOCH);
}

}  // namespace kfk::broker
