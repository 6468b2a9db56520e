// Helpers for the network-layer tests: a librdkafka mock cluster, running
// code on a NetClient's loop thread and waiting for callbacks, and a tiny
// raw TCP server that answers whatever a test scripts (garbage included).
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "kfk/broker_ref.h"

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

namespace kfk::net::testing {

// librdkafka's in-process mock cluster (brokers 1..n on loopback ports).
class MockCluster {
 public:
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  rd_kafka_mock_cluster_t* get() const { return mc_; }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  std::vector<io::HostPort> servers() const;
  void create_topic(const std::string& name, int partitions, int replication = 1);

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
};

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

// Polls `pred` (on the test thread) until true or `ms` pass.
bool eventually(const std::function<bool()>& pred, int ms = 10000);

// A log sink for NetOptions::log, ProducerOptions::log or
// ConsumerOptions::log that keeps the lines; the sink shares them, so it may
// outlive this object (a client logging while it closes).
class LogLines {
 public:
  std::function<void(std::string_view)> sink() const {
    return [lines = lines_](std::string_view m) {
      std::lock_guard<std::mutex> lock(lines->mu);
      lines->all.emplace_back(m);
    };
  }
  // How many lines contain `needle`.
  size_t count(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(lines_->mu);
    size_t n = 0;
    for (const auto& l : lines_->all) n += l.find(needle) != std::string::npos;
    return n;
  }

 private:
  struct Lines {
    std::mutex mu;
    std::vector<std::string> all;
  };
  std::shared_ptr<Lines> lines_ = std::make_shared<Lines>();
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

// Starts broker-ref (embedded) with the given configuration, on a fresh
// temporary directory unless `data_dir` is given; fails the test if it
// cannot.
std::unique_ptr<kfk::testing::BrokerRef> start_broker(std::map<std::string, std::string> config = {},
                                                      std::string data_dir = {}, int port = 0);

}  // namespace kfk::net::testing
