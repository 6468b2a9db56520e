#include "client/net/net_client.h"

#include "client/net/call.h"
#include "client/net/coordinator_cache.h"

namespace kfk::net {

NetClient::NetClient(NetOptions opts) : opts_(std::move(opts)) {}

NetClient::~NetClient() { stop(); }

void NetClient::start(bool bootstrap_metadata) {
  if (started_.exchange(true)) return;
  thread_.start();
  thread_.post([this, bootstrap_metadata] {
    // Runs on the network thread.
    pool_ = std::make_unique<ConnectionPool>(thread_.loop(), opts_);
    pool_->set_down_listener([this](const Error& e) { on_all_down(e); });
    metadata_ = std::make_unique<MetadataManager>(*pool_, opts_, snapshot_);
    coordinators_ = std::make_unique<CoordinatorCache>(*pool_, *metadata_);
    calls_ = std::make_unique<CallRegistry>();
    thread_.add_stop_hook([this] {
      // Calls first (their callbacks may start no new work), then waiters,
      // then requests (whose callbacks may touch metadata_).
      calls_->shutdown();
      coordinators_->shutdown();
      metadata_->shutdown();
      pool_->shutdown();
      coordinators_.reset();
      metadata_.reset();
      pool_.reset();
    });
    if (bootstrap_metadata) metadata_->start();
  });
}

void NetClient::stop() { thread_.stop(); }

void NetClient::on_all_down(const Error& e) {
  bool first;
  {
    std::lock_guard lock(down_mu_);
    first = all_down_.ok() && !e.ok();
    all_down_ = e;
    if (!e.ok()) ++down_reports_;
  }
  if (first && opts_.log) opts_.log(e.message());
  if (!e.ok() && down_notifier_) down_notifier_();
}

Error NetClient::all_brokers_down() const {
  std::lock_guard lock(down_mu_);
  return all_down_;
}

Error NetClient::all_brokers_down_since(uint64_t* seen) const {
  std::lock_guard lock(down_mu_);
  if (all_down_.ok() || down_reports_ <= *seen) return Error();
  *seen = down_reports_;
  return all_down_;
}

std::shared_ptr<const ClusterMetadata> NetClient::metadata_snapshot() const {
  return snapshot_->get();
}

}  // namespace kfk::net
