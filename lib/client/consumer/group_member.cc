// Runs on the network thread (the whole file).
#include "client/consumer/group_member.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "client/core/classify.h"
#include "io/loop_thread.h"
#include "protocol/consumer_protocol.h"

namespace kfk::consumer {
namespace {
constexpr int16_t kConsumerProtocolVersion = 3;

template <class Msg>
std::vector<uint8_t> encode_versioned(const Msg& m, int16_t version) {
  proto::Writer w;
  w.i16(version);
  m.encode(w, version);
  return w.flatten();
}

template <class Msg>
bool decode_versioned(const std::vector<uint8_t>& bytes, Msg& m) {
  if (bytes.size() < 2) return false;
  proto::Reader r(bytes.data(), bytes.size());
  int16_t v = r.i16();
  if (v < 0) return false;
  // Newer versions only add fields at the end: read what we know.
  m.decode(r, std::min<int16_t>(v, Msg::kMaxVersion));
  return r.ok();
}

std::vector<TopicPartition> sorted(std::set<TopicPartition> s) { return {s.begin(), s.end()}; }
}  // namespace

const char* const kCommitFailedMessage =
    "Commit cannot be completed since the group has already rebalanced and assigned the partitions to another "
    "member. This means that the time between subsequent calls to poll() was longer than the configured "
    "max.poll.interval.ms, which typically implies that the poll loop is spending too much time message "
    "processing. You can address this either by increasing max.poll.interval.ms or by reducing the maximum size "
    "of batches returned in poll() with max.poll.records.";

GroupOptions GroupOptions::from(const core::ResolvedConfig& rc) {
  GroupOptions o;
  o.group_id = rc.get_string("group.id");
  if (!rc.get_string("group.instance.id").empty()) o.group_instance_id = rc.get_string("group.instance.id");
  o.session_timeout_ms = rc.get_int("session.timeout.ms");
  o.max_poll_interval_ms = rc.get_long("max.poll.interval.ms");
  o.rebalance_timeout_ms = static_cast<int32_t>(std::min<int64_t>(o.max_poll_interval_ms, INT32_MAX));
  o.heartbeat_interval_ms = rc.get_long("heartbeat.interval.ms");
  o.retry_backoff_ms = rc.get_long("retry.backoff.ms");
  o.request_timeout_ms = rc.get_long("request.timeout.ms");
  o.client_rack = rc.get_string("client.rack");
  o.exclude_internal_topics = rc.get_bool("exclude.internal.topics");
  return o;
}

GroupMember::GroupMember(net::NetClient& nc, ConsumerState& state, GroupOptions opts,
                                   std::vector<std::shared_ptr<PartitionAssignor>> assignors, GroupLogFn log)
    : nc_(nc), state_(state), opts_(std::move(opts)), assignors_(std::move(assignors)), log_(std::move(log)) {}

GroupMember::~GroupMember() { lifetime_.end(); }

void GroupMember::start() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  heartbeat_timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] { send_heartbeat(); });
  retry_timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] { ensure_active(); });
  poll_timer_ = std::make_unique<io::Timer>(nc_.loop(), [this] { check_poll_interval(); });
  last_poll_ = net::now();
  io::Lifetime::Weak alive = lifetime_.weak();
  nc_.metadata().add_update_listener([this, alive](const net::MetadataManager::Snapshot& md) {
    if (alive.alive()) on_metadata(md);
  });
}

void GroupMember::shutdown() {
  shut_down_ = true;
  lifetime_.end();
  heartbeat_timer_.reset();
  retry_timer_.reset();
  poll_timer_.reset();
  auto waiters = std::move(coordinator_waiters_);
  for (auto& w : waiters) w(Error::from_code(errc::kDestroyed, "consumer closed"), -1);
}

bool GroupMember::cooperative() const {
  if (assignors_.empty()) return false;
  for (auto& a : assignors_) {
    auto p = a->supported_protocols();
    if (std::find(p.begin(), p.end(), RebalanceProtocol::kCooperative) == p.end()) return false;
  }
  return true;
}

