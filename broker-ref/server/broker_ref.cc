// kfk::testing::BrokerRef: the Server on a thread of its own.
#include "kfk-broker-ref/broker_ref.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "io/mutex.h"
#include "server/server.h"
#include "server/server_log.h"
#include "storage/fd_cache.h"

namespace kfk::testing {

struct BrokerRef::Impl {
  std::unique_ptr<broker::Server> server;
  std::thread thread;
  std::string data_dir;
  std::string host;
  int port = 0;
  bool temp_dir = false;
  Mutex mu;  // serializes stop()
  bool stopped GUARDED_BY(mu) = false;
};

BrokerRef::BrokerRef(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

BrokerRef::~BrokerRef() { stop(); }

std::unique_ptr<BrokerRef> BrokerRef::start(const Options& options, std::string* error) {
  std::string local_error;
  std::string& err = error ? *error : local_error;
  broker::Server::Options so;
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  for (const auto& [k, v] : options.config)
    if (!so.config.set(k, v, &err)) return nullptr;
  if (!so.config.set("listeners", host + ":" + std::to_string(options.port), &err)) return nullptr;
  if (!so.config.set("node.id", std::to_string(options.node_id), &err)) return nullptr;

  auto impl = std::make_unique<Impl>();
  impl->data_dir = options.data_dir;
  if (impl->data_dir.empty()) {
    std::error_code ec;
    std::string base = std::filesystem::temp_directory_path(ec).string();
    std::string tmpl = (ec || base.empty() ? std::string("/tmp") : base) + "/kfk-broker-ref-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      err = "cannot create a temporary data directory " + tmpl;
      return nullptr;
    }
    impl->data_dir = tmpl;
    impl->temp_dir = true;
  }
  so.data_dir = impl->data_dir;
  // As the broker-ref executable: the whole hard descriptor limit (it is
  // the process's, so an embedding test process gains it too).
  (void)broker::raise_fd_limit();
  impl->server = broker::Server::create(so, &err);
  if (!impl->server) {
    if (impl->temp_dir) {
      std::error_code ec;
      std::filesystem::remove_all(impl->data_dir, ec);
    }
    return nullptr;
  }
  impl->host = options.host;
  impl->port = impl->server->port();
  broker::Server* server = impl->server.get();
  impl->thread = std::thread([server] {
    // A peer that vanishes mid-write must not SIGPIPE the test process.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    server->run();
  });
  return std::unique_ptr<BrokerRef>(new BrokerRef(std::move(impl)));
}

std::string BrokerRef::bootstrap_servers() const {
  const std::string& h = impl_->host;
  return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(port());
}

int BrokerRef::port() const { return impl_->port; }

const std::string& BrokerRef::data_dir() const { return impl_->data_dir; }

void BrokerRef::stop() {
  if (!impl_) return;
  MutexLock lk(impl_->mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->request_stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->server.reset();
  if (impl_->temp_dir) {
    std::error_code ec;
    std::filesystem::remove_all(impl_->data_dir, ec);
  }
}

}  // namespace kfk::testing
