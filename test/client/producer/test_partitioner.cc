// murmur2 against Kafka's own vectors; the built-in partitioners' rules; the
// registry.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kfk/partitioner.h"

namespace {

std::span<const std::byte> as_key(std::string_view s) { return std::as_bytes(std::span<const char>(s)); }

kfk::PartitionerContext ctx(std::string_view topic, std::optional<std::string_view> key, int32_t n,
                            std::span<const int32_t> available = {}) {
  kfk::PartitionerContext c;
  c.topic = topic;
  if (key) c.key = as_key(*key);
  c.num_partitions = n;
  c.available_partitions = available;
  return c;
}

std::unique_ptr<kfk::Partitioner> make(std::string_view name) {
  std::unique_ptr<kfk::Partitioner> p;
  REQUIRE(kfk::create_partitioner(name, p).ok());
  REQUIRE(p != nullptr);
  return p;
}

}  // namespace

TEST_CASE("murmur2 matches Kafka's UtilsTest.testMurmur2 vectors") {
  const std::pair<const char*, int32_t> cases[] = {
      {"21", -973932308},
      {"foobar", -790332482},
      {"a-little-bit-long-string", -985981536},
      {"a-little-bit-longer-string", -1486304829},
      {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
      {"abc", 479470107},
  };
  for (const auto& c : cases) {
    const char* key = c.first;
    const int32_t expected = c.second;
    INFO(key);
    CHECK(kfk::murmur2(key, std::strlen(key)) == expected);
    CHECK(kfk::murmur2(as_key(key)) == expected);
  }
  CHECK(kfk::to_positive(-973932308) == (-973932308 & 0x7fffffff));
  CHECK(kfk::to_positive(INT32_MIN) == 0);
  CHECK(kfk::murmur2_partition(as_key("foobar"), 7) == kfk::to_positive(-790332482) % 7);
}

TEST_CASE("crc32_ieee and fnv1a_hash known values") {
  CHECK(kfk::crc32_ieee("123456789", 9) == 0xcbf43926u);  // the CRC-32 check value
  CHECK(kfk::crc32_ieee("", 0) == 0u);
  // FNV-1a 32 of "" is the offset basis 0x811c9dc5 (negative as int32): negated.
  CHECK(kfk::fnv1a_hash("", 0) == 0u - 0x811c9dc5u);
  CHECK(kfk::fnv1a_hash("a", 1) == 0u - 0xe40c292cu);  // FNV-1a("a") = 0xe40c292c, negative as int32
}

TEST_CASE("registry: built-in names, unknown names, custom partitioners") {
  for (const char* name : {"default", "murmur2", "murmur2_random", "consistent", "consistent_random", "fnv1a",
                           "fnv1a_random", "random", "round_robin", "uniform_sticky"}) {
    std::unique_ptr<kfk::Partitioner> p;
    CHECK_MESSAGE(kfk::create_partitioner(name, p).ok(), name);
  }
  std::unique_ptr<kfk::Partitioner> p;
  kfk::Error err = kfk::create_partitioner("no-such", p);
  CHECK(err.code() == kfk::errc::kInvalidClientConfig);
  CHECK(err.message().find("round_robin") != std::string::npos);  // lists the known names
  CHECK(p == nullptr);

  struct Fixed : kfk::Partitioner {
    int32_t partition(const kfk::PartitionerContext& c) override { return c.num_partitions - 1; }
  };
  CHECK(kfk::register_partitioner("test-last", [] { return std::make_unique<Fixed>(); }).ok());
  CHECK(kfk::register_partitioner("test-last", [] { return std::make_unique<Fixed>(); }).code() ==
        kfk::errc::kInvalidArgument);
  CHECK(kfk::register_partitioner("default", [] { return std::make_unique<Fixed>(); }).code() ==
        kfk::errc::kInvalidArgument);
  CHECK(kfk::register_partitioner("", [] { return std::make_unique<Fixed>(); }).code() ==
        kfk::errc::kInvalidArgument);
  auto names = kfk::partitioner_names();
  CHECK(std::find(names.begin(), names.end(), "test-last") != names.end());
  auto custom = make("test-last");
  CHECK(custom->partition(ctx("t", "k", 12)) == 11);
  CHECK(kfk::unregister_partitioner("test-last"));
  CHECK(!kfk::unregister_partitioner("test-last"));
  CHECK(!kfk::create_partitioner("test-last", p).ok());
}

TEST_CASE("default partitioner: murmur2 for keys, sticky for null keys") {
  auto p = make("default");
  CHECK(p->new_batch_hints());
  for (int32_t n : {1, 3, 16, 100}) {
    CHECK(p->partition(ctx("t", "foobar", n)) == kfk::to_positive(-790332482) % n);
    CHECK(p->partition(ctx("t", "", n)) == kfk::to_positive(kfk::murmur2("", 0)) % n);  // empty key is hashed
  }
  // Keys use all partitions even when fewer are available (Java does too).
  const int32_t avail[] = {0};
  CHECK(p->partition(ctx("t", "foobar", 16, avail)) == kfk::to_positive(-790332482) % 16);

  // Null keys stick to one partition until its batch is closed.
  const int32_t first = p->partition(ctx("t", std::nullopt, 16));
  for (int i = 0; i < 100; ++i) CHECK(p->partition(ctx("t", std::nullopt, 16)) == first);
  // A new batch on another partition does not move it.
  p->on_new_batch("t", (first + 1) % 16);
  CHECK(p->partition(ctx("t", std::nullopt, 16)) == first);
  // A new batch on the sticky partition does, to a different one.
  p->on_new_batch("t", first);
  const int32_t second = p->partition(ctx("t", std::nullopt, 16));
  CHECK(second != first);
  CHECK(p->partition(ctx("t", std::nullopt, 16)) == second);
  // Topics are independent.
  const int32_t other = p->partition(ctx("other", std::nullopt, 16));
  p->on_new_batch("other", other);
  CHECK(p->partition(ctx("t", std::nullopt, 16)) == second);
}

TEST_CASE("sticky choice honours available partitions and spreads over time") {
  auto p = make("uniform_sticky");
  const int32_t avail[] = {2, 5, 7};
  std::map<int32_t, int> seen;
  int32_t cur = p->partition(ctx("t", "key-ignored", 10, avail));
  for (int i = 0; i < 3000; ++i) {
    CHECK((cur == 2 || cur == 5 || cur == 7));
    ++seen[cur];
    p->on_new_batch("t", cur);
    const int32_t next = p->partition(ctx("t", "key-ignored", 10, avail));
    CHECK(next != cur);  // always moves when there is a choice
    cur = next;
  }
  CHECK(seen.size() == 3);
  for (auto& [part, n] : seen) CHECK(n > 700);  // ~1000 each

  // A single available partition: always it.
  const int32_t one[] = {4};
  auto q = make("uniform_sticky");
  for (int i = 0; i < 10; ++i) {
    CHECK(q->partition(ctx("t", std::nullopt, 10, one)) == 4);
    q->on_new_batch("t", 4);
  }
  // One partition in total.
  CHECK(q->partition(ctx("single", std::nullopt, 1)) == 0);
  q->on_new_batch("single", 0);
  CHECK(q->partition(ctx("single", std::nullopt, 1)) == 0);
}

TEST_CASE("sticky partition is shared consistently by concurrent senders") {
  auto p = make("default");
  std::atomic<int> mismatches{0};
  const int32_t expected = p->partition(ctx("t", std::nullopt, 32));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        if (p->partition(ctx("t", std::nullopt, 32)) != expected) ++mismatches;
    });
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);

  // Concurrent on_new_batch for the same closed batch moves it once.
  std::vector<int32_t> after(4);
  threads.clear();
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      p->on_new_batch("t", expected);
      after[t] = p->partition(ctx("t", std::nullopt, 32));
    });
  for (auto& th : threads) th.join();
  const int32_t moved = p->partition(ctx("t", std::nullopt, 32));
  CHECK(moved != expected);
  for (int32_t a : after) CHECK(a == moved);
}

