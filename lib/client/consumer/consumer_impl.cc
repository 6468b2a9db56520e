// Application-thread side of the consumer; see consumer_impl.h.
#include "client/consumer/consumer_impl.h"

#include <algorithm>
#include <iostream>

namespace kfk {

Error Consumer::create(const Config& config, std::unique_ptr<Consumer>* out, ConsumerOptions options) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "Consumer::create: out is null");
  core::ResolvedConfig rc;
  if (Error e = core::validate(config, core::ClientKind::kConsumer, &rc); !e.ok()) return e;
  if (rc.group_protocol() != core::GroupProtocol::kClassic)
    return Error::from_code(errc::kUnsupportedFeature, "group.protocol=consumer (KIP-848) is not supported yet");
  std::vector<std::shared_ptr<PartitionAssignor>> assignors = options.assignors;
  if (assignors.empty()) {
    for (auto& name : rc.assignors()) {
      std::unique_ptr<PartitionAssignor> a;
      if (Error e = create_assignor(name, a); !e.ok()) return e;
      assignors.push_back(std::move(a));
    }
  }
  auto c = std::make_unique<consumer::ConsumerImpl>(std::move(rc), std::move(options), std::move(assignors));
  c->start();
  *out = std::move(c);
  return Error();
}

namespace consumer {

ConsumerImpl::ConsumerImpl(core::ResolvedConfig rc, ConsumerOptions options,
                           std::vector<std::shared_ptr<PartitionAssignor>> assignors)
    : rc_(std::move(rc)), options_(std::move(options)), assignors_(std::move(assignors)) {
  group_id_ = rc_.get_string("group.id");
  auto_commit_ = rc_.get_bool("enable.auto.commit") && !group_id_.empty();
  auto_commit_interval_ms_ = rc_.get_long("auto.commit.interval.ms");
  max_poll_records_ = static_cast<size_t>(std::max(1, rc_.get_int("max.poll.records")));
  drain_.check_crcs = rc_.get_bool("check.crcs");
  drain_.read_committed = rc_.isolation_level() == core::IsolationLevel::kReadCommitted;
  drain_.max_decompressed = std::max<size_t>(size_t{64} << 20, static_cast<size_t>(rc_.get_int("fetch.max.bytes")) * 4);
  // The one log sink: every message of this consumer, from either thread.
  if (!options_.log)
    options_.log = [](std::string_view msg) { std::cerr << "kfk consumer: " << msg << "\n"; };
  listener_ = options_.rebalance_listener;
  for (auto& note : rc_.adjustments()) log(note);
}

ConsumerImpl::~ConsumerImpl() { (void)close(std::chrono::seconds(30)); }  // nobody left to tell

void ConsumerImpl::log(std::string_view msg) const { options_.log(msg); }

ConsumerImpl::AppCall::AppCall(const ConsumerImpl& c) : c_(c) {
  const std::thread::id me = std::this_thread::get_id();
  std::thread::id none;
  if (c_.app_thread_.load() != me && !c_.app_thread_.compare_exchange_strong(none, me)) {
    error_ = Error(errc::kState,
                   "kfk::Consumer is not safe for multi-threaded access: another thread is inside a call of this "
                   "consumer (use one thread at a time; only wakeup(), metrics(), assignment() and paused() may be called "
                   "from any thread)");
    return;
  }
  ++c_.app_depth_;
}

ConsumerImpl::AppCall::~AppCall() {
  if (error_.ok() && --c_.app_depth_ == 0) c_.app_thread_.store(std::thread::id());
}

void ConsumerImpl::start() {
  net::NetOptions no = net::NetOptions::from(rc_);
  no.log = [this](std::string_view msg) { log(msg); };
  nc_ = std::make_unique<net::NetClient>(no);
  // Network thread: wakes poll() to report it (without state_.mu: a wakeup
  // lost to a race only waits for poll()'s next periodic check).
  nc_->set_down_notifier([this] { state_.cv.notify_all(); });
  nc_->start();
  next_auto_commit_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(auto_commit_interval_ms_);
  on_loop([this] {
    // Runs on the network thread: wakes poll() after wakeup().
    uv_async_init(nc_->loop(), &wakeup_async_, [](uv_async_t* a) {
      auto* self = static_cast<ConsumerImpl*>(a->data);
      MutexLock lock(self->state_.mu);
      self->state_.cv.notify_all();
    });
    wakeup_async_.data = this;
    wakeup_async_open_ = true;
    GroupMember* g = nullptr;
    if (!group_id_.empty()) {
      group_ = std::make_unique<GroupMember>(*nc_, state_, GroupOptions::from(rc_), assignors_, options_.log);
      group_->start();
      g = group_.get();
    }
    int64_t timeout = rc_.get_long("request.timeout.ms");
    fetcher_ = std::make_unique<Fetcher>(*nc_, state_, FetcherOptions::from(rc_),
                                         [g, timeout](std::vector<TopicPartition> parts, CommittedCallback cb) {
                                           g->fetch_committed(std::move(parts), net::after_ms(timeout), std::move(cb));
                                         });
    fetcher_->start();
    // Torn down on the network thread before the loop ends.
    nc_->thread().add_stop_hook([this] {
      wakeup_async_open_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_async_), nullptr);
      if (fetcher_) fetcher_->shutdown();
      if (group_) group_->shutdown();
      fetcher_.reset();
      group_.reset();
    });
  });
}

