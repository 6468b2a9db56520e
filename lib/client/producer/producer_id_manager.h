// ProducerIdManager: the idempotent producer's identity and ordering state:
// the producer id and epoch (InitProducerId, through net::Call), the
// KIP-360 epoch bumps, what ends the producer (core::is_fatal), and the
// per-partition sequence numbers and in-flight counts the Sender's ordering
// rules need. The Sender asks it whether it may drain, lets it stamp each
// batch it sends, and reports every answer; the transaction manager will
// extend it (coordinator routing, transactional id, abortable errors).
//
// Runs on the network thread (the Sender owns it).
//
// Kafka's rules (KIP-98, KIP-360): each batch carries (producer id, epoch,
// base sequence); the broker accepts a batch whose base sequence is the last
// one it appended for the partition plus one, drops a repeated one
// (DUPLICATE_SEQUENCE_NUMBER) and rejects a gap (OUT_OF_ORDER_SEQUENCE_NUMBER).
// Sequences wrap from INT32_MAX to 0. A new epoch restarts every partition
// at sequence 0.
//
// InitProducerId goes to any broker and is retried (backoff
// retry.backoff.ms .. retry.backoff.max.ms) until it succeeds or fails for
// good: CLUSTER_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED
// or UNSUPPORTED_VERSION make the producer fatal. A bump (the current id and
// epoch in the request, v3+) is sent once no Produce request is in flight,
// so their answers are read under the sequences they were sent with; a
// broker that will not bump that id (core::bump_refused) is asked for a new
// id instead.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/net/call.h"
#include "client/net/net_client.h"
#include "client/producer/producer_batch.h"
#include "io/lifetime.h"

namespace kfk::producer {

struct SenderCounters;

struct ProducerIdConfig {
  bool idempotent = true;                  // enable.idempotence
  int max_in_flight = 5;                   // max.in.flight.requests.per.connection
  int32_t transaction_timeout_ms = 60000;  // sent with InitProducerId
};

class ProducerIdManager {
 public:
  struct Partition {
    int32_t next_sequence = 0;  // the base sequence of the next new batch
    int32_t last_acked = -1;    // the last sequence the broker acknowledged
    int in_flight = 0;          // batches of this partition in flight
  };

  // `wake`: a producer id arrived (the Sender runs a pass). `on_fatal`: the
  // producer can no longer be used.
  ProducerIdManager(net::NetClient& nc, ProducerIdConfig config, SenderCounters& counters, net::LogFn log,
                    std::function<void()> wake, std::function<void(const Error&)> on_fatal);
  ~ProducerIdManager();
  ProducerIdManager(const ProducerIdManager&) = delete;
  ProducerIdManager& operator=(const ProducerIdManager&) = delete;

  bool enabled() const { return config_.idempotent; }
  bool has_producer_id() const { return producer_id_ >= 0; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }
  bool bump_pending() const { return bump_pending_; }

  // May the Sender drain now? Without idempotence always. Otherwise only
  // with a producer id and no bump pending; if not, InitProducerId is
  // started (a bump only once `produce_in_flight` is 0).
  bool ready_to_drain(int produce_in_flight);
  // The ordering rules for the head batch of a partition (called by
  // drain() under the partition's lock): at most 5 in flight (one until
  // the partition's first acknowledgement under the epoch); a retry only
  // once nothing else of its partition is in flight.
  bool may_drain(const ProducerBatch& head);
  // The batch goes into a Produce request: a new batch (or one of an old
  // epoch) gets the current id, epoch and the partition's next sequence.
  void on_send(ProducerBatch& batch);
  // The batch's answer came (or it failed in transport): its slot is free.
  void on_release(const ProducerBatch& batch);
  // The broker acknowledged the batch.
  void on_acked(const ProducerBatch& batch);
  // The batch fails for good: a sequence of the current epoch that will
  // never be written leaves a gap, so the epoch is bumped.
  void on_failed(const ProducerBatch& batch, const Error& err);
  // A sequence error of `batch` (code from its Produce answer): whether to
  // put it back (`can_retry`: the Sender's retries and delivery deadline
  // allow it). OUT_OF_ORDER_SEQUENCE_NUMBER behind an earlier failure:
  // retried as is; OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected
  // sequence, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH: an epoch bump,
  // then retried under the new epoch. Other codes: false.
  bool retry_after_sequence_error(const ProducerBatch& batch, int16_t code, bool can_retry, const std::string& why);
  // Asks for an epoch bump (e.g. a sequenced batch was split).
  void request_bump(const std::string& why);
  // No more InitProducerId (the producer is closing).
  void stop();

  // Sequence arithmetic, wrapping like Kafka's DefaultRecordBatch.
  static int32_t add(int32_t sequence, int32_t count) {
    int64_t s = int64_t{sequence} + count;
    if (s > INT32_MAX) s -= int64_t{INT32_MAX} + 1;
    return static_cast<int32_t>(s);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };

  Partition& partition(std::string_view topic, int32_t partition);
  bool is_current(const ProducerBatch& b) const {
    return b.producer_id() == producer_id_ && b.producer_epoch() == producer_epoch_;
  }
  // A new id or epoch: every partition restarts at sequence 0 (in-flight
  // counts are kept: bumps wait until nothing is in flight).
  void set_producer(int64_t producer_id, int16_t producer_epoch);
  void init_producer_id();
  // What a failed InitProducerId attempt leads to (net::Call's hook).
  net::Outcome classify_init(const Error& err, const proto::InitProducerIdResponse& resp);
  void on_init_done(const Error& err, const proto::InitProducerIdResponse& resp, bool recovery);

  net::NetClient& nc_;
  const ProducerIdConfig config_;
  SenderCounters& counters_;
  net::LogFn log_;
  std::function<void()> wake_;
  std::function<void(const Error&)> on_fatal_;
  // The owner token of the InitProducerId call (net/call.h).
  io::Lifetime lifetime_;  // io/lifetime.h

  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  bool bump_pending_ = false;
  bool init_running_ = false;
  bool attempt_is_bump_ = false;  // the InitProducerId attempt in flight carries the current id
  int init_failures_ = 0;
  std::unordered_map<std::string, std::vector<Partition>, Hash, std::equal_to<>> topics_;
};

}  // namespace kfk::producer
