// Runs on the network thread (the whole file).
#include "client/consumer/fetcher.h"

#include <algorithm>

#include "client/consumer/offset_requests.h"
#include "client/core/classify.h"
#include "client/net/call.h"
#include "io/loop_thread.h"
#include "protocol/error_codes.h"
#include "protocol/list_offsets.h"

namespace kfk::consumer {

namespace {
constexpr int16_t kFetchMinTopicIdVersion = 13;
constexpr int16_t kSessionIdNotFound = proto::to_int(proto::ErrorCode::FETCH_SESSION_ID_NOT_FOUND);
constexpr int16_t kInvalidSessionEpoch = proto::to_int(proto::ErrorCode::INVALID_FETCH_SESSION_EPOCH);
constexpr int16_t kSessionTopicIdError = proto::to_int(proto::ErrorCode::FETCH_SESSION_TOPIC_ID_ERROR);

bool is_session_error(int16_t code) {
  return code == kSessionIdNotFound || code == kInvalidSessionEpoch || code == kSessionTopicIdError;
}
}  // namespace

FetcherOptions FetcherOptions::from(const core::ResolvedConfig& rc) {
  FetcherOptions o;
  o.fetch_min_bytes = rc.get_int("fetch.min.bytes");
  o.fetch_max_bytes = rc.get_int("fetch.max.bytes");
  o.fetch_max_wait_ms = rc.get_int("fetch.max.wait.ms");
  o.max_partition_fetch_bytes = rc.get_int("max.partition.fetch.bytes");
  o.isolation_level = static_cast<int8_t>(rc.isolation_level());
  o.client_rack = rc.get_string("client.rack");
  o.auto_offset_reset = rc.auto_offset_reset();
  o.enable_partition_eof = rc.get_bool("enable.partition.eof");
  o.has_group = !rc.get_string("group.id").empty();
  o.request_timeout_ms = rc.get_long("request.timeout.ms");
  o.retry_backoff_ms = rc.get_long("retry.backoff.ms");
  return o;
}

// --- FetchSessionHandler ----------------------------------------------------------

void FetchSessionHandler::reset(bool keep_id) {
  // Keeping the id makes the next full request (epoch 0) close the old
  // session on the broker while it opens a new one.
  if (!keep_id) id_ = 0;
  epoch_ = 0;
  parts_.clear();
}

void FetchSessionHandler::build(const std::vector<Want>& want, bool by_id, proto::FetchRequest& req) {
  if (epoch_ != 0 && by_id != by_id_) reset(true);  // topics named the other way: a new session
  full_ = epoch_ == 0;
  if (full_) by_id_ = by_id;
  req.session_id = id_;
  req.session_epoch = epoch_;
  pending_.clear();
  auto add = [&req](const Want& w) {
    if (req.topics.empty() || req.topics.back().topic != w.tp.topic) {
      proto::FetchRequest::FetchTopic ft;
      ft.topic = w.tp.topic;
      ft.topic_id = w.topic_id;
      req.topics.push_back(std::move(ft));
    }
    proto::FetchRequest::FetchPartition fp;
    fp.partition = w.tp.partition;
    fp.current_leader_epoch = w.current_leader_epoch;
    fp.fetch_offset = w.fetch_offset;
    fp.last_fetched_epoch = w.last_fetched_epoch;
    fp.log_start_offset = -1;
    fp.partition_max_bytes = w.max_bytes;
    req.topics.back().partitions.push_back(fp);
  };
  for (const Want& w : want) {
    pending_.emplace(w.tp, w);
    auto it = parts_.find(w.tp);
    if (full_ || it == parts_.end() || !it->second.same_state(w)) add(w);  // new or changed
  }
  if (full_) return;
  // What the session holds but this request does not fetch (buffered,
  // paused, moved to another leader): forgotten, so that the broker
  // neither waits on it nor sends its data.
  for (const auto& [tp, w] : parts_) {
    if (pending_.count(tp) != 0) continue;
    if (req.forgotten_topics_data.empty() || req.forgotten_topics_data.back().topic != tp.topic) {
      proto::FetchRequest::ForgottenTopic ft;
      ft.topic = tp.topic;
      ft.topic_id = w.topic_id;
      req.forgotten_topics_data.push_back(std::move(ft));
    }
    req.forgotten_topics_data.back().partitions.push_back(tp.partition);
  }
}

void FetchSessionHandler::on_response(int16_t error_code, int32_t session_id) {
  // As Java's FetchSessionHandler: an unknown session starts from scratch;
  // any other error closes the session and opens a new one.
  if (error_code == kSessionIdNotFound) return reset(false);
  if (error_code != 0) return reset(true);
  // No session: the broker has none to give (Fetch < v7, a full cache) or
  // closed this one.
  if (session_id == 0 || (!full_ && session_id != id_)) return reset(false);
  if (full_) {
    id_ = session_id;
    epoch_ = 1;
  } else {
    epoch_ = epoch_ >= INT32_MAX ? 1 : epoch_ + 1;
  }
  parts_ = std::move(pending_);
  pending_.clear();
}

void FetchSessionHandler::on_failure() { reset(true); }

// --- Fetcher -------------------------------------------------------------------------

Fetcher::Fetcher(net::NetClient& nc, ConsumerState& state, FetcherOptions opts, FetchCommittedFn fetch_committed)
    : nc_(nc), state_(state), opts_(std::move(opts)), fetch_committed_(std::move(fetch_committed)) {}

Fetcher::~Fetcher() { lifetime_.end(); }

void Fetcher::start() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] { run(); });
  io::Lifetime::Weak alive = lifetime_.weak();
  nc_.metadata().add_update_listener([this, alive](const auto&) {
    if (alive.alive()) trigger();
  });
}