bool ConsumerImpl::on_loop(std::function<void()> fn) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  if (!nc_->post([p, fn = std::move(fn)] {
        fn();
        p->set_value();
      }))
    return false;
  f.wait();
  return true;
}

Error ConsumerImpl::check_open() const {
  if (closed_) return Error::from_code(errc::kDestroyed, "consumer closed");
  return Error();
}

void ConsumerImpl::trigger_fetch() {
  nc_->post([this] {
    if (fetcher_) fetcher_->trigger();
  });
}

// --- Subscription and assignment -----------------------------------------------------

Error ConsumerImpl::subscribe(const std::vector<std::string>& topics) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  return subscribe_topics(topics, options_.rebalance_listener);
}

Error ConsumerImpl::subscribe(const std::vector<std::string>& topics, std::shared_ptr<RebalanceListener> listener) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  return subscribe_topics(topics, std::move(listener));
}

Error ConsumerImpl::subscribe_pattern(const std::regex& pattern) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  return subscribe_regex(pattern, options_.rebalance_listener);
}

Error ConsumerImpl::subscribe_pattern(const std::regex& pattern, std::shared_ptr<RebalanceListener> listener) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  return subscribe_regex(pattern, std::move(listener));
}

Error ConsumerImpl::subscribe_topics(const std::vector<std::string>& topics,
                                     std::shared_ptr<RebalanceListener> listener) {
  if (Error e = check_open(); !e.ok()) return e;
  if (group_id_.empty()) return Error::from_code(errc::kInvalidClientConfig, "subscribe() needs group.id");
  for (auto& t : topics)
    if (t.empty()) return Error::from_code(errc::kInvalidArgument, "subscribe(): empty topic name");
  if (topics.empty()) return unsubscribe();
  if (mode_ == Mode::kAssigned) (void)assign({});  // assigning nothing cannot fail once open
  mode_ = Mode::kSubscribed;
  pattern_ = false;
  subscription_ = topics;
  listener_ = std::move(listener);
  std::set<std::string> set(topics.begin(), topics.end());
  on_loop([this, set] { group_->subscribe(set); });
  return Error();
}

Error ConsumerImpl::subscribe_regex(const std::regex& pattern, std::shared_ptr<RebalanceListener> listener) {
  if (Error e = check_open(); !e.ok()) return e;
  if (group_id_.empty()) return Error::from_code(errc::kInvalidClientConfig, "subscribe() needs group.id");
  if (mode_ == Mode::kAssigned) (void)assign({});  // assigning nothing cannot fail once open
  mode_ = Mode::kSubscribed;
  pattern_ = true;
  subscription_.clear();
  listener_ = std::move(listener);
  on_loop([this, pattern] { group_->subscribe_pattern(pattern); });
  return Error();
}

