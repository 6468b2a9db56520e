#include "client/net/connection_pool.h"

#include <algorithm>
#include <random>

#include "io/loop_thread.h"

namespace kfk::net {

ConnectionPool::ConnectionPool(uv_loop_t* loop, NetOptions opts) : loop_(loop), opts_(std::move(opts)) {
  // Random order, so that many clients do not all start with the first entry.
  std::vector<io::HostPort> servers = opts_.bootstrap_servers;
  if (opts_.shuffle_bootstrap) std::shuffle(servers.begin(), servers.end(), std::mt19937(std::random_device{}()));
  int32_t id = -1;
  for (auto& s : servers) bootstrap_.emplace(id--, std::move(s));
}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Destroying a connection fails its requests; their callbacks may call
  // submit(), which now fails at once.
  auto conns = std::move(conns_);
  conns_.clear();
  conns.clear();
}

std::optional<io::HostPort> ConnectionPool::address_of(int32_t node_id) const {
  if (node_id < 0) {
    auto it = bootstrap_.find(node_id);
    if (it != bootstrap_.end()) return it->second;
    return std::nullopt;
  }
  int32_t broker = node_id > kDedicatedBase ? INT32_MAX - node_id : node_id;
  auto it = brokers_.find(broker);
  if (it != brokers_.end()) return it->second.address;
  return std::nullopt;
}

bool ConnectionPool::knows(int32_t node_id) const { return address_of(node_id).has_value(); }

BrokerConnection* ConnectionPool::find(int32_t node_id) const {
  auto it = conns_.find(node_id);
  return it == conns_.end() ? nullptr : it->second.get();
}

BrokerConnection* ConnectionPool::connection(int32_t node_id) {
  KFK_DCHECK_ON_LOOP(loop_);
  if (shut_down_) return nullptr;
  if (BrokerConnection* c = find(node_id)) return c;
  auto addr = address_of(node_id);
  if (!addr) return nullptr;
  auto conn = std::make_unique<BrokerConnection>(loop_, node_id, *addr, opts_);
  conn->set_state_listener([this](BrokerConnection& c, BrokerConnection::State s, const Error& why) {
    update_all_down(c.node_id(), s, why);
    for (size_t i = 0; i < listeners_.size(); ++i) listeners_[i](c.node_id(), s, why);  // may add listeners
  });
  BrokerConnection* raw = conn.get();
  conns_.emplace(node_id, std::move(conn));
  return raw;
}

std::vector<int32_t> ConnectionPool::bootstrap_ids() const {
  std::vector<int32_t> ids;
  for (auto it = bootstrap_.rbegin(); it != bootstrap_.rend(); ++it) ids.push_back(it->first);  // -1, -2, ...
  return ids;
}

void ConnectionPool::set_brokers(const std::vector<BrokerAddress>& brokers) {
  KFK_DCHECK_ON_LOOP(loop_);
  brokers_.clear();
  for (const auto& b : brokers) brokers_[b.node_id] = b;
  for (auto& [id, conn] : conns_) {
    if (id < 0) continue;
    if (auto addr = address_of(id); addr && !(*addr == conn->address())) conn->set_address(*addr);
  }
}