PartitionAssignor* GroupMember::assignor_named(const std::string& name) const {
  for (auto& a : assignors_)
    if (a->name() == name) return a.get();
  return nullptr;
}

// --- Subscription -------------------------------------------------------------

void GroupMember::subscribe(std::set<std::string> topics) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  pattern_.reset();
  bool changed = topics != subscribed_;
  subscribed_ = std::move(topics);
  active_ = !subscribed_.empty();
  nc_.metadata().add_topics(std::vector<std::string>(subscribed_.begin(), subscribed_.end()));
  if (changed) request_rejoin("subscription changed");
  ensure_active();
}

void GroupMember::subscribe_pattern(std::regex pattern) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  pattern_ = std::move(pattern);
  active_ = true;
  nc_.metadata().set_all_topics(true);
  update_pattern_topics(*nc_.metadata().current());
  request_rejoin("subscription changed");
  nc_.metadata().request_refresh("consumer: pattern subscription");
  ensure_active();
}

bool GroupMember::update_pattern_topics(const net::ClusterMetadata& md) {
  if (!pattern_) return false;
  std::set<std::string> matched;
  for (auto& [name, ti] : md.topics()) {
    if (ti.is_internal && opts_.exclude_internal_topics) continue;
    if (std::regex_match(name, *pattern_)) matched.insert(name);
  }
  if (matched == subscribed_) return false;
  subscribed_ = std::move(matched);
  return true;
}

void GroupMember::on_metadata(const net::MetadataManager::Snapshot& md) {
  if (!active_ || shut_down_) return;
  bool rejoin = update_pattern_topics(*md);
  report_topic_errors(*md);
  if (leader_ && phase_ == Phase::kStable) {
    // Partition counts changed (or a topic appeared) since the assignment.
    for (auto& t : group_topics_) {
      const net::TopicInfo* ti = md->topic(t);
      int32_t n = ti != nullptr && ti->usable() ? static_cast<int32_t>(ti->partitions.size()) : 0;
      auto it = assigned_topic_counts_.find(t);
      int32_t before = it == assigned_topic_counts_.end() ? 0 : it->second;
      if (n != before) rejoin = true;
    }
  }
  if (rejoin) request_rejoin("metadata changed");
  ensure_active();
}

// A subscribed topic the cluster says does not exist (or may not be read)
// gets no partitions and no error from the group protocol: tell the
// application through poll() and the log, once per topic and error, again
// when the error changes or comes back (librdkafka's "Subscribed topic not
// available"). A topic being created (LEADER_NOT_AVAILABLE) is not an error.
void GroupMember::report_topic_errors(const net::ClusterMetadata& md) {
  std::map<std::string, int16_t> now;
  for (auto& t : subscribed_) {
    const net::TopicInfo* ti = md.topic(t);
    if (ti == nullptr || ti->error == 0) continue;
    Error e = Error::from_code(ti->error);
    if (ti->error == errc::kUnknownTopicOrPartition || !e.retriable()) now[t] = ti->error;
  }
  for (auto& [topic, code] : now) {
    auto it = errored_topics_.find(topic);
    if (it != errored_topics_.end() && it->second == code) continue;
    Error e = Error::from_code(code);
    // librdkafka's wording for the common two; Kafka's text otherwise.
    std::string reason = code == errc::kUnknownTopicOrPartition   ? "Unknown topic or partition"
                         : code == errc::kTopicAuthorizationFailed ? "Topic authorization failed"
                                                                   : e.message();
    std::string text = "Subscribed topic not available: " + topic + ": Broker: " + reason;
    if (log_) log_(text);
    MutexLock lock(state_.mu);
    state_.reports.push_back(Error(code, text, e.retriable()));
    state_.events_pending = true;
    state_.cv.notify_all();
  }
  errored_topics_ = std::move(now);
}

void GroupMember::unsubscribe() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  errored_topics_.clear();
  subscribed_.clear();
  pattern_.reset();
  active_ = false;
  leave("unsubscribed", [] {});
}

