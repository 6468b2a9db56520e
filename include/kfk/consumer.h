// kfk::Consumer: reads records from Kafka, alone (manual assignment) or as a
// member of a consumer group.
//
//   kfk::Config config{{"bootstrap.servers", "localhost:9092"},
//                      {"group.id", "billing"},
//                      {"auto.offset.reset", "earliest"}};
//   std::unique_ptr<kfk::Consumer> consumer;
//   kfk::Error err = kfk::Consumer::create(config, &consumer);
//   if (!err.ok()) { std::cerr << err.to_string() << "\n"; return 1; }
//   consumer->subscribe({"orders"});
//   while (running) {
//     kfk::ConsumerRecords records = consumer->poll(std::chrono::milliseconds(500));
//     if (!records.error().ok()) { ... see "Errors" below ... }
//     for (const kfk::ConsumerRecord& r : records) {
//       std::string value;
//       if (r.value_as(value).ok()) handle(r.topic, r.partition, r.offset, value);
//     }
//   }
//   consumer->close(std::chrono::seconds(10));  // commits (auto-commit), leaves the group
//
// Threads (the contract):
//   - One application thread uses a consumer at a time: poll(), commit*(),
//     seek*(), assign(), subscribe(), close() and the other calls are not
//     made concurrently from several threads (as the Java client). A call
//     made while another thread is inside one fails at once with errc::kState
//     ("kfk::Consumer is not safe for multi-threaded access ..."; Java's
//     ConcurrentModificationException): calls returning an Error or
//     ConsumerRecords return it, commit_async() passes it to its callback
//     right away on the calling thread, subscription() logs it and returns
//     an empty list. The rebalance listener may call back into the consumer
//     (same thread). The exceptions are wakeup() (any thread, also a signal
//     handler), metrics(), assignment() and paused(), which any thread may
//     call at any time.
//   - The consumer owns a network thread. It fetches ahead (one fetch per
//     partition leader at a time; per partition one response ready for
//     poll() and up to two more held, all within fetch.max.bytes) while
//     the application processes, heartbeats the group
//     coordinator and commits in the background. The one piece of
//     application code it runs is a custom PartitionAssignor's assign()
//     (kfk/assignor.h), on the group leader, while the group waits.
//   - Rebalance listener callbacks and interceptors run on the application
//     thread, inside poll() (and inside close()/unsubscribe() for the
//     final revocation).
//
// Records are handed out without copying: a ConsumerRecord's topic, key,
// value and headers are views into the fetched (or, for compressed batches,
// decompressed) buffer, which the ConsumerRecords batch keeps alive. Copy
// what must outlive the batch (ConsumerRecord::value_as(), std::string(...)).
//
// Positions: position(tp) is the offset of the next record poll() returns
// for tp; committing "everything consumed" commits these positions. A
// partition without a committed offset (or with one out of range) starts
// where auto.offset.reset says: earliest, latest, or none (poll() then
// reports errc::kNoOffset naming the partitions, until the application
// seek()s them).
//
// Errors: poll() returns an empty batch whose error() is
//   - errc::kWakeup: wakeup() was called (the call after returns normally);
//   - errc::kNoOffset: auto.offset.reset=none and a partition has no offset;
//   - OFFSET_OUT_OF_RANGE: likewise, an out-of-range offset with reset=none;
//   - errc::kCorruptMessage (CORRUPT_MESSAGE): a batch failed its CRC check
//     or could not be decoded (the partition stays at that offset; seek past
//     it to skip);
//   - errc::kState: poll() without any subscription or assignment, or
//     while another thread is inside a call of this consumer;
//   - UNKNOWN_TOPIC_OR_PARTITION (or TOPIC_AUTHORIZATION_FAILED, ...): a
//     subscribed topic is not available, message "Subscribed topic not
//     available: <topic>: Broker: <reason>" (librdkafka's words). Reported
//     (and logged) once per topic and error, again when the error changes
//     or comes back after the topic was seen; the subscription stays, and
//     the topic is assigned once it exists;
//   - a fatal() error (FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED, ...):
//     the consumer is unusable; close it;
//   - TOPIC_AUTHORIZATION_FAILED and other non-retriable partition errors.
// The consumer retries retriable problems (leader changes, coordinator
// moves, rebalances, broken connections) itself; they are not reported.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kfk/assignor.h"
#include "kfk/config.h"
#include "kfk/error.h"
#include "kfk/serializer.h"
#include "kfk/topic_partition.h"