void ConnectionPool::update_all_down(int32_t node_id, BrokerConnection::State s, const Error& why) {
  if (node_id >= kDedicatedBase) return;  // a second link to a broker counted already
  const bool failed = s == BrokerConnection::State::kDisconnected && !why.ok() && why.code() != errc::kDestroyed;
  const bool was_down = !all_down_.ok();
  auto is_down = [this](int32_t id) {
    BrokerConnection* c = find(id);
    return c != nullptr && c->down();
  };
  bool all = !shut_down_ && !(bootstrap_.empty() && brokers_.empty());
  for (const auto& [id, addr] : bootstrap_) all = all && is_down(id);
  for (const auto& [id, b] : brokers_) all = all && is_down(id);
  if (!all) {
    if (was_down) {
      all_down_ = Error();
      if (down_listener_) down_listener_(all_down_);
    }
    return;
  }
  if (was_down && !failed) return;  // still down: nothing new to say
  std::string msg = "All " + std::to_string(bootstrap_.size() + brokers_.size()) +
                    (brokers_.empty() ? " bootstrap" : "") + " brokers are down: ";
  bool first = true;
  auto add = [&](int32_t id, const std::string& label) {
    msg += (first ? "" : ", ") + label + " (" + find(id)->failure_reason() + ")";
    first = false;
  };
  for (auto it = bootstrap_.rbegin(); it != bootstrap_.rend(); ++it) add(it->first, it->second.to_string());
  for (const auto& [id, b] : brokers_) add(id, "broker " + std::to_string(id) + " at " + b.address.to_string());
  all_down_ = Error(errc::kAllBrokersDown, msg, /*retriable=*/true);
  if (down_listener_) down_listener_(all_down_);
}

void ConnectionPool::submit(int32_t node_id, OutboundRequest req) {
  KFK_DCHECK_ON_LOOP(loop_);
  if (shut_down_) {
    (void)req.on_complete(Error::from_code(errc::kDestroyed, "client closing"), ResponseFrame{node_id, req.api_key});
    return;
  }
  if (node_id == kAnyNode) {
    auto picked = pick_node();
    if (!picked) {
      (void)req.on_complete(Error::from_code(errc::kAllBrokersDown, "no broker known"), ResponseFrame{node_id, req.api_key});
      return;
    }
    node_id = *picked;
  }
  BrokerConnection* c = connection(node_id);
  if (c == nullptr) {
    (void)req.on_complete(Error::from_code(errc::kTransport, "broker " + std::to_string(node_id) +
                                                           " is not in the cluster metadata"),
                    ResponseFrame{node_id, req.api_key});
    return;
  }
  c->submit(std::move(req));
}

std::optional<int32_t> ConnectionPool::pick_node() {
  // Ready (least loaded, ties rotated), else connecting, else one that may
  // connect now (in list order, so bootstrap entries go -1, -2, ...), else
  // the one whose backoff ends first.
  auto best_of = [this](const std::vector<int32_t>& ids) -> std::optional<int32_t> {
    if (ids.empty()) return std::nullopt;
    std::optional<int32_t> ready, connecting, idle, backoff;
    size_t ready_load = SIZE_MAX;
    TimePoint soonest = kNever;
    size_t start = rr_++ % ids.size();
    for (size_t i = 0; i < ids.size(); ++i) {
      BrokerConnection* c = find(ids[(start + i) % ids.size()]);
      if (c == nullptr) continue;
      size_t load = c->in_flight() + c->queued();
      if (c->ready() && load < ready_load) ready_load = load, ready = c->node_id();
      if (c->connecting() && !connecting) connecting = c->node_id();
    }
    for (int32_t id : ids) {
      BrokerConnection* c = find(id);
      if (c == nullptr || (!c->ready() && !c->connecting() && !c->in_backoff())) {
        if (!idle) idle = id;
      } else if (c->in_backoff() && c->next_attempt() < soonest) {
        soonest = c->next_attempt();
        backoff = id;
      }
    }
    if (ready) return ready;
    if (connecting) return connecting;
    if (idle) return idle;
    return backoff;
  };
  std::vector<int32_t> brokers;
  for (const auto& [id, b] : brokers_) brokers.push_back(id);
  auto choice = best_of(brokers);
  // Re-bootstrap when every known broker is backing off.
  bool usable = choice && (find(*choice) == nullptr || !find(*choice)->in_backoff());
  if (usable) return choice;
  auto boot = best_of(bootstrap_ids());
  if (boot && (find(*boot) == nullptr || !find(*boot)->in_backoff())) return boot;
  if (choice && boot)  // both backing off: whichever ends first
    return find(*boot)->next_attempt() < find(*choice)->next_attempt() ? boot : choice;
  return choice ? choice : boot;
}

}  // namespace kfk::net