void GroupMember::on_poll() {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  last_poll_ = net::now();
  if (poll_expired_) {
    poll_expired_ = false;
    ensure_active();
  }
}

// --- Coordinator discovery ----------------------------------------------------------

void GroupMember::with_coordinator(net::TimePoint deadline, std::function<void(const Error&, int32_t)> cb) {
  if (shut_down_) return cb(Error::from_code(errc::kDestroyed, "consumer closed"), -1);
  if (coordinator_ >= 0) return cb(Error(), node());
  (void)deadline;
  coordinator_waiters_.push_back(std::move(cb));
  find_coordinator();
}

void GroupMember::find_coordinator() {
  if (finding_ || shut_down_) return;
  finding_ = true;
  io::Lifetime::Weak alive = lifetime_.weak();
  // The client's CoordinatorCache: one FindCoordinator shared with the
  // consumer's other users of the group.
  nc_.coordinators().lookup(coordinator_key(), net::after_ms(opts_.request_timeout_ms),
                            [this, alive](const Error& e, int32_t node_id) {
    if (!alive.alive()) return;
    finding_ = false;
    if (e.ok()) {
      coordinator_ = node_id;
      auto waiters = std::move(coordinator_waiters_);
      for (auto& w : waiters) w(Error(), node());
      return;
    }
    // Only authorization (and shutdown) is final. Anything else, including
    // a transport failure or a response kfk could not parse
    // (MALFORMED_RESPONSE), is retried: rediscover after a backoff, as the
    // Java client does for a failed FindCoordinator.
    if (e.code() == errc::kGroupAuthorizationFailed || e.code() == errc::kDestroyed) {
      auto waiters = std::move(coordinator_waiters_);
      for (auto& w : waiters) w(e, -1);
      return;
    }
    // Retry after a backoff while someone waits.
    after_ms(opts_.retry_backoff_ms, [this, alive] {
      if (!alive.alive()) return;
      if (!coordinator_waiters_.empty()) find_coordinator();
    });
  });
}

void GroupMember::coordinator_dead(const std::string& why) {
  (void)why;
  if (coordinator_ >= 0) nc_.coordinators().invalidate(coordinator_key(), coordinator_);
  coordinator_ = -1;
}

// --- Membership -------------------------------------------------------------------

void GroupMember::request_rejoin(const std::string& why) {
  (void)why;
  rejoin_needed_ = true;
}

void GroupMember::retry_later(int64_t ms) {
  if (retry_timer_) retry_timer_->start(ms);
}

void GroupMember::fail_fatal(Error e) {
  MutexLock lock(state_.mu);
  state_.pending_error = Error(e.code(), e.message(), false, true);
  state_.cv.notify_all();
}

void GroupMember::ensure_active() {
  if (shut_down_ || !active_ || poll_expired_) return;
  if (phase_ != Phase::kIdle && phase_ != Phase::kStable) return;
  if (phase_ == Phase::kStable && !rejoin_needed_ && coordinator_ >= 0) return;
  if (coordinator_ < 0) {
    io::Lifetime::Weak alive = lifetime_.weak();
    with_coordinator(net::kNever, [this, alive](const Error& e, int32_t) {
      if (!alive.alive()) return;
      if (!e.ok()) {
        if (e.code() == errc::kDestroyed) return;
        if (e.code() == errc::kGroupAuthorizationFailed) {
          active_ = false;
          return fail_fatal(e);
        }
        retry_later(opts_.retry_backoff_ms);
        return;
      }
      // A stable member only needed its coordinator back: heartbeat again.
      if (phase_ == Phase::kStable && !rejoin_needed_) {
        if (heartbeat_timer_ && generation_ >= 0) heartbeat_timer_->start(0);
        return;
      }
      ensure_active();
    });
    return;
  }
  if (phase_ == Phase::kStable && !rejoin_needed_) return;
  // Eager: give everything back (listener, commit) before joining.
  if (!cooperative() && !owned_.empty()) {
    phase_ = Phase::kAwaitRevoke;
    RebalanceStep step;
    step.kind = RebalanceStep::Kind::kRevoke;
    step.revoked = sorted(owned_);
    MutexLock lock(state_.mu);
    state_.steps.push_back(std::move(step));
    state_.events_pending = true;
    state_.cv.notify_all();
    return;
  }
  send_join();
}