Error ConsumerImpl::unsubscribe() {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  if (mode_ != Mode::kSubscribed) return Error();
  run_lost_steps();
  std::vector<TopicPartition> owned = assignment();
  if (!owned.empty()) {
    // Auto-commit before revoking is best effort (as Java's).
    if (auto_commit_)
      (void)commit_offsets_sync(consumed_offsets(), std::chrono::milliseconds(rc_.get_long("request.timeout.ms")));
    call_listener(RebalanceStep::Kind::kRevoke, owned);
  }
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  on_loop([this, p] {
    group_->leave("unsubscribed", [p] { p->set_value(); });
    group_->unsubscribe();
  });
  f.wait_for(std::chrono::milliseconds(rc_.get_long("request.timeout.ms")));
  {
    MutexLock lock(state_.mu);
    state_.retain({});
    state_.steps.clear();
  }
  mode_ = Mode::kNone;
  subscription_.clear();
  return Error();
}

std::vector<std::string> ConsumerImpl::subscription() const {
  AppCall call(*this);
  if (!call.ok()) {
    log("subscription(): " + call.error().message());
    return {};
  }
  if (mode_ != Mode::kSubscribed) return {};
  if (!pattern_) return subscription_;
  std::vector<std::string> out;
  const_cast<ConsumerImpl*>(this)->on_loop([&] { out = group_->subscribed_topics(); });
  return out;
}

Error ConsumerImpl::assign(const std::vector<TopicPartition>& partitions) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  for (auto& tp : partitions)
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument, "assign(): invalid partition " + tp.to_string());
  if (mode_ == Mode::kSubscribed) (void)unsubscribe();  // cannot fail once open
  mode_ = partitions.empty() ? Mode::kNone : Mode::kAssigned;
  {
    MutexLock lock(state_.mu);
    std::set<TopicPartition> keep(partitions.begin(), partitions.end());
    state_.retain(keep);
    for (auto& tp : partitions) state_.add(tp, PositionSource::kCommitted);
  }
  trigger_fetch();
  return Error();
}

std::vector<TopicPartition> ConsumerImpl::assignment() const {
  MutexLock lock(state_.mu);
  std::vector<TopicPartition> out;
  for (auto& [tp, ps] : state_.partitions) out.push_back(tp);
  return out;
}

// --- Poll ---------------------------------------------------------------------------------

void ConsumerImpl::run_app_tasks() {
  std::deque<std::function<void()>> tasks;
  {
    MutexLock lock(state_.mu);
    tasks.swap(state_.app_tasks);
  }
  for (auto& t : tasks) t();
}

void ConsumerImpl::call_listener(RebalanceStep::Kind kind, const std::vector<TopicPartition>& parts) {
  if (!listener_) return;
  try {
    if (kind == RebalanceStep::Kind::kRevoke)
      listener_->on_partitions_revoked(parts);
    else if (kind == RebalanceStep::Kind::kLost)
      listener_->on_partitions_lost(parts);
    else
      listener_->on_partitions_assigned(parts);
  } catch (const std::exception& ex) {
    log(std::string("rebalance listener threw: ") + ex.what());
  } catch (...) {
    log("rebalance listener threw");
  }
}

void ConsumerImpl::revoke_partitions(const std::vector<TopicPartition>& parts) {
  if (parts.empty()) return;
  if (auto_commit_)  // best effort (as Java's)
    (void)commit_offsets_sync(consumed_offsets(&parts), std::chrono::milliseconds(rc_.get_long("request.timeout.ms")));
  call_listener(RebalanceStep::Kind::kRevoke, parts);
  MutexLock lock(state_.mu);
  for (auto& tp : parts) state_.partitions.erase(tp);
  std::erase_if(state_.completed, [&](const auto& cf) {
    return std::find(parts.begin(), parts.end(), cf->tp) != parts.end();
  });
}

// Only partitions still owned: a revocation that was already running when
// the member lost them has reported them (one callback per change).
void ConsumerImpl::lose_partitions(std::vector<TopicPartition> parts) {
  {
    MutexLock lock(state_.mu);
    std::erase_if(parts, [&](const TopicPartition& tp) REQUIRES(state_.mu) { return state_.partitions.count(tp) == 0; });
  }
  if (parts.empty()) return;
  call_listener(RebalanceStep::Kind::kLost, parts);
  MutexLock lock(state_.mu);
  for (auto& tp : parts) state_.partitions.erase(tp);
  std::erase_if(state_.completed, [&](const auto& cf) REQUIRES(state_.mu) { return state_.partitions.count(cf->tp) == 0; });
}

