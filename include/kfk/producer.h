// kfk::Producer: sends records to Kafka.
//
//   kfk::Config config{{"bootstrap.servers", "localhost:9092"}};
//   std::unique_ptr<kfk::Producer> producer;
//   kfk::Error err = kfk::Producer::create(config, &producer);
//   if (!err.ok()) { std::cerr << err.to_string() << "\n"; return 1; }  // names the bad key
//
//   // Asynchronous: the callback runs once, on the producer's callback thread.
//   producer->send(kfk::ProducerRecord("orders", "customer-42", "{...}"),
//                  [](const kfk::RecordMetadata& md, const kfk::Error& err) { ... });
//
//   // Synchronous: wait on the future.
//   kfk::DeliveryResult r = producer->send(kfk::ProducerRecord("orders", "k", "v")).get();
//   if (r.error.ok()) std::cout << r.metadata.partition << "@" << r.metadata.offset << "\n";
//
//   producer->flush(std::chrono::seconds(10));
//   producer->close(std::chrono::seconds(10));
//
// What happens to a record: send() runs the interceptors' on_send(), waits
// (up to max.block.ms) for the topic's metadata if it is not known yet,
// chooses the partition (an explicit one, else the partitioner), and
// encodes the record straight into its partition's open batch. The network
// thread sends batches when they are full (batch.size), have waited
// linger.ms, or flush() asks; retries retriable failures with backoff; and
// completes every record exactly once, with its offset or an error, within
// delivery.timeout.ms of send().
//
// Idempotence is on by default (enable.idempotence): the producer gets a
// producer id from the cluster, numbers its batches per partition, and the
// broker drops duplicates created by retries, so records are neither lost,
// duplicated nor reordered within a partition while retries happen. When
// the broker loses track of the sequence (OUT_OF_ORDER_SEQUENCE_NUMBER,
// UNKNOWN_PRODUCER_ID) the producer bumps its epoch (KIP-360) and carries
// on. Errors that end the producer (e.g. CLUSTER_AUTHORIZATION_FAILED on
// InitProducerId) make every later send fail with an error whose fatal() is
// true; close the producer then.
//
// Threads:
//   - send(), flush(), partitions_for() and metrics() may be called from any
//     number of application threads at once. close() from any thread but a
//     callback.
//   - Callbacks, futures and interceptors' on_acknowledgement() are
//     completed on the producer's callback thread, one record at a time, in
//     record order within a partition. The network thread never runs
//     application code, so a slow callback cannot stall sending to other
//     partitions; it delays only later callbacks (and, since a batch's
//     memory is released after its callbacks ran, eventually send() through
//     buffer.memory).
//   - flush() and close() called from inside a callback fail with
//     errc::kState instead of deadlocking.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kfk/config.h"
#include "kfk/error.h"
#include "kfk/interceptor.h"
#include "kfk/partitioner.h"
#include "kfk/record.h"

namespace kfk {

// What send()'s future holds: the metadata (on failure, the topic and, when
// known, the partition) and the outcome.
struct DeliveryResult {
  RecordMetadata metadata;
  Error error;
};

// One partition of a topic, as the cluster metadata describes it.
struct PartitionMetadata {
  std::string topic;
  int32_t partition = -1;
  int32_t leader = -1;        // broker id; -1 when the partition has no leader now
  int32_t leader_epoch = -1;  // -1 when the broker does not say
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  Error error;  // e.g. LEADER_NOT_AVAILABLE
};

// Counters since the producer was created. Read with Producer::metrics().
// New fields are only ever added at the end: a program built against an
// older kfk/producer.h keeps working with a newer libkfk.
struct ProducerMetrics {
  uint64_t records_sent = 0;      // acknowledged by the broker (or written, acks=0)
  uint64_t records_failed = 0;    // completed with an error
  uint64_t records_retried = 0;   // record sends retried (counted per attempt)
  uint64_t batches_sent = 0;      // batches put into Produce requests (retries included)
  uint64_t bytes_sent = 0;        // batch bytes put into Produce requests
  uint64_t requests_sent = 0;     // Produce requests
  uint64_t epoch_bumps = 0;       // idempotent sequence recoveries (KIP-360): an epoch bump, or a
                                  // new producer id where the broker cannot bump
  size_t buffered_bytes = 0;      // buffer.memory held by batches now
  size_t queued_batches = 0;      // batches waiting to be sent now
  int64_t producer_id = -1;       // idempotent producer id (-1 before InitProducerId)
  int16_t producer_epoch = -1;
};

// What a producer needs beyond string properties.
struct ProducerOptions {
  // A partitioner object; wins over the `partitioner` / `partitioner.class`
  // settings. Shared so that the application can keep a handle on it.
  std::shared_ptr<Partitioner> partitioner;
  // Interceptors, run in this order (see kfk/interceptor.h).
  std::vector<std::shared_ptr<ProducerInterceptor>> interceptors;
  // Where the producer reports what has no caller to return an error to
  // (an interceptor or callback that threw, adjusted defaults, a failed
  // connection, every broker down). Called from any producer thread
  // (including the network thread: do not block); default: stderr.
  std::function<void(std::string_view message)> log;
};

class KFK_EXPORT Producer {
 public:
  // Validates `config` (errc::kInvalidClientConfig naming the key, see
  // kfk/config.h), starts the network and callback threads and begins
  // bootstrapping. Does not wait for the cluster: an unreachable cluster
  // shows up as sends that fail with errc::kAllBrokersDown (the first after
  // max.block.ms), and each failed connection attempt is logged through
  // ProducerOptions::log with the address and the reason (repeats of the
  // same reason at most every 30 s per broker).
  static Error create(const Config& config, std::unique_ptr<Producer>* out, ProducerOptions options = {});