void GroupMember::step_done(RebalanceStep::Kind kind, bool rejoin_after) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  if (shut_down_) return;
  if (kind == RebalanceStep::Kind::kRevoke && phase_ == Phase::kAwaitRevoke) {
    owned_.clear();
    phase_ = Phase::kIdle;
    ensure_active();
  } else if (kind == RebalanceStep::Kind::kAssign && phase_ == Phase::kAwaitAssign) {
    phase_ = Phase::kStable;
    if (rejoin_after) request_rejoin("cooperative: revoked partitions");
    ensure_active();
  }
}

std::vector<uint8_t> GroupMember::subscription_metadata(const PartitionAssignor& a) const {
  proto::ConsumerProtocolSubscription sub;
  sub.topics.assign(subscribed_.begin(), subscribed_.end());
  auto ud = a.subscription_user_data(sub.topics);
  if (!ud.empty()) sub.user_data = std::move(ud);
  for (auto& tp : owned_) {
    if (sub.owned_partitions.empty() || sub.owned_partitions.back().topic != tp.topic) {
      sub.owned_partitions.emplace_back();
      sub.owned_partitions.back().topic = tp.topic;
    }
    sub.owned_partitions.back().partitions.push_back(tp.partition);
  }
  sub.generation_id = generation_;
  if (!opts_.client_rack.empty()) sub.rack_id = opts_.client_rack;
  return encode_versioned(sub, kConsumerProtocolVersion);
}

void GroupMember::send_join() {
  phase_ = Phase::kJoining;
  rejoin_needed_ = false;
  proto::JoinGroupRequest req;
  req.group_id = opts_.group_id;
  req.session_timeout_ms = opts_.session_timeout_ms;
  req.rebalance_timeout_ms = opts_.rebalance_timeout_ms;
  req.member_id = member_id_;
  req.group_instance_id = opts_.group_instance_id;
  req.protocol_type = "consumer";
  for (auto& a : assignors_) {
    proto::JoinGroupRequest::JoinGroupRequestProtocol p;
    p.name = a->name();
    p.metadata = subscription_metadata(*a);
    req.protocols.push_back(std::move(p));
  }
  net::RequestOptions ro;
  // The coordinator holds JoinGroup until every member joined (up to the
  // rebalance timeout).
  ro.timeout_ms = opts_.request_timeout_ms + opts_.rebalance_timeout_ms;
  io::Lifetime::Weak alive = lifetime_.weak();
  nc_.send(
      node(), std::move(req),
      [this, alive](const Error& err, proto::JoinGroupResponse& resp) {
        if (!alive.alive()) return;
        on_join(err, resp);
      },
      ro);
}

void GroupMember::on_join(const Error& err, proto::JoinGroupResponse& resp) {
  phase_ = Phase::kIdle;
  if (!active_) return;
  Error e = err.ok() ? Error::from_code(resp.error_code, "JoinGroup") : err;
  if (e.ok()) {
    join_attempts_ = 0;
    removed_ = false;
    generation_ = resp.generation_id;
    member_id_ = resp.member_id;
    protocol_ = resp.protocol_name.value_or("");
    leader_ = resp.leader == member_id_;
    if (leader_) {
      run_assignment(std::move(resp));
    } else {
      send_sync({});
    }
    return;
  }
  int code = e.code();
  int64_t backoff = opts_.retry_backoff_ms;
  if (code == errc::kMemberIdRequired) {
    member_id_ = resp.member_id;  // KIP-394: join again with it, at once
    backoff = 0;
  } else if (code == errc::kUnknownMemberId) {
    member_id_.clear();
    generation_ = -1;
    backoff = 0;
  } else if (code == errc::kRebalanceInProgress || code == errc::kIllegalGeneration) {
    backoff = 0;
  } else if (core::rediscovers_coordinator(code) || code == errc::kCoordinatorLoadInProgress || code == errc::kDestroyed) {
    if (code == errc::kDestroyed) return;
    if (code != errc::kCoordinatorLoadInProgress) coordinator_dead(e.to_string());
  } else if (code == errc::kFencedInstanceId || !e.retriable()) {
    active_ = false;
    return fail_fatal(e);
  }
  rejoin_needed_ = true;
  if (backoff == 0 && join_attempts_++ < 10)
    ensure_active();
  else
    retry_later(std::max<int64_t>(backoff, opts_.retry_backoff_ms));
}

