// Helpers for the network-layer tests: running code on a NetClient's loop
// thread and waiting for callbacks, and a tiny raw TCP server that answers
// whatever a test scripts (garbage included); the mock cluster, broker-ref,
// waiting and log sinks come from the test-support library.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "client/net/net_client.h"
#include "kfk_test/brokers.h"
#include "kfk_test/log_lines.h"
#include "kfk_test/mock_cluster.h"
#include "kfk_test/wait.h"

namespace kfk::net::testing {

// From the test-support library (kfk_test/).
using kfk::test::eventually;
using kfk::test::LogLines;
using kfk::test::MockCluster;
using kfk::test::start_broker;

// The mock cluster's brokers as the client's bootstrap list.
std::vector<io::HostPort> mock_servers(const MockCluster& mc);

// Options suitable for tests: short timeouts, fixed bootstrap order.
NetOptions test_options(std::vector<io::HostPort> bootstrap);

// Runs `fn` on the client's loop thread and returns its result.
template <class F>
auto on_loop(NetClient& nc, F fn) -> decltype(fn()) {
  using R = decltype(fn());
  auto p = std::make_shared<std::promise<R>>();
  auto fut = p->get_future();
  bool posted = nc.post([p, fn = std::move(fn)]() mutable {
    if constexpr (std::is_void_v<R>) {
      fn();
      p->set_value();
    } else {
      p->set_value(fn());
    }
  });
  if (!posted) throw std::runtime_error("post refused");
  return fut.get();
}

// A one-shot result slot filled from a callback on the loop thread.
template <class T>
class Slot {
 public:
  Slot() : p_(std::make_shared<std::promise<T>>()), f_(p_->get_future().share()) {}
  void set(T v) const {
    try {
      p_->set_value(std::move(v));
    } catch (const std::future_error&) {
    }
  }
  bool wait(int ms = 15000) const { return f_.wait_for(std::chrono::milliseconds(ms)) == std::future_status::ready; }
  T get() const { return f_.get(); }

 private:
  std::shared_ptr<std::promise<T>> p_;
  std::shared_future<T> f_;
};

// A one-connection-at-a-time TCP server on 127.0.0.1 that hands each
// request frame (size prefix stripped) to `respond`, which returns the raw
// bytes to send back (size prefix included, so garbage can be sent). An
// empty return sends nothing; returning `close_marker()` closes the
// connection.
class RawServer {
 public:
  using Responder = std::function<std::vector<uint8_t>(const std::vector<uint8_t>& request, int index)>;
  explicit RawServer(Responder respond);
  ~RawServer();
  int port() const { return port_; }
  io::HostPort address() const { return io::HostPort{"127.0.0.1", port_}; }
  int connections() const { return connections_.load(); }
  static std::vector<uint8_t> close_marker() { return {0xde, 0xad}; }

 private:
  void run();
  Responder respond_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// A valid ApiVersions response frame (v0 header) answering `request`,
// advertising every API of kfk's codec at its full range, except the
// (key, min, max) overrides given.
std::vector<uint8_t> api_versions_answer(const std::vector<uint8_t>& request,
                                         std::vector<std::tuple<int16_t, int16_t, int16_t>> overrides = {});
// A Produce request with one record batch (one record of `value_bytes`)
// for partition 0 of `topic`; the batch is spliced, not copied.
proto::ProduceRequest make_produce(const std::string& topic, int16_t acks, size_t value_bytes);
// The request's api key and version.
std::pair<int16_t, int16_t> api_of(const std::vector<uint8_t>& request);
// Correlation id of a request frame.
int32_t correlation_id(const std::vector<uint8_t>& request);

}  // namespace kfk::net::testing