namespace kfk {

enum class TimestampType : int8_t {
  kNone = -1,           // no timestamp
  kCreateTime = 0,      // set by the producer
  kLogAppendTime = 1,   // set by the broker when it appended the record
};

// A record header as consumed: views into the batch's buffer.
struct ConsumerHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: null header value
};

// One consumed record. Every view points into memory owned by the
// ConsumerRecords batch the record came from.
struct ConsumerRecord {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp = -1;  // ms since the epoch
  TimestampType timestamp_type = TimestampType::kCreateTime;
  std::optional<std::span<const std::byte>> key;    // nullopt: null key
  std::optional<std::span<const std::byte>> value;  // nullopt: null value (tombstone)
  std::span<const ConsumerHeader> headers;
  // The leader epoch the record was written in; nullopt when the broker
  // does not say (pre-KIP-101 batches).
  std::optional<int32_t> leader_epoch;

  // The record's partition as a TopicPartition (copies the topic name), e.g.
  // for commit_sync({{r.topic_partition(), {r.offset + 1}}}).
  TopicPartition topic_partition() const { return TopicPartition(std::string(topic), partition); }

  // Key / value as text (empty for null).
  std::string_view key_view() const { return key ? as_view(*key) : std::string_view(); }
  std::string_view value_view() const { return value ? as_view(*value) : std::string_view(); }

  // Deserializes the key / value into `out` with kfk::Deserializer<T> (or
  // the given deserializer). A null key / value leaves `out` untouched and
  // returns errc::kInvalidArgument ("null value"): test `value` first when
  // tombstones are expected.
  template <class T, class D = Deserializer<T>>
  Error key_as(T& out, const D& d = D()) const {
    if (!key) return Error(errc::kInvalidArgument, "null key");
    return d.deserialize(topic, *key, out);
  }
  template <class T, class D = Deserializer<T>>
  Error value_as(T& out, const D& d = D()) const {
    if (!value) return Error(errc::kInvalidArgument, "null value");
    return d.deserialize(topic, *value, out);
  }

 private:
  static std::string_view as_view(std::span<const std::byte> s) {
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
};

// What one poll() returns: records (in offset order within a partition),
// partitions that reached their end (enable.partition.eof), or an error.
// Move-only; keeps the buffers the records point into alive.
class KFK_EXPORT ConsumerRecords {
 public:
  ConsumerRecords() = default;
  explicit ConsumerRecords(Error error) : error_(std::move(error)) {}
  ConsumerRecords(ConsumerRecords&&) noexcept = default;
  ConsumerRecords& operator=(ConsumerRecords&&) noexcept = default;
  ConsumerRecords(const ConsumerRecords&) = delete;
  ConsumerRecords& operator=(const ConsumerRecords&) = delete;

  const Error& error() const { return error_; }
  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const ConsumerRecord& operator[](size_t i) const { return records_[i]; }
  std::vector<ConsumerRecord>::const_iterator begin() const { return records_.begin(); }
  std::vector<ConsumerRecord>::const_iterator end() const { return records_.end(); }
  // With enable.partition.eof=true: partitions whose last record (at the
  // time of the fetch) this batch, or an earlier one, delivered. Reported
  // once each time a partition reaches its end.
  const std::vector<TopicPartition>& eof_partitions() const { return eof_; }

  // For the consumer and interceptors: the records (an interceptor may
  // remove or change entries; any views it adds must stay valid, e.g. by
  // keeping their memory in keep_alive()).
  std::vector<ConsumerRecord>& mutable_records() { return records_; }
  void keep_alive(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }

 private:
  friend class ConsumerRecordsBuilder;
  Error error_;
  std::vector<ConsumerRecord> records_;
  std::vector<TopicPartition> eof_;
  std::vector<std::shared_ptr<const void>> owners_;  // frames, decompressed buffers
  std::vector<ConsumerHeader> headers_;              // every record's headers, one block
};

// OffsetAndMetadata, an offset to commit with optional metadata (stored with
// the commit and returned by committed()): kfk/topic_partition.h.

// offsets_for_times(): the earliest offset whose timestamp is >= the one
// asked for; offset -1 when there is none.
struct OffsetAndTimestamp {
  int64_t offset = -1;
  int64_t timestamp = -1;
  std::optional<int32_t> leader_epoch;
};

// Called inside poll() on the application thread when the group's
// assignment changes (subscribe() only; never for assign()).
//   eager protocols ("range", "roundrobin", "sticky"): before every
//   rebalance everything is revoked, then the new assignment assigned.
//   cooperative ("cooperative-sticky"): only partitions that move away are
//   revoked; assigned lists only newly added partitions.
// on_partitions_lost: the partitions were taken away without a clean
// revocation (the member was fenced or fell out of the group, e.g.
// max.poll.interval.ms or session.timeout.ms expired, or the coordinator
// answered UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION): another member may
// already own them, so do not commit for them. Instead of, never in
// addition to, on_partitions_revoked (as Java's ConsumerCoordinator): one
// callback per change, also when a revocation was due when the member was
// removed.
// The listener is given to subscribe(topics, listener) (Java's form; it may
// then capture the consumer it is subscribed on) or, for every
// subscription made without one, in ConsumerOptions at create().
class KFK_EXPORT RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // Commit processed offsets here (commit_sync() works inside).
  virtual void on_partitions_revoked(const std::vector<TopicPartition>& partitions) { (void)partitions; }
  // Seek here to start somewhere else than the committed offset.
  virtual void on_partitions_assigned(const std::vector<TopicPartition>& partitions) { (void)partitions; }
  // Default: treated like a revocation (Java's default).
  virtual void on_partitions_lost(const std::vector<TopicPartition>& partitions) { on_partitions_revoked(partitions); }
};

// See every batch before the application and every commit.
// Run on the application thread, in the order configured; an interceptor
// that throws is logged and skipped.
class KFK_EXPORT ConsumerInterceptor {
 public:
  virtual ~ConsumerInterceptor() = default;
  // Inside poll(), before the batch is returned: may remove, reorder or
  // change records (see ConsumerRecords::mutable_records()).
  virtual void on_consume(ConsumerRecords& records) { (void)records; }
  // After a commit succeeded (commit_sync(), commit_async() or auto-commit),
  // with the offsets committed. Auto-commits and async commits report from
  // inside a later poll()/commit call, on the application thread.
  virtual void on_commit(const std::map<TopicPartition, OffsetAndMetadata>& offsets) { (void)offsets; }
  virtual void close() {}
};

// Counters since the consumer was created. Read with Consumer::metrics()
// from any thread. New fields are only ever added at the end: a program
// built against an older kfk/consumer.h keeps working with a newer libkfk.
struct ConsumerMetrics {
  uint64_t records_consumed = 0;   // records returned by poll()
  uint64_t bytes_fetched = 0;      // record batch bytes received
  uint64_t fetch_requests = 0;     // Fetch requests sent
  uint64_t fetch_errors = 0;       // partition-level fetch errors
  uint64_t rebalances = 0;         // assignments received (group mode)
  uint64_t commits = 0;            // successful offset commits
  uint64_t commit_failures = 0;    // failed offset commits
  int32_t generation_id = -1;      // current group generation (-1: none)
  std::string member_id;           // current member id ("" before joining)
  size_t buffered_fetches = 0;     // fetched partition responses waiting for poll()
};