void GroupMember::run_assignment(proto::JoinGroupResponse resp) {
  PartitionAssignor* a = assignor_named(protocol_);
  if (a == nullptr) {
    active_ = false;
    return fail_fatal(Error::from_code(errc::kInconsistentGroupProtocol, "group chose unknown assignor " + protocol_));
  }
  GroupAssignmentInput in;
  group_topics_.clear();
  for (auto& m : resp.members) {
    proto::ConsumerProtocolSubscription sub;
    if (!decode_versioned(m.metadata, sub)) continue;  // an unreadable member gets nothing
    MemberSubscription ms;
    ms.member_id = m.member_id;
    ms.group_instance_id = m.group_instance_id;
    ms.topics = sub.topics;
    std::sort(ms.topics.begin(), ms.topics.end());
    if (sub.user_data) ms.user_data = *sub.user_data;
    for (auto& op : sub.owned_partitions)
      for (int32_t p : op.partitions) ms.owned_partitions.emplace_back(op.topic, p);
    ms.generation_id = sub.generation_id;
    ms.rack_id = sub.rack_id;
    group_topics_.insert(ms.topics.begin(), ms.topics.end());
    in.members.emplace(m.member_id, std::move(ms));
  }
  nc_.metadata().add_topics(std::vector<std::string>(group_topics_.begin(), group_topics_.end()));
  phase_ = Phase::kSyncing;  // from here until SyncGroup is answered
  assign_when_metadata_ready(std::move(in), net::after_ms(opts_.request_timeout_ms));
}

// The leader assigns only once the metadata answers for every topic of the
// group (Java's updateGroupSubscription: ensureFreshMetadata before
// assign()). A topic the metadata has not been asked about yet would get
// no partitions: an empty assignment, then another rebalance once the
// metadata arrives (the first join usually completes before the refresh
// that subscribe() requested). Waits up to request.timeout.ms, then
// assigns with what is known.
void GroupMember::assign_when_metadata_ready(GroupAssignmentInput in, net::TimePoint deadline) {
  const auto& known = nc_.metadata().current();
  bool missing = false;
  for (auto& t : group_topics_)
    if (known->topic(t) == nullptr) missing = true;
  if (missing && net::now() < deadline) {
    io::Lifetime::Weak alive = lifetime_.weak();
    int32_t generation = generation_;
    nc_.metadata().wait_for_update(deadline, [this, alive, generation, in = std::move(in), deadline](
                                                 const Error&, const net::MetadataManager::Snapshot&) mutable {
      if (!alive.alive() || !active_ || generation != generation_ || phase_ != Phase::kSyncing) return;
      assign_when_metadata_ready(std::move(in), deadline);
    });
    return;
  }
  PartitionAssignor* a = assignor_named(protocol_);
  const auto& md = nc_.metadata().current();
  assigned_topic_counts_.clear();
  for (auto& t : group_topics_) {
    const net::TopicInfo* ti = md->topic(t);
    if (ti != nullptr && ti->usable()) {
      in.partitions_per_topic[t] = static_cast<int32_t>(ti->partitions.size());
      assigned_topic_counts_[t] = static_cast<int32_t>(ti->partitions.size());
    }
  }
  std::map<std::string, MemberAssignment> out;
  Error e = a->assign(in, &out);
  if (!e.ok()) {
    active_ = false;
    return fail_fatal(e);
  }
  if (cooperative()) {
    // KIP-429: a partition changing owner is first revoked by its owner;
    // it is handed to the new owner in the next generation.
    std::map<TopicPartition, std::string> owner;
    for (auto& [id, ms] : in.members)
      for (auto& tp : ms.owned_partitions) owner[tp] = id;
    for (auto& [id, ma] : out) {
      std::erase_if(ma.partitions, [&, &id = id](const TopicPartition& tp) {  // clang 14 cannot capture a binding
        auto it = owner.find(tp);
        return it != owner.end() && it->second != id;
      });
    }
  }
  std::vector<proto::SyncGroupRequest::SyncGroupRequestAssignment> assignments;
  for (auto& [id, ms] : in.members) {
    proto::ConsumerProtocolAssignment pa;
    auto it = out.find(id);
    if (it != out.end()) {
      for (auto& tp : it->second.partitions) {
        if (pa.assigned_partitions.empty() || pa.assigned_partitions.back().topic != tp.topic) {
          pa.assigned_partitions.emplace_back();
          pa.assigned_partitions.back().topic = tp.topic;
        }
        pa.assigned_partitions.back().partitions.push_back(tp.partition);
      }
      if (!it->second.user_data.empty()) pa.user_data = it->second.user_data;
    }
    proto::SyncGroupRequest::SyncGroupRequestAssignment sa;
    sa.member_id = id;
    sa.assignment = encode_versioned(pa, kConsumerProtocolVersion);
    assignments.push_back(std::move(sa));
  }
  send_sync(std::move(assignments));
}

