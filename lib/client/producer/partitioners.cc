// murmur2 / CRC-32 key hashing, the built-in partitioners and the registry
// of partitioners by name. See include/kfk/partitioner.h.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "kfk/partitioner.h"

namespace kfk {

int32_t murmur2(const void* data, size_t size) noexcept {
  // A transcription of Kafka's Utils.murmur2, in unsigned arithmetic (Java's
  // int overflow wraps; C++ signed overflow would not be defined).
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t seed = 0x9747b28c;
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<uint32_t>(size);  // Java: int length; keys never reach 4 GiB
  uint32_t h = seed ^ length;
  const size_t length4 = size / 4;
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = uint32_t(p[i4]) | (uint32_t(p[i4 + 1]) << 8) | (uint32_t(p[i4 + 2]) << 16) |
                 (uint32_t(p[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t tail = size & ~size_t{3};
  switch (size % 4) {
    case 3:
      h ^= uint32_t(p[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t(p[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t(p[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

namespace {

constexpr std::array<uint32_t, 256> make_crc32_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrc32Table = make_crc32_table();

}  // namespace

uint32_t crc32_ieee(const void* data, size_t size) noexcept {
  // Bytewise table: keys are short, and this only serves the librdkafka-
  // compatible "consistent" placement.
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) c = kCrc32Table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t fnv1a_hash(const void* data, size_t size) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x01000193u;
  }
  // librdkafka negates a negative int32 (INT32_MIN stays 0x80000000 there too).
  if (static_cast<int32_t>(h) < 0) h = 0u - h;
  return h;
}

namespace {

// A cheap per-thread random source for picking sticky partitions.
uint32_t next_random() {
  thread_local uint64_t state = [] {
    uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9e3779b97f4a7c15ull;
    return seed | 1;
  }();
  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return static_cast<uint32_t>((state * 0x2545f4914f6cdd1dull) >> 32);
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// A per-thread memo of PerTopic lookups (below), shared by every PerTopic
// and told apart by owner ids that are never reused. `topic` views the
// owner's map key, and is only read while the owner id matches.
struct TopicMemo {
  uint64_t owner = 0;
  std::string_view topic;
  void* state = nullptr;
};
constexpr size_t kTopicMemoSize = 8;
thread_local TopicMemo t_topic_memo[kTopicMemoSize];
std::atomic<uint64_t> g_next_per_topic_id{1};

size_t topic_memo_slot(std::string_view topic) {
  const size_t n = topic.size();
  return (n + (n > 0 ? static_cast<unsigned char>(topic[n - 1]) : 0)) & (kTopicMemoSize - 1);
}

// Per-topic state, created on first use and never freed before the owner:
// references handed out stay valid without holding the lock. get() runs
// per record, so a hit in the thread's memo takes no lock and hashes
// nothing; a shared lock is a write to a cache line every sending thread
// shares.
template <class State>
class PerTopic {
 public:
  State& get(std::string_view topic) {
    TopicMemo& memo = t_topic_memo[topic_memo_slot(topic)];
    if (memo.owner == id_ && memo.topic == topic) return *static_cast<State*>(memo.state);
    auto [key, state] = lookup(topic);
    memo = TopicMemo{id_, key, state};
    return *state;
  }

 private:
  std::pair<std::string_view, State*> lookup(std::string_view topic) {
    {
      std::shared_lock lk(mu_);
      auto it = map_.find(topic);
      if (it != map_.end()) return {it->first, it->second.get()};
    }
    std::unique_lock lk(mu_);
    auto it = map_.find(topic);
    if (it == map_.end()) it = map_.emplace(std::string(topic), std::make_unique<State>()).first;
    return {it->first, it->second.get()};  // map nodes do not move: the key's view stays valid
  }

  const uint64_t id_ = g_next_per_topic_id.fetch_add(1, std::memory_order_relaxed);
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<State>, StringHash, std::equal_to<>> map_;
};

// The sticky partition of each topic (Java's StickyPartitionCache). The
// current partition is one atomic per topic: >= 0 is the sticky partition,
// -1 none chosen yet, -(p + 2) "move away from p" (set by on_new_batch).
class StickyCache {
 public:
  int32_t partition(const PartitionerContext& ctx) {
    std::atomic<int32_t>& cur = topics_.get(ctx.topic).current;
    int32_t seen = cur.load(std::memory_order_relaxed);
    while (true) {
      if (seen >= 0 && seen < ctx.num_partitions) return seen;
      const int32_t avoid = seen <= -2 ? -(seen + 2) : (seen >= 0 ? seen : -1);
      const int32_t next = pick(ctx, avoid);
      // Another thread may have moved first: then use its choice.
      if (cur.compare_exchange_weak(seen, next, std::memory_order_relaxed)) return next;
    }
  }

  void on_new_batch(std::string_view topic, int32_t prev) {
    // Only move when the batch that closed is the sticky one (Java:
    // indexCache.replace(topic, prevPartition, newPart)).
    if (prev < 0) return;
    int32_t expected = prev;
    topics_.get(topic).current.compare_exchange_strong(expected, -(prev + 2), std::memory_order_relaxed);
  }

 private:
  // A random available partition other than `avoid` when there is a choice.
  static int32_t pick(const PartitionerContext& ctx, int32_t avoid) {
    const auto& avail = ctx.available_partitions;
    const int32_t n = avail.empty() ? ctx.num_partitions : static_cast<int32_t>(avail.size());
    if (n <= 1) return avail.empty() ? 0 : avail[0];
    auto at = [&](uint32_t i) { return avail.empty() ? static_cast<int32_t>(i) : avail[i]; };
    // Draw among the n - 1 others: skip over avoid's slot when it is there.
    int32_t avoid_index = -1;
    if (avoid >= 0) {
      if (avail.empty()) {
        avoid_index = avoid < n ? avoid : -1;
      } else {
        auto it = std::lower_bound(avail.begin(), avail.end(), avoid);
        if (it != avail.end() && *it == avoid) avoid_index = static_cast<int32_t>(it - avail.begin());
      }
    }
    if (avoid_index < 0) return at(next_random() % static_cast<uint32_t>(n));
    uint32_t i = next_random() % static_cast<uint32_t>(n - 1);
    if (static_cast<int32_t>(i) >= avoid_index) ++i;
    return at(i);
  }

  struct TopicState {
    std::atomic<int32_t> current{-1};
  };
  PerTopic<TopicState> topics_;
};

enum class KeyHash { kMurmur2, kCrc32, kFnv1a, kNone };

// Hashes keys with `hash`; sends the rest (null keys, and with
// `empty_is_null` empty keys too) to the sticky partition. kNone: every
// record goes sticky.
class KeyedStickyPartitioner final : public Partitioner {
 public:
  KeyedStickyPartitioner(KeyHash hash, bool empty_is_null) : hash_(hash), empty_is_null_(empty_is_null) {}

  int32_t partition(const PartitionerContext& ctx) override {
    const bool hashable = ctx.key.has_value() && !(empty_is_null_ && ctx.key->empty());
    if (hashable && hash_ == KeyHash::kMurmur2) return murmur2_partition(*ctx.key, ctx.num_partitions);
    if (hashable && hash_ == KeyHash::kCrc32) return consistent_partition(*ctx.key, ctx.num_partitions);
    if (hashable && hash_ == KeyHash::kFnv1a) return fnv1a_partition(*ctx.key, ctx.num_partitions);
    return sticky_.partition(ctx);
  }
  void on_new_batch(std::string_view topic, int32_t prev_partition) override {
    sticky_.on_new_batch(topic, prev_partition);
  }
  bool new_batch_hints() const override { return true; }

 private:
  KeyHash hash_;
  bool empty_is_null_;
  StickyCache sticky_;
};

// librdkafka's "consistent" / "fnv1a": every key hashed, a null key as empty.
class HashAllPartitioner final : public Partitioner {
 public:
  explicit HashAllPartitioner(KeyHash hash) : hash_(hash) {}
  int32_t partition(const PartitionerContext& ctx) override {
    const auto key = ctx.key.value_or(std::span<const std::byte>{});
    return hash_ == KeyHash::kCrc32 ? consistent_partition(key, ctx.num_partitions)
                                    : fnv1a_partition(key, ctx.num_partitions);
  }

 private:
  KeyHash hash_;
};

// librdkafka's "random": any available partition, per record.
class RandomPartitioner final : public Partitioner {
 public:
  int32_t partition(const PartitionerContext& ctx) override {
    if (!ctx.available_partitions.empty())
      return ctx.available_partitions[next_random() % ctx.available_partitions.size()];
    return static_cast<int32_t>(next_random() % static_cast<uint32_t>(ctx.num_partitions));
  }
};

// Java's RoundRobinPartitioner.
class RoundRobinPartitioner final : public Partitioner {
 public:
  int32_t partition(const PartitionerContext& ctx) override {
    const int32_t next = counters_.get(ctx.topic).next.fetch_add(1, std::memory_order_relaxed);
    if (!ctx.available_partitions.empty())
      return ctx.available_partitions[static_cast<size_t>(to_positive(next)) % ctx.available_partitions.size()];
    return to_positive(next) % ctx.num_partitions;
  }

 private:
  struct Counter {
    std::atomic<int32_t> next{0};  // Java: new AtomicInteger(0)
  };
  PerTopic<Counter> counters_;
};

struct BuiltIn {
  const char* name;
  std::unique_ptr<Partitioner> (*make)();
};

constexpr BuiltIn kBuiltIns[] = {
    {"consistent", []() -> std::unique_ptr<Partitioner> { return std::make_unique<HashAllPartitioner>(KeyHash::kCrc32); }},
    {"consistent_random",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kCrc32, true); }},
    {"default",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kMurmur2, false); }},
    {"fnv1a", []() -> std::unique_ptr<Partitioner> { return std::make_unique<HashAllPartitioner>(KeyHash::kFnv1a); }},
    {"fnv1a_random",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kFnv1a, false); }},
    {"murmur2",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kMurmur2, false); }},
    {"murmur2_random",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kMurmur2, false); }},
    {"random", []() -> std::unique_ptr<Partitioner> { return std::make_unique<RandomPartitioner>(); }},
    {"round_robin", []() -> std::unique_ptr<Partitioner> { return std::make_unique<RoundRobinPartitioner>(); }},
    {"uniform_sticky",
     []() -> std::unique_ptr<Partitioner> { return std::make_unique<KeyedStickyPartitioner>(KeyHash::kNone, false); }},
};

const BuiltIn* find_builtin(std::string_view name) {
  for (const auto& b : kBuiltIns)
    if (name == b.name) return &b;
  return nullptr;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, PartitionerFactory, std::less<>> factories;
};

Registry& registry() {
  static Registry r;  // function-local: safe to use from other static initializers
  return r;
}

}  // namespace

Error register_partitioner(std::string name, PartitionerFactory factory) {
  if (name.empty()) return Error(errc::kInvalidArgument, "partitioner name is empty");
  if (!factory) return Error(errc::kInvalidArgument, "partitioner factory for \"" + name + "\" is empty");
  if (find_builtin(name) != nullptr)
    return Error(errc::kInvalidArgument, "\"" + name + "\" is a built-in partitioner name");
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  if (!r.factories.emplace(name, std::move(factory)).second)
    return Error(errc::kInvalidArgument, "a partitioner named \"" + name + "\" is already registered");
  return Error();
}

bool unregister_partitioner(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lk(r.mu);
  auto it = r.factories.find(name);
  if (it == r.factories.end()) return false;
  r.factories.erase(it);
  return true;
}

Error create_partitioner(std::string_view name, std::unique_ptr<Partitioner>& out) {
  if (const BuiltIn* b = find_builtin(name)) {
    out = b->make();
    return Error();
  }
  PartitionerFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) factory = it->second;  // copied: call it without the lock
  }
  if (!factory) {
    std::string known;
    for (const auto& n : partitioner_names()) known += (known.empty() ? "" : ", ") + n;
    return Error(errc::kInvalidClientConfig, "unknown partitioner \"" + std::string(name) + "\" (known: " + known + ")");
  }
  std::unique_ptr<Partitioner> p = factory();
  if (!p) return Error(errc::kInvalidClientConfig, "the factory of partitioner \"" + std::string(name) + "\" returned null");
  out = std::move(p);
  return Error();
}

std::vector<std::string> partitioner_names() {
  std::vector<std::string> names;
  for (const auto& b : kBuiltIns) names.emplace_back(b.name);
  {
    Registry& r = registry();
    std::lock_guard lk(r.mu);
    for (const auto& [n, f] : r.factories) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace kfk
