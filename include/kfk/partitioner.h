// Choosing a partition for a record.
//
// A record with an explicit partition goes there. Otherwise the producer's
// partitioner picks one. The built-in partitioners, by the name given to the
// producer's `partitioner` setting (or to kfk::create_partitioner):
//
//   "default"            Keyed records: to_positive(murmur2(key)) % partitions,
//                        the placement of the Java client's default partitioner
//                        (and of librdkafka's "murmur2_random"), so kfk, Java and
//                        librdkafka producers agree on where a key goes. Records
//                        with a null key: uniform sticky (KIP-480/794): every
//                        null-key record of a topic goes to one partition until
//                        that partition's batch is closed (batch.size reached) or
//                        sent; then another available partition is picked at
//                        random. An empty (non-null) key is hashed like any key.
//   "murmur2"            The same as "default". (librdkafka's "murmur2" sends
//                        null-key records to one fixed partition; kfk's spreads
//                        them with the sticky rule.)
//   "murmur2_random"     The same as "default": librdkafka's name for the Java
//                        placement. librdkafka picks a random partition per
//                        null-key record; kfk uses the sticky rule, which fills
//                        batches better and spreads the same way over time.
//   "consistent"         librdkafka's "consistent": CRC-32 (IEEE) of the key
//                        modulo the partition count; a null key hashes as empty
//                        (always partition 0). For producers that must keep
//                        librdkafka's CRC-32 placement (librdkafka's default
//                        before the Java-compatible murmur2 was common).
//   "consistent_random"  librdkafka's "consistent_random" (librdkafka's own
//                        default): CRC-32 for non-empty keys; null and empty
//                        keys go sticky (librdkafka: random per record).
//   "fnv1a"              librdkafka's "fnv1a" (Sarama's hash partitioner):
//                        |FNV-1a 32(key)| modulo the partition count; a null
//                        key hashes as empty.
//   "fnv1a_random"       librdkafka's "fnv1a_random": FNV-1a for keys, sticky
//                        for null keys (librdkafka: random per record).
//   "random"             A uniformly random available partition per record
//                        (librdkafka's "random"). Defeats batching; prefer
//                        "uniform_sticky".
//   "round_robin"        Java's RoundRobinPartitioner: ignores keys; a per-topic
//                        counter walks over the available partitions (all of
//                        them when none is known to be available).
//   "uniform_sticky"     Java's UniformStickyPartitioner: ignores keys; every
//                        record goes sticky.
//
// Your own partitioner: implement kfk::Partitioner and either hand an
// instance to the producer's configuration, or register a factory under a
// name so that configuration by name works:
//
//   class ByRegion : public kfk::Partitioner {
//    public:
//     int32_t partition(const kfk::PartitionerContext& ctx) override {
//       return region_of(ctx.key) % ctx.num_partitions;
//     }
//   };
//   kfk::register_partitioner("by-region", [] { return std::make_unique<ByRegion>(); });
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kfk/error.h"

namespace kfk {

// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2): seed
// 0x9747b28c, m 0x5bd1e995, r 24, Java's tail handling. Equal to the Java
// client's and to librdkafka's murmur2.
int32_t murmur2(const void* data, size_t size) noexcept;
inline int32_t murmur2(std::span<const std::byte> data) noexcept { return murmur2(data.data(), data.size()); }

// Kafka's Utils.toPositive: clears the sign bit (not abs()).
constexpr int32_t to_positive(int32_t x) noexcept { return x & 0x7fffffff; }

// The Java client's key placement: to_positive(murmur2(key)) % num_partitions.
inline int32_t murmur2_partition(std::span<const std::byte> key, int32_t num_partitions) noexcept {
  return to_positive(murmur2(key)) % num_partitions;
}

// CRC-32 (IEEE 802.3, as zlib's crc32) and librdkafka's "consistent" key
// placement: crc32(key) % num_partitions (unsigned).
uint32_t crc32_ieee(const void* data, size_t size) noexcept;
inline int32_t consistent_partition(std::span<const std::byte> key, int32_t num_partitions) noexcept {
  return static_cast<int32_t>(crc32_ieee(key.data(), key.size()) % static_cast<uint32_t>(num_partitions));
}

// librdkafka's rd_fnv1a (Sarama-compatible): FNV-1a 32 of the bytes, as a
// signed value made non-negative by negation; the "fnv1a" placement is
// fnv1a_hash(key) % num_partitions (unsigned).
uint32_t fnv1a_hash(const void* data, size_t size) noexcept;
inline int32_t fnv1a_partition(std::span<const std::byte> key, int32_t num_partitions) noexcept {
  return static_cast<int32_t>(fnv1a_hash(key.data(), key.size()) % static_cast<uint32_t>(num_partitions));
}

// What a partitioner gets to decide with.
struct PartitionerContext {
  std::string_view topic;
  std::optional<std::span<const std::byte>> key;    // serialized; nullopt: null key
  std::optional<std::span<const std::byte>> value;  // serialized; nullopt: null value
  int32_t num_partitions = 0;                       // > 0
  // Partitions whose leader is known, ascending. Empty when unknown: treat
  // all num_partitions as available.
  std::span<const int32_t> available_partitions;
};

class KFK_EXPORT Partitioner {
 public:
  virtual ~Partitioner() = default;

  // Returns a partition in [0, ctx.num_partitions).
  // Called from application threads, possibly several at once: must be
  // thread-safe.
  virtual int32_t partition(const PartitionerContext& ctx) = 0;

  // The batch that records of `topic` were going to `prev_partition` in was
  // closed (full) or sent, and the next record would start a new batch
  // there. Sticky partitioners move to another partition. The producer
  // calls partition() again right after, for the record that found no room.
  // Called from application threads. Only called when new_batch_hints()
  // returns true.
  virtual void on_new_batch(std::string_view topic, int32_t prev_partition) {
    (void)topic;
    (void)prev_partition;
  }
  // True when on_new_batch() matters. Partitioners that count calls to
  // partition() (round robin) leave it false: the extra partition() call
  // after on_new_batch() would skip partitions (KAFKA-9965).
  virtual bool new_batch_hints() const { return false; }

  // The producer is closing.
  virtual void close() {}
};

// Makes a fresh partitioner; one per producer.
using PartitionerFactory = std::function<std::unique_ptr<Partitioner>()>;

// Registers a partitioner under `name` for create_partitioner() and the
// producer's `partitioner` setting. Fails (errc::kInvalidArgument) when the
// name is empty, is a built-in name, or is already registered.
// Thread-safe.
KFK_EXPORT Error register_partitioner(std::string name, PartitionerFactory factory);
// Removes a registration; false when the name was not registered.
KFK_EXPORT bool unregister_partitioner(std::string_view name);

// Creates the partitioner registered (or built in) under `name`. Unknown
// names fail with errc::kInvalidClientConfig, listing the known ones.
KFK_EXPORT Error create_partitioner(std::string_view name, std::unique_ptr<Partitioner>& out);

// Every name create_partitioner() accepts (built-in and registered), sorted.
KFK_EXPORT std::vector<std::string> partitioner_names();

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
