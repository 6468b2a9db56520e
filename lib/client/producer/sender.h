// Sender: moves batches from the RecordAccumulator to the brokers and
// completes them with what the brokers answered.
//
// Runs on the network thread: every method (the owner posts to it).
//
// One pass (run()):
//   1. Idempotence (ProducerIdManager): until the producer has an id
//      (InitProducerId) nothing is drained; while an epoch bump is pending,
//      nothing new is drained and the bump is sent once no Produce request
//      is in flight.
//   2. Batches that waited delivery.timeout.ms in the queues fail.
//   3. accumulator.ready() names the leaders with sendable batches; for each
//      whose connection is ready and has fewer than
//      max.in.flight.requests.per.connection Produce requests in flight,
//      drain() takes at most one batch per partition (up to
//      max.request.size) into one Produce request; repeated while the limit
//      allows, those further requests taking only batches that are
//      sendable themselves (full or lingered). Leaders that are not connected are asked to connect; the
//      connection's state change wakes the sender again.
//   4. The timer is armed for the next linger expiry, retry backoff,
//      reconnect or delivery deadline.
//
// Ordering: with idempotence, at most 5 batches per partition are in flight
// (one until the broker acknowledged one of the partition's batches under
// the current epoch: a broker without state for the producer may accept any
// first sequence);
// a retried batch (it keeps its sequence) is only sent once nothing else of
// its partition is in flight, so the broker sees sequences in order.
// Without idempotence and max.in.flight.requests.per.connection=1 the
// partition is muted while its batch is in flight (Java's
// guaranteeMessageOrder); otherwise retries may reorder, as in Java.
//
// Answers, per partition:
//   none / DUPLICATE_SEQUENCE_NUMBER      success (offset -1 for a duplicate)
//   MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE with several records
//                                          split in halves and re-enqueued
//   OUT_OF_ORDER_SEQUENCE_NUMBER           retried when an earlier batch of
//                                          the partition failed (its sequence
//                                          is not the next expected one);
//                                          else an epoch bump (KIP-360)
//   UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH
//                                          epoch bump, then retried
//   retriable errors (NOT_LEADER_OR_FOLLOWER, ...), transport failures and
//   request timeouts                       retried after retry.backoff.ms
//                                          (metadata refreshed for metadata
//                                          errors) while retries and
//                                          delivery.timeout.ms allow
//   anything else                          the records fail with that error
// A batch that fails for good after it was given a sequence leaves a gap
// in its partition's sequence: the producer bumps its epoch so that later
// batches are accepted.
//
// delivery.timeout.ms bounds a record's life: queued batches expire in
// step 2; a Produce request's own timeout is cut to the delivery deadline of
// its oldest batch, so in-flight batches fail on time too.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/net/net_client.h"
#include "io/lifetime.h"
#include "io/timer.h"
#include "client/producer/producer_id_manager.h"
#include "client/producer/record_accumulator.h"

namespace kfk::producer {

struct SenderConfig {
  int16_t acks = -1;                      // acks: -1 (all), 0, 1
  int64_t request_timeout_ms = 30000;     // request.timeout.ms
  int max_in_flight = 5;                  // max.in.flight.requests.per.connection
  int32_t retries = INT32_MAX;            // retries
  int64_t delivery_timeout_ms = 120000;   // delivery.timeout.ms
  size_t max_request_size = 1u << 20;     // max.request.size
  bool idempotent = true;                 // enable.idempotence
  int32_t transaction_timeout_ms = 60000; // sent with InitProducerId
};

// Counters readable from any thread (Producer::metrics()).
struct SenderCounters {
  std::atomic<uint64_t> records_sent{0};
  std::atomic<uint64_t> records_failed{0};
  std::atomic<uint64_t> records_retried{0};
  std::atomic<uint64_t> batches_sent{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> requests_sent{0};
  std::atomic<uint64_t> epoch_bumps{0};
  std::atomic<int64_t> producer_id{-1};
  std::atomic<int32_t> producer_epoch{-1};

  // Set once when the producer becomes unusable (Sender::set_fatal).
  std::atomic<bool> fatal{false};
  Error fatal_error() const {
    std::lock_guard<std::mutex> lock(fatal_mu);
    return fatal_error_;
  }
  void set_fatal_error(const Error& e) {
    std::lock_guard<std::mutex> lock(fatal_mu);
    fatal_error_ = e;
    fatal.store(true, std::memory_order_release);
  }

 private:
  mutable std::mutex fatal_mu;
  Error fatal_error_;
};

class Sender {
 public:
  Sender(net::NetClient& net, RecordAccumulator& accumulator, SenderConfig config, SenderCounters& counters,
         LogFn log);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Registers for connection and metadata events and runs the first pass
  // (which asks for a producer id when idempotent).
  void start();
  // Runs a pass now.
  void run();
  // Records what ends the producer (e.g. CLUSTER_AUTHORIZATION_FAILED on
  // InitProducerId): every queued batch fails with it, later ones too.
  void set_fatal(const Error& error);
  // The fatal error, if any (network thread; other threads read
  // SenderCounters::fatal_error()).
  Error fatal_error() const { return fatal_; }
  // Close without waiting: every queued batch fails with `error`; requests
  // in flight complete with it when the network stops.
  void abort(const Error& error);
  // Produce requests in flight.
  int in_flight_requests() const { return total_in_flight_; }

 private:
  struct InFlightRequest;
  struct PartitionsByNode;

  int64_t now_ms() const;

  void expire_queued(int64_t now);
  void send_ready(int64_t now, int64_t* next_wake_ms);
  const std::vector<PartitionRef>& partitions_led_by(int32_t node);
  void send_produce(int32_t node, std::vector<BatchPtr>& batches, int64_t now);
  void on_produce_response(const std::shared_ptr<InFlightRequest>& req, const Error& err,
                           const proto::ProduceResponse& resp);
  void on_partition_result(BatchPtr batch, int16_t code, int64_t base_offset, int64_t log_append_time,
                           const std::optional<std::string>& message, int64_t now);
  void on_batch_transport_error(BatchPtr batch, const Error& err, int64_t now);
  void retry(BatchPtr batch, int64_t now);
  void fail(BatchPtr batch, const Error& err);
  void succeed(BatchPtr batch, int64_t base_offset, int64_t log_append_time);
  // The batch left the network (done or back in the queue).
  void release(const ProducerBatch& batch);
  bool can_retry(const ProducerBatch& batch, int64_t now) const;
  void arm_timer(int64_t delay_ms);

  net::NetClient& net_;
  RecordAccumulator& acc_;
  const SenderConfig config_;
  SenderCounters& counters_;
  LogFn log_;
  io::Lifetime lifetime_;  // io/lifetime.h
  std::unique_ptr<io::Timer> timer_;
  bool in_run_ = false;

  ProducerIdManager pid_;

  Error fatal_;
  Error abort_error_;
  bool aborted_ = false;

  std::unordered_map<int32_t, int> node_in_flight_;
  int total_in_flight_ = 0;
  std::unique_ptr<PartitionsByNode> by_node_;
  std::vector<BatchPtr> drained_;  // reused by send_ready
  ReadyResult ready_;              // reused by run
};

}  // namespace kfk::producer
