// Runs on the network thread (the whole file).
#include "client/producer/producer_id_manager.h"

#include <algorithm>

#include "client/core/classify.h"
#include "client/producer/sender.h"

namespace kfk::producer {

ProducerIdManager::ProducerIdManager(net::NetClient& nc, ProducerIdConfig config, SenderCounters& counters,
                                     net::LogFn log, std::function<void()> wake,
                                     std::function<void(const Error&)> on_fatal)
    : nc_(nc),
      config_(config),
      counters_(counters),
      log_(std::move(log)),
      wake_(std::move(wake)),
      on_fatal_(std::move(on_fatal)) {}

ProducerIdManager::~ProducerIdManager() { stop(); }

void ProducerIdManager::stop() {
  lifetime_.end();  // a running InitProducerId call ends at its next event
}

ProducerIdManager::Partition& ProducerIdManager::partition(std::string_view topic, int32_t partition) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) it = topics_.emplace(std::string(topic), std::vector<Partition>()).first;
  auto& parts = it->second;
  if (static_cast<size_t>(partition) >= parts.size()) parts.resize(static_cast<size_t>(partition) + 1);
  return parts[static_cast<size_t>(partition)];
}

void ProducerIdManager::set_producer(int64_t producer_id, int16_t producer_epoch) {
  producer_id_ = producer_id;
  producer_epoch_ = producer_epoch;
  bump_pending_ = false;
  for (auto& [topic, parts] : topics_) {
    for (Partition& p : parts) {
      p.next_sequence = 0;
      p.last_acked = -1;
    }
  }
}

// --- What the Sender asks ---------------------------------------------------

bool ProducerIdManager::ready_to_drain(int produce_in_flight) {
  if (!config_.idempotent) return true;
  if (has_producer_id() && !bump_pending_) return true;
  // A bump waits until no batch of the old epoch is in flight.
  if (!init_running_ && !lifetime_.ended() && !(has_producer_id() && produce_in_flight > 0)) init_producer_id();
  return false;
}

bool ProducerIdManager::may_drain(const ProducerBatch& head) {
  if (!config_.idempotent) return true;
  Partition& ps = partition(head.topic(), head.partition());
  // A retry keeps its sequence: send it only once everything before it has
  // been answered, so the broker sees the partition's sequences in order.
  if (head.has_sequence()) return ps.in_flight == 0;
  // Until the broker has acknowledged a batch of this partition under the
  // current epoch, one at a time: a broker without state for the producer
  // may accept any first sequence (Kafka >= 2.5, librdkafka's mock), so a
  // later batch could be written before an earlier one that failed.
  if (ps.last_acked < 0) return ps.in_flight == 0;
  return ps.in_flight < std::min(config_.max_in_flight, 5);
}

void ProducerIdManager::on_send(ProducerBatch& b) {
  Partition& ps = partition(b.topic(), b.partition());
  if (!(b.has_sequence() && is_current(b))) {
    b.set_producer_state(producer_id_, producer_epoch_, ps.next_sequence);
    ps.next_sequence = add(ps.next_sequence, b.record_count());
  }
  ps.in_flight++;
}

void ProducerIdManager::on_release(const ProducerBatch& b) {
  Partition& ps = partition(b.topic(), b.partition());
  if (ps.in_flight > 0) ps.in_flight--;
}

void ProducerIdManager::on_acked(const ProducerBatch& b) {
  if (config_.idempotent && b.has_sequence() && is_current(b))
    partition(b.topic(), b.partition()).last_acked = b.last_sequence();
}

void ProducerIdManager::on_failed(const ProducerBatch& b, const Error& err) {
  if (config_.idempotent && b.has_sequence() && is_current(b))
    request_bump("a batch of " + std::string(b.topic()) + "-" + std::to_string(b.partition()) +
                 " failed: " + err.to_string());
}

bool ProducerIdManager::retry_after_sequence_error(const ProducerBatch& b, int16_t code, bool can_retry,
                                                   const std::string& why) {
  if (!config_.idempotent) return false;
  const bool current = is_current(b);
  if (code == errc::kOutOfOrderSequenceNumber && current && can_retry &&
      b.base_sequence() != add(partition(b.topic(), b.partition()).last_acked, 1)) {
    return true;  // an earlier batch of the partition failed; this one goes again after it
  }
  if (!core::needs_epoch_bump(code)) return false;
  if (current) request_bump(why);
  return can_retry;  // re-sequenced under the new epoch
}