// What a consumer needs beyond string properties.
struct ConsumerOptions {
  // Called inside poll() on assignment changes (see RebalanceListener).
  std::shared_ptr<RebalanceListener> rebalance_listener;
  // Run in this order (see ConsumerInterceptor).
  std::vector<std::shared_ptr<ConsumerInterceptor>> interceptors;
  // Assignor objects offered to the group, in preference order; when not
  // empty they replace partition.assignment.strategy.
  std::vector<std::shared_ptr<PartitionAssignor>> assignors;
  // Where the consumer reports what has no caller to return an error to
  // (failed auto-commits, a listener that threw, adjusted defaults) and what
  // the application should know of (removal from the group for exceeding
  // max.poll.interval.ms, a subscribed topic that is not available). Called
  // from the application or the network thread; default: stderr, each line
  // prefixed "kfk consumer: ".
  std::function<void(std::string_view message)> log;
};

using CommitCallback = std::function<void(const std::map<TopicPartition, OffsetAndMetadata>& offsets, const Error&)>;

class KFK_EXPORT Consumer {
 public:
  // Validates `config` (errc::kInvalidClientConfig naming the key, see
  // kfk/config.h) and starts the network thread. Does not wait for the
  // cluster.
  static Error create(const Config& config, std::unique_ptr<Consumer>* out, ConsumerOptions options = {});

  // close() with a 30 s timeout when not closed yet.
  virtual ~Consumer() = default;

  // --- Group subscription (requires group.id) -------------------------------
  // Subscribes to exactly these topics (replacing any previous subscription
  // or manual assignment). The group rebalances on the next poll().
  // errc::kInvalidArgument for an empty topic name; errc::kInvalidClientConfig
  // without group.id.
  // The listener for this subscription is ConsumerOptions::rebalance_listener.
  virtual Error subscribe(const std::vector<std::string>& topics) = 0;
  // As above, with `listener` (may be null: none) for this subscription
  // instead of the one given to create(), as Java's subscribe(topics,
  // listener). It takes effect at once: the next revocation already goes
  // to it. A later subscribe() without a listener goes back to create()'s.
  virtual Error subscribe(const std::vector<std::string>& topics, std::shared_ptr<RebalanceListener> listener) = 0;
  // Subscribes to every topic whose whole name matches `pattern`
  // (std::regex_match), re-evaluated whenever the cluster metadata changes
  // (new matching topics trigger a rebalance). Internal topics are skipped
  // with exclude.internal.topics=true (default).
  // (A separate name: subscribe({"topic"}) would be ambiguous otherwise.)
  virtual Error subscribe_pattern(const std::regex& pattern) = 0;
  // With a listener for this subscription (see subscribe(topics, listener)).
  virtual Error subscribe_pattern(const std::regex& pattern, std::shared_ptr<RebalanceListener> listener) = 0;
  // Leaves the group (revoking everything through the listener).
  virtual Error unsubscribe() = 0;
  // The subscribed topic names (for a pattern: the matching topics known so
  // far).
  virtual std::vector<std::string> subscription() const = 0;

  // --- Manual assignment ------------------------------------------------------
  // Consumes exactly these partitions, no group membership (replacing a
  // subscription). Positions start at the committed offset when group.id is
  // set, else per auto.offset.reset. An empty list unassigns everything.
  virtual Error assign(const std::vector<TopicPartition>& partitions) = 0;
  // The partitions assigned now (by the group or assign()).
  virtual std::vector<TopicPartition> assignment() const = 0;

  // --- Consuming ---------------------------------------------------------------
  // Returns up to max.poll.records records, waiting up to `timeout` for some
  // to arrive. Drives group membership (runs the rebalance listener) and
  // auto-commits. Returns earlier, with an empty batch, when the assignment
  // changed or partitions reached their end. See "Errors" above.
  virtual ConsumerRecords poll(std::chrono::milliseconds timeout) = 0;
  // Makes the current (or next) poll() return errc::kWakeup. Any thread,
  // any time while the consumer exists (not concurrently with its
  // destruction), and async-signal-safe: it only stores to a lock-free
  // atomic and calls uv_async_send(), so a SIGINT/SIGTERM handler may call
  // it to end a blocking poll(). Other calls (commit_sync(), position(),
  // close(), ...) are not interrupted; they end at their timeouts.
  virtual void wakeup() = 0;

