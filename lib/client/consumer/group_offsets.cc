// GroupMember's offset requests: OffsetCommit and OffsetFetch.
// Runs on the network thread (the whole file).
#include <algorithm>

#include "client/consumer/group_member.h"
#include "client/consumer/offset_requests.h"
#include "client/core/classify.h"
#include "io/loop_thread.h"

namespace kfk::consumer {

void GroupMember::after_ms(int64_t ms, std::function<void()> fn) {
  // A one-shot timer that owns itself until it fires.
  auto t = std::make_shared<std::unique_ptr<io::Timer>>();
  *t = std::make_unique<io::Timer>(nc_.loop(), [t, fn = std::move(fn)]() mutable {
    auto keep = std::move(*t);
    fn();
  });
  (*t)->start(ms);
}

void GroupMember::retry_fetch_committed(std::vector<TopicPartition> parts, net::TimePoint deadline,
                                             CommittedCallback cb) {
  io::Lifetime::Weak alive = lifetime_.weak();
  after_ms(opts_.retry_backoff_ms, [this, alive, parts = std::move(parts), deadline, cb = std::move(cb)]() mutable {
    CommittedOffsets none;
    if (!alive.alive()) return cb(Error::from_code(errc::kDestroyed, "consumer closed"), none);
    fetch_committed(std::move(parts), deadline, std::move(cb));
  });
}

void GroupMember::commit(std::map<TopicPartition, OffsetAndMetadata> offsets, net::TimePoint deadline,
                              CommitResultFn cb) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  if (offsets.empty()) return cb(Error());
  io::Lifetime::Weak alive = lifetime_.weak();
  with_coordinator(deadline, [this, alive, offsets = std::move(offsets), deadline,
                              cb = std::move(cb)](const Error& e, int32_t target) mutable {
    if (!e.ok()) return cb(e);
    // Not while this member's JoinGroup or SyncGroup is in flight (Java:
    // generationIfStable()). The coordinator holds those answers (up to the
    // rebalance timeout, librdkafka's mock up to session.timeout.ms) and
    // handles one request per connection at a time, so a commit sent now
    // waits behind them: it times out after request.timeout.ms, which closes
    // the connection and with it the pending JoinGroup (the member then
    // never completes the rebalance while auto-commits keep coming, as
    // cooperative members, which keep consuming, did), or it arrives in the
    // next generation and fails anyway. Eager members own nothing here; the
    // commits before revocation happen before JoinGroup / after SyncGroup.
    if (active_ && (phase_ == Phase::kJoining || phase_ == Phase::kSyncing))
      return cb(Error(errc::kRebalanceInProgress, "commit failed: the member is rejoining the group"));
    // Removed from the group and not joined again: the partitions belong to
    // another member now; a commit without a generation would overwrite
    // its offsets (Java: CommitFailedException, nothing sent).
    if (active_ && generation_ < 0 && removed_) return cb(Error(errc::kUnknownMemberId, kCommitFailedMessage));
    proto::OffsetCommitRequest req = offset_commit_request(opts_.group_id, offsets);
    // Manual assignment (not a member): generation -1, no member id.
    if (active_ && generation_ >= 0) {
      req.generation_id_or_member_epoch = generation_;
      req.member_id = member_id_;
      req.group_instance_id = opts_.group_instance_id;
    }
    int32_t sent_generation = req.generation_id_or_member_epoch;
    nc_.send(target, std::move(req),
             [this, alive, offsets = std::move(offsets), deadline, cb = std::move(cb), sent_generation](
                 const Error& err, proto::OffsetCommitResponse& resp) mutable {
               if (!alive.alive()) return cb(Error::from_code(errc::kDestroyed, "consumer closed"));
               Error e2 = err;
               if (e2.ok()) {
                 for (auto& t : resp.topics)
                   for (auto& p : t.partitions)
                     if (p.error_code != 0 && e2.ok())
                       e2 = Error::from_code(p.error_code, "OffsetCommit " + t.name + "-" +
                                                               std::to_string(p.partition_index));
               }
               if (e2.ok()) return cb(e2);
               int code = e2.code();
               if (core::rediscovers_coordinator(code)) coordinator_dead(e2.to_string());
               if (code == errc::kRebalanceInProgress || code == errc::kIllegalGeneration ||
                   code == errc::kUnknownMemberId) {
                 // REBALANCE_IN_PROGRESS: the heartbeat drives the rejoin
                 // (as Java: no extra rebalance). A stale generation or
                 // unknown member means this member must rejoin, but only
                 // if the commit was sent in the current generation: a
                 // commit sent before this member's JoinGroup completed
                 // (queued behind it on the coordinator connection, as
                 // Kafka processes one request per connection at a time)
                 // reaches the coordinator in the next generation and says
                 // nothing about this one. Rejoining on it started yet
                 // another rebalance, whose in-flight auto-commits failed
                 // the same way: cooperative members rebalanced in a loop.
                 // (Java: generationUnchangedOnError.)
                 if (code == errc::kRebalanceInProgress)
                   return cb(Error(code, "commit failed: the group rebalanced; " + e2.message()));
                 if (sent_generation == generation_) request_rejoin("commit failed");
                 return cb(Error(code, std::string(kCommitFailedMessage) + " (" + e2.message() + ")"));
               }
               if (code == errc::kFencedInstanceId)
                 return cb(Error(code, std::string(kCommitFailedMessage) + " (" + e2.message() + ")"));
               bool retry = e2.retriable() || core::rediscovers_coordinator(code) || code == errc::kCoordinatorLoadInProgress;
               if (!retry || net::now() + std::chrono::milliseconds(opts_.retry_backoff_ms) >= deadline)
                 return cb(e2);
               after_ms(opts_.retry_backoff_ms, [this, alive, offsets = std::move(offsets), deadline,
                                                 cb = std::move(cb)]() mutable {
                 if (!alive.alive()) return cb(Error::from_code(errc::kDestroyed, "consumer closed"));
                 commit(std::move(offsets), deadline, std::move(cb));
               });
             });
  });
}

