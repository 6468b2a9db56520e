// Call: one typed request that retries until it succeeds, fails for good or
// reaches its deadline, routed to any broker, one node, the leader of a
// partition, the coordinator of a (key type, key) or the controller
// (kgo's Client.Request with its retry loop; Java's AdminClient Call).
//
// Runs on the network thread (start it from a posted function or a
// callback; every callback runs there).
//
//   CallSpec spec;
//   spec.name = "InitProducerId";
//   spec.route = Route::any_node();
//   spec.deadline = after_ms(60000);
//   spec.owner = lifetime_.weak();            // the owner's io::Lifetime
//   Call<proto::InitProducerIdRequest>::start(nc, std::move(spec),
//       [](int32_t node, const ClusterMetadata* md) { return proto::InitProducerIdRequest{...}; },
//       [](const Error& err, auto& reply) {
//         return err.ok() ? Outcome{Error::from_code(reply.msg.error_code)} : Outcome{err};
//       },
//       [](const Error& err, auto& reply) { ... });
//
// An attempt resolves the route, builds the request for the node chosen
// (`build`; a leader route fills in leader epochs from the metadata it was
// routed with), sends it with a per-attempt timeout (request.timeout.ms or
// spec.attempt_timeout_ms, cut to the deadline), and hands the answer to
// `classify` (transport failures too), which returns an Outcome: ok ends
// the call; otherwise the verdict says what happens (Verdict::kAuto derives
// it from the code with classify_code()). errc::kDestroyed always ends it.
// Between attempts the call waits the backoff (retry.backoff.ms doubling
// up to retry.backoff.max.ms, with jitter: io::ExponentialBackoff); a
// metadata verdict also waits for the refreshed metadata. At the deadline it
// ends with errc::kTimedOut naming the last error (even with an attempt in
// flight); after spec.max_retries retries with that error itself. Retrier
// below is that loop on its own, for work that sends several requests per
// attempt.
//
// Lifetime: a call keeps itself alive while it runs (its NetClient's
// CallRegistry holds it). Once `spec.owner` has ended, the call ends at
// its next event without calling `done` (io/lifetime.h, the one idiom:
// owners hold an io::Lifetime, callbacks its Weak). When the NetClient stops,
// running calls end with errc::kDestroyed.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "client/net/coordinator_cache.h"
#include "client/net/net_client.h"
#include "io/backoff.h"
#include "io/lifetime.h"
#include "io/timer.h"

namespace kfk::net {

struct Route {
  enum class Kind : uint8_t { kAnyNode, kNode, kLeader, kCoordinator, kController };
  Kind kind = Kind::kAnyNode;
  int32_t node = kAnyNode;   // kNode
  std::string topic;         // kLeader
  int32_t partition = -1;    // kLeader
  CoordinatorKey coordinator;  // kCoordinator
  // kCoordinator: use the broker's dedicated connection (dedicated_id()),
  // so coordinator traffic does not queue behind long fetches.
  bool dedicated = false;