void GroupMember::send_sync(std::vector<proto::SyncGroupRequest::SyncGroupRequestAssignment> assignments) {
  phase_ = Phase::kSyncing;
  proto::SyncGroupRequest req;
  req.group_id = opts_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = opts_.group_instance_id;
  req.protocol_type = "consumer";
  req.protocol_name = protocol_;
  req.assignments = std::move(assignments);
  net::RequestOptions ro;
  ro.timeout_ms = opts_.request_timeout_ms + opts_.rebalance_timeout_ms;
  io::Lifetime::Weak alive = lifetime_.weak();
  nc_.send(
      node(), std::move(req),
      [this, alive](const Error& err, proto::SyncGroupResponse& resp) {
        if (!alive.alive()) return;
        on_sync(err, resp);
      },
      ro);
  // Heartbeats keep the membership alive while the rebalance completes.
  if (heartbeat_timer_ && !heartbeat_timer_->active()) heartbeat_timer_->start(opts_.heartbeat_interval_ms);
}

void GroupMember::on_sync(const Error& err, proto::SyncGroupResponse& resp) {
  phase_ = Phase::kIdle;
  if (!active_) return;
  Error e = err.ok() ? Error::from_code(resp.error_code, "SyncGroup") : err;
  if (!e.ok()) {
    int code = e.code();
    if (code == errc::kDestroyed) return;
    if (code == errc::kUnknownMemberId || code == errc::kIllegalGeneration) {
      lose_partitions(e.to_string(), code == errc::kUnknownMemberId);
    } else if (core::rediscovers_coordinator(code)) {
      coordinator_dead(e.to_string());
    } else if (code == errc::kFencedInstanceId || code == errc::kGroupAuthorizationFailed ||
               code == errc::kInconsistentGroupProtocol) {
      active_ = false;
      return fail_fatal(e);
    }
    // Anything else (REBALANCE_IN_PROGRESS, but also an INVALID_REQUEST
    // from a coordinator that finished the sync before this member's
    // SyncGroup arrived, as librdkafka's mock does) means this generation
    // is gone for us: join again, as librdkafka does.
    rejoin_needed_ = true;
    if (phase_ == Phase::kIdle) retry_later(code == errc::kRebalanceInProgress ? 0 : opts_.retry_backoff_ms);
    return;
  }
  proto::ConsumerProtocolAssignment pa;
  if (!resp.assignment.empty() && !decode_versioned(resp.assignment, pa)) {
    active_ = false;
    return fail_fatal(Error::from_code(errc::kMalformedResponse, "SyncGroup: unreadable assignment"));
  }
  std::set<TopicPartition> now;
  for (auto& t : pa.assigned_partitions)
    for (int32_t p : t.partitions) now.emplace(t.topic, p);
  if (PartitionAssignor* a = assignor_named(protocol_)) {
    MemberAssignment ma;
    ma.partitions = sorted(now);
    if (pa.user_data) ma.user_data = *pa.user_data;
    a->on_assignment(ma, generation_);
  }
  RebalanceStep step;
  step.kind = RebalanceStep::Kind::kAssign;
  for (auto& tp : now)
    if (owned_.count(tp) == 0) step.added.push_back(tp);
  for (auto& tp : owned_)
    if (now.count(tp) == 0) step.revoked.push_back(tp);
  step.assigned = sorted(now);
  step.rejoin_after = cooperative() && !step.revoked.empty();
  owned_ = std::move(now);
  rebalances_++;
  phase_ = Phase::kAwaitAssign;
  {
    MutexLock lock(state_.mu);
    state_.steps.push_back(std::move(step));
    state_.events_pending = true;
    state_.generation = generation_;
    state_.member_id = member_id_;
    state_.rebalances = rebalances_;
    state_.cv.notify_all();
  }
  if (heartbeat_timer_) heartbeat_timer_->start(opts_.heartbeat_interval_ms);
  if (poll_timer_) poll_timer_->start(opts_.max_poll_interval_ms);
}

