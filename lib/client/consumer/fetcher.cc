// Runs on the network thread (the whole file).
#include "client/consumer/fetcher.h"

#include <algorithm>

#include "protocol/error_codes.h"
#include "protocol/list_offsets.h"

namespace kfk::consumer {

namespace {
constexpr int16_t kFetchMinTopicIdVersion = 13;

bool is_retriable_partition_error(int16_t code) {
  return Error::from_code(code).retriable() || net::is_metadata_error(code);
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

Fetcher::Fetcher(net::NetClient& nc, ConsumerState& state, FetcherOptions opts, FetchCommittedFn fetch_committed)
    : nc_(nc), state_(state), opts_(std::move(opts)), fetch_committed_(std::move(fetch_committed)) {}

Fetcher::~Fetcher() { *alive_ = false; }

void Fetcher::start() {
  timer_ = std::make_unique<net::Timer>(nc_.loop(), [this] { run(); });
  std::weak_ptr<bool> alive = alive_;
  nc_.metadata().add_update_listener([this, alive](const auto&) {
    if (auto a = alive.lock(); a && *a) trigger();
  });
}

void Fetcher::shutdown() {
  shut_down_ = true;
  *alive_ = false;
  timer_.reset();
}

void Fetcher::trigger() {
  if (run_posted_ || shut_down_) return;
  run_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  nc_.post([this, alive] {
    auto a = alive.lock();
    if (!a || !*a) return;
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
  if (shut_down_) return;
  net::TimePoint now = net::now();
  // Interest in the assigned topics keeps their metadata fresh.
  std::vector<std::string> topics;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    for (auto& [tp, ps] : state_.partitions)
      if (topics.empty() || topics.back() != tp.topic) topics.push_back(tp.topic);
  }
  std::vector<std::string> missing;
  for (auto& t : topics)
    if (nc_.metadata().topics().count(t) == 0) missing.push_back(t);
  if (!missing.empty()) nc_.metadata().add_topics(missing);
  resolve_positions(now);
  send_fetches(now);
}

void Fetcher::resolve_positions(net::TimePoint now) {
  std::vector<TopicPartition> committed;
  std::map<TopicPartition, int64_t> resets;
  net::TimePoint next = net::kNever;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
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
      if (ps.source == PositionSource::kCommitted)
        committed.push_back(tp);
      else
        resets[tp] = ps.source == PositionSource::kEarliest ? -2 : -1;
    }
  }
  schedule_timer(next);
  std::weak_ptr<bool> alive = alive_;
  if (!committed.empty()) {
    // Generations at request time: a seek meanwhile wins over the answer.
    fetch_committed_(committed, [this, alive, committed](const Error& err, CommittedOffsets& offsets) {
      auto a = alive.lock();
      if (!a || !*a) return;
      {
        std::lock_guard<std::mutex> lock(state_.mu);
        for (auto& tp : committed) {
          PartitionState* ps = state_.find(tp);
          if (ps == nullptr || !ps->offset_request_in_flight) continue;
          ps->offset_request_in_flight = false;
          if (ps->source != PositionSource::kCommitted) continue;  // seeked meanwhile
          if (!err.ok()) {
            if (err.fatal() || !err.retriable()) {
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
    std::map<TopicPartition, uint64_t> gens;
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      for (auto& [tp, ts] : resets) gens[tp] = state_.find(tp)->generation;
    }
    list_offsets(resets, net::after_ms(opts_.request_timeout_ms),
                 [this, alive, gens](const Error& err, ListOffsetsResult& res) {
                   auto a = alive.lock();
                   if (!a || !*a) return;
                   {
                     std::lock_guard<std::mutex> lock(state_.mu);
                     for (auto& [tp, gen] : gens) {
                       PartitionState* ps = state_.find(tp);
                       if (ps == nullptr || ps->generation != gen) continue;
                       ps->offset_request_in_flight = false;
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

void Fetcher::send_fetches(net::TimePoint now) {
  const auto& md = nc_.metadata().current();
  std::map<int32_t, std::vector<TopicPartition>> by_node;
  net::TimePoint next = net::kNever;
  bool need_metadata = false;
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    for (auto& [tp, ps] : state_.partitions) {
      if (ps.source != PositionSource::kKnown || ps.paused || ps.fetch_in_flight || ps.buffered || !ps.error.ok())
        continue;
      if (ps.not_before > now) {
        next = std::min(next, ps.not_before);
        continue;
      }
      int32_t leader = md->leader_of(tp.topic, tp.partition);
      if (leader < 0) {
        need_metadata = true;
        continue;
      }
      if (nodes_in_flight_.count(leader) != 0) continue;
      by_node[leader].push_back(tp);
    }
  }
  schedule_timer(next);
  if (need_metadata) nc_.metadata().request_refresh("consumer: partition without leader");
  for (auto& [node, parts] : by_node) send_fetch(node, std::move(parts));
}

void Fetcher::send_fetch(int32_t node, std::vector<TopicPartition> parts) {
  const auto& md = nc_.metadata().current();
  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = opts_.fetch_max_wait_ms;
  req.min_bytes = opts_.fetch_min_bytes;
  req.max_bytes = opts_.fetch_max_bytes;
  req.isolation_level = opts_.isolation_level;
  req.session_id = 0;
  req.session_epoch = -1;  // no fetch session: a full request every time
  req.rack_id = opts_.client_rack;
  bool all_ids = true;
  std::map<TopicPartition, std::pair<uint64_t, int64_t>> sent;  // generation, offset
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    for (auto& tp : parts) {
      PartitionState* ps = state_.find(tp);
      if (ps == nullptr) continue;
      if (req.topics.empty() || req.topics.back().topic != tp.topic) {
        proto::FetchRequest::FetchTopic ft;
        ft.topic = tp.topic;
        if (const net::TopicInfo* ti = md->topic(tp.topic)) ft.topic_id = ti->id;
        if (ft.topic_id == proto::Uuid()) all_ids = false;
        req.topics.push_back(std::move(ft));
      }
      proto::FetchRequest::FetchPartition fp;
      fp.partition = tp.partition;
      const net::PartitionInfo* pi = md->partition(tp.topic, tp.partition);
      fp.current_leader_epoch = pi != nullptr ? pi->leader_epoch : -1;
      fp.fetch_offset = ps->position;
      fp.last_fetched_epoch = ps->position_epoch.value_or(-1);
      fp.log_start_offset = -1;
      fp.partition_max_bytes = opts_.max_partition_fetch_bytes;
      req.topics.back().partitions.push_back(fp);
      ps->fetch_in_flight = true;
      sent[tp] = {ps->generation, ps->position};
      state_.fetch_requests++;
    }
  }
  if (sent.empty()) return;
  nodes_in_flight_.insert(node);
  net::RequestOptions ro;
  ro.timeout_ms = opts_.request_timeout_ms + opts_.fetch_max_wait_ms;
  // Fetch v13+ names topics by id only: without ids (Metadata < v10) stay below.
  if (!all_ids) ro.max_version = kFetchMinTopicIdVersion - 1;
  std::weak_ptr<bool> alive = alive_;
  nc_.send(
      node, std::move(req),
      [this, alive, node, sent = std::move(sent)](const Error& err, net::Reply<proto::FetchResponse>& reply) {
        auto a = alive.lock();
        if (!a || !*a) return;
        on_fetch_response(node, err, reply, sent);
      },
      ro);
}

void Fetcher::on_fetch_response(int32_t node, const Error& err, net::Reply<proto::FetchResponse>& reply,
                                const std::map<TopicPartition, std::pair<uint64_t, int64_t>>& sent) {
  nodes_in_flight_.erase(node);
  std::vector<TopicPartition> eofs;
  std::set<TopicPartition> answered;
  int16_t top_error = err.ok() ? reply.msg.error_code : 0;
  if (err.ok() && top_error == 0) {
    const auto& md = nc_.metadata().current();
    for (auto& topic : reply.msg.responses) {
      std::string name = topic.topic;
      if (reply.version >= kFetchMinTopicIdVersion) {
        const net::TopicInfo* ti = md->topic(topic.topic_id);
        if (ti == nullptr) continue;
        name = ti->name;
      }
      for (auto& pd : topic.partitions) {
        TopicPartition tp(name, pd.partition_index);
        auto it = sent.find(tp);
        if (it == sent.end()) continue;
        answered.insert(tp);
        handle_partition(tp, it->second.first, it->second.second, pd, reply.frame, eofs);
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(state_.mu);
    for (auto& [tp, gen_off] : sent) {
      PartitionState* ps = state_.find(tp);
      if (ps == nullptr) continue;
      ps->fetch_in_flight = false;
      if (answered.count(tp) == 0 && (!err.ok() || top_error != 0)) backoff(*ps, opts_.retry_backoff_ms);
    }
    if (!eofs.empty() || !state_.completed.empty()) state_.cv.notify_all();
  }
  if (!err.ok() && err.code() != errc::kDestroyed) nc_.metadata().request_refresh("consumer: fetch failed");
  trigger();
}

void Fetcher::handle_partition(const TopicPartition& tp, uint64_t generation, int64_t fetch_offset,
                               proto::FetchResponse::PartitionData& pd, const net::FramePtr& frame,
                               std::vector<TopicPartition>& eofs) {
  if (pd.current_leader.leader_epoch >= 0)
    nc_.metadata().update_last_seen_epoch(tp.topic, tp.partition, pd.current_leader.leader_epoch);
  std::unique_ptr<CompletedFetch> cf;
  if (pd.error_code == 0 && !pd.records.is_null() && pd.records.size() > 0 && !pd.records.is_file()) {
    cf = std::make_unique<CompletedFetch>();
    const char* why = nullptr;
    size_t partial = 0;
    if (!proto::split_batches({pd.records.data(), pd.records.size()}, cf->batches, &why, &partial)) {
      cf->batches.clear();
      std::lock_guard<std::mutex> lock(state_.mu);
      if (PartitionState* ps = state_.find(tp); ps != nullptr && ps->generation == generation) {
        ps->error = Error::from_code(errc::kCorruptMessage, "fetch of " + tp.to_string() + " at offset " +
                                                                std::to_string(fetch_offset) + ": " +
                                                                (why != nullptr ? why : "bad record batches"));
      }
      return;
    }
    // Batches entirely before the fetch offset (a compressed batch is
    // returned whole) are skipped while handing records out.
    if (cf->batches.empty()) cf.reset();
  }
  std::lock_guard<std::mutex> lock(state_.mu);
  PartitionState* ps = state_.find(tp);
  if (ps == nullptr || ps->generation != generation || ps->position != fetch_offset) return;  // stale
  if (pd.error_code != 0) {
    state_.fetch_errors++;
    int16_t code = pd.error_code;
    if (code == errc::kOffsetOutOfRange) {
      if (opts_.auto_offset_reset == core::AutoOffsetReset::kNone) {
        ps->error = Error::from_code(code, "fetch offset " + std::to_string(fetch_offset) + " of " + tp.to_string() +
                                               " is out of range and auto.offset.reset=none");
      } else {
        state_.seek(tp, *ps, -1, PositionSource::kPolicy);
      }
    } else if (net::is_metadata_error(code)) {
      nc_.metadata().handle_error(code, "fetch " + tp.to_string());
      backoff(*ps, opts_.retry_backoff_ms);
    } else if (is_retriable_partition_error(code)) {
      backoff(*ps, opts_.retry_backoff_ms);
    } else {
      ps->error = Error::from_code(code, "fetch " + tp.to_string());
    }
    return;
  }
  ps->high_watermark = pd.high_watermark;
  ps->last_stable_offset = pd.last_stable_offset;
  ps->log_start_offset = pd.log_start_offset;
  if (!cf) {
    int64_t end = opts_.isolation_level == 1 && pd.last_stable_offset >= 0 ? pd.last_stable_offset : pd.high_watermark;
    if (opts_.enable_partition_eof && !ps->eof_reported && fetch_offset >= end) {
      ps->eof_reported = true;
      eofs.push_back(tp);
      state_.eof_events.push_back(tp);
    }
    return;
  }
  cf->tp = tp;
  cf->topic = ps->topic;
  cf->generation = generation;
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
  ps->buffered = true;
  ps->eof_reported = false;
  state_.completed.push_back(std::move(cf));
}

// --- ListOffsets ---------------------------------------------------------------

struct ListOffsetsJob {
  std::map<TopicPartition, int64_t> pending;  // still to ask
  ListOffsetsResult result;
  net::TimePoint deadline;
  ListOffsetsCallback cb;
  int outstanding = 0;
  Error last_error;
  bool done = false;
  int attempts = 0;
};

void Fetcher::list_offsets(std::map<TopicPartition, int64_t> timestamps, net::TimePoint deadline,
                           ListOffsetsCallback cb) {
  auto job = std::make_shared<ListOffsetsJob>();
  job->pending = std::move(timestamps);
  job->deadline = deadline;
  job->cb = std::move(cb);
  std::vector<std::string> topics;
  for (auto& [tp, ts] : job->pending) topics.push_back(tp.topic);
  nc_.metadata().add_topics(topics);
  list_offsets_attempt(job);
}

void Fetcher::list_offsets_attempt(std::shared_ptr<ListOffsetsJob> job) {
  if (job->done) return;
  if (job->pending.empty()) {
    job->done = true;
    job->cb(Error(), job->result);
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  auto retry = [this, alive, job](const Error& why) {
    job->last_error = why;
    if (net::now() >= job->deadline) {
      job->done = true;
      Error e = job->last_error.ok() ? Error::from_code(errc::kTimedOut, "ListOffsets") : job->last_error;
      if (e.retriable()) e = Error(errc::kTimedOut, "ListOffsets timed out: " + e.to_string(), true);
      job->cb(e, job->result);
      return;
    }
    int64_t wait = std::min<int64_t>(opts_.retry_backoff_ms << std::min(job->attempts++, 4), 1000);
    auto t = std::make_shared<std::unique_ptr<net::Timer>>();
    *t = std::make_unique<net::Timer>(nc_.loop(), [this, alive, job, t]() mutable {
      auto keep = std::move(*t);  // destroyed after this callback (safe, see timer.h)
      auto a = alive.lock();
      if (!a || !*a) return;
      list_offsets_attempt(job);
    });
    (*t)->start(std::min(wait, std::max<int64_t>(net::ms_until(job->deadline), 1)));
  };
  const auto& md = nc_.metadata().current();
  std::map<int32_t, std::vector<std::pair<TopicPartition, int64_t>>> by_node;
  bool missing = false;
  for (auto& [tp, ts] : job->pending) {
    const net::TopicInfo* ti = md->topic(tp.topic);
    if (ti != nullptr && ti->error != 0 && !Error::from_code(ti->error).retriable()) {
      job->done = true;
      job->cb(Error::from_code(ti->error, tp.topic), job->result);
      return;
    }
    if (ti != nullptr && ti->usable() && ti->partition(tp.partition) == nullptr) {
      job->done = true;
      job->cb(Error::from_code(errc::kUnknownTopicOrPartition, tp.to_string()), job->result);
      return;
    }
    int32_t leader = md->leader_of(tp.topic, tp.partition);
    if (leader < 0) {
      missing = true;
      continue;
    }
    by_node[leader].emplace_back(tp, ts);
  }
  if (by_node.empty()) {
    nc_.metadata().request_refresh("consumer: ListOffsets without leader");
    retry(Error::from_code(errc::kLeaderNotAvailable, "ListOffsets"));
    return;
  }
  (void)missing;
  job->outstanding = static_cast<int>(by_node.size());
  auto any_failed = std::make_shared<Error>();
  for (auto& [node, parts] : by_node) {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    req.isolation_level = opts_.isolation_level;
    for (auto& [tp, ts] : parts) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        req.topics.emplace_back();
        req.topics.back().name = tp.topic;
      }
      proto::ListOffsetsRequest::ListOffsetsPartition p;
      p.partition_index = tp.partition;
      const net::PartitionInfo* pi = md->partition(tp.topic, tp.partition);
      p.current_leader_epoch = pi != nullptr ? pi->leader_epoch : -1;
      p.timestamp = ts;
      p.max_num_offsets = 1;
      req.topics.back().partitions.push_back(p);
    }
    req.timeout_ms = static_cast<int32_t>(opts_.request_timeout_ms);
    nc_.send(node, std::move(req),
             [this, alive, job, retry, any_failed](const Error& err, proto::ListOffsetsResponse& resp) {
               auto a = alive.lock();
               if (!a || !*a || job->done) return;
               if (!err.ok()) {
                 if (!err.retriable()) {
                   job->done = true;
                   job->cb(err, job->result);
                   return;
                 }
                 *any_failed = err;
               } else {
                 for (auto& t : resp.topics) {
                   for (auto& p : t.partitions) {
                     TopicPartition tp(t.name, p.partition_index);
                     if (job->pending.count(tp) == 0) continue;
                     if (p.error_code != 0) {
                       if (net::is_metadata_error(p.error_code) || Error::from_code(p.error_code).retriable()) {
                         nc_.metadata().handle_error(p.error_code, "ListOffsets " + tp.to_string());
                         *any_failed = Error::from_code(p.error_code, "ListOffsets " + tp.to_string());
                         continue;
                       }
                       job->done = true;
                       job->cb(Error::from_code(p.error_code, "ListOffsets " + tp.to_string()), job->result);
                       return;
                     }
                     OffsetAndTimestamp ot;
                     ot.offset = p.old_style_offsets.empty() ? p.offset : p.old_style_offsets.front();
                     ot.timestamp = p.timestamp;
                     if (p.leader_epoch >= 0) ot.leader_epoch = p.leader_epoch;
                     job->result[tp] = ot;
                     job->pending.erase(tp);
                   }
                 }
               }
               if (--job->outstanding > 0) return;
               if (job->pending.empty())
                 list_offsets_attempt(job);
               else
                 retry(any_failed->ok() ? Error::from_code(errc::kLeaderNotAvailable, "ListOffsets") : *any_failed);
             });
  }
}

}  // namespace kfk::consumer
