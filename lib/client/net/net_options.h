// NetOptions: the settings of the network layer, taken from a
// ResolvedConfig (or filled in directly by tests). Plain data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/core/resolved_config.h"

namespace kfk::net {

// Where the network layer reports what has no caller to return an error to
// (a failed connection attempt, every broker down). One sink per client:
// the producer passes ProducerOptions::log, the consumer its logger. Called
// on the network thread; empty: nothing is logged.
using LogFn = std::function<void(std::string_view message)>;

struct NetOptions {
  std::string client_id = "kfk";
  std::string software_name = "kfk";  // ApiVersions v3+ client_software_name
  std::string software_version;       // defaults to kfk's version
  std::vector<io::HostPort> bootstrap_servers;
  // Try bootstrap servers in random order (Java does); tests turn it off to
  // control which one is tried first.
  bool shuffle_bootstrap = true;

  int64_t request_timeout_ms = 30000;
  int64_t reconnect_backoff_ms = 50;
  int64_t reconnect_backoff_max_ms = 1000;
  int64_t connection_setup_timeout_ms = 10000;
  int64_t connection_setup_timeout_max_ms = 30000;
  int64_t connections_max_idle_ms = 540000;  // 0: never close idle connections
  int socket_send_buffer_bytes = 131072;     // -1: OS default
  int socket_receive_buffer_bytes = 65536;   // -1: OS default
  // A response frame larger than this closes the connection (a corrupt or
  // non-Kafka peer). Consumers may lower it to a fetch.max.bytes multiple.
  size_t max_response_bytes = size_t{1} << 30;

  int64_t metadata_max_age_ms = 300000;
  int64_t retry_backoff_ms = 100;
  int64_t retry_backoff_max_ms = 1000;
  bool allow_auto_topic_creation = true;

  LogFn log;  // set by the client after from()

  static NetOptions from(const core::ResolvedConfig& rc);
};

// kfk's version string, sent as client_software_version.
const char* kfk_version();

}  // namespace kfk::net