  static Route any_node() { return Route{}; }
  static Route to_node(int32_t id) {
    Route r;
    r.kind = Kind::kNode;
    r.node = id;
    return r;
  }
  static Route leader(std::string topic, int32_t partition) {
    Route r;
    r.kind = Kind::kLeader;
    r.topic = std::move(topic);
    r.partition = partition;
    return r;
  }
  static Route coordinator_of(CoordinatorKey key, bool dedicated = false) {
    Route r;
    r.kind = Kind::kCoordinator;
    r.coordinator = std::move(key);
    r.dedicated = dedicated;
    return r;
  }
  static Route controller() {
    Route r;
    r.kind = Kind::kController;
    return r;
  }
};

// What a failed attempt leads to.
enum class Verdict : uint8_t {
  kAuto,                   // decide from the error code (classify_code); an
                           // Error marked retriable is at least retried
  kRetry,                  // same route, after the backoff
  kRefreshMetadata,        // refresh metadata, then route again after the backoff
  kRediscoverCoordinator,  // forget the coordinator, look it up again after the backoff
  kFail,                   // end the call with the error
};

// An attempt's result: `error` ok means done.
struct Outcome {
  Error error;
  Verdict verdict = Verdict::kAuto;
};

// The verdict for `code` on a call routed as `kind` (core/classify.h):
// coordinator moved or connection to it lost: rediscover; controller moved
// or connection lost, metadata errors, transport failures to a leader:
// refresh metadata; other retriable codes: retry; the rest (and
// errc::kDestroyed): fail.
Verdict classify_code(int code, Route::Kind kind);

struct CallSpec {
  std::string name;  // the API, for messages ("ListOffsets")
  Route route;
  TimePoint deadline = kNever;
  int64_t attempt_timeout_ms = -1;  // -1: request.timeout.ms (always cut to the deadline)
  int16_t min_version = -1;         // narrows the versions tried (RequestOptions)
  int16_t max_version = -1;
  int64_t max_retries = INT64_MAX;
  io::Lifetime::Weak owner;  // required: see Lifetime above
};

// Retrier: attempts separated by the backoff until the work is done, fails
// for good, or reaches its deadline. The engine of Call, and of operations
// that send several requests per attempt (the admin client's calls, the
// fetcher's offset lookups). Owned by its user (a member); destroying it
// cancels everything it scheduled.
class Retrier {
 public:
  Retrier(NetClient& nc, std::string name, TimePoint deadline, int64_t max_retries = INT64_MAX);
  ~Retrier();
  Retrier(const Retrier&) = delete;
  Retrier& operator=(const Retrier&) = delete;

  // Arms the deadline and runs `attempt` now. `give_up` gets errc::kTimedOut
  // at the deadline ("<name> did not complete within the timeout (last
  // error: ...)"), even while an attempt is in flight, or the last error
  // once max_retries retries were made. Both run on the network thread.
  void start(std::function<void()> attempt, std::function<void(const Error&)> give_up);
  // Runs `attempt` again after the backoff (with kRefreshMetadata: a
  // metadata refresh is asked for and the attempt waits for its answer).
  void retry(const Error& why, Verdict verdict = Verdict::kRetry);
  // Records `why` as the last error without retrying (a nested net::Call
  // retries by itself; the deadline message still names the cause).
  void note(const Error& why) { last_error_ = why; }
  // No more attempts or give_up (the user finished).
  void stop();
  bool stopped() const { return stopped_; }

  // request.timeout.ms (or `attempt_timeout_ms` when >= 0), cut to what is
  // left before the deadline (as the Java AdminClient does).
  RequestOptions request_options(int64_t attempt_timeout_ms = -1) const;
  // What is left before the deadline, for timeouts inside requests; >= 1.
  int32_t remaining_ms() const;
  TimePoint deadline() const { return deadline_; }
  int64_t max_retries() const { return max_retries_; }
  int attempts() const { return attempts_; }
  const Error& last_error() const { return last_error_; }
  // The backoff drawn by the last retry() (tests: its bounds).
  int64_t last_wait_ms() const { return last_wait_ms_; }

 private:
  void on_retry_timer();
  void give_up(const Error& err);

  NetClient& nc_;
  std::string name_;
  TimePoint deadline_;
  int64_t max_retries_;
  io::ExponentialBackoff backoff_;
  std::function<void()> attempt_;
  std::function<void(const Error&)> give_up_;
  std::unique_ptr<io::Timer> retry_timer_;
  std::unique_ptr<io::Timer> deadline_timer_;
  io::Lifetime lifetime_;  // io/lifetime.h
  int attempts_ = 0;
  int64_t last_wait_ms_ = -1;
  Error last_error_;
  bool stopped_ = false;
  bool refresh_wanted_ = false;      // the next attempt waits for metadata newer than
  uint64_t refresh_generation_ = 0;  // this generation
};

// The non-typed part of Call: routing, lifetime; retries through Retrier.
class CallBase : public std::enable_shared_from_this<CallBase> {
 public:
  virtual ~CallBase();
  CallBase(const CallBase&) = delete;
  CallBase& operator=(const CallBase&) = delete;