void Fetcher::shutdown() {
  shut_down_ = true;
  lifetime_.end();
  timer_.reset();
  offset_jobs_.clear();  // their retries stop; answers in flight are dropped
}

void Fetcher::trigger() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  if (run_posted_ || shut_down_) return;
  run_posted_ = true;
  io::Lifetime::Weak alive = lifetime_.weak();
  nc_.post([this, alive] {
    if (!alive.alive()) return;
    run_posted_ = false;
    run();
  });
}

void Fetcher::schedule_timer(net::TimePoint when) {
  if (!timer_ || when == net::kNever) return;
  if (!timer_->active() || when < timer_->armed_at()) timer_->start_at(when);
}

void Fetcher::backoff(PartitionState& ps, int64_t ms) { ps.not_before = net::after_ms(ms); }

void Fetcher::run() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  if (shut_down_) return;
  net::TimePoint now = net::now();
  // Interest in the assigned topics keeps their metadata fresh.
  std::vector<std::string> topics;
  {
    MutexLock lock(state_.mu);
    for (auto& [tp, ps] : state_.partitions)
      if (topics.empty() || topics.back() != tp.topic) topics.push_back(tp.topic);
  }
  std::vector<std::string> missing;
  for (auto& t : topics)
    if (nc_.metadata().topics().count(t) == 0) missing.push_back(t);
  if (!missing.empty()) nc_.metadata().add_topics(missing);
  promote_held();
  resolve_positions(now);
  send_fetches(now);
}

// --- Prefetch ----------------------------------------------------------------------

int64_t Fetcher::fetch_position(const TopicPartition& tp, const PartitionState& ps) const {
  auto it = cursors_.find(tp);
  if (it != cursors_.end() && it->second.generation == ps.generation) {
    if (!it->second.held.empty()) return it->second.held.back()->next_offset;
    if (ps.buffered) return it->second.queued_next;
  }
  return ps.buffered ? -1 : ps.position;
}

void Fetcher::drop_held(std::map<TopicPartition, Cursor>::iterator it) {
  for (auto& cf : it->second.held) held_bytes_ -= cf->bytes;
  it->second.held.clear();
}

void Fetcher::deliver(const TopicPartition& tp, PartitionState& ps, std::unique_ptr<CompletedFetch> cf) {
  auto [it, inserted] = cursors_.try_emplace(tp);
  Cursor& c = it->second;
  if (inserted || c.generation != ps.generation) {
    drop_held(it);
    c.generation = ps.generation;
    c.queued_next = -1;
  }
  if (!ps.buffered && c.held.empty()) {
    c.queued_next = cf->next_offset;
    ps.buffered = true;
    state_.completed.push_back(std::move(cf));
    notify_ = true;
  } else {
    held_bytes_ += cf->bytes;
    c.held.push_back(std::move(cf));
  }
}

