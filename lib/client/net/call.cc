// Runs on the network thread (the whole file).
#include "client/net/call.h"

#include <algorithm>

#include "client/core/classify.h"

namespace kfk::net {

Verdict classify_code(int code, Route::Kind kind) {
  using K = Route::Kind;
  if (code == errc::kDestroyed) return Verdict::kFail;
  if (kind == K::kCoordinator && core::rediscovers_coordinator(code)) return Verdict::kRediscoverCoordinator;
  if (kind == K::kController && core::rediscovers_controller(code)) return Verdict::kRefreshMetadata;
  if (core::refreshes_metadata(code)) return Verdict::kRefreshMetadata;
  if (kind == K::kLeader && core::is_transport_failure(code)) return Verdict::kRefreshMetadata;
  if (core::retriable(code)) return Verdict::kRetry;
  return Verdict::kFail;
}

void CallRegistry::shutdown() {
  shut_down_ = true;
  auto calls = std::move(calls_);
  calls_.clear();
  for (const auto& c : calls) c->abort(Error::from_code(errc::kDestroyed, "client closed"));
}

// --- Retrier ------------------------------------------------------------------

Retrier::Retrier(NetClient& nc, std::string name, TimePoint deadline, int64_t max_retries)
    : nc_(nc),
      name_(std::move(name)),
      deadline_(deadline),
      max_retries_(max_retries),
      backoff_(nc.options().retry_backoff_ms, nc.options().retry_backoff_max_ms) {}

// An owner may release a stopped Retrier on another thread (an admin op,
// after its result was read): only a running one touches its state.
Retrier::~Retrier() {
  if (!stopped_) lifetime_.end();
}

void Retrier::start(std::function<void()> attempt_fn, std::function<void(const Error&)> give_up_fn) {
  attempt_ = std::move(attempt_fn);
  give_up_ = std::move(give_up_fn);
  retry_timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] { on_retry_timer(); });
  if (deadline_ != kNever) {
    deadline_timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] {
      std::string msg = name_ + " did not complete within the timeout";
      if (!last_error_.ok()) msg += " (last error: " + last_error_.to_string() + ")";
      give_up(Error(errc::kTimedOut, msg, true));
    });
    deadline_timer_->start_at(deadline_);
  }
  auto first = attempt_;  // the attempt may end the owner, and this Retrier
  first();
}

void Retrier::stop() {
  if (stopped_) return;
  stopped_ = true;
  lifetime_.end();
  // Timers die here, on the network thread (safe inside their own callback).
  retry_timer_.reset();
  deadline_timer_.reset();
}

void Retrier::give_up(const Error& err) {
  if (stopped_) return;
  auto fn = std::move(give_up_);  // may destroy this Retrier
  stop();
  fn(err);
}

void Retrier::retry(const Error& why, Verdict verdict) {
  if (stopped_) return;
  last_error_ = why;
  if (attempts_ >= max_retries_) return give_up(why);
  if (verdict == Verdict::kRefreshMetadata) {
    refresh_generation_ = nc_.metadata().current()->generation();
    refresh_wanted_ = true;
    nc_.metadata().request_refresh(name_ + ": " + why.to_string());
  }
  const int64_t wait = last_wait_ms_ = backoff_.backoff_ms(attempts_++);
  // The backoff would outlast the deadline: the deadline timer ends it.
  if (add_ms(now(), wait) >= deadline_) return;
  retry_timer_->start(wait);
}

void Retrier::on_retry_timer() {
  if (stopped_) return;
  if (refresh_wanted_ && nc_.metadata().current()->generation() == refresh_generation_) {
    // Route with the refreshed metadata, not the one that failed.
    refresh_wanted_ = false;
    io::Lifetime::Weak alive = lifetime_.weak();
    nc_.metadata().wait_for_update(deadline_, [this, alive](const Error&, const MetadataManager::Snapshot&) {
      if (!alive.alive()) return;
      auto attempt = attempt_;  // the attempt may end the owner, and this Retrier
      attempt();                // a failed wait (the deadline, shutdown) ends elsewhere
    });
    return;
  }
  refresh_wanted_ = false;
  auto attempt = attempt_;  // the attempt may end the owner, and this Retrier
  attempt();
}

RequestOptions Retrier::request_options(int64_t attempt_timeout_ms) const {
  RequestOptions ro;
  const int64_t t = attempt_timeout_ms >= 0 ? attempt_timeout_ms : nc_.options().request_timeout_ms;
  ro.timeout_ms = std::max<int64_t>(1, std::min(t, ms_until(deadline_)));
  return ro;
}

int32_t Retrier::remaining_ms() const {
  return static_cast<int32_t>(std::clamp<int64_t>(ms_until(deadline_), 1, INT32_MAX));
}

// --- Call ------------------------------------------------------------------------

CallBase::CallBase(NetClient& nc, CallSpec spec)
    : nc_(nc), spec_(std::move(spec)), retrier_(nc, spec_.name, spec_.deadline, spec_.max_retries) {}

