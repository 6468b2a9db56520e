// Fetch (key 1), v0-v17: sessions (fetch_session.h), reading
// (fetch_read.h) and long polling. v13+ names topics by id.
//
// Long poll: when fewer than min_bytes are available (and nothing failed),
// the response is deferred for up to max_wait_ms; a Produce to any of the
// partitions that brings enough bytes completes it early (fetch_waiters.h).
// The data is read again at completion. During shutdown nothing waits.
//
// Sessions are updated when the request arrives (partitions added or
// forgotten, epoch advanced), as Kafka does; the response decides which
// partitions an incremental fetch carries and updates the cached state.
#include <algorithm>
#include <memory>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/fetch_read.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
using proto::FetchRequest;
using proto::FetchResponse;

enum class SessionKind { kSessionless, kNewSession, kIncremental };

struct FetchState {
  FetchParams params;
  int32_t min_bytes = 0;
  int32_t max_wait_ms = 0;
  SessionKind kind = SessionKind::kSessionless;
  int32_t session_id = 0;
  int32_t session_epoch = 0;  // incremental: the session's epoch after this request
  std::vector<FetchTarget> targets;
};

std::string topic_name_for(Broker& b, const proto::Uuid& id) {
  const TopicImage* t = b.metadata().topic_by_id(id);
  return t ? t->name : std::string();
}

CachedPartition to_cached(const FetchTarget& t) {
  CachedPartition c;
  static_cast<FetchTarget&>(c) = t;
  return c;
}

// KIP-227's request-time session handling. Returns a top-level error code.
ErrorCode build_context(Broker& b, const FetchRequest& req, int16_t v, FetchState* st) {
  const bool by_id = v >= 13;
  std::vector<FetchTarget> requested;
  for (const auto& topic : req.topics) {
    std::string name = by_id ? topic_name_for(b, topic.topic_id) : topic.topic;
    for (const auto& p : topic.partitions) {
      FetchTarget t;
      t.topic = name;
      t.topic_id = by_id ? topic.topic_id : proto::Uuid{};
      t.partition = p.partition;
      t.fetch_offset = p.fetch_offset;
      t.max_bytes = p.partition_max_bytes;
      t.current_leader_epoch = p.current_leader_epoch;
      requested.push_back(std::move(t));
    }
  }
  if (v < 7) {
    st->targets = std::move(requested);
    return ErrorCode::NONE;
  }
  FetchSessionCache& cache = b.fetch_sessions();
  const int32_t epoch = req.session_epoch;
  if (epoch == -1 || epoch == 0) {
    // A full fetch: closes the named session; epoch 0 opens a new one.
    if (req.session_id != 0) cache.remove(req.session_id);
    st->kind = epoch == 0 ? SessionKind::kNewSession : SessionKind::kSessionless;
    st->targets = std::move(requested);
    return ErrorCode::NONE;
  }
  FetchSession* s = cache.find(req.session_id);
  if (s == nullptr) return ErrorCode::FETCH_SESSION_ID_NOT_FOUND;
  if (s->epoch != epoch) return ErrorCode::INVALID_FETCH_SESSION_EPOCH;
  if (s->uses_topic_ids != by_id) return ErrorCode::FETCH_SESSION_TOPIC_ID_ERROR;
  std::vector<CachedPartition> added, forgotten;
  for (const auto& t : requested) added.push_back(to_cached(t));
  for (const auto& f : req.forgotten_topics_data)
    for (int32_t p : f.partitions) {
      CachedPartition c;
      c.topic = f.topic;
      c.topic_id = by_id ? f.topic_id : proto::Uuid{};
      c.partition = p;
      forgotten.push_back(std::move(c));
    }
  s->update(added, forgotten);
  s->epoch = next_fetch_epoch(epoch);
  cache.touch(s);
  st->kind = SessionKind::kIncremental;
  st->session_id = s->id;
  st->session_epoch = s->epoch;
  for (const auto& c : s->partitions) {
    FetchTarget t = c;
    if (by_id) t.topic = topic_name_for(b, c.topic_id);
    st->targets.push_back(std::move(t));
  }
  return ErrorCode::NONE;
}

void encode_error(int16_t v, ErrorCode code, proto::Writer& w) {
  FetchResponse resp;
  resp.error_code = proto::to_int(code);
  resp.session_id = 0;
  resp.encode(w, v);
}