void Fetcher::promote_held() {
  MutexLock lock(state_.mu);
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    PartitionState* ps = state_.find(it->first);
    if (ps == nullptr || ps->generation != it->second.generation) {  // unassigned or seeked
      drop_held(it);
      it = cursors_.erase(it);
      continue;
    }
    Cursor& c = it->second;
    if (!ps->buffered && !c.held.empty()) {
      if (c.held.front()->fetch_offset == ps->position) {
        std::unique_ptr<CompletedFetch> cf = std::move(c.held.front());
        c.held.pop_front();
        held_bytes_ -= cf->bytes;
        c.queued_next = cf->next_offset;
        ps->buffered = true;
        state_.completed.push_back(std::move(cf));
        notify_ = true;
      } else {
        drop_held(it);  // the position is elsewhere (a batch failed): fetch again from there
      }
    }
    ++it;
  }
  if (notify_) state_.cv.notify_all();
  notify_ = false;
}

// --- Positions ------------------------------------------------------------------------

void Fetcher::resolve_positions(net::TimePoint now) {
  std::vector<TopicPartition> committed;
  std::map<TopicPartition, int64_t> resets;
  std::map<TopicPartition, uint64_t> gens;  // of the resets, at request time: a seek meanwhile wins
  net::TimePoint next = net::kNever;
  {
    MutexLock lock(state_.mu);
    for (auto& [tp, ps] : state_.partitions) {
      if (ps.source == PositionSource::kKnown || ps.offset_request_in_flight || !ps.error.ok()) continue;
      if (ps.not_before > now) {
        next = std::min(next, ps.not_before);
        continue;
      }
      if (ps.source == PositionSource::kCommitted && !opts_.has_group) ps.source = PositionSource::kPolicy;
      if (ps.source == PositionSource::kPolicy) {
        switch (opts_.auto_offset_reset) {
          case core::AutoOffsetReset::kEarliest: ps.source = PositionSource::kEarliest; break;
          case core::AutoOffsetReset::kLatest: ps.source = PositionSource::kLatest; break;
          case core::AutoOffsetReset::kNone:
            ps.error = Error::from_code(errc::kNoOffset, "no committed offset for " + tp.to_string() +
                                                             " and auto.offset.reset=none");
            state_.cv.notify_all();
            continue;
        }
      }
      ps.offset_request_in_flight = true;
      if (ps.source == PositionSource::kCommitted) {
        committed.push_back(tp);
      } else {
        resets[tp] = ps.source == PositionSource::kEarliest ? -2 : -1;
        gens[tp] = ps.generation;
      }
    }
  }
  schedule_timer(next);
  io::Lifetime::Weak alive = lifetime_.weak();
  if (!committed.empty()) {
    // Generations at request time: a seek meanwhile wins over the answer.
    fetch_committed_(committed, [this, alive, committed](const Error& err, CommittedOffsets& offsets) {
      if (!alive.alive()) return;
      {
        MutexLock lock(state_.mu);
        for (auto& tp : committed) {
          PartitionState* ps = state_.find(tp);
          if (ps == nullptr || !ps->offset_request_in_flight) continue;
          ps->offset_request_in_flight = false;
          if (ps->source != PositionSource::kCommitted) continue;  // seeked meanwhile
          if (!err.ok()) {
            // REBALANCE_IN_PROGRESS: the member's join outlasted the wait
            // (group_offsets.cc); ask again once it is through.
            if (err.fatal() || (!err.retriable() && err.code() != errc::kRebalanceInProgress)) {
              ps->error = err;
              state_.cv.notify_all();
            } else {
              backoff(*ps, opts_.retry_backoff_ms);
            }
            continue;
          }
          auto it = offsets.find(tp);
          if (it != offsets.end() && it->second.offset >= 0) {
            ps->position = it->second.offset;
            ps->position_epoch = it->second.leader_epoch;
            ps->source = PositionSource::kKnown;
          } else {
            ps->source = PositionSource::kPolicy;
          }
        }
      }
      trigger();
    });
  }
  if (!resets.empty()) {
    list_offsets(resets, net::after_ms(opts_.request_timeout_ms),
                 [this, alive, gens = std::move(gens)](const Error& err, ListOffsetsResult& res) {
                   if (!alive.alive()) return;
                   {
                     MutexLock lock(state_.mu);
                     for (auto& [tp, gen] : gens) {
                       PartitionState* ps = state_.find(tp);
                       if (ps == nullptr) continue;
                       // Cleared whatever the answer: after a seek meanwhile
                       // (seek_to_beginning()/end()) the next pass asks again.
                       ps->offset_request_in_flight = false;
                       if (ps->generation != gen) continue;
                       auto it = res.find(tp);
                       if (!err.ok() || it == res.end() || it->second.offset < 0) {
                         if (!err.ok() && !err.retriable()) {
                           ps->error = err;
                           state_.cv.notify_all();
                         } else {
                           backoff(*ps, opts_.retry_backoff_ms);
                         }
                         continue;
                       }
                       ps->position = it->second.offset;
                       ps->position_epoch.reset();
                       ps->source = PositionSource::kKnown;
                     }
                   }
                   trigger();
                 });
  }
}