CallBase::~CallBase() = default;

void CallBase::begin() {
  if (nc_.calls().shut_down()) return fail_typed(Error::from_code(errc::kDestroyed, "client closed"));
  nc_.calls().add(shared_from_this());
  retrier_.start([this] { attempt(); }, [this](const Error& err) { fail_typed(err); });
}

void CallBase::abort(const Error& err) {
  if (!finished_) fail_typed(err);
}

void CallBase::end() {
  if (finished_) return;
  finished_ = true;
  retrier_.stop();
  nc_.calls().remove(shared_from_this());
}

RequestOptions CallBase::request_options() const {
  RequestOptions ro = retrier_.request_options(spec_.attempt_timeout_ms);
  ro.min_version = spec_.min_version;
  ro.max_version = spec_.max_version;
  return ro;
}

void CallBase::attempt() {
  if (finished_) return;
  if (!owner_alive()) return end();
  switch (spec_.route.kind) {
    case Route::Kind::kAnyNode:
      return send_to(kAnyNode, nc_.metadata().current());
    case Route::Kind::kNode:
      return send_to(spec_.route.node, nc_.metadata().current());
    case Route::Kind::kLeader:
      return route_leader();
    case Route::Kind::kController:
      return route_controller();
    case Route::Kind::kCoordinator: {
      auto self = shared_from_this();
      nc_.coordinators().lookup(spec_.route.coordinator, spec_.deadline, [self](const Error& err, int32_t node) {
        if (self->finished_) return;
        if (!self->owner_alive()) return self->end();
        if (!err.ok()) {
          if (self->settle(Outcome{err}, node)) self->fail_typed(err);
          return;
        }
        self->send_to(self->spec_.route.dedicated ? dedicated_id(node) : node, nullptr);
      });
      return;
    }
  }
}

void CallBase::route_leader() {
  auto self = shared_from_this();
  // Adds the topic to the metadata's topics of interest; at once when known.
  nc_.metadata().wait_for_topic(
      spec_.route.topic, spec_.deadline, [self](const Error& err, const MetadataManager::Snapshot& md) {
        if (self->finished_) return;
        if (!self->owner_alive()) return self->end();
        const Route& r = self->spec_.route;
        // A final topic error; at the deadline the Retrier gives up first.
        if (!err.ok()) return self->fail_typed(err);
        const TopicInfo* t = md->topic(r.topic);
        if (t != nullptr && t->usable() && t->partition(r.partition) == nullptr)
          return self->fail_typed(Error::from_code(errc::kUnknownTopicOrPartition,
                                                   r.topic + "-" + std::to_string(r.partition)));
        int32_t leader = md->leader_of(r.topic, r.partition);
        if (leader < 0 || !self->nc_.pool().knows(leader)) {
          Outcome o{Error::from_code(errc::kLeaderNotAvailable, r.topic + "-" + std::to_string(r.partition)),
                    Verdict::kRefreshMetadata};
          if (self->settle(o, -1)) self->fail_typed(o.error);
          return;
        }
        self->send_to(leader, md);
      });
}

void CallBase::route_controller() {
  const auto& md = nc_.metadata().current();
  if (md->generation() == 0) {
    auto self = shared_from_this();
    nc_.metadata().wait_for_update(spec_.deadline, [self](const Error& err, const MetadataManager::Snapshot&) {
      if (self->finished_) return;
      if (!self->owner_alive()) return self->end();
      if (!err.ok()) return self->fail_typed(err);  // shutdown (the deadline ends it first)
      self->attempt();
    });
    return;
  }
  // No usable controller id (none reported, or not among the brokers): any
  // broker will do, since brokers forward controller requests to the
  // active controller (KIP-590); an old one answers NOT_CONTROLLER and the
  // call refreshes the metadata and looks again.
  int32_t id = md->controller_id();
  if (id < 0 || md->broker(id) == nullptr || !nc_.pool().knows(id)) id = kAnyNode;
  send_to(id, md);
}

bool CallBase::settle(const Outcome& o, int32_t node) {
  if (o.error.ok()) return true;
  Verdict v = o.verdict == Verdict::kAuto ? classify_code(o.error.code(), spec_.route.kind) : o.verdict;
  // An error its maker marked retriable (e.g. an answer missing an item)
  // is retried whatever its code.
  if (v == Verdict::kFail && o.verdict == Verdict::kAuto && o.error.retriable() && o.error.code() != errc::kDestroyed)
    v = Verdict::kRetry;
  if (v == Verdict::kFail) return true;
  if (v == Verdict::kRediscoverCoordinator) {
    const int32_t broker = node >= kDedicatedBase ? INT32_MAX - node : node;
    nc_.coordinators().invalidate(spec_.route.coordinator, broker);
  }
  retrier_.retry(o.error, v);
  return false;
}

}  // namespace kfk::net
