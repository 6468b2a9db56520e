// Application-thread side of the consumer: commits, committed offsets,
// positions, seeks, offset lookups, pause/resume, close and metrics.
#include <algorithm>

#include "client/consumer/consumer_impl.h"
#include "client/core/growable_struct.h"

namespace kfk::consumer {

namespace {
// Waits for a network-thread result, up to `timeout` (the network side has
// its own deadline; this one only guards against a stuck loop).
template <class T>
bool wait_for(std::future<T>& f, std::chrono::milliseconds timeout) {
  return f.wait_for(timeout + std::chrono::seconds(1)) == std::future_status::ready;
}
}  // namespace

void ConsumerImpl::notify_commit(const std::map<TopicPartition, OffsetAndMetadata>& offsets) {
  for (auto& ic : options_.interceptors) {
    try {
      ic->on_commit(offsets);
    } catch (const std::exception& ex) {
      log(std::string("interceptor on_commit threw: ") + ex.what());
    }
  }
}

Error ConsumerImpl::commit_offsets_sync(std::map<TopicPartition, OffsetAndMetadata> offsets,
                                        std::chrono::milliseconds timeout) {
  if (group_id_.empty()) return Error::from_code(errc::kInvalidGroupId, "committing offsets needs group.id");
  if (offsets.empty()) return Error();
  for (auto& [tp, om] : offsets)
    if (om.offset < 0) return Error::from_code(errc::kInvalidArgument, "negative offset for " + tp.to_string());
  auto p = std::make_shared<std::promise<Error>>();
  auto f = p->get_future();
  net::TimePoint deadline = net::after_ms(timeout.count());
  if (!nc_->post([this, p, offsets, deadline] {
        if (!group_) return p->set_value(Error::from_code(errc::kDestroyed, "consumer closed"));
        group_->commit(offsets, deadline, [p](const Error& e) { p->set_value(e); });
      }))
    return Error::from_code(errc::kDestroyed, "consumer closed");
  if (!wait_for(f, timeout)) return Error::from_code(errc::kTimedOut, "commit_sync");
  Error e = f.get();
  if (e.ok()) {
    commits_++;
    notify_commit(offsets);
  } else {
    commit_failures_++;
  }
  return e;
}

void ConsumerImpl::commit_offsets_async(std::map<TopicPartition, OffsetAndMetadata> offsets, CommitCallback cb) {
  Error pre;
  if (group_id_.empty()) pre = Error::from_code(errc::kInvalidGroupId, "committing offsets needs group.id");
  if (closed_) pre = Error::from_code(errc::kDestroyed, "consumer closed");
  auto deliver = [this, cb](std::map<TopicPartition, OffsetAndMetadata> offs, Error e) {
    MutexLock lock(state_.mu);
    state_.app_tasks.push_back([this, cb, offs = std::move(offs), e] {
      if (e.ok()) {
        commits_++;
        notify_commit(offs);
      } else {
        commit_failures_++;
      }
      if (cb) cb(offs, e);
    });
    state_.cv.notify_all();
  };
  if (!pre.ok() || offsets.empty()) return deliver(std::move(offsets), pre);
  int64_t timeout = rc_.get_long("request.timeout.ms");
  bool posted = nc_->post([this, offsets, deliver, timeout] {
    if (!group_) return deliver(offsets, Error::from_code(errc::kDestroyed, "consumer closed"));
    group_->commit(offsets, net::after_ms(timeout), [offsets, deliver](const Error& e) { deliver(offsets, e); });
  });
  if (!posted) deliver(std::move(offsets), Error::from_code(errc::kDestroyed, "consumer closed"));
}

Error ConsumerImpl::commit_sync(std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  run_app_tasks();  // earlier async commits complete first
  return commit_offsets_sync(consumed_offsets(), timeout);
}

Error ConsumerImpl::commit_sync(const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  run_app_tasks();
  return commit_offsets_sync(offsets, timeout);
}

// From a second thread (see AppCall) the callback runs at once, on the
// calling thread, with the error (logged when there is no callback).
void ConsumerImpl::commit_async(CommitCallback callback) {
  AppCall call(*this);
  if (!call.ok()) return refuse_async(consumed_offsets(), callback, call.error());
  commit_offsets_async(consumed_offsets(), std::move(callback));
}

void ConsumerImpl::commit_async(const std::map<TopicPartition, OffsetAndMetadata>& offsets, CommitCallback callback) {
  AppCall call(*this);
  if (!call.ok()) return refuse_async(offsets, callback, call.error());
  commit_offsets_async(offsets, std::move(callback));
}

void ConsumerImpl::refuse_async(const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                const CommitCallback& callback, const Error& e) {
  if (callback)
    callback(offsets, e);
  else
    log("commit_async(): " + e.message());
}

Error ConsumerImpl::committed(const std::vector<TopicPartition>& partitions,
                              std::map<TopicPartition, OffsetAndMetadata>* out, std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "committed(): out is null");
  if (group_id_.empty()) return Error::from_code(errc::kInvalidGroupId, "committed offsets need group.id");
  out->clear();
  if (partitions.empty()) return Error();
  auto p = std::make_shared<std::promise<std::pair<Error, CommittedOffsets>>>();
  auto f = p->get_future();
  net::TimePoint deadline = net::after_ms(timeout.count());
  if (!nc_->post([this, p, partitions, deadline] {
        if (!group_) return p->set_value({Error::from_code(errc::kDestroyed, "consumer closed"), {}});
        group_->fetch_committed(partitions, deadline,
                                [p](const Error& e, CommittedOffsets& offs) { p->set_value({e, std::move(offs)}); });
      }))
    return Error::from_code(errc::kDestroyed, "consumer closed");
  if (!wait_for(f, timeout)) return Error::from_code(errc::kTimedOut, "committed()");
  auto [e, offs] = f.get();
  if (!e.ok()) return e;
  for (auto& [tp, om] : offs)
    if (om.offset >= 0) (*out)[tp] = om;
  return Error();
}