TEST_CASE("per-topic state belongs to its partitioner, even on one thread") {
  // Each thread remembers its recent topic lookups; two partitioners (and
  // one that replaces a destroyed one) must still never see each other's
  // state for the same topic name.
  auto a = make("uniform_sticky");
  auto b = make("uniform_sticky");
  const int32_t pa = a->partition(ctx("t", std::nullopt, 1000));
  const int32_t pb = b->partition(ctx("t", std::nullopt, 1000));
  for (int i = 0; i < 20; ++i) {
    a->on_new_batch("t", a->partition(ctx("t", std::nullopt, 1000)));  // a moves on ...
    CHECK(b->partition(ctx("t", std::nullopt, 1000)) == pb);          // ... b stays
  }
  CHECK(a->partition(ctx("t", std::nullopt, 1000)) != pa);
  auto r1 = make("round_robin");
  CHECK(r1->partition(ctx("t", std::nullopt, 5)) == 0);
  CHECK(r1->partition(ctx("t", std::nullopt, 5)) == 1);
  r1.reset();
  auto r2 = make("round_robin");  // may reuse r1's memory: starts at 0 all the same
  CHECK(r2->partition(ctx("t", std::nullopt, 5)) == 0);
  // Topics whose names share a memo slot (same length, same last letter).
  CHECK(r2->partition(ctx("at", std::nullopt, 5)) == 0);
  CHECK(r2->partition(ctx("bt", std::nullopt, 5)) == 0);
  CHECK(r2->partition(ctx("at", std::nullopt, 5)) == 1);
  CHECK(r2->partition(ctx("t", std::nullopt, 5)) == 1);
}

