// kfk::Config: the configuration of a producer, consumer or admin client.
//
// A Config is a bag of string properties named as in the Java client (two
// keys Java lacks come from librdkafka, marked "librdkafka's key" below).
// librdkafka's own names for Java's settings (e.g. queue.buffering.max.ms
// for linger.ms) are not accepted: they fail as unknown keys (with a close
// known name suggested when there is one). Setting a property never fails;
// the whole configuration is checked when a client is created, which then fails with
// errc::kInvalidClientConfig naming the offending key (unknown key, bad value,
// conflicting keys), or errc::kUnsupportedFeature for a valid Kafka setting
// that this build of kfk cannot honour (e.g. security.protocol=SSL).
//
//   kfk::Config c{{"bootstrap.servers", "broker1:9092,broker2:9092"},
//                 {"acks", "all"}};
//   c.set("linger.ms", "10");
//
// Values are parsed as follows:
//   int, long  decimal, surrounding spaces ignored ("  5 " is 5);
//   bool       "true" or "false", any case;
//   list       comma-separated, items trimmed, empty items dropped;
//   enum       one of the listed words, exactly (case-sensitive).
// A key that belongs to another kind of client (group.id on a producer) is
// accepted and ignored, as in the Java client.
//
// Every key follows, with its default and meaning. "Applies to" names the
// kinds of client that read it. "Not available yet" marks values of a key
// that this version of kfk cannot honour: create() refuses them with
// errc::kUnsupportedFeature (the documentation test creates each client with
// each listed value and checks that).
//
// ===========================================================================
// Common keys
// ===========================================================================
//
//   bootstrap.servers
//     default: ""
//     Applies to: producer, consumer, admin. Type: list. Required.
//     host:port pairs used to discover the cluster, e.g.
//     "k1:9092,k2:9092,[::1]:9092". They are tried in random order until one
//     answers; afterwards the brokers named by the cluster metadata are used.
//     A host without a port gets 9092.
//
//   client.id
//     default: ""
//     Applies to: producer, consumer, admin. Type: string.
//     Sent with every request (broker logs and quotas). Empty: kfk uses
//     "kfk-producer-N", "kfk-consumer-N" or "kfk-admin-N".
//
//   request.timeout.ms
//     default: 30000
//     Applies to: producer, consumer, admin. Type: int, 0..2147483647.
//     How long to wait for the answer to a request. When it passes, the
//     connection is closed (as the Java client does) and every request in
//     flight on it fails with a retriable error.
//
//   metadata.max.age.ms
//     default: 300000
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     Cluster metadata is refreshed at least this often, even without a
//     reason to (new brokers, new partitions).
//
//   reconnect.backoff.ms
//     default: 50
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     Wait before reconnecting to a broker after a connection failed. The
//     wait doubles with every consecutive failure up to
//     reconnect.backoff.max.ms, with +/-20% random jitter.
//
//   reconnect.backoff.max.ms
//     default: 1000
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     The upper bound of the reconnect wait.
//
//   retry.backoff.ms
//     default: 100
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     Wait before retrying a failed request (and between metadata refresh
//     attempts); doubles per consecutive failure up to retry.backoff.max.ms,
//     with +/-20% jitter (KIP-580).
//
//   retry.backoff.max.ms
//     default: 1000
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     The upper bound of the retry wait.
//
//   connections.max.idle.ms
//     default: 540000
//     Applies to: producer, consumer, admin. Type: long, >= 0 (0: never).
//     A connection with no request outstanding and no traffic for this long
//     is closed; it is opened again when next needed.
//
//   socket.connection.setup.timeout.ms
//     default: 10000
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     How long a connection may take to become usable (name resolution, TCP
//     connect, ApiVersions). Doubles with every consecutive failure to
//     connect to the same broker, up to socket.connection.setup.timeout.max.ms.
//
//   socket.connection.setup.timeout.max.ms
//     default: 30000
//     Applies to: producer, consumer, admin. Type: long, >= 0.
//     The upper bound of the connection setup timeout.
//
//   socket.send.buffer.bytes
//     default: -1
//     Applies to: producer, consumer, admin. Type: int, >= -1.
//     SO_SNDBUF of broker connections; -1 (or 0) keeps the operating
//     system's default, as librdkafka does. Setting any size turns off
//     Linux's send-buffer autotuning: with Java's 131072 a 1 MB Produce
//     request goes out in several partial writes, each a wakeup.
//
//   socket.receive.buffer.bytes
//     default: -1
//     Applies to: producer, consumer, admin. Type: int, >= -1.
//     SO_RCVBUF of broker connections; -1 (or 0) keeps the operating
//     system's default (autotuned), as librdkafka does. A fixed size caps
//     the TCP window: Java's 65536 halves what a consumer reads from a
//     nearby broker, and limits more on long links.
//
//   security.protocol
//     default: PLAINTEXT
//     Applies to: producer, consumer, admin. Type: enum.
//     PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
//     Not available yet: create() fails (errc::kUnsupportedFeature) for "SSL", "SASL_PLAINTEXT", "SASL_SSL".
//
//   retries
//     default: 2147483647
//     Applies to: producer, admin. Type: int, >= 0.
//     How many times a failed request with a retriable error is retried.
//     Producer sends are bounded by delivery.timeout.ms rather than by this
//     count; 0 disables retries (and conflicts with enable.idempotence=true).
//
//   default.api.timeout.ms
//     default: 60000
//     Applies to: consumer, admin. Type: int, >= 0.
//     The timeout of blocking consumer and admin calls that take no
//     explicit timeout.
//
// ===========================================================================
// Producer keys
// ===========================================================================
//
//   acks
//     default: all
//     Applies to: producer. Type: enum: all, -1, 0, 1.
//     Acknowledgements the leader waits for: all/-1 the full in-sync replica
//     set, 1 the leader only, 0 none (no response at all).
//
//   enable.idempotence
//     default: true
//     Applies to: producer. Type: bool.
//     Exactly-once, in-order delivery per partition (producer ids and
//     sequence numbers). Requires acks=all, max.in.flight <= 5 and
//     retries > 0. When set to true explicitly, any conflicting setting is
//     an error naming both keys. When left at its default, conflicting
//     settings (e.g. acks=1) silently turn idempotence off, as in the Java
//     client.
//
//   batch.size
//     default: 16384
//     Applies to: producer. Type: int, >= 0.
//     Upper bound in bytes of a record batch per partition; 0 disables
//     batching.
//
//   linger.ms
//     default: 5
//     Applies to: producer. Type: long, >= 0.
//     How long a batch waits for more records before it is sent (Kafka
//     4.0's default).
//
//   buffer.memory
//     default: 33554432
//     Applies to: producer. Type: long, >= 0.
//     Bytes of records the producer may buffer before send() blocks (for up
//     to max.block.ms). Counts each batch at batch.size (or its one larger
//     record) plus, once the batch is closed, its per-record bookkeeping
//     (about 72 bytes per record with a callback), so that it bounds the
//     producer's memory rather than only the records' encoded bytes.
//
//   max.block.ms
//     default: 60000
//     Applies to: producer. Type: long, >= 0.
//     How long send(), and other producer calls, may block waiting for
//     metadata or buffer space.
//
//   max.request.size
//     default: 1048576
//     Applies to: producer. Type: int, >= 0.
//     Largest produce request in bytes; also the largest record.
//
//   compression.type
//     default: none
//     Applies to: producer. Type: enum: none, gzip, snappy, lz4, zstd.
//     Codec for record batches. A codec left out of this build fails client
//     creation with errc::kUnsupportedFeature.
//
//   compression.level
//     default: -1
//     Applies to: producer. Type: int, -1..22.
//     Level for the codec chosen by compression.type (librdkafka's key);
//     -1 uses the codec's own key below. When set, must suit the codec:
//     gzip 1..9, lz4 1..17, zstd 1..22, none/snappy any.
//
//   compression.gzip.level
//     default: -1
//     Applies to: producer. Type: int, -1 or 1..9.
//     gzip level; -1 is zlib's default (6).
//
//   compression.lz4.level
//     default: 9
//     Applies to: producer. Type: int, 1..17.
//     lz4 level. 9, the default, uses lz4's fast compressor (as the Java
//     client does); other levels use LZ4HC at that level (slower, smaller).
//
//   compression.zstd.level
//     default: 3
//     Applies to: producer. Type: int, -131072..22.
//     zstd level.
//
//   max.in.flight.requests.per.connection
//     default: 5
//     Applies to: producer. Type: int, >= 1.
//     Requests sent to one broker without waiting for their answers. At most
//     5 with idempotence.
//
//   delivery.timeout.ms
//     default: 120000
//     Applies to: producer. Type: int, >= 0.
//     Upper bound on the time between send() and the delivery report,
//     retries included. Must be >= linger.ms + request.timeout.ms; if it is
//     not and it was set explicitly, that is an error; if it was left at
//     its default, it is raised to linger.ms + request.timeout.ms (as Java).
//
//   partitioner
//     default: default
//     Applies to: producer. Type: string: a built-in name below, or a name
//     registered with kfk::register_partitioner (see kfk/partitioner.h).
//     How records without an explicit partition are placed (details in
//     kfk/partitioner.h):
//       default          Java's built-in partitioner: to_positive(murmur2(key))
//                        % partitions for keyed records (identical to Java and
//                        to librdkafka's murmur2_random); keyless records go
//                        sticky (KIP-480/794: one partition until its batch is
//                        sent, then another). partitioner.ignore.keys makes
//                        every record keyless;
//       murmur2, murmur2_random
//                        the same placement as default (keyless: sticky);
//       consistent, consistent_random, fnv1a, fnv1a_random
//                        librdkafka's CRC32 / FNV-1a variants (the *_random
//                        ones: keyless records sticky);
//       random           random partition per record;
//       round_robin      Java's RoundRobinPartitioner;
//       uniform_sticky   Java's UniformStickyPartitioner (ignores keys).
//     An unknown name fails at construction, listing the known ones.
//
//   partitioner.class
//     default: ""
//     Applies to: producer. Type: string.
//     Java compatibility: one of org.apache.kafka.clients.producer.
//     RoundRobinPartitioner, UniformStickyPartitioner or
//     internals.DefaultPartitioner, mapped to round_robin, uniform_sticky
//     and default. Setting both partitioner.class and partitioner is an
//     error.
//
//   partitioner.ignore.keys
//     default: false
//     Applies to: producer. Type: bool.
//     With the default partitioner, ignore keys when choosing a partition.
//
//   partitioner.adaptive.partitioning.enable
//     default: true
//     Applies to: producer. Type: bool.
//     Accepted for compatibility with the Java client. kfk's sticky
//     partitioner moves on uniformly at random among partitions with a
//     leader; it does not yet weigh brokers by their queue lengths.
//
//   partitioner.availability.timeout.ms
//     default: 0
//     Applies to: producer. Type: long, >= 0 (0: off).
//     Accepted for compatibility with the Java client (see above): partitions
//     without a known leader are always skipped for keyless records.
//
//   metadata.max.idle.ms
//     default: 300000
//     Applies to: producer. Type: long, >= 5000.
//     A topic the producer has not sent to for this long is dropped from
//     its metadata.
//
//   transactional.id
//     default: ""
//     Applies to: producer. Type: string.
//     The transactional id: transactions when not empty, which need
//     idempotence (an error if enable.idempotence is false or was turned off
//     by a conflicting key).
//     Not available yet: create() fails (errc::kUnsupportedFeature) for "txn-1" (any non-empty value).
//
//   transaction.timeout.ms
//     default: 60000
//     Applies to: producer. Type: int, >= 1.
//     How long the coordinator lets a transaction stay open before aborting
//     it.
//
// ===========================================================================
// Consumer keys
// ===========================================================================
//
//   group.id
//     default: ""
//     Applies to: consumer. Type: string.
//     Consumer group; empty means no group (manual assignment only, no
//     offset commits).
//
//   group.instance.id
//     default: ""
//     Applies to: consumer. Type: string.
//     Static membership (KIP-345) when not empty.
//
//   group.protocol
//     default: classic
//     Applies to: consumer. Type: enum: classic, consumer.
//     classic: JoinGroup/SyncGroup rebalances; consumer: the KIP-848
//     protocol (ConsumerGroupHeartbeat).
//     Not available yet: create() fails (errc::kUnsupportedFeature) for "consumer".
//
//   enable.auto.commit
//     default: true
//     Applies to: consumer. Type: bool.
//     Commit consumed offsets in the background every
//     auto.commit.interval.ms. Explicitly true without group.id is an
//     error; left at its default without group.id it is turned off.
//
//   auto.commit.interval.ms
//     default: 5000
//     Applies to: consumer. Type: int, >= 0.
//     Interval of automatic commits.
//
//   auto.offset.reset
//     default: latest
//     Applies to: consumer. Type: enum: latest, earliest, none.
//     Where to start when there is no committed offset or it is out of
//     range; none raises errc::kNoOffset.
//
//   fetch.min.bytes
//     default: 1
//     Applies to: consumer. Type: int, >= 0.
//     The broker waits (up to fetch.max.wait.ms) until this many bytes are
//     ready before answering a fetch.
//
//   fetch.max.bytes
//     default: 52428800
//     Applies to: consumer. Type: int, >= 0.
//     Upper bound of the data returned by one fetch (the first batch of the
//     first partition is returned even if larger).
//
//   fetch.max.wait.ms
//     default: 500
//     Applies to: consumer. Type: int, >= 0.
//     How long the broker may hold a fetch waiting for fetch.min.bytes.
//
//   max.partition.fetch.bytes
//     default: 1048576
//     Applies to: consumer. Type: int, >= 0.
//     Upper bound of the data returned per partition by one fetch.
//
//   max.poll.records
//     default: 500
//     Applies to: consumer. Type: int, >= 1.
//     Most records one poll() returns.
//
//   max.poll.interval.ms
//     default: 300000
//     Applies to: consumer. Type: int, >= 1.
//     A member that does not poll for this long leaves the group.
//
//   session.timeout.ms
//     default: 45000
//     Applies to: consumer. Type: int, >= 1.
//     The coordinator removes a member whose heartbeats stop for this long.
//
//   heartbeat.interval.ms
//     default: 500
//     Applies to: consumer. Type: int, >= 1.
//     Heartbeat period; must be lower than session.timeout.ms (if only
//     session.timeout.ms is set, below 500, the default becomes a third of
//     it). With the classic group protocol a member learns that its group
//     is rebalancing only from its next heartbeat answer, so this bounds
//     how long the others leave a departed member's partitions unread:
//     with 500 a group is stable again about half a second after a member
//     leaves. Java and librdkafka default to 3000 (rebalances up to ~3 s
//     slower); raise it to that for groups of thousands of members to cut
//     coordinator load.
//
//   partition.assignment.strategy
//     default: range,cooperative-sticky
//     Applies to: consumer. Type: list of: range, roundrobin, sticky,
//     cooperative-sticky (the Java class names RangeAssignor,
//     RoundRobinAssignor, StickyAssignor, CooperativeStickyAssignor, with
//     or without their package, are accepted too).
//     Assignors offered to the group, in order of preference (Java 3.x's
//     default). Names registered with kfk::register_assignor
//     (kfk/assignor.h) before the consumer is created are accepted too.
//
//   isolation.level
//     default: read_uncommitted
//     Applies to: consumer. Type: enum: read_uncommitted, read_committed.
//     read_committed hides records of open and aborted transactions.
//
//   check.crcs
//     default: true
//     Applies to: consumer. Type: bool.
//     Verify the CRC32C of every fetched record batch.
//
//   client.rack
//     default: ""
//     Applies to: consumer. Type: string.
//     Rack of this client, to fetch from a replica in the same rack
//     (KIP-392) when the brokers allow it.
//
//   allow.auto.create.topics
//     default: true
//     Applies to: consumer. Type: bool.
//     Let metadata requests for subscribed topics create them on brokers
//     with auto.create.topics.enable=true. (The producer always allows it,
//     as Java's does; the admin client never does.)
//
//   exclude.internal.topics
//     default: true
//     Applies to: consumer. Type: bool.
//     Pattern subscriptions never match internal topics (__consumer_offsets).
//
//   enable.partition.eof
//     default: false
//     Applies to: consumer. Type: bool.
//     Report errc::kPartitionEof when a partition's end is reached
//     (librdkafka's key).
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kfk {

class KFK_EXPORT Config {
 public:
  Config() = default;
  // Config c{{"bootstrap.servers", "localhost:9092"}, {"acks", "1"}};
  Config(std::initializer_list<std::pair<std::string, std::string>> properties);

  // Sets (or replaces) a property. Never fails: the key and value are
  // checked when a client is created from this Config.
  Config& set(std::string key, std::string value);
  // Removes a property; the default applies again.
  Config& unset(std::string_view key);

  // The value set for `key`, or nullopt (defaults are not reported here).
  std::optional<std::string> get(std::string_view key) const;
  bool contains(std::string_view key) const;

  // Every property set, ordered by key.
  const std::map<std::string, std::string, std::less<>>& properties() const { return props_; }

 private:
  std::map<std::string, std::string, std::less<>> props_;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