  // close() with delivery.timeout.ms as its timeout.
  virtual ~Producer() = default;

  // Queues `record`; `callback` (may be empty) runs exactly once with the
  // outcome. Blocks up to max.block.ms while the topic's metadata is
  // unknown or buffer.memory is full; failures of send() itself (unknown
  // topic, a partition out of range, a record over max.request.size, the
  // producer closed, the memory wait timing out) are reported through the
  // callback too, with the error. A partition beyond those in the cached
  // metadata fails at once (UNKNOWN_TOPIC_OR_PARTITION, as librdkafka) and
  // refreshes the metadata, so partitions just added are found by a later
  // send without waiting for metadata.max.age.ms.
  //
  // Only the first send to a topic waits max.block.ms for metadata that
  // does not come: once the cluster answered that the topic does not
  // exist, later sends to it fail at once with UNKNOWN_TOPIC_OR_PARTITION
  // until the metadata shows it; when every broker was down at the end of
  // the wait, later sends to it fail at once with errc::kAllBrokersDown
  // ("All 1 bootstrap brokers are down: 127.0.0.1:1 (...)") until a broker
  // answers again.
  //
  // Called from a delivery callback (the callback thread), send() never
  // waits for buffer.memory: only that thread frees it, so waiting could
  // only time out. It fails at once with errc::kQueueFull instead.
  virtual void send(ProducerRecord record, DeliveryCallback callback) = 0;
  // The same, completing a future instead of calling back.
  virtual std::future<DeliveryResult> send(ProducerRecord record) = 0;

  // Non-blocking send (librdkafka's produce(), franz-go's TryProduce):
  // queues `record` as send() does but never waits. Returns ok() when the
  // record was queued: `callback` was moved from and runs once with the
  // outcome. Otherwise returns the error at once and `record` and `callback`
  // are left as they were (the callback is not called; interceptors'
  // on_acknowledgement() sees the error, as for send()):
  //   - errc::kQueueFull: buffer.memory is full (retry after some
  //     callbacks ran, or slow down);
  //   - UNKNOWN_TOPIC_OR_PARTITION (retriable): the topic's metadata is not
  //     known yet (it has been requested: retry shortly), or the cluster
  //     said the topic does not exist;
  //   - errc::kAllBrokersDown: the topic is unknown and every broker is down;
  //   - any error send() reports before queueing (partition out of range,
  //     record too large, producer closed or fatal).
  virtual Error try_send(ProducerRecord&& record, DeliveryCallback&& callback) = 0;

  // Makes every queued record sendable now and waits until each record sent
  // before the call has completed (its callback has run). errc::kTimedOut
  // when `timeout` passes first (the records stay queued).
  virtual Error flush(std::chrono::milliseconds timeout = std::chrono::milliseconds::max()) = 0;

  // Stops accepting records, sends what is queued and waits for the
  // answers, then stops the threads. Returns within `timeout` (plus the
  // time a callback already running takes): records still queued or in
  // flight then complete with errc::kPurged ("producer closed"). Later
  // sends fail with errc::kDestroyed. Idempotent.
  virtual Error close(std::chrono::milliseconds timeout = std::chrono::milliseconds::max()) = 0;

  // The partitions of `topic`, waiting up to max.block.ms for its metadata.
  // Errors: UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED,
  // errc::kTimedOut.
  virtual Error partitions_for(std::string_view topic, std::vector<PartitionMetadata>* out) = 0;

  // Any thread.
  ProducerMetrics metrics() const {
    ProducerMetrics m;
    fill_metrics(&m, sizeof m);
    return m;
  }

 protected:
  // Implements metrics(): sets the fields of *out that lie within its first
  // `size` bytes (sizeof(ProducerMetrics) in the caller's header).
  virtual void fill_metrics(ProducerMetrics* out, size_t size) const = 0;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
