// MetadataManager: refresh scheduling, merging, waiters. Runs on the
// network thread (snapshot() excepted).
#include "client/net/metadata_manager.h"

#include "client/core/classify.h"
#include "client/net/request.h"
#include "io/loop_thread.h"
#include "protocol/error_codes.h"

namespace kfk::net {

MetadataManager::MetadataManager(ConnectionPool& pool, const NetOptions& opts, std::shared_ptr<SnapshotCell> cell)
    : pool_(pool),
      opts_(opts),
      current_(std::make_shared<ClusterMetadata>()),
      cell_(cell ? std::move(cell) : std::make_shared<SnapshotCell>()),
      backoff_(opts.retry_backoff_ms, opts.retry_backoff_max_ms),
      timer_(pool.loop(), [this] { on_timer(); }) {
  io::Lifetime::Weak alive = lifetime_.weak();
  pool_.add_state_listener([this, alive](int32_t node, BrokerConnection::State s, const Error& why) {
    // A broker dropping often means leadership moved (the Java client
    // refreshes on every disconnect too).
    if (!alive.alive() || shut_down_ || s != BrokerConnection::State::kDisconnected) return;
    if (node >= 0 && !why.ok() && why.code() != errc::kDestroyed)
      request_refresh("connection to broker " + std::to_string(node) + " failed");
  });
}

MetadataManager::~MetadataManager() {
  shutdown();
  lifetime_.end();
}

void MetadataManager::start() {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  if (started_ || shut_down_) return;
  started_ = true;
  request_refresh("bootstrap");
}

void MetadataManager::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  timer_.stop();
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w.cb(Error::from_code(errc::kDestroyed, "client closing"), current_);
}

MetadataManager::Snapshot MetadataManager::snapshot() const { return cell_->get(); }

void MetadataManager::add_topics(const std::vector<std::string>& topics) {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  bool missing = false;
  for (const auto& t : topics) {
    if (topics_.insert(t).second && !all_topics_) {
      const TopicInfo* ti = current_->topic(t);
      missing = missing || ti == nullptr || !ti->usable();
    }
  }
  if (missing) refresh_for_new_topics();
}

void MetadataManager::refresh_for_new_topics() {
  new_topics_ = true;
  if (consecutive_failures_ == 0 && consecutive_error_updates_ == 0) not_before_ = std::min(not_before_, now());
  request_refresh("new topic");
}

void MetadataManager::remove_topic(const std::string& topic) { topics_.erase(topic); }

void MetadataManager::set_all_topics(bool all) {
  if (all == all_topics_) return;
  all_topics_ = all;
  if (all) request_refresh("all topics");
}

void MetadataManager::update_last_seen_epoch(const std::string& topic, int32_t partition, int32_t epoch) {
  auto key = std::make_pair(topic, partition);
  auto it = last_seen_.find(key);
  if (it == last_seen_.end() || it->second < epoch) last_seen_[key] = epoch;
  const PartitionInfo* p = current_->partition(topic, partition);
  if (p && p->leader_epoch >= 0 && p->leader_epoch < epoch) request_refresh("newer leader epoch seen");
}

bool MetadataManager::handle_error(int16_t code, const std::string& context) {
  if (!core::refreshes_metadata(code)) return false;
  request_refresh(std::string(proto::error_name(code)) + (context.empty() ? "" : " (" + context + ")"));
  return true;
}

void MetadataManager::request_refresh(const std::string& reason) {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  if (shut_down_) return;
  pending_ = true;
  pending_reason_ = reason;
  if (started_ && !in_flight_ && now() >= not_before_)
    send_refresh();
  else
    schedule();
}

void MetadataManager::send_refresh() {
  in_flight_ = true;
  pending_ = false;
  new_topics_ = false;
  ++requests_sent_;
  last_attempt_ = now();
  proto::MetadataRequest req;
  if (all_topics_) {
    req.topics = std::nullopt;
  } else {
    req.topics.emplace();
    for (const auto& t : topics_) {
      proto::MetadataRequest::MetadataRequestTopic rt;
      rt.name = t;
      req.topics->push_back(std::move(rt));
    }
  }
  req.allow_auto_topic_creation = opts_.allow_auto_topic_creation;
  RequestOptions ro;
  ro.min_version = 1;  // v0 reads an empty topic list as "all topics"
  io::Lifetime::Weak alive = lifetime_.weak();
  bool all = all_topics_;
  send_request(
      pool_, kAnyNode, std::move(req),
      [this, alive, all](const Error& err, proto::MetadataResponse& resp) {
        if (!alive.alive() || shut_down_) return;
        if (all != all_topics_) pending_ = true;  // the interest changed meanwhile
        on_response(err, resp);
      },
      ro);
}