// --- Fetch ---------------------------------------------------------------------------

void Fetcher::send_fetches(net::TimePoint now) {
  const auto& md = nc_.metadata().current();
  struct NodeFetch {
    std::vector<FetchSessionHandler::Want> want;
    SentMap sent;
    bool all_ids = true;
  };
  std::map<int32_t, NodeFetch> by_node;
  net::TimePoint next = net::kNever;
  bool need_metadata = false;
  {
    MutexLock lock(state_.mu);
    for (auto& [tp, ps] : state_.partitions) {
      if (ps.source != PositionSource::kKnown || ps.paused || ps.fetch_in_flight || !ps.error.ok()) continue;
      if (ps.not_before > now) {
        next = std::min(next, ps.not_before);
        continue;
      }
      int64_t offset = fetch_position(tp, ps);
      if (offset < 0) continue;
      if (ps.buffered) {  // fetching ahead: within the prefetch bound only
        auto c = cursors_.find(tp);
        size_t held = c == cursors_.end() ? 0 : c->second.held.size();
        if (held >= kMaxHeldPerPartition || held_bytes_ >= opts_.fetch_max_bytes) continue;
      }
      int32_t leader = md->leader_of(tp.topic, tp.partition);
      if (leader < 0) {
        need_metadata = true;
        continue;
      }
      if (nodes_in_flight_.count(leader) != 0) continue;
      NodeFetch& nf = by_node[leader];
      FetchSessionHandler::Want w;
      w.tp = tp;
      if (const net::TopicInfo* ti = md->topic(tp.topic)) w.topic_id = ti->id;
      if (w.topic_id == proto::Uuid()) nf.all_ids = false;
      const net::PartitionInfo* pi = md->partition(tp.topic, tp.partition);
      w.current_leader_epoch = pi != nullptr ? pi->leader_epoch : -1;
      w.fetch_offset = offset;
      // As the Java consumer: no last fetched epoch (that is for followers;
      // a broker would answer a divergence instead of records).
      w.last_fetched_epoch = -1;
      w.max_bytes = opts_.max_partition_fetch_bytes;
      nf.want.push_back(std::move(w));
      nf.sent[tp] = Sent{ps.generation, offset};
      ps.fetch_in_flight = true;
    }
    state_.fetch_requests += by_node.size();
  }
  schedule_timer(next);
  if (need_metadata) nc_.metadata().request_refresh("consumer: partition without leader");
  for (auto& [node, nf] : by_node) {
    nodes_in_flight_.insert(node);
    proto::FetchRequest req;
    req.replica_id = -1;
    req.max_wait_ms = opts_.fetch_max_wait_ms;
    req.min_bytes = opts_.fetch_min_bytes;
    req.max_bytes = opts_.fetch_max_bytes;
    req.isolation_level = opts_.isolation_level;
    req.rack_id = opts_.client_rack;
    sessions_[node].build(nf.want, nf.all_ids, req);
    net::RequestOptions ro;
    ro.timeout_ms = opts_.request_timeout_ms + opts_.fetch_max_wait_ms;
    // Fetch v13+ names topics by id only: without ids (Metadata < v10) stay below.
    if (!nf.all_ids) ro.max_version = kFetchMinTopicIdVersion - 1;
    io::Lifetime::Weak alive = lifetime_.weak();
    nc_.send(
        node, std::move(req),
        [this, alive, node = node, sent = std::move(nf.sent)](const Error& err, net::Reply<proto::FetchResponse>& reply) {
          if (!alive.alive()) return;
          on_fetch_response(node, err, reply, sent);
        },
        ro);
  }
}