  // Ends the call with `err` (done is called if the owner lives).
  void abort(const Error& err);
  bool finished() const { return finished_; }
  int attempts() const { return retrier_.attempts(); }

 protected:
  CallBase(NetClient& nc, CallSpec spec);
  void begin();
  // Sends the attempt's request to `node` (a pool node id).
  virtual void send_to(int32_t node, const std::shared_ptr<const ClusterMetadata>& md) = 0;
  // Calls the typed `done` with `err` and an empty answer.
  virtual void fail_typed(const Error& err) = 0;
  bool owner_alive() const { return spec_.owner.alive(); }
  // An attempt answered (transport error or not) with `o` from `node`.
  // Returns true when the caller should complete the call with o.error.
  bool settle(const Outcome& o, int32_t node);
  void end();  // the call is over; drops it from the registry
  RequestOptions request_options() const;

  NetClient& nc_;
  CallSpec spec_;

 private:
  void attempt();
  void route_leader();
  void route_controller();

  Retrier retrier_;
  bool finished_ = false;
};

template <class Req>
class Call final : public CallBase {
 public:
  using Resp = ResponseOfT<Req>;
  using Build = std::function<Req(int32_t node, const ClusterMetadata* md)>;
  // Sees every attempt's result: a transport failure (`err` not ok, empty
  // answer) or an answer. Null: Outcome{err} (answers count as success).
  using Classify = std::function<Outcome(const Error& err, Reply<Resp>&)>;
  using Done = std::function<void(const Error&, Reply<Resp>&)>;

  // Starts the call (first attempt now). `md` in `build` is the metadata
  // the attempt was routed with (null for coordinator routes).
  static void start(NetClient& nc, CallSpec spec, Build build, Classify classify, Done done) {
    std::shared_ptr<Call> c(new Call(nc, std::move(spec), std::move(build), std::move(classify), std::move(done)));
    c->begin();
  }

 private:
  Call(NetClient& nc, CallSpec spec, Build build, Classify classify, Done done)
      : CallBase(nc, std::move(spec)), build_(std::move(build)), classify_(std::move(classify)), done_(std::move(done)) {}

  void send_to(int32_t node, const std::shared_ptr<const ClusterMetadata>& md) override {
    auto self = std::static_pointer_cast<Call>(shared_from_this());
    nc_.send(
        node, build_(node, md.get()),
        [self, node](const Error& err, Reply<Resp>& reply) {
          if (self->finished()) return;
          if (!self->owner_alive()) return self->end();
          Outcome o = err.code() == errc::kDestroyed ? Outcome{err, Verdict::kFail}
                      : self->classify_                   ? self->classify_(err, reply)
                                                          : Outcome{err};
          if (self->settle(o, node)) self->complete(o.error, reply);
        },
        request_options());
  }

  void fail_typed(const Error& err) override {
    Reply<Resp> none;
    complete(err, none);
  }

  void complete(const Error& err, Reply<Resp>& reply) {
    Done done = std::move(done_);
    auto self = shared_from_this();  // `done` may drop the last other reference
    end();
    if (owner_alive() && done) done(err, reply);
  }

  Build build_;
  Classify classify_;
  Done done_;
};

// Every running call of one NetClient, so that stopping the client ends
// them (their backoff timers would otherwise never fire). Network thread.
class CallRegistry {
 public:
  void add(std::shared_ptr<CallBase> c) { calls_.insert(std::move(c)); }
  void remove(const std::shared_ptr<CallBase>& c) { calls_.erase(c); }
  // Ends every call with errc::kDestroyed; later calls fail at once.
  void shutdown();
  bool shut_down() const { return shut_down_; }
  size_t size() const { return calls_.size(); }

 private:
  std::set<std::shared_ptr<CallBase>> calls_;
  bool shut_down_ = false;
};

}  // namespace kfk::net