Error ConsumerImpl::position(const TopicPartition& tp, int64_t* out, std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "position(): out is null");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  trigger_fetch();
  MutexLock lock(state_.mu);
  for (;;) {
    PartitionState* ps = state_.find(tp);
    if (ps == nullptr) return Error::from_code(errc::kState, "position(): " + tp.to_string() + " is not assigned");
    if (!ps->error.ok()) return ps->error;
    if (ps->source == PositionSource::kKnown) {
      *out = ps->position;
      return Error();
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return Error::from_code(errc::kTimedOut, "position(): offset of " + tp.to_string() + " not known yet");
    state_.cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  }
}

Error ConsumerImpl::seek(const TopicPartition& tp, int64_t offset) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  if (offset < 0) return Error::from_code(errc::kInvalidArgument, "seek(): negative offset");
  {
    MutexLock lock(state_.mu);
    PartitionState* ps = state_.find(tp);
    if (ps == nullptr) return Error::from_code(errc::kState, "seek(): " + tp.to_string() + " is not assigned");
    state_.seek(tp, *ps, offset, PositionSource::kKnown);
  }
  trigger_fetch();
  return Error();
}

Error ConsumerImpl::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  {
    MutexLock lock(state_.mu);
    for (auto& tp : partitions)
      if (state_.find(tp) == nullptr)
        return Error::from_code(errc::kState, "seek_to_beginning(): " + tp.to_string() + " is not assigned");
    for (auto& [tp, ps] : state_.partitions)
      if (partitions.empty() || std::find(partitions.begin(), partitions.end(), tp) != partitions.end())
        state_.seek(tp, ps, -1, PositionSource::kEarliest);
  }
  trigger_fetch();
  return Error();
}

Error ConsumerImpl::seek_to_end(const std::vector<TopicPartition>& partitions) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  {
    MutexLock lock(state_.mu);
    for (auto& tp : partitions)
      if (state_.find(tp) == nullptr)
        return Error::from_code(errc::kState, "seek_to_end(): " + tp.to_string() + " is not assigned");
    for (auto& [tp, ps] : state_.partitions)
      if (partitions.empty() || std::find(partitions.begin(), partitions.end(), tp) != partitions.end())
        state_.seek(tp, ps, -1, PositionSource::kLatest);
  }
  trigger_fetch();
  return Error();
}

Error ConsumerImpl::list_offsets_sync(std::map<TopicPartition, int64_t> ts,
                                      std::map<TopicPartition, OffsetAndTimestamp>* out,
                                      std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "out is null");
  out->clear();
  if (ts.empty()) return Error();
  for (auto& [tp, t] : ts)
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument, "invalid partition " + tp.to_string());
  auto p = std::make_shared<std::promise<std::pair<Error, ListOffsetsResult>>>();
  auto f = p->get_future();
  net::TimePoint deadline = net::after_ms(timeout.count());
  if (!nc_->post([this, p, ts = std::move(ts), deadline]() mutable {
        if (!fetcher_) return p->set_value({Error::from_code(errc::kDestroyed, "consumer closed"), {}});
        fetcher_->list_offsets(std::move(ts), deadline,
                               [p](const Error& e, ListOffsetsResult& r) { p->set_value({e, std::move(r)}); });
      }))
    return Error::from_code(errc::kDestroyed, "consumer closed");
  if (!wait_for(f, timeout)) return Error::from_code(errc::kTimedOut, "ListOffsets");
  auto [e, r] = f.get();
  if (!e.ok()) return e;
  *out = std::move(r);
  return Error();
}

Error ConsumerImpl::offsets_for_times(const std::map<TopicPartition, int64_t>& timestamps,
                                      std::map<TopicPartition, OffsetAndTimestamp>* out,
                                      std::chrono::milliseconds timeout) {
  for (auto& [tp, t] : timestamps)
    if (t < 0) return Error::from_code(errc::kInvalidArgument, "offsets_for_times(): negative timestamp for " + tp.to_string());
  return list_offsets_sync(timestamps, out, timeout);
}