void ProducerIdManager::request_bump(const std::string& why) {
  if (!config_.idempotent || bump_pending_) return;
  if (log_) log_("bumping the idempotent producer epoch: " + why);
  bump_pending_ = true;
}

// --- InitProducerId ------------------------------------------------------------

void ProducerIdManager::init_producer_id() {
  init_running_ = true;
  // A recovery (counted in epoch_bumps) whether the broker bumps the epoch
  // or, unable to (pre-2.5 brokers, librdkafka's mock), hands out a new id.
  const bool recovery = bump_pending_;
  net::CallSpec spec;
  spec.name = "InitProducerId";
  spec.route = net::Route::any_node();
  spec.owner = lifetime_.weak();
  using InitCall = net::Call<proto::InitProducerIdRequest>;
  InitCall::start(
      nc_, std::move(spec),
      [this](int32_t, const net::ClusterMetadata*) {
        proto::InitProducerIdRequest req;
        req.transactional_id = std::nullopt;
        req.transaction_timeout_ms = config_.transaction_timeout_ms;
        // v3+: asking with the current id and epoch bumps the epoch
        // (KIP-360); older brokers ignore these fields and hand out a new id.
        attempt_is_bump_ = has_producer_id();
        req.producer_id = attempt_is_bump_ ? producer_id_ : -1;
        req.producer_epoch = attempt_is_bump_ ? producer_epoch_ : -1;
        return req;
      },
      [this](const Error& err, net::Reply<proto::InitProducerIdResponse>& reply) {
        return classify_init(err, reply.msg);
      },
      [this, recovery](const Error& err, net::Reply<proto::InitProducerIdResponse>& reply) {
        on_init_done(err, reply.msg, recovery);
      });
}

net::Outcome ProducerIdManager::classify_init(const Error& err, const proto::InitProducerIdResponse& resp) {
  Error e = err.ok() ? Error::from_code(resp.error_code, "InitProducerId") : err;
  if (e.ok()) return {};
  if (e.code() == errc::kDestroyed || core::is_fatal(e.code())) return {e, net::Verdict::kFail};
  // The broker will not bump this id: start over with a new one.
  if (attempt_is_bump_ && core::bump_refused(e.code())) producer_id_ = -1, producer_epoch_ = -1;
  // Retriable (COORDINATOR_LOAD_IN_PROGRESS, transport, ...) or unexpected:
  // try again after the backoff; queued records meanwhile still expire.
  ++init_failures_;
  // A broker that cannot be reached is the network layer's to report (it
  // logs each failed connection with its address and reason).
  const bool unreachable =
      e.code() == errc::kTransport || e.code() == errc::kResolve || e.code() == errc::kAllBrokersDown;
  if (log_ && !unreachable && init_failures_ % 10 == 1) log_("InitProducerId failed, retrying: " + e.to_string());
  return {e, net::Verdict::kRetry};
}

void ProducerIdManager::on_init_done(const Error& err, const proto::InitProducerIdResponse& resp, bool recovery) {
  init_running_ = false;
  if (err.code() == errc::kDestroyed) return;
  if (!err.ok()) {
    const bool unsupported = err.code() == errc::kUnsupportedVersion || err.code() == errc::kNoCommonApiVersion;
    on_fatal_(Error(err.code(), "InitProducerId failed: " + err.to_string() +
                                    (unsupported ? " (the broker does not support idempotent producers; set "
                                                   "enable.idempotence=false)"
                                                 : "")));
    return;
  }
  init_failures_ = 0;
  set_producer(resp.producer_id, resp.producer_epoch);
  counters_.producer_id.store(resp.producer_id, std::memory_order_relaxed);
  counters_.producer_epoch.store(resp.producer_epoch, std::memory_order_relaxed);
  if (recovery) counters_.epoch_bumps.fetch_add(1, std::memory_order_relaxed);
  wake_();
}

}  // namespace kfk::producer