void Fetcher::on_fetch_response(int32_t node, const Error& err, net::Reply<proto::FetchResponse>& reply,
                                const SentMap& sent) {
  nodes_in_flight_.erase(node);
  FetchSessionHandler& session = sessions_[node];
  const bool incremental = !session.full_in_flight();
  int16_t top_error = err.ok() ? reply.msg.error_code : 0;
  if (err.ok())
    session.on_response(top_error, reply.msg.session_id);
  else
    session.on_failure();
  // Split the record batches before taking the lock (poll() waits on it).
  struct Answer {
    const TopicPartition* tp;
    const Sent* sent;
    proto::FetchResponse::PartitionData* pd;
    std::unique_ptr<CompletedFetch> cf;
    const char* corrupt = nullptr;
  };
  std::vector<Answer> answers;
  if (err.ok() && top_error == 0) {
    const auto& md = nc_.metadata().current();
    for (auto& topic : reply.msg.responses) {
      const std::string* name = &topic.topic;
      if (reply.version >= kFetchMinTopicIdVersion) {
        const net::TopicInfo* ti = md->topic(topic.topic_id);
        if (ti == nullptr) continue;
        name = &ti->name;
      }
      for (auto& pd : topic.partitions) {
        auto it = sent.find(TopicPartition(*name, pd.partition_index));
        if (it == sent.end()) continue;
        Answer a{&it->first, &it->second, &pd, nullptr, nullptr};
        if (pd.error_code == 0 && !pd.records.is_null() && pd.records.size() > 0) {
          a.cf = std::make_unique<CompletedFetch>();
          const char* why = nullptr;
          size_t partial = 0;
          if (!proto::split_batches({pd.records.data(), pd.records.size()}, a.cf->batches, &why, &partial)) {
            a.corrupt = why != nullptr ? why : "bad record batches";
            a.cf.reset();
          } else if (a.cf->batches.empty()) {
            a.cf.reset();  // only a partial batch: nothing yet
          }
        }
        answers.push_back(std::move(a));
      }
    }
  }
  {
    MutexLock lock(state_.mu);
    std::set<TopicPartition> answered;
    for (auto& a : answers) {
      answered.insert(*a.tp);
      handle_partition(*a.tp, *a.sent, *a.pd, std::move(a.cf), a.corrupt, reply.frame);
    }
    for (auto& [tp, s] : sent) {
      PartitionState* ps = state_.find(tp);
      if (ps == nullptr) continue;
      ps->fetch_in_flight = false;
      if (answered.count(tp) != 0) continue;
      if (!err.ok() || (top_error != 0 && !is_session_error(top_error))) {
        backoff(*ps, opts_.retry_backoff_ms);
      } else if (top_error == 0 && incremental && ps->generation == s.generation &&
                 fetch_position(tp, *ps) == s.offset) {
        // Left out of an incremental response: nothing new, the high
        // watermark as last reported.
        handle_no_data(tp, *ps, s.offset);
      }
    }
    if (notify_) state_.cv.notify_all();
    notify_ = false;
  }
  promote_held();
  if (!err.ok() && err.code() != errc::kDestroyed) nc_.metadata().request_refresh("consumer: fetch failed");
  trigger();
}