// Partitions were taken away without a revocation: report them lost. A
// revocation queued for poll() but not started yet becomes this loss (Java
// decides in onJoinPrepare, when the application polls: a reset generation
// means lost, never revoked and lost for the same partitions).
void GroupMember::lose_partitions(const std::string& why, bool reset_member) {
  (void)why;
  removed_ = true;
  if (reset_member) member_id_.clear();
  generation_ = -1;
  if (phase_ == Phase::kAwaitRevoke) phase_ = Phase::kIdle;  // the revocation is dropped or already running
  MutexLock lock(state_.mu);
  state_.generation = -1;
  state_.member_id = member_id_;
  std::erase_if(state_.steps, [](const RebalanceStep& s) { return s.kind == RebalanceStep::Kind::kRevoke; });
  if (!owned_.empty()) {
    RebalanceStep step;
    step.kind = RebalanceStep::Kind::kLost;
    step.revoked = sorted(owned_);
    owned_.clear();
    state_.steps.push_back(std::move(step));
    state_.events_pending = true;
    state_.cv.notify_all();
  }
  rejoin_needed_ = true;
}

void GroupMember::send_heartbeat() {
  if (shut_down_ || !active_ || generation_ < 0) return;
  if (coordinator_ < 0) {
    // Rediscover the coordinator, then heartbeat again (ensure_active()
    // restarts the timer once it is known).
    ensure_active();
    if (heartbeat_timer_ && !heartbeat_timer_->active()) heartbeat_timer_->start(opts_.retry_backoff_ms);
    return;
  }
  // Nothing goes to the coordinator while it holds this member's JoinGroup
  // (Java's heartbeat thread is disabled in PREPARING_REBALANCE, librdkafka
  // heartbeats only once joined): a coordinator may stop reading the
  // connection meanwhile (librdkafka's mock does), so a heartbeat there
  // would time out and close the connection, JoinGroup included.
  if (heartbeat_in_flight_ || phase_ == Phase::kJoining) {
    heartbeat_timer_->start(opts_.heartbeat_interval_ms);
    return;
  }
  heartbeat_in_flight_ = true;
  proto::HeartbeatRequest req;
  req.group_id = opts_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = opts_.group_instance_id;
  io::Lifetime::Weak alive = lifetime_.weak();
  int32_t sent_generation = generation_;
  nc_.send(node(), std::move(req), [this, alive, sent_generation](const Error& err, proto::HeartbeatResponse& resp) {
    if (!alive.alive()) return;
    heartbeat_in_flight_ = false;
    // An answer about an older generation says nothing about this one.
    if (sent_generation != generation_) return;
    on_heartbeat(err, resp);
  });
  heartbeat_timer_->start(opts_.heartbeat_interval_ms);
}

