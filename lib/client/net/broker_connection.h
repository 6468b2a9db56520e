// BrokerConnection: the link to one broker (one node id), across
// reconnects. Runs on the network thread: every method, callback and the
// destructor.
//
// Life of a connection attempt:
//   kDisconnected -> kResolving (host lookup; numeric hosts skip it)
//   -> kConnecting (TCP connect, each resolved address in turn; TCP_NODELAY,
//      SO_SNDBUF/SO_RCVBUF) -> kNegotiating (ApiVersions v3, falling back on
//      UNSUPPORTED_VERSION) -> kReady.
// The whole setup is bounded by socket.connection.setup.timeout.ms, which
// doubles (+/-20% jitter) with each consecutive failed attempt up to its max.
// A failed or lost connection enters reconnect backoff
// (reconnect.backoff.ms doubling to reconnect.backoff.max.ms, +/-20%);
// the next attempt starts when the backoff has passed and there is work.
//
// Requests submitted before kReady wait in order and are written once the
// versions are known (each at min(our max, broker max)). Requests are
// pipelined: any number may be in flight, matched to responses by
// correlation id. A failed attempt fails the requests waiting for it with a
// retriable errc::kTransport (errc::kResolve for a lookup failure); requests
// submitted during backoff wait for the next attempt.
//
// A failed attempt is logged through NetOptions::log with the address, the
// reason and how long the attempt took ("Connect to broker -1 at
// 127.0.0.1:1 failed: ECONNREFUSED (connection refused) (after 0 ms in
// state connecting)"); the same reason again is logged at most once per
// kConnectLogIntervalMs, with the number of attempts not logged meanwhile.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "client/net/api_version_table.h"
#include "client/net/frame_reader.h"
#include "client/net/net_options.h"
#include "client/net/outbound.h"
#include "io/backoff.h"
#include "io/host_port.h"
#include "io/stream.h"
#include "io/timer.h"

namespace kfk::net {

class BrokerConnection final : private io::StreamReader {
 public:
  enum class State : uint8_t { kDisconnected, kResolving, kConnecting, kNegotiating, kReady };
  static const char* state_name(State s);

  // Told about every state change; `why` is the failure for a change to
  // kDisconnected (success for an idle close or close()).
  using StateListener = std::function<void(BrokerConnection&, State now, const Error& why)>;

  BrokerConnection(uv_loop_t* loop, int32_t node_id, io::HostPort address, const NetOptions& opts);
  // Fails everything pending with errc::kDestroyed and closes the socket.
  ~BrokerConnection();
  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  // Sends `req` as soon as the connection is ready, connecting if needed.
  void submit(OutboundRequest req);
  // Starts connecting now if disconnected and not in backoff (a no-op
  // otherwise).
  void connect();
  // Closes the socket now; every pending request fails with `why`. No
  // reconnect backoff follows (this is not a broker failure).
  void close(const Error& why);
  // The address used by the next attempt (the broker moved).
  void set_address(io::HostPort address) { address_ = std::move(address); }
  void set_state_listener(StateListener l) { listener_ = std::move(l); }

  int32_t node_id() const { return node_id_; }
  const io::HostPort& address() const { return address_; }
  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  bool connecting() const { return state_ != State::kDisconnected && state_ != State::kReady; }
  // Requests written and not yet answered (incl. no-response ones not yet
  // fully written).
  size_t in_flight() const { return in_flight_.size(); }
  // Requests waiting for the connection to become ready.
  size_t queued() const { return queue_.size(); }
  // Disconnected, and the reconnect backoff has not passed yet.
  bool in_backoff() const;
  TimePoint next_attempt() const { return next_attempt_; }
  // The versions negotiated by the last successful handshake (empty table
  // before the first).
  const ApiVersionTable& api_versions() const { return versions_; }
  bool has_api_versions() const { return has_versions_; }
  // The ApiVersions request version the last handshake settled on.
  int16_t api_versions_version() const { return api_versions_version_; }
  // Counters, for tests and metrics.
  uint64_t connect_attempts() const { return connect_attempts_; }
  int consecutive_failures() const { return failed_attempts_; }
  // The last attempt failed (or the connection was lost) and none has
  // succeeded since: the broker counts as down, also while retrying.
  bool down() const { return failed_attempts_ > 0 && state_ != State::kReady; }
  // Why the last attempt failed, without the broker's address
  // ("ECONNREFUSED (connection refused)"); empty before any failure.
  const std::string& failure_reason() const { return failure_reason_; }
  // Repeats of one connect failure reason are logged at most this often.
  static constexpr int64_t kConnectLogIntervalMs = 30000;
  int64_t current_setup_timeout_ms() const { return setup_timeout_ms_; }

