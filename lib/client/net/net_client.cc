#include "client/net/net_client.h"

namespace kfk::net {

NetClient::NetClient(NetOptions opts) : opts_(std::move(opts)) {}

NetClient::~NetClient() { stop(); }

void NetClient::start(bool bootstrap_metadata) {
  if (started_.exchange(true)) return;
  thread_.start();
  thread_.post([this, bootstrap_metadata] {
    // Runs on the network thread.
    pool_ = std::make_unique<ConnectionPool>(thread_.loop(), opts_);
    metadata_ = std::make_unique<MetadataManager>(*pool_, opts_, snapshot_);
    thread_.add_stop_hook([this] {
      // Waiters first, then requests (whose callbacks may touch metadata_).
      metadata_->shutdown();
      pool_->shutdown();
      metadata_.reset();
      pool_.reset();
    });
    if (bootstrap_metadata) metadata_->start();
  });
}

void NetClient::stop() { thread_.stop(); }

std::shared_ptr<const ClusterMetadata> NetClient::metadata_snapshot() const {
  return snapshot_->get();
}

}  // namespace kfk::net