TEST_CASE("round_robin walks available partitions per topic, ignoring keys") {
  auto p = make("round_robin");
  CHECK(!p->new_batch_hints());
  std::vector<int32_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(p->partition(ctx("t", "same-key", 3)));
  CHECK(got == std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0});
  // Its own counter per topic (Java: counter starting at 0).
  CHECK(p->partition(ctx("u", std::nullopt, 3)) == 0);
  const int32_t avail[] = {1, 4};
  CHECK(p->partition(ctx("u", std::nullopt, 6, avail)) == 4);  // counter 1 -> avail[1]
  CHECK(p->partition(ctx("u", std::nullopt, 6, avail)) == 1);
}

TEST_CASE("librdkafka-named hash partitioners") {
  auto consistent = make("consistent");
  CHECK(consistent->partition(ctx("t", "123456789", 1000)) == static_cast<int32_t>(0xcbf43926u % 1000));
  CHECK(consistent->partition(ctx("t", std::nullopt, 7)) == 0);  // null key hashes as empty: crc 0

  auto consistent_random = make("consistent_random");
  CHECK(consistent_random->partition(ctx("t", "123456789", 1000)) == static_cast<int32_t>(0xcbf43926u % 1000));
  const int32_t s1 = consistent_random->partition(ctx("t", "", 50));  // empty key: sticky
  CHECK(consistent_random->partition(ctx("t", std::nullopt, 50)) == s1);

  auto fnv = make("fnv1a");
  CHECK(fnv->partition(ctx("t", "a", 97)) == static_cast<int32_t>((0u - 0xe40c292cu) % 97));

  auto rnd = make("random");
  std::set<int32_t> seen;
  for (int i = 0; i < 500; ++i) seen.insert(rnd->partition(ctx("t", "k", 5)));
  CHECK(seen.size() == 5);

  for (const char* alias : {"murmur2", "murmur2_random"}) {
    auto m = make(alias);
    CHECK(m->partition(ctx("t", "21", 1000)) == kfk::to_positive(-973932308) % 1000);
  }
}