void Fetcher::handle_partition(const TopicPartition& tp, const Sent& sent, proto::FetchResponse::PartitionData& pd,
                               std::unique_ptr<CompletedFetch> cf, const char* corrupt, const net::FramePtr& frame) {
  if (pd.current_leader.leader_epoch >= 0)
    nc_.metadata().update_last_seen_epoch(tp.topic, tp.partition, pd.current_leader.leader_epoch);
  PartitionState* ps = state_.find(tp);
  if (ps == nullptr) return;
  if (pd.error_code == 0) {
    // News whatever the fetch offset: an incremental session does not
    // repeat an unchanged high watermark.
    ps->high_watermark = pd.high_watermark;
    ps->last_stable_offset = pd.last_stable_offset;
    ps->log_start_offset = pd.log_start_offset;
  }
  if (ps->generation != sent.generation || fetch_position(tp, *ps) != sent.offset) return;  // stale
  const int64_t fetch_offset = sent.offset;
  if (corrupt != nullptr) {
    ps->error = Error::from_code(errc::kCorruptMessage, "fetch of " + tp.to_string() + " at offset " +
                                                            std::to_string(fetch_offset) + ": " + corrupt);
    notify_ = true;
    return;
  }
  if (pd.error_code != 0) {
    state_.fetch_errors++;
    int16_t code = pd.error_code;
    if (code == errc::kOffsetOutOfRange) {
      if (opts_.auto_offset_reset == core::AutoOffsetReset::kNone) {
        ps->error = Error::from_code(code, "fetch offset " + std::to_string(fetch_offset) + " of " + tp.to_string() +
                                               " is out of range and auto.offset.reset=none");
        notify_ = true;
      } else {
        state_.seek(tp, *ps, -1, PositionSource::kPolicy);
      }
    } else if (core::refreshes_metadata(code)) {
      nc_.metadata().handle_error(code, "fetch " + tp.to_string());
      backoff(*ps, opts_.retry_backoff_ms);
    } else if (core::retriable(code)) {
      backoff(*ps, opts_.retry_backoff_ms);
    } else {
      ps->error = Error::from_code(code, "fetch " + tp.to_string());
      notify_ = true;
    }
    return;
  }
  if (!cf) {
    handle_no_data(tp, *ps, fetch_offset);
    return;
  }
  cf->tp = tp;
  cf->topic = ps->topic;
  cf->generation = sent.generation;
  cf->fetch_offset = fetch_offset;
  cf->frame = frame;
  cf->high_watermark = pd.high_watermark;
  cf->last_stable_offset = pd.last_stable_offset;
  cf->log_start_offset = pd.log_start_offset;
  cf->next_offset = std::max(fetch_offset, cf->batches.back().header.last_offset() + 1);
  if (opts_.isolation_level == 1 && pd.aborted_transactions) {
    cf->aborted = std::move(*pd.aborted_transactions);
    std::sort(cf->aborted.begin(), cf->aborted.end(),
              [](const auto& a, const auto& b) { return a.first_offset < b.first_offset; });
  }
  for (auto& b : cf->batches) cf->bytes += static_cast<int64_t>(b.bytes.size());
  state_.bytes_fetched += static_cast<uint64_t>(cf->bytes);
  int32_t last_epoch = cf->batches.back().header.partition_leader_epoch;
  if (last_epoch >= 0) nc_.metadata().update_last_seen_epoch(tp.topic, tp.partition, last_epoch);
  const int64_t next = cf->next_offset;
  ps->eof_reported = false;
  deliver(tp, *ps, std::move(cf));
  // The records reach the end: the end-of-partition event follows them
  // at once, not after another (long-polling) fetch.
  handle_no_data(tp, *ps, next);
}

// `offset` is where the partition's data ends (nothing was fetched there):
// reports the end of the partition when that is the end of the log.
void Fetcher::handle_no_data(const TopicPartition& tp, PartitionState& ps, int64_t offset) {
  if (!opts_.enable_partition_eof || ps.eof_reported) return;
  int64_t end = opts_.isolation_level == 1 && ps.last_stable_offset >= 0 ? ps.last_stable_offset : ps.high_watermark;
  if (end < 0 || offset < end) return;
  ps.eof_reported = true;
  auto eof = std::make_unique<CompletedFetch>();  // no batches: the end-of-partition marker
  eof->tp = tp;
  eof->topic = ps.topic;
  eof->generation = ps.generation;
  eof->fetch_offset = offset;
  eof->next_offset = offset;
  eof->high_watermark = ps.high_watermark;
  eof->last_stable_offset = ps.last_stable_offset;
  eof->log_start_offset = ps.log_start_offset;
  deliver(tp, ps, std::move(eof));
}

// --- ListOffsets ---------------------------------------------------------------

// One list_offsets() call: attempts (one request per leader) through a
// net::Retrier until every partition has its offset, one fails for good, or
// the deadline passes. Owned by Fetcher::offset_jobs_.
struct ListOffsetsJob : std::enable_shared_from_this<ListOffsetsJob> {
  ListOffsetsJob(net::NetClient& nc, net::TimePoint deadline) : retrier(nc, "ListOffsets", deadline) {}
  std::map<TopicPartition, int64_t> pending;  // still to ask
  ListOffsetsResult result;
  ListOffsetsCallback cb;
  int outstanding = 0;  // requests of this attempt in flight
  Error retry_with;     // this attempt's retriable failure
  bool done = false;
  net::Retrier retrier;
};