  // --- Offsets -----------------------------------------------------------------
  // Commits the position of every assigned partition (what poll() returned)
  // and waits for the answer, retrying retriable errors until `timeout`.
  // A member removed from the group (it exceeded max.poll.interval.ms, or
  // the coordinator answered UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or
  // FENCED_INSTANCE_ID) gets that code (UNKNOWN_MEMBER_ID when nothing was
  // sent) with Java's CommitFailedException text: "Commit cannot be
  // completed since the group has already rebalanced and assigned the
  // partitions to another member. ... You can address this either by
  // increasing max.poll.interval.ms or by reducing the maximum size of
  // batches returned in poll() with max.poll.records." The next poll()
  // reports the partitions lost and rejoins.
  virtual Error commit_sync(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  // Commits the given offsets (the offset of the next record to read, i.e.
  // last processed + 1), with their metadata.
  virtual Error commit_sync(const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  // Asynchronous commits: `callback` (may be empty) runs on the application
  // thread inside a later poll(), commit or close() call, in commit order.
  virtual void commit_async(CommitCallback callback = {}) = 0;
  virtual void commit_async(const std::map<TopicPartition, OffsetAndMetadata>& offsets, CommitCallback callback = {}) = 0;
  // The committed offsets of the group for `partitions` (absent: none).
  virtual Error committed(const std::vector<TopicPartition>& partitions,
                          std::map<TopicPartition, OffsetAndMetadata>* out,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;

  // The offset of the next record poll() returns for `tp`, waiting up to
  // `timeout` for it to be known (the committed offset or a reset).
  // errc::kState when `tp` is not assigned; errc::kNoOffset with
  // auto.offset.reset=none and no committed offset.
  virtual Error position(const TopicPartition& tp, int64_t* out,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  // The next poll() returns records of `tp` from `offset` on (buffered
  // records of tp are dropped). errc::kState when not assigned.
  virtual Error seek(const TopicPartition& tp, int64_t offset) = 0;
  // Lazily, on the next poll()/position(): the log start / end. An empty
  // list means every assigned partition.
  virtual Error seek_to_beginning(const std::vector<TopicPartition>& partitions = {}) = 0;
  virtual Error seek_to_end(const std::vector<TopicPartition>& partitions = {}) = 0;
  // For each partition, the earliest offset with a timestamp >= the given
  // one (ListOffsets); offset -1 when every record is older.
  virtual Error offsets_for_times(const std::map<TopicPartition, int64_t>& timestamps,
                                  std::map<TopicPartition, OffsetAndTimestamp>* out,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  // Log start (earliest) and end (next offset to be written, the high
  // watermark or, read_committed, the last stable offset) of partitions.
  virtual Error beginning_offsets(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, int64_t>* out,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  virtual Error end_offsets(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, int64_t>* out,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;

  // --- Flow control --------------------------------------------------------------
  // Paused partitions stay assigned but are not fetched; poll() returns
  // nothing for them (already buffered records are kept for resume()).
  virtual Error pause(const std::vector<TopicPartition>& partitions) = 0;
  virtual Error resume(const std::vector<TopicPartition>& partitions) = 0;
  virtual std::vector<TopicPartition> paused() const = 0;

  // --- Lifecycle ----------------------------------------------------------------------
  // Commits the positions (enable.auto.commit), revokes through the
  // listener, leaves the group (not for static members, group.instance.id:
  // their partitions wait for them until session.timeout.ms) and stops the
  // network thread. Returns within `timeout`. A failed final auto-commit
  // is logged, not returned (as in Java: it fails routinely when other
  // members leave at the same time); call commit_sync() first to know.
  // Idempotent; every later call
  // fails with errc::kDestroyed.
  virtual Error close(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;

  // Any thread.
  ConsumerMetrics metrics() const {
    ConsumerMetrics m;
    fill_metrics(&m, sizeof m);
    return m;
  }

 protected:
  // Implements metrics(): sets the fields of *out that lie within its first
  // `size` bytes (sizeof(ConsumerMetrics) in the caller's header).
  virtual void fill_metrics(ConsumerMetrics* out, size_t size) const = 0;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