 private:
  struct WriteReq;
  struct ResolveReq;
  struct Pending {
    OutboundRequest req;
    int16_t version = -1;
    bool written = false;
    uint64_t seq = 0;  // send order (correlation ids wrap)
  };

  // Connection setup (broker_connection_io.cc).
  void start_resolve();
  void on_resolved(int status, struct addrinfo* res);
  void try_next_address();
  void on_connected(int status);
  void send_api_versions();
  Error on_api_versions(const Error& err, const ResponseFrame& f);
  void become_ready();

  // I/O (broker_connection_io.cc): reads land in reader_'s buffers.
  std::span<uint8_t> read_buffer() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  void on_written(int32_t corr, int status);
  bool on_frame(FramePtr frame);
  void remember_unanswered(int32_t corr);
  bool forget_unanswered(int32_t corr);  // true: `corr` was an acks=0 request
  void write_request(Pending p);

  // Failure and timers (broker_connection.cc).
  // Closes and fails everything pending with `why`, except request `blamed`
  // (a correlation id), which gets `blamed_error` (a timeout, a malformed
  // answer).
  void fail_connection(const Error& why, bool count_failure, int32_t blamed = -1, const Error& blamed_error = {});
  // Correlation id of the oldest request in flight (-1 if none): Kafka
  // answers in order, so unattributable garbage is blamed on it.
  int32_t oldest_in_flight() const;
  void close_socket();
  void flush_queue();
  void on_timer();
  void rearm_timer();
  Error transport_error(const std::string& what) const;
  // A failed setup step: errc::kTransport (or `code`) naming the broker;
  // `reason` becomes failure_reason() once the attempt has failed.
  Error setup_error(const std::string& reason, int16_t code = errc::kTransport);
  void log_connect_failure(State in_state);

  uv_loop_t* loop_;
  int32_t node_id_;
  io::HostPort address_;
  const NetOptions opts_;
  const std::optional<std::string> client_id_;  // request header field
  StateListener listener_;
  State state_ = State::kDisconnected;

  std::unique_ptr<io::Stream> stream_;
  uint64_t stream_gen_ = 0;  // bumped per socket: callbacks notice a replaced one
  ResolveReq* resolve_ = nullptr;
  std::vector<sockaddr_storage> addrs_;
  size_t addr_index_ = 0;
  std::string last_connect_error_;
  std::string attempt_reason_;  // set by setup_error() during an attempt
  std::string failure_reason_;  // of the last failure
  TimePoint attempt_started_{};
  // Connect failure logging (rate-limited per reason).
  std::string logged_reason_;
  TimePoint logged_at_{};
  uint64_t unlogged_failures_ = 0;

  FrameReader reader_;
  std::deque<OutboundRequest> queue_;
  std::map<int32_t, Pending> in_flight_;  // by correlation id
  // Correlation ids of recent no-response (acks=0) requests. Some brokers
  // (librdkafka's mock cluster) answer them anyway; such answers are
  // dropped instead of being taken for a stream out of sync. Bounded: only
  // the latest kMaxUnanswered are remembered, and the set is cleared with
  // the socket.
  static constexpr size_t kMaxUnanswered = 1024;
  std::deque<int32_t> unanswered_;
  int32_t next_corr_id_ = 0;
  uint64_t next_seq_ = 0;
  bool flushing_ = false;

  ApiVersionTable versions_;
  bool has_versions_ = false;
  int16_t api_versions_version_ = 3;

  io::Timer timer_;
  io::ExponentialBackoff reconnect_backoff_;
  io::ExponentialBackoff setup_backoff_;
  int failed_attempts_ = 0;          // consecutive failures (reconnect backoff)
  int failed_connect_attempts_ = 0;  // consecutive setup failures (setup timeout)
  int64_t setup_timeout_ms_;
  TimePoint setup_deadline_ = kNever;
  TimePoint next_attempt_{};
  TimePoint last_activity_{};
  uint64_t connect_attempts_ = 0;
};

}  // namespace kfk::net