void Fetcher::list_offsets(std::map<TopicPartition, int64_t> timestamps, net::TimePoint deadline,
                           ListOffsetsCallback cb) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  auto job = std::make_shared<ListOffsetsJob>(nc_, deadline);
  job->pending = std::move(timestamps);
  job->cb = std::move(cb);
  std::vector<std::string> topics;
  for (auto& [tp, ts] : job->pending) topics.push_back(tp.topic);
  nc_.metadata().add_topics(topics);
  offset_jobs_.insert(job);
  ListOffsetsJob* j = job.get();
  j->retrier.start([this, j] { list_offsets_attempt(*j); },
                   [this, j](const Error& e) { finish_list_offsets(*j, e); });
}

void Fetcher::finish_list_offsets(ListOffsetsJob& job, const Error& err) {
  if (job.done) return;
  job.done = true;
  job.retrier.stop();
  auto keep = job.shared_from_this();  // until the callback returned
  offset_jobs_.erase(keep);
  keep->cb(err, keep->result);
}

void Fetcher::list_offsets_attempt(ListOffsetsJob& job) {
  if (job.pending.empty()) return finish_list_offsets(job, Error());
  const auto& md = nc_.metadata().current();
  std::map<int32_t, std::vector<std::pair<TopicPartition, int64_t>>> by_node;
  for (auto& [tp, ts] : job.pending) {
    const net::TopicInfo* ti = md->topic(tp.topic);
    if (ti != nullptr && ti->error != 0 && !core::retriable(ti->error))
      return finish_list_offsets(job, Error::from_code(ti->error, tp.topic));
    if (ti != nullptr && ti->usable() && ti->partition(tp.partition) == nullptr)
      return finish_list_offsets(job, Error::from_code(errc::kUnknownTopicOrPartition, tp.to_string()));
    int32_t leader = md->leader_of(tp.topic, tp.partition);
    if (leader >= 0) by_node[leader].emplace_back(tp, ts);
  }
  if (by_node.empty())
    return job.retrier.retry(Error::from_code(errc::kLeaderNotAvailable, "ListOffsets"), net::Verdict::kRefreshMetadata);
  job.outstanding = static_cast<int>(by_node.size());
  job.retry_with = Error();
  io::Lifetime::Weak alive = lifetime_.weak();
  auto self = job.shared_from_this();
  for (auto& [node, parts] : by_node) {
    proto::ListOffsetsRequest req = list_offsets_request(parts, opts_.isolation_level,
                                                         static_cast<int32_t>(opts_.request_timeout_ms), md.get());
    nc_.send(
        node, std::move(req),
        [this, alive, self](const Error& err, proto::ListOffsetsResponse& resp) {
          if (!alive.alive() || self->done) return;
          on_list_offsets_response(*self, err, resp);
        },
        self->retrier.request_options());
  }
}

void Fetcher::on_list_offsets_response(ListOffsetsJob& job, const Error& err, proto::ListOffsetsResponse& resp) {
  if (!err.ok()) {
    if (!err.retriable()) return finish_list_offsets(job, err);
    job.retry_with = err;
  }
  for (auto& t : resp.topics) {
    for (auto& p : t.partitions) {
      TopicPartition tp(t.name, p.partition_index);
      if (job.pending.count(tp) == 0) continue;
      if (p.error_code != 0) {
        Error e = Error::from_code(p.error_code, "ListOffsets " + tp.to_string());
        if (!core::retriable(p.error_code)) return finish_list_offsets(job, e);
        nc_.metadata().handle_error(p.error_code, "ListOffsets " + tp.to_string());
        job.retry_with = e;
        continue;
      }
      OffsetAndTimestamp ot;
      ot.offset = p.old_style_offsets.empty() ? p.offset : p.old_style_offsets.front();
      ot.timestamp = p.timestamp;
      if (p.leader_epoch >= 0) ot.leader_epoch = p.leader_epoch;
      job.result[tp] = ot;
      job.pending.erase(tp);
    }
  }
  if (--job.outstanding > 0) return;
  if (job.pending.empty()) return finish_list_offsets(job, Error());
  // Leaders moved or were not known: route again with fresh metadata.
  Error why = job.retry_with.ok() ? Error::from_code(errc::kLeaderNotAvailable, "ListOffsets") : job.retry_with;
  job.retrier.retry(why, net::classify_code(why.code(), net::Route::Kind::kLeader));
}

}  // namespace kfk::consumer