void ConsumerImpl::run_lost_steps() {
  std::vector<RebalanceStep> lost;
  {
    MutexLock lock(state_.mu);
    for (auto it = state_.steps.begin(); it != state_.steps.end();) {
      if (it->kind == RebalanceStep::Kind::kLost) {
        lost.push_back(std::move(*it));
        it = state_.steps.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& step : lost) lose_partitions(std::move(step.revoked));
}

void ConsumerImpl::run_steps() {
  for (;;) {
    RebalanceStep step;
    {
      MutexLock lock(state_.mu);
      if (state_.steps.empty()) {
        state_.events_pending = false;
        return;
      }
      step = std::move(state_.steps.front());
      state_.steps.pop_front();
    }
    switch (step.kind) {
      case RebalanceStep::Kind::kRevoke:
        revoke_partitions(step.revoked);
        nc_->post([this] {
          if (group_) group_->step_done(RebalanceStep::Kind::kRevoke, false);
        });
        break;
      case RebalanceStep::Kind::kLost:
        lose_partitions(std::move(step.revoked));
        break;
      case RebalanceStep::Kind::kAssign: {
        revoke_partitions(step.revoked);
        {
          MutexLock lock(state_.mu);
          std::set<TopicPartition> keep(step.assigned.begin(), step.assigned.end());
          state_.retain(keep);
          for (auto& tp : step.assigned) state_.add(tp, PositionSource::kCommitted);
        }
        call_listener(RebalanceStep::Kind::kAssign, step.added);
        bool rejoin = step.rejoin_after;
        nc_->post([this, rejoin] {
          if (group_) group_->step_done(RebalanceStep::Kind::kAssign, rejoin);
          if (fetcher_) fetcher_->trigger();
        });
        break;
      }
    }
  }
}

std::map<TopicPartition, OffsetAndMetadata> ConsumerImpl::consumed_offsets(const std::vector<TopicPartition>* only) {
  std::map<TopicPartition, OffsetAndMetadata> out;
  MutexLock lock(state_.mu);
  for (auto& [tp, ps] : state_.partitions) {
    if (ps.source != PositionSource::kKnown || ps.position < 0) continue;
    if (only != nullptr && std::find(only->begin(), only->end(), tp) == only->end()) continue;
    OffsetAndMetadata om;
    om.offset = ps.position;
    om.leader_epoch = ps.position_epoch;
    out[tp] = om;
  }
  return out;
}

void ConsumerImpl::maybe_auto_commit() {
  if (!auto_commit_) return;
  auto now = std::chrono::steady_clock::now();
  if (now < next_auto_commit_) return;
  next_auto_commit_ = now + std::chrono::milliseconds(auto_commit_interval_ms_);
  auto offsets = consumed_offsets();
  if (offsets.empty()) return;
  commit_offsets_async(std::move(offsets), [this](const auto&, const Error& e) {
    // Refused while the member rejoins (a cooperative member keeps
    // consuming meanwhile): expected, and the next interval commits again.
    if (!e.ok() && e.code() != errc::kRebalanceInProgress) log("auto-commit failed: " + e.to_string());
  });
}

ConsumerRecords ConsumerImpl::poll(std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return ConsumerRecords(call.error());
  if (Error e = check_open(); !e.ok()) return ConsumerRecords(e);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  nc_->post([this] {
    if (group_) group_->on_poll();
  });
  for (;;) {
    run_app_tasks();
    run_steps();
    maybe_auto_commit();
    ConsumerRecords out;
    ConsumerRecordsBuilder b(out);
    std::unique_ptr<CompletedFetch> cf;
    {
      MutexLock lock(state_.mu);
      if (state_.wakeup.exchange(false)) {
        return ConsumerRecords(Error::from_code(errc::kWakeup, "poll interrupted by wakeup()"));
      }
      if (!state_.pending_error.ok()) {
        Error e = state_.pending_error;
        if (!e.fatal()) state_.pending_error = Error();
        return ConsumerRecords(e);
      }
      if (!state_.reports.empty()) {
        Error e = std::move(state_.reports.front());
        state_.reports.pop_front();
        return ConsumerRecords(e);
      }
      if (mode_ == Mode::kNone && state_.partitions.empty())
        return ConsumerRecords(Error::from_code(errc::kState, "poll(): no subscription or assignment"));
      // Every broker down: reported again after each further failed attempt (librdkafka).
      if (Error down = nc_->all_brokers_down_since(&brokers_down_reported_); !down.ok()) return ConsumerRecords(down);
      for (auto& [tp, ps] : state_.partitions) {
        if (!ps.error.ok() && !ps.paused) {
          Error e = ps.error;
          // Offset problems stay until a seek; others are reported once.
          if (e.code() != errc::kNoOffset && e.code() != errc::kOffsetOutOfRange) {
            ps.error = Error();
            ps.not_before = net::after_ms(rc_.get_long("retry.backoff.ms"));
          }
          return ConsumerRecords(e);
        }
      }
      // Take the first buffered fetch of a partition that is not paused.
      for (auto it = state_.completed.begin(); it != state_.completed.end();) {
        PartitionState* ps = state_.find((*it)->tp);
        if (ps == nullptr || ps->generation != (*it)->generation) {
          if (ps != nullptr) ps->buffered = false;
          it = state_.completed.erase(it);
          continue;
        }
        if (ps->paused) {
          ++it;
          continue;
        }
        cf = std::move(*it);
        state_.completed.erase(it);
        break;
      }
      if (!cf && out.eof_partitions().empty()) {
        if (std::chrono::steady_clock::now() >= deadline) return out;
        state_.cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(
                                                                                          auto_commit_ ? 200 : 1000)));
        continue;
      }
    }
    bool refetch = false;
    // Drain outside the lock: decompression must not stall the network
    // thread. Only this thread moves positions of buffered partitions.
    while (cf) {
      int64_t position;
      std::optional<int32_t> epoch;
      {
        MutexLock lock(state_.mu);
        PartitionState* ps = state_.find(cf->tp);
        position = ps->position;
        epoch = ps->position_epoch;
      }
      bool exhausted = false;
      Error err;
      bool ok = drain_fetch(*cf, max_poll_records_ - b.size(), drain_, b, position, epoch, exhausted, err);
      MutexLock lock(state_.mu);
      PartitionState* ps = state_.find(cf->tp);
      ps->position = position;
      ps->position_epoch = epoch;
      if (!ok) {
        ps->error = err;
        ps->buffered = false;
        cf.reset();
        break;
      }
      if (exhausted) {
        ps->buffered = false;
        refetch = true;
        cf.reset();
      } else {
        state_.completed.push_front(std::move(cf));  // the rest for the next poll()
        break;
      }
      if (b.size() >= max_poll_records_) break;
      // Fill the batch from further partitions.
      for (auto it = state_.completed.begin(); it != state_.completed.end(); ++it) {
        PartitionState* p2 = state_.find((*it)->tp);
        if (p2 == nullptr || p2->generation != (*it)->generation || p2->paused) continue;
        cf = std::move(*it);
        state_.completed.erase(it);
        break;
      }
    }
    b.finish();
    if (refetch) trigger_fetch();
    if (out.empty() && out.eof_partitions().empty()) continue;
    records_consumed_ += out.size();
    for (auto& ic : options_.interceptors) {
      try {
        ic->on_consume(out);
      } catch (const std::exception& ex) {
        log(std::string("interceptor on_consume threw: ") + ex.what());
      }
    }
    return out;
  }
}

// Async-signal-safe (see consumer.h): a lock-free atomic store and
// uv_async_send, nothing else.
void ConsumerImpl::wakeup() {
  static_assert(std::atomic<bool>::is_always_lock_free);
  state_.wakeup.store(true);
  if (wakeup_async_open_.load()) uv_async_send(&wakeup_async_);
}

}  // namespace consumer
}  // namespace kfk