void MetadataManager::on_response(const Error& err, proto::MetadataResponse& resp) {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  in_flight_ = false;
  if (!err.ok()) {
    not_before_ = after_ms(backoff_.backoff_ms(consecutive_failures_++));
    pending_ = true;  // try again (another node) once the backoff passed
    check_waiters(true);
    schedule();
    return;
  }
  consecutive_failures_ = 0;
  ClusterMetadata::MergeStats st;
  current_ = ClusterMetadata::merge(current_.get(), resp, all_topics_, last_seen_, &st);
  cell_->set(current_);
  ++updates_;
  std::vector<ConnectionPool::BrokerAddress> brokers;
  for (const auto& [id, b] : current_->brokers()) brokers.push_back({id, io::HostPort{b.host, b.port}, b.rack});
  pool_.set_brokers(brokers);

  // Stale epochs or retriable errors: look again soon, backing off while
  // they persist (a subscribed topic that does not exist must not spin).
  if (st.stale_partitions > 0 || st.retriable_errors > 0) {
    pending_ = true;
    not_before_ = after_ms(backoff_.backoff_ms(consecutive_error_updates_++));
  } else {
    consecutive_error_updates_ = 0;
    // Topics added while this request was out are asked for at once.
    not_before_ = new_topics_ ? now() : after_ms(opts_.retry_backoff_ms);
  }
  check_waiters(false);
  for (const auto& w : waiters_)
    if (!w.topic.empty()) pending_ = true;  // someone still waits for a topic: keep asking
  Snapshot snap = current_;
  for (const auto& l : listeners_) l(snap);
  schedule();
}

Error MetadataManager::topic_failure(const Waiter& w, bool at_deadline) const {
  const TopicInfo* t = current_->topic(w.topic);
  int64_t waited = std::chrono::duration_cast<Millis>(now() - w.started).count();
  if (t && t->error != 0 && !core::retriable(t->error))
    return Error::from_code(t->error, "topic " + w.topic);
  if (!at_deadline) return Error();
  if (w.topic.empty()) return Error::from_code(errc::kTimedOut, "no metadata update within " + std::to_string(waited) + " ms");
  std::string msg = "topic " + w.topic + " not present in metadata after " + std::to_string(waited) + " ms";
  if (t && t->error == errc::kUnknownTopicOrPartition) return Error::from_code(t->error, msg);
  if (t && t->error != 0) msg += std::string(" (last error ") + proto::error_name(t->error) + ")";
  return Error::from_code(errc::kTimedOut, msg);
}

void MetadataManager::check_waiters(bool timed_out_only) {
  TimePoint t = now();
  std::vector<std::pair<Waiter, Error>> done;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    Error e;
    bool finished = false;
    if (!timed_out_only) {
      if (it->topic.empty()) {
        finished = current_->generation() > it->after_generation;
      } else {
        const TopicInfo* ti = current_->topic(it->topic);
        finished = ti && ti->usable();
        if (!finished) {
          e = topic_failure(*it, false);
          finished = !e.ok();
        }
      }
    }
    if (!finished && t >= it->deadline) {
      e = topic_failure(*it, true);
      finished = true;
    }
    if (finished) {
      done.emplace_back(std::move(*it), e);
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [w, e] : done) w.cb(e, current_);  // may add waiters
}

void MetadataManager::wait_for_topic(const std::string& topic, TimePoint deadline, WaitCallback cb) {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  if (shut_down_) {
    cb(Error::from_code(errc::kDestroyed, "client closing"), current_);
    return;
  }
  const TopicInfo* ti = current_->topic(topic);
  const bool added = topics_.insert(topic).second;
  if (ti && ti->usable()) {
    cb(Error(), current_);
    return;
  }
  Waiter w{topic, deadline, std::move(cb), current_->generation(), now()};
  if (ti && ti->error != 0 && !core::retriable(ti->error)) {
    w.cb(topic_failure(w, false), current_);
    return;
  }
  waiters_.push_back(std::move(w));
  if (added && !all_topics_)
    refresh_for_new_topics();
  else
    request_refresh("waiting for topic " + topic);
  schedule();
}

void MetadataManager::wait_for_update(TimePoint deadline, WaitCallback cb) {
  KFK_DCHECK_ON_LOOP(pool_.loop());
  if (shut_down_) {
    cb(Error::from_code(errc::kDestroyed, "client closing"), current_);
    return;
  }
  waiters_.push_back(Waiter{std::string(), deadline, std::move(cb), current_->generation(), now()});
  request_refresh("update requested");
  schedule();
}

void MetadataManager::schedule() {
  if (shut_down_) return;
  TimePoint t = kNever;
  if (started_ && !in_flight_) {
    if (pending_) t = std::max(now(), not_before_);
    if (updates_ > 0) t = std::min(t, add_ms(current_->updated_at(), opts_.metadata_max_age_ms));
  }
  for (const auto& w : waiters_) t = std::min(t, w.deadline);
  if (t != timer_.armed_at()) timer_.start_at(t);
}

void MetadataManager::on_timer() {
  check_waiters(true);
  TimePoint t = now();
  if (started_ && !in_flight_ && !shut_down_) {
    if (updates_ > 0 && t >= add_ms(current_->updated_at(), opts_.metadata_max_age_ms)) {
      pending_ = true;
      pending_reason_ = "metadata.max.age.ms";
    }
    if (pending_ && t >= not_before_) send_refresh();
  }
  schedule();
}

}  // namespace kfk::net