void GroupMember::fetch_committed(std::vector<TopicPartition> parts, net::TimePoint deadline,
                                       CommittedCallback cb) {
  KFK_DCHECK_ON_LOOP(nc_.loop());
  io::Lifetime::Weak alive = lifetime_.weak();
  with_coordinator(deadline, [this, alive, parts = std::move(parts), deadline, cb = std::move(cb)](
                                 const Error& e, int32_t target) mutable {
    CommittedOffsets out;
    if (!e.ok()) return cb(e, out);
    // Not while this member's JoinGroup or SyncGroup is in flight, for the
    // reason commit() gives: the OffsetFetch would queue behind the held
    // join and time out, closing the connection under it. Ask again once
    // the join is answered (a cooperative member fetching offsets of newly
    // assigned partitions while its next rebalance starts).
    if (active_ && (phase_ == Phase::kJoining || phase_ == Phase::kSyncing)) {
      if (net::now() + std::chrono::milliseconds(opts_.retry_backoff_ms) >= deadline)
        return cb(Error(errc::kRebalanceInProgress, "committed offsets: the member is rejoining the group"), out);
      return retry_fetch_committed(std::move(parts), deadline, std::move(cb));
    }
    std::sort(parts.begin(), parts.end());
    proto::OffsetFetchRequest req = offset_fetch_request(opts_.group_id, &parts, /*require_stable=*/true);
    nc_.send(target, std::move(req),
             [this, alive, parts = std::move(parts), deadline, cb = std::move(cb)](
                 const Error& err, proto::OffsetFetchResponse& resp) mutable {
               CommittedOffsets out;
               if (!alive.alive()) return cb(Error::from_code(errc::kDestroyed, "consumer closed"), out);
               Error e2 = err;
               auto take = [&](const std::string& topic, int32_t p, int64_t off, int32_t epoch,
                               const std::optional<std::string>& md, int16_t code) {
                 if (code != 0) {
                   if (e2.ok()) e2 = Error::from_code(code, "OffsetFetch " + topic + "-" + std::to_string(p));
                   return;
                 }
                 OffsetAndMetadata om;
                 om.offset = off;
                 om.metadata = md.value_or("");
                 if (epoch >= 0) om.leader_epoch = epoch;
                 out[TopicPartition(topic, p)] = std::move(om);
               };
               if (e2.ok()) {
                 if (!resp.groups.empty()) {
                   auto& g = resp.groups.front();
                   e2 = Error::from_code(g.error_code, "OffsetFetch");
                   for (auto& t : g.topics)
                     for (auto& p : t.partitions)
                       take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata,
                            p.error_code);
                 } else {
                   e2 = Error::from_code(resp.error_code, "OffsetFetch");
                   for (auto& t : resp.topics)
                     for (auto& p : t.partitions)
                       take(t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata,
                            p.error_code);
                 }
               }
               if (e2.ok()) return cb(e2, out);
               int code = e2.code();
               if (core::rediscovers_coordinator(code)) coordinator_dead(e2.to_string());
               bool retry = e2.retriable() || core::rediscovers_coordinator(code);
               if (!retry || net::now() + std::chrono::milliseconds(opts_.retry_backoff_ms) >= deadline)
                 return cb(e2, out);
               retry_fetch_committed(std::move(parts), deadline, std::move(cb));
             });
  });
}

}  // namespace kfk::consumer
