// ConnectionPool: the BrokerConnection of every node, addressed by node id.
// Runs on the network thread (every method).
//
// Node ids:
//   >= 0                    a broker from the cluster metadata;
//   -1, -2, ...             the bootstrap.servers entries (in random order,
//                           as the Java client uses negative ids for them);
//   dedicated_id(b)         a second connection to broker b
//                           (INT32_MAX - b, as the Java consumer does for its
//                           group coordinator), so coordinator traffic does
//                           not queue behind long fetches;
//   kAnyNode                the least loaded usable node (see pick_node()).
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "client/net/broker_connection.h"
#include "client/net/net_options.h"

namespace kfk::net {

inline constexpr int32_t kAnyNode = INT32_MIN;
inline constexpr int32_t kDedicatedBase = 1 << 30;  // ids above this are dedicated connections
constexpr int32_t dedicated_id(int32_t broker_id) { return INT32_MAX - broker_id; }

class ConnectionPool {
 public:
  struct BrokerAddress {
    int32_t node_id = -1;
    io::HostPort address;
    std::optional<std::string> rack;
  };

  ConnectionPool(uv_loop_t* loop, NetOptions opts);
  // Fails everything pending with errc::kDestroyed.
  ~ConnectionPool();

  // Sends `req` to `node_id` (or kAnyNode). An unknown node fails the request
  // at once with a retriable errc::kTransport; after shutdown() everything
  // fails with errc::kDestroyed.
  void submit(int32_t node_id, OutboundRequest req);

  // The brokers of the latest metadata. Connections to brokers that moved
  // use the new address from their next attempt; connections to brokers no
  // longer listed are kept until they fail or idle out (as Java).
  void set_brokers(const std::vector<BrokerAddress>& brokers);
  bool knows(int32_t node_id) const;

  // The node a request for "any broker" goes to, as the Java client's
  // leastLoadedNode(): a ready connection with the fewest requests in
  // flight; else one connecting; else one that may connect now; else the one
  // whose backoff ends first. Metadata brokers are preferred; bootstrap
  // entries are used when no broker is known or every broker is in backoff
  // (re-bootstrap). nullopt only when nothing at all is known.
  std::optional<int32_t> pick_node();

  // The connection of `node_id`, created on first use (nullptr if unknown).
  BrokerConnection* connection(int32_t node_id);
  // Existing connection only.
  BrokerConnection* find(int32_t node_id) const;
  std::vector<int32_t> bootstrap_ids() const;

  // Called on every connection state change (e.g. the metadata manager
  // refreshes when a broker drops).
  using StateListener = std::function<void(int32_t node_id, BrokerConnection::State, const Error&)>;
  void add_state_listener(StateListener l) { listeners_.push_back(std::move(l)); }

  // Every broker is down: each bootstrap entry and each broker of the
  // metadata has a connection whose last attempt failed (see
  // BrokerConnection::down()), none is ready. Not ok() while that holds:
  // errc::kAllBrokersDown, "All 2 bootstrap brokers are down: 127.0.0.1:1
  // (ECONNREFUSED (connection refused)), ..." (librdkafka's
  // _ALL_BROKERS_DOWN). A broker never tried yet keeps it ok().
  const Error& all_brokers_down() const { return all_down_; }
  // Called when every broker becomes down, and again on each further
  // failed attempt while they stay down (so a client can report it
  // repeatedly, as librdkafka does); then with ok() when one connects.
  using DownListener = std::function<void(const Error& all_down)>;
  void set_down_listener(DownListener l) { down_listener_ = std::move(l); }

  // Fails everything pending with errc::kDestroyed, closes every socket and
  // refuses further requests.
  void shutdown();
  bool is_shut_down() const { return shut_down_; }

  const NetOptions& options() const { return opts_; }
  uv_loop_t* loop() const { return loop_; }

 private:
  std::optional<io::HostPort> address_of(int32_t node_id) const;
  // Recomputes all_brokers_down() after `node_id` changed state.
  void update_all_down(int32_t node_id, BrokerConnection::State s, const Error& why);

  uv_loop_t* loop_;
  NetOptions opts_;
  std::map<int32_t, io::HostPort> bootstrap_;  // -1, -2, ...
  std::map<int32_t, BrokerAddress> brokers_;
  std::map<int32_t, std::unique_ptr<BrokerConnection>> conns_;
  std::vector<StateListener> listeners_;
  Error all_down_;
  DownListener down_listener_;
  uint32_t rr_ = 0;  // rotates the pick_node() scan start
  bool shut_down_ = false;
};

}  // namespace kfk::net
