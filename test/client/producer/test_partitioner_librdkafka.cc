// Cross-check of kfk's key placement against librdkafka's own partitioner
// functions (called through its C API, no broker needed): 10,000 random keys
// for every partition count 1..100.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kfk/partitioner.h"

namespace {

// librdkafka starts its threads with C11 thrd_create, which gcc's
// ThreadSanitizer does not intercept: its threads crash in TSan's allocator.
#if defined(__SANITIZE_THREAD__)
constexpr bool kSkipUnderTsan = true;
#else
constexpr bool kSkipUnderTsan = false;
#endif

struct RdTopic {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt = nullptr;
  RdTopic() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE_MESSAGE(rk != nullptr, err);
    rd_kafka_topic_conf_t* tconf = rd_kafka_topic_conf_new();
    rd_kafka_topic_conf_set(tconf, "partitioner", "murmur2_random", err, sizeof err);
    rkt = rd_kafka_topic_new(rk, "cross-check", tconf);
    REQUIRE(rkt != nullptr);
  }
  ~RdTopic() {
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
  }
};

std::vector<std::string> random_keys(size_t n) {
  std::mt19937_64 rng(20240611);
  std::vector<std::string> keys(n);
  for (auto& k : keys) {
    k.resize(rng() % 65);  // 0..64 bytes: every tail length, empty keys included
    for (auto& c : k) c = static_cast<char>(rng());
  }
  return keys;
}

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span<const char>(s)); }

}  // namespace

TEST_CASE("key placement equals librdkafka's murmur2 / consistent / fnv1a partitioners" *
          doctest::skip(kSkipUnderTsan)) {
  RdTopic t;
  const auto keys = random_keys(10000);
  std::unique_ptr<kfk::Partitioner> def;
  REQUIRE(kfk::create_partitioner("default", def).ok());
  size_t murmur_mismatch = 0, crc_mismatch = 0, fnv_mismatch = 0, default_mismatch = 0, compared = 0;
  for (int32_t n = 1; n <= 100; ++n) {
    for (const auto& k : keys) {
      const int32_t rd_murmur = rd_kafka_msg_partitioner_murmur2(t.rkt, k.data(), k.size(), n, nullptr, nullptr);
      if (kfk::murmur2_partition(bytes(k), n) != rd_murmur) ++murmur_mismatch;
      // murmur2_random differs from murmur2 only for null keys.
      if (rd_kafka_msg_partitioner_murmur2_random(t.rkt, k.data(), k.size(), n, nullptr, nullptr) != rd_murmur)
        ++murmur_mismatch;
      kfk::PartitionerContext c;
      c.topic = "cross-check";
      c.key = bytes(k);
      c.num_partitions = n;
      if (def->partition(c) != rd_murmur) ++default_mismatch;
      if (kfk::consistent_partition(bytes(k), n) !=
          rd_kafka_msg_partitioner_consistent(t.rkt, k.data(), k.size(), n, nullptr, nullptr))
        ++crc_mismatch;
      if (kfk::fnv1a_partition(bytes(k), n) !=
          rd_kafka_msg_partitioner_fnv1a(t.rkt, k.data(), k.size(), n, nullptr, nullptr))
        ++fnv_mismatch;
      ++compared;
    }
  }
  CHECK(compared == 1000000);
  CHECK(murmur_mismatch == 0);
  CHECK(default_mismatch == 0);
  CHECK(crc_mismatch == 0);
  CHECK(fnv_mismatch == 0);
}

TEST_CASE("full 31-bit murmur2 hash equals librdkafka's (partition count INT32_MAX)" * doctest::skip(kSkipUnderTsan)) {
  RdTopic t;
  // (h & 0x7fffffff) % INT32_MAX is h & 0x7fffffff except for h == INT32_MAX.
  for (const auto& k : random_keys(10000)) {
    const int32_t rd = rd_kafka_msg_partitioner_murmur2(t.rkt, k.data(), k.size(), INT32_MAX, nullptr, nullptr);
    CHECK(kfk::to_positive(kfk::murmur2(bytes(k))) % INT32_MAX == rd);
  }
  // Kafka's published vectors agree with librdkafka too.
  CHECK(rd_kafka_msg_partitioner_murmur2(t.rkt, "foobar", 6, INT32_MAX, nullptr, nullptr) ==
        kfk::to_positive(-790332482));
  CHECK(rd_kafka_msg_partitioner_murmur2(t.rkt, "21", 2, INT32_MAX, nullptr, nullptr) ==
        kfk::to_positive(-973932308));
}

TEST_CASE("null keys: librdkafka's hash-everything partitioners hash them as empty" *
          doctest::skip(kSkipUnderTsan)) {
  RdTopic t;
  for (int32_t n = 1; n <= 100; ++n) {
    std::unique_ptr<kfk::Partitioner> consistent, fnv;
    REQUIRE(kfk::create_partitioner("consistent", consistent).ok());
    REQUIRE(kfk::create_partitioner("fnv1a", fnv).ok());
    kfk::PartitionerContext c;
    c.topic = "cross-check";
    c.num_partitions = n;  // c.key: null
    CHECK(consistent->partition(c) == rd_kafka_msg_partitioner_consistent(t.rkt, nullptr, 0, n, nullptr, nullptr));
    CHECK(fnv->partition(c) == rd_kafka_msg_partitioner_fnv1a(t.rkt, nullptr, 0, n, nullptr, nullptr));
  }
}
