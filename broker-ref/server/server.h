// The broker-ref server: one libuv loop serving every connection, on top
// of the storage layer.
//
// Lifecycle: create() opens the data dir and binds the listener on the
// calling thread (errors come back as text); run() runs the loop on the
// calling thread until shutdown completes. Shutdown (request_stop() from
// any thread, or SIGTERM/SIGINT when asked to handle them): stop
// accepting, complete waiting fetches at once, answer the requests already
// received, close connections (forcibly after 5 s), close the logs cleanly
// (clean-shutdown marker), and return from run().
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "io/timer.h"
#include "io/mutex.h"
#include "server/broker_config.h"

namespace kfk::broker {

class Broker;
class Connection;

class Server {
 public:
  struct Options {
    BrokerConfig config;
    std::string data_dir;  // required
    bool handle_signals = false;  // SIGTERM / SIGINT start a clean shutdown
  };

  static std::unique_ptr<Server> create(const Options& options, std::string* error);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs the loop until shutdown is complete. Returns false if closing the
  // logs failed (the error was logged).
  bool run();
  // Thread-safe: starts a clean shutdown.
  void request_stop();

  // The bound listener address (the real port when 0 was asked for).
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  Server() = default;
  bool bind(const io::HostPort& hp, std::string* error);
  static void on_connection(uv_stream_t* listener, int status);
  void begin_shutdown();
  void connection_closed(uint64_t id);
  void maybe_finish();
  void close_idle_connections();

  uv_loop_t loop_{};
  bool loop_ready_ = false;
  uv_tcp_t listener_{};
  uv_async_t stop_async_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  std::unique_ptr<io::Timer> force_close_timer_;
  std::unique_ptr<io::Timer> idle_timer_;  // connections.max.idle.ms sweeps
  uint64_t max_idle_ms_ = 0;
  uint64_t idle_sweep_ms_ = 1000;
  uint64_t last_idle_sweep_ = 0;
  bool handle_signals_ = false;

  std::unique_ptr<Broker> broker_;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 1;
  size_t max_request_bytes_ = 0;
  std::string host_;
  int port_ = 0;
  std::string data_dir_;

  bool shutting_down_ = false;
  bool finished_ = false;
  bool close_ok_ = true;
  Mutex stop_mu_;  // a late request_stop() sees the async handle closed
  bool async_open_ GUARDED_BY(stop_mu_) = false;
};

}  // namespace kfk::broker