// Builds and encodes the response from freshly read data, updating the
// session (new session: created here, as Kafka does at response time).
void respond(Broker& b, const FetchState& st, std::vector<PartitionFetch>&& data, proto::Writer& w) {
  const int16_t v = st.params.version;
  FetchResponse resp;
  switch (st.kind) {
    case SessionKind::kSessionless:
      for (size_t i = 0; i < st.targets.size(); ++i) add_fetch_partition(resp, st.params, st.targets[i], std::move(data[i]));
      break;
    case SessionKind::kNewSession: {
      std::vector<CachedPartition> parts;
      for (size_t i = 0; i < st.targets.size(); ++i) {
        CachedPartition c = to_cached(st.targets[i]);
        c.high_watermark = data[i].error != 0 ? -1 : data[i].high_watermark;
        c.last_stable_offset = data[i].last_stable_offset;
        c.log_start_offset = data[i].log_start_offset;
        parts.push_back(std::move(c));
      }
      FetchSession* s = b.fetch_sessions().create(v >= 13, std::move(parts));
      resp.session_id = s ? s->id : 0;
      for (size_t i = 0; i < st.targets.size(); ++i) add_fetch_partition(resp, st.params, st.targets[i], std::move(data[i]));
      break;
    }
    case SessionKind::kIncremental: {
      FetchSession* s = b.fetch_sessions().find(st.session_id);
      if (s == nullptr) return encode_error(v, ErrorCode::FETCH_SESSION_ID_NOT_FOUND, w);
      if (s->epoch != st.session_epoch) return encode_error(v, ErrorCode::INVALID_FETCH_SESSION_EPOCH, w);
      resp.session_id = s->id;
      for (size_t i = 0; i < st.targets.size(); ++i) {
        CachedPartition probe = to_cached(st.targets[i]);
        auto it = std::find_if(s->partitions.begin(), s->partitions.end(),
                               [&](const CachedPartition& c) { return c.same_partition(probe); });
        if (it == s->partitions.end()) continue;  // forgotten meanwhile
        PartitionFetch& d = data[i];
        bool must = d.records.size() > 0 || d.error != 0 || d.high_watermark != it->high_watermark ||
                    d.last_stable_offset != it->last_stable_offset || d.log_start_offset != it->log_start_offset;
        if (!must) continue;
        // Errors reset the cached high watermark: the partition is sent
        // again once the error clears.
        it->high_watermark = d.error != 0 ? -1 : d.high_watermark;
        it->last_stable_offset = d.last_stable_offset;
        it->log_start_offset = d.log_start_offset;
        add_fetch_partition(resp, st.params, st.targets[i], std::move(d));
      }
      break;
    }
  }
  resp.encode(w, v);
}

}  // namespace

HandlerResult handle_fetch(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  FetchRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  auto st = std::make_shared<FetchState>();
  st->params.version = v;
  st->params.max_bytes = req.max_bytes;
  st->params.isolation_level = req.isolation_level;
  st->params.from_follower = (v >= 15 ? req.replica_state.replica_id : req.replica_id) >= 0;
  st->min_bytes = req.min_bytes;
  st->max_wait_ms = req.max_wait_ms;
  if (ErrorCode e = build_context(b, req, v, st.get()); e != ErrorCode::NONE) {
    encode_error(v, e, response);
    return HandlerResult::kRespond;
  }

  size_t bytes = 0;
  bool any_error = false;
  auto data = read_fetch_targets(b, st->params, st->targets, &bytes, &any_error);
  if (st->max_wait_ms <= 0 || st->targets.empty() || static_cast<int64_t>(bytes) >= st->min_bytes || any_error ||
      b.shutting_down()) {
    respond(b, *st, std::move(data), response);
    return HandlerResult::kRespond;
  }
  data.clear();  // read again at completion

  std::vector<TopicPartition> keys;
  for (const auto& t : st->targets)
    if (!t.topic.empty()) keys.emplace_back(t.topic, t.partition);
  std::shared_ptr<DeferredResponse> deferred = ctx.defer();
  Broker* bp = &b;
  // Runs on the loop thread, once.
  b.fetch_waiters().add(keys, static_cast<int64_t>(bytes), st->min_bytes, st->max_wait_ms, [bp, st, deferred] {
    if (!deferred->connection_open()) return;
    size_t n = 0;
    bool err = false;
    respond(*bp, *st, read_fetch_targets(*bp, st->params, st->targets, &n, &err), deferred->body());
    deferred->complete();
  });
  return HandlerResult::kDeferred;
}

}  // namespace kfk::broker
