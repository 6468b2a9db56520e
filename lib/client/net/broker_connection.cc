// BrokerConnection: request queueing, failure handling, timeouts, idle
// close. Socket setup and I/O are in broker_connection_io.cc.
// Everything here runs on the network thread.
#include "client/net/broker_connection.h"

#include <algorithm>

#include "io/loop_thread.h"
#include "protocol/frame.h"

namespace kfk::net {

const char* BrokerConnection::state_name(State s) {
  switch (s) {
    case State::kDisconnected: return "disconnected";
    case State::kResolving: return "resolving";
    case State::kConnecting: return "connecting";
    case State::kNegotiating: return "negotiating";
    case State::kReady: return "ready";
  }
  return "?";
}

BrokerConnection::BrokerConnection(uv_loop_t* loop, int32_t node_id, io::HostPort address, const NetOptions& opts)
    : loop_(loop),
      node_id_(node_id),
      address_(std::move(address)),
      opts_(opts),
      client_id_(opts.client_id),
      reader_(opts.max_response_bytes),
      timer_(loop, [this] { on_timer(); }),
      reconnect_backoff_(opts.reconnect_backoff_ms, opts.reconnect_backoff_max_ms),
      setup_backoff_(opts.connection_setup_timeout_ms, opts.connection_setup_timeout_max_ms),
      setup_timeout_ms_(opts.connection_setup_timeout_ms) {}

BrokerConnection::~BrokerConnection() {
  listener_ = nullptr;
  fail_connection(Error::from_code(errc::kDestroyed, "client closing"), false);
  timer_.stop();
}

Error BrokerConnection::transport_error(const std::string& what) const {
  return Error::from_code(errc::kTransport,
                          "broker " + std::to_string(node_id_) + " at " + address_.to_string() + ": " + what);
}

Error BrokerConnection::setup_error(const std::string& reason, int16_t code) {
  attempt_reason_ = reason;
  return Error::from_code(code, "broker " + std::to_string(node_id_) + " at " + address_.to_string() + ": " + reason);
}

void BrokerConnection::log_connect_failure(State in_state) {
  if (!opts_.log) return;
  const TimePoint t = now();
  if (failure_reason_ == logged_reason_ && t < add_ms(logged_at_, kConnectLogIntervalMs)) {
    ++unlogged_failures_;
    return;
  }
  const int64_t took = std::chrono::duration_cast<Millis>(t - attempt_started_).count();
  std::string msg = "Connect to broker " + std::to_string(node_id_) + " at " + address_.to_string() + " failed: " +
                    failure_reason_ + " (after " + std::to_string(took) + " ms in state " + state_name(in_state) + ")";
  if (unlogged_failures_ > 0)
    msg += "; " + std::to_string(unlogged_failures_) + " similar failure(s) not logged";
  unlogged_failures_ = 0;
  logged_reason_ = failure_reason_;
  logged_at_ = t;
  opts_.log(msg);
}

bool BrokerConnection::in_backoff() const {
  return state_ == State::kDisconnected && now() < next_attempt_;
}

void BrokerConnection::submit(OutboundRequest req) {
  KFK_DCHECK_ON_LOOP(loop_);
  if (state_ == State::kReady && queue_.empty() && !flushing_) {
    TimePoint deadline = req.deadline;
    int16_t v = versions_.pick(req.api_key, req.min_version, req.max_version);
    if (v < 0) {
      queue_.push_back(std::move(req));  // flush_queue() reports the unsupported version
      flush_queue();
      return;
    }
    write_request(Pending{std::move(req), v, false});
    if (deadline < timer_.armed_at()) timer_.start_at(deadline);
    return;
  }
  queue_.push_back(std::move(req));
  if (state_ == State::kDisconnected) connect();
  rearm_timer();
}

void BrokerConnection::connect() {
  KFK_DCHECK_ON_LOOP(loop_);
  if (state_ != State::kDisconnected) return;
  if (now() < next_attempt_) {
    rearm_timer();  // the timer connects once the backoff has passed
    return;
  }
  ++connect_attempts_;
  attempt_started_ = now();
  attempt_reason_.clear();
  setup_timeout_ms_ = setup_backoff_.backoff_ms(failed_connect_attempts_);
  setup_deadline_ = setup_timeout_ms_ > 0 ? after_ms(setup_timeout_ms_) : kNever;
  api_versions_version_ = proto::ApiVersionsRequest::kFlexibleVersion;  // v3: understood by Kafka 2.4+
  reader_.reset();
  start_resolve();
  rearm_timer();
}

void BrokerConnection::close(const Error& why) { fail_connection(why, false); }

int32_t BrokerConnection::oldest_in_flight() const {
  int32_t corr = -1;
  uint64_t seq = UINT64_MAX;
  for (const auto& [c, p] : in_flight_)
    if (p.seq < seq) seq = p.seq, corr = c;
  return corr;
}

void BrokerConnection::fail_connection(const Error& why, bool count_failure, int32_t blamed,
                                       const Error& blamed_error) {
  bool was_connecting = connecting();
  bool was_up = state_ != State::kDisconnected;
  const State was_state = state_;
  close_socket();
  state_ = State::kDisconnected;
  setup_deadline_ = kNever;
  reader_.reset();
  if (count_failure) {
    next_attempt_ = after_ms(reconnect_backoff_.backoff_ms(failed_attempts_));
    ++failed_attempts_;
    failed_connect_attempts_ = was_connecting ? failed_connect_attempts_ + 1 : 0;
    failure_reason_ = attempt_reason_.empty() ? why.message() : attempt_reason_;
    if (was_connecting) log_connect_failure(was_state);
  }

  // Detach everything first: callbacks may submit new work to this object.
  std::map<int32_t, Pending> in_flight;
  in_flight.swap(in_flight_);
  std::deque<OutboundRequest> queue;
  queue.swap(queue_);

  if (was_up && listener_) listener_(*this, state_, why);

  std::vector<Pending*> order;  // fail in send order
  for (auto& [corr, p] : in_flight) order.push_back(&p);
  std::sort(order.begin(), order.end(), [](const Pending* a, const Pending* b) { return a->seq < b->seq; });
  for (Pending* p : order) {
    bool is_blamed = blamed >= 0 && in_flight.count(blamed) && &in_flight.at(blamed) == p;
    (void)p->req.on_complete(is_blamed ? blamed_error : why, ResponseFrame{node_id_, p->req.api_key, p->version, nullptr, 0});
  }
  for (auto& req : queue) (void)req.on_complete(why, ResponseFrame{node_id_, req.api_key, -1, nullptr, 0});
  rearm_timer();
}

// Writes every queued request, in order, now that versions are known.
void BrokerConnection::flush_queue() {
  if (flushing_) return;
  flushing_ = true;
  std::vector<std::pair<OutboundRequest, Error>> failed;  // reported after the loop: keeps order
  TimePoint t = now();
  while (!queue_.empty() && state_ == State::kReady) {
    OutboundRequest req = std::move(queue_.front());
    queue_.pop_front();
    const proto::ApiInfo* api = proto::find_api(req.api_key);
    std::string name = api ? api->name : "api " + std::to_string(req.api_key);
    if (req.deadline <= t) {
      failed.emplace_back(std::move(req), Error::from_code(errc::kTimedOut, name + " request to broker " +
                                                                                std::to_string(node_id_) +
                                                                                " timed out before it was sent"));
      continue;
    }
    int16_t v = versions_.pick(req.api_key, req.min_version, req.max_version);
    if (v < 0) {
      auto range = versions_.broker_range(req.api_key);
      std::string msg = range ? "broker " + std::to_string(node_id_) + " supports " + name + " v" +
                                    std::to_string(range->first) + "-" + std::to_string(range->second) +
                                    ", kfk needs v" + std::to_string(req.min_version) + "-" +
                                    std::to_string(req.max_version)
                              : "broker " + std::to_string(node_id_) + " does not support " + name;
      // A local condition, not the broker's UNSUPPORTED_VERSION (35): the
      // request is never sent.
      failed.emplace_back(std::move(req), Error::from_code(errc::kNoCommonApiVersion, msg));
      continue;
    }
    write_request(Pending{std::move(req), v, false});
  }
  flushing_ = false;
  for (auto& [req, err] : failed) (void)req.on_complete(err, ResponseFrame{node_id_, req.api_key, -1, nullptr, 0});
  if (!queue_.empty() && state_ == State::kReady) flush_queue();  // submitted by a callback above
}

void BrokerConnection::on_timer() {
  KFK_DCHECK_ON_LOOP(loop_);
  TimePoint t = now();
  if (connecting() && t >= setup_deadline_) {
    fail_connection(setup_error("connection setup timed out after " + std::to_string(setup_timeout_ms_) + " ms (" +
                                state_name(state_) + ")"),
                    true);
    return;
  }
  // A request in flight past its deadline: close, as the Java client does
  // (the broker may still be working on it; the stream cannot be resynced).
  for (auto& [corr, p] : in_flight_) {
    if (p.req.deadline <= t) {
      const proto::ApiInfo* api = proto::find_api(p.req.api_key);
      std::string name = api ? api->name : "request";
      Error timed_out = Error::from_code(errc::kTimedOut, name + " v" + std::to_string(p.version) + " to broker " +
                                                              std::to_string(node_id_) +
                                                              " timed out; connection closed");
      fail_connection(transport_error("closed after a " + name + " request timed out"), true, corr, timed_out);
      return;
    }
  }
  // Requests still waiting for a connection fail alone.
  std::vector<OutboundRequest> expired;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->deadline <= t) {
      expired.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& req : expired) {
    const proto::ApiInfo* api = proto::find_api(req.api_key);
    (void)req.on_complete(Error::from_code(errc::kTimedOut, std::string(api ? api->name : "request") +
                                                          " request timed out waiting for a connection to broker " +
                                                          std::to_string(node_id_)),
                    ResponseFrame{node_id_, req.api_key, -1, nullptr, 0});
  }
  if (state_ == State::kDisconnected && !queue_.empty() && now() >= next_attempt_) connect();
  if (state_ == State::kReady && in_flight_.empty() && queue_.empty() && opts_.connections_max_idle_ms > 0 &&
      t >= add_ms(last_activity_, opts_.connections_max_idle_ms)) {
    close_socket();
    state_ = State::kDisconnected;
    next_attempt_ = t;  // an idle close is no failure: reconnect at once when needed
    if (listener_) listener_(*this, state_, Error());
  }
  rearm_timer();
}

void BrokerConnection::rearm_timer() {
  TimePoint t = kNever;
  if (connecting()) t = std::min(t, setup_deadline_);
  for (const auto& req : queue_) t = std::min(t, req.deadline);
  for (const auto& [corr, p] : in_flight_) t = std::min(t, p.req.deadline);
  if (state_ == State::kDisconnected && !queue_.empty()) t = std::min(t, next_attempt_);
  if (state_ == State::kReady && in_flight_.empty() && queue_.empty() && opts_.connections_max_idle_ms > 0)
    t = std::min(t, add_ms(last_activity_, opts_.connections_max_idle_ms));
  if (t != timer_.armed_at()) timer_.start_at(t);
}

}  // namespace kfk::net