Error ConsumerImpl::beginning_offsets(const std::vector<TopicPartition>& partitions,
                                      std::map<TopicPartition, int64_t>* out, std::chrono::milliseconds timeout) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "out is null");
  std::map<TopicPartition, int64_t> ts;
  for (auto& tp : partitions) ts[tp] = -2;
  std::map<TopicPartition, OffsetAndTimestamp> r;
  Error e = list_offsets_sync(ts, &r, timeout);
  out->clear();
  for (auto& [tp, ot] : r) (*out)[tp] = ot.offset;
  return e;
}

Error ConsumerImpl::end_offsets(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, int64_t>* out,
                                std::chrono::milliseconds timeout) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "out is null");
  std::map<TopicPartition, int64_t> ts;
  for (auto& tp : partitions) ts[tp] = -1;
  std::map<TopicPartition, OffsetAndTimestamp> r;
  Error e = list_offsets_sync(ts, &r, timeout);
  out->clear();
  for (auto& [tp, ot] : r) (*out)[tp] = ot.offset;
  return e;
}

Error ConsumerImpl::pause(const std::vector<TopicPartition>& partitions) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  MutexLock lock(state_.mu);
  for (auto& tp : partitions)
    if (state_.find(tp) == nullptr) return Error::from_code(errc::kState, "pause(): " + tp.to_string() + " is not assigned");
  for (auto& tp : partitions) state_.find(tp)->paused = true;
  return Error();
}

Error ConsumerImpl::resume(const std::vector<TopicPartition>& partitions) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  if (Error e = check_open(); !e.ok()) return e;
  {
    MutexLock lock(state_.mu);
    for (auto& tp : partitions)
      if (state_.find(tp) == nullptr)
        return Error::from_code(errc::kState, "resume(): " + tp.to_string() + " is not assigned");
    for (auto& tp : partitions) state_.find(tp)->paused = false;
  }
  trigger_fetch();
  return Error();
}

std::vector<TopicPartition> ConsumerImpl::paused() const {
  MutexLock lock(state_.mu);
  std::vector<TopicPartition> out;
  for (auto& [tp, ps] : state_.partitions)
    if (ps.paused) out.push_back(tp);
  return out;
}

Error ConsumerImpl::close(std::chrono::milliseconds timeout) {
  AppCall call(*this);
  if (!call.ok()) return call.error();
  // Still open while closing: the listener may commit (commit_sync) in
  // its final on_partitions_revoked.
  if (closing_ || closed_) return Error();
  closing_ = true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      deadline - std::chrono::steady_clock::now()));
  };
  Error result;
  run_app_tasks();
  run_lost_steps();  // lost partitions are not revoked (nor committed)
  std::vector<TopicPartition> owned = assignment();
  if (auto_commit_ && !owned.empty()) {
    // As the Java consumer: a failed final auto-commit is logged, not
    // returned. It fails routinely when other members leave at the same
    // time (REBALANCE_IN_PROGRESS); the partitions' next owner resumes from
    // the last successful commit. Applications that must know commit with
    // commit_sync() before close().
    Error e = commit_offsets_sync(consumed_offsets(), left());
    if (!e.ok()) log("auto-commit on close failed: " + e.to_string());
  }
  if (mode_ == Mode::kSubscribed && !owned.empty()) call_listener(RebalanceStep::Kind::kRevoke, owned);
  if (mode_ == Mode::kSubscribed) {
    auto p = std::make_shared<std::promise<void>>();
    auto f = p->get_future();
    if (nc_->post([this, p] {
          if (!group_) return p->set_value();
          group_->leave("consumer closed", [p] { p->set_value(); });
        }))
      f.wait_for(left());
  }
  run_app_tasks();
  closed_ = true;
  for (auto& ic : options_.interceptors) {
    try {
      ic->close();
    } catch (...) {
    }
  }
  nc_->stop();
  {
    MutexLock lock(state_.mu);
    state_.completed.clear();
    state_.cv.notify_all();
  }
  return result;
}

void ConsumerImpl::fill_metrics(ConsumerMetrics* out, size_t size) const {
  ConsumerMetrics m;
  m.records_consumed = records_consumed_;
  m.commits = commits_;
  m.commit_failures = commit_failures_;
  {
    MutexLock lock(state_.mu);
    m.bytes_fetched = state_.bytes_fetched;
    m.fetch_requests = state_.fetch_requests;
    m.fetch_errors = state_.fetch_errors;
    m.buffered_fetches = state_.completed.size();
    m.generation_id = state_.generation;
    m.member_id = state_.member_id;
    m.rebalances = state_.rebalances;
  }
  using M = ConsumerMetrics;
  core::assign_within(out, size, std::move(m), &M::records_consumed, &M::bytes_fetched, &M::fetch_requests,
                      &M::fetch_errors, &M::rebalances, &M::commits, &M::commit_failures, &M::generation_id,
                      &M::member_id, &M::buffered_fetches);
}

}  // namespace kfk::consumer