void GroupMember::on_heartbeat(const Error& err, proto::HeartbeatResponse& resp) {
  Error e = err.ok() ? Error::from_code(resp.error_code, "Heartbeat") : err;
  if (e.ok() || !active_) return;
  int code = e.code();
  if (code == errc::kRebalanceInProgress) {
    // During our own JoinGroup it is expected. After SyncGroup (waiting
    // for poll() to apply the assignment) it means a newer rebalance
    // started: rejoin as soon as the assignment step completes.
    if (phase_ == Phase::kJoining || phase_ == Phase::kSyncing || phase_ == Phase::kAwaitRevoke) return;
    request_rejoin("rebalance in progress");
    ensure_active();
  } else if (code == errc::kIllegalGeneration || code == errc::kUnknownMemberId) {
    // Also while a revocation waits for poll(): the member is out, so its
    // partitions are lost, not revoked (lose_partitions() drops the
    // queued revocation).
    if (phase_ == Phase::kStable || phase_ == Phase::kIdle || phase_ == Phase::kAwaitRevoke) {
      lose_partitions(e.to_string(), code == errc::kUnknownMemberId);
      ensure_active();
    }
  } else if (code == errc::kFencedInstanceId) {
    active_ = false;
    fail_fatal(e);
  } else if (core::rediscovers_coordinator(code) || code == errc::kCoordinatorLoadInProgress) {
    if (code != errc::kCoordinatorLoadInProgress) coordinator_dead(e.to_string());
    ensure_active();
  }
}

void GroupMember::check_poll_interval() {
  if (shut_down_ || !active_ || generation_ < 0) return;
  int64_t idle = std::chrono::duration_cast<std::chrono::milliseconds>(net::now() - last_poll_).count();
  if (idle < opts_.max_poll_interval_ms) {
    poll_timer_->start(opts_.max_poll_interval_ms - idle);
    return;
  }
  // The application stopped polling: leave so that the others take over
  // (Java's behaviour); the next poll() reports the loss and rejoins.
  if (log_)
    log_("consumer poll timeout has expired: the time since the last poll() (" + std::to_string(idle) +
         " ms) is longer than max.poll.interval.ms (" + std::to_string(opts_.max_poll_interval_ms) +
         " ms), which typically means the poll loop spends too much time processing records; leaving group " +
         opts_.group_id + " (member " + member_id_ +
         "). Increase max.poll.interval.ms or reduce the batches returned by poll() with max.poll.records.");
  poll_expired_ = true;
  leave("max.poll.interval.ms expired", [] {});
  lose_partitions("max.poll.interval.ms expired", true);
  {
    MutexLock lock(state_.mu);
    state_.events_pending = true;
    state_.cv.notify_all();
  }
}

void GroupMember::leave(const std::string& reason, std::function<void()> cb) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  if (heartbeat_timer_) heartbeat_timer_->stop();
  if (poll_timer_) poll_timer_->stop();
  bool was_member = !member_id_.empty() && coordinator_ >= 0;
  std::string member = member_id_;
  if (!opts_.group_instance_id) {
    member_id_.clear();
  }
  generation_ = -1;
  phase_ = Phase::kIdle;
  rejoin_needed_ = true;
  {
    MutexLock lock(state_.mu);
    state_.generation = -1;
    state_.member_id = member_id_;
  }
  if (!was_member || opts_.group_instance_id || shut_down_) return cb();  // static members keep their partitions
  proto::LeaveGroupRequest req;
  req.group_id = opts_.group_id;
  req.member_id = member;
  proto::LeaveGroupRequest::MemberIdentity mi;
  mi.member_id = member;
  mi.reason = reason;
  req.members.push_back(std::move(mi));
  nc_.send(node(), std::move(req), [cb](const Error&, proto::LeaveGroupResponse&) { cb(); });
}

}  // namespace kfk::consumer
