// RecordAccumulator under concurrency: the buffer.memory bound blocks and
// unblocks appends across threads; concurrent appenders and a draining
// "sender" lose and reorder nothing.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "accumulator_test_util.h"
#include "client/producer/callback_executor.h"

using namespace kfk::producer;
using namespace kfk::producer::testing;
using kfk::Error;
namespace errc = kfk::errc;
using Clock = std::chrono::steady_clock;

namespace {

AccumulatorConfig tight_memory(int64_t max_block_ms) {
  AccumulatorConfig c;
  c.batch_size = 1024;
  c.buffer_memory = 2048;  // two batches
  c.max_block_ms = max_block_ms;
  c.linger_ms = 0;
  return c;
}

// Fills both batches of a tight_memory accumulator: each record fills a batch.
void fill_memory(RecordAccumulator& acc) {
  REQUIRE(add(acc, "t", 0, std::string(900, 'a'), 0).error.ok());
  REQUIRE(add(acc, "t", 1, std::string(900, 'b'), 0).error.ok());
  REQUIRE(acc.available_memory() == 0);
}

}  // namespace

TEST_CASE("buffer.memory exhausted: append blocks for max.block.ms, then fails with QUEUE_FULL") {
  RecordAccumulator acc(tight_memory(200));
  fill_memory(acc);
  Recorder rec;
  const auto t0 = Clock::now();
  AppendResult r = add(acc, "t", 2, "c", 0, &rec);
  const auto waited = Clock::now() - t0;
  CHECK(waited >= std::chrono::milliseconds(200));
  CHECK(waited < std::chrono::milliseconds(2000));
  CHECK(r.error.code() == errc::kQueueFull);
  CHECK(r.error.retriable());
  CHECK(r.error.message().find("buffer.memory (2048 bytes) exhausted") != std::string::npos);
  CHECK(r.error.message().find("max.block.ms (200 ms)") != std::string::npos);
  CHECK(rec.md.empty());

  // max.block.ms = 0: fails at once.
  RecordAccumulator acc0(tight_memory(0));
  fill_memory(acc0);
  const auto t1 = Clock::now();
  CHECK(add(acc0, "t", 2, "c", 0).error.code() == errc::kQueueFull);
  CHECK(Clock::now() - t1 < std::chrono::milliseconds(100));
}

TEST_CASE("a blocked append resumes when another thread frees a batch") {
  RecordAccumulator acc(tight_memory(10000));
  fill_memory(acc);
  std::atomic<bool> done{false};
  AppendResult result;
  std::thread producer([&] {
    result = add(acc, "t", 2, "c", 0);
    done = true;
  });
  // The sender sees a thread waiting for memory: everything becomes ready.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (acc.waiting_appends() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(acc.waiting_appends() == 1);
  CHECK(!done);
  auto b = drain_one(acc, "t", 0, 0);
  REQUIRE(b.size() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(!done);  // drained is not freed: in flight still counts
  ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
  producer.join();
  CHECK(done);
  CHECK(result.error.ok());
  CHECK(result.new_batch_created);

  // close() wakes blocked appends too.
  std::thread closer_victim([&] { result = add(acc, "t", 3, "d", 0); });
  while (acc.waiting_appends() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  acc.close();
  closer_victim.join();
  CHECK(result.error.code() == errc::kDestroyed);
  acc.abort_undrained(Error::from_code(errc::kPurged));
}

TEST_CASE("4 threads x 8 partitions with a concurrent sender: nothing lost, per-thread order kept") {
  constexpr int kThreads = 4;
  constexpr int kPartitions = 8;
  constexpr int kPerThread = 20000;
  CallbackExecutor ex;
  AccumulatorConfig cfg;
  cfg.batch_size = 2048;
  cfg.linger_ms = 1;
  cfg.buffer_memory = 256 * 1024;  // small: appenders block now and then
  cfg.executor = &ex;
  RecordAccumulator acc(cfg);

  // Per partition, the values in the order the sender drained them, and
  // the offsets the callbacks saw.
  std::map<int32_t, std::vector<std::string>> drained;
  std::atomic<int64_t> callbacks{0};
  std::atomic<bool> callback_offsets_ok{true};
  std::vector<std::vector<int64_t>> last_offset(kThreads, std::vector<int64_t>(kPartitions, -1));
  std::atomic<bool> producers_done{false};

  std::vector<PartitionRef> parts;
  for (int32_t p = 0; p < kPartitions; ++p) parts.push_back({"t", p});
  std::map<int32_t, int64_t> next_offset;
  std::thread sender([&] {
    int64_t now = 0;
    while (true) {
      const bool last_round = producers_done.load();
      std::vector<BatchPtr> out;
      acc.ready(now, [](std::string_view, int32_t) { return 1; });
      acc.drain(1, parts, 64 * 1024, now, out);
      for (auto& b : out) {
        for (auto& v : values_of(*b)) drained[b->partition()].push_back(v);
        const int32_t p = b->partition();
        const int64_t base = next_offset[p];
        next_offset[p] += b->record_count();
        ProducerBatch::complete(std::move(b), base, -1, Error());
      }
      now += 1;
      if (last_round && out.empty() && !acc.has_undrained()) break;
      if (out.empty()) std::this_thread::yield();
    }
  });

  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int32_t p = (i + t) % kPartitions;
        const std::string v = std::to_string(t) + ":" + std::to_string(i);
        auto r = acc.append("t", p, 1, std::nullopt, u8(v), {},
                            [&, t, p](const kfk::RecordMetadata& md, const Error& e) {
                              // Offsets grow per partition in callback order; per thread too.
                              if (!e.ok() || md.offset <= last_offset[t][p]) callback_offsets_ok = false;
                              last_offset[t][p] = md.offset;
                              ++callbacks;
                            },
                            0);
        REQUIRE(r.error.ok());
      }
    });
  }
  for (auto& th : producers) th.join();
  producers_done = true;
  sender.join();
  ex.wait_idle();

  CHECK(callbacks == kThreads * kPerThread);
  CHECK(callback_offsets_ok);
  size_t total = 0;
  for (const auto& entry : drained) {
    const int32_t p = entry.first;
    const std::vector<std::string>& values = entry.second;
    total += values.size();
    std::vector<int> last(kThreads, -1);
    bool ordered = true;
    for (const auto& v : values) {
      const int t = std::stoi(v.substr(0, v.find(':')));
      const int i = std::stoi(v.substr(v.find(':') + 1));
      if (i <= last[t]) ordered = false;
      last[t] = i;
      if ((i + t) % kPartitions != p) ordered = false;  // went to the right partition
    }
    CHECK_MESSAGE(ordered, "partition " << p);
  }
  CHECK(total == static_cast<size_t>(kThreads * kPerThread));
  CHECK(acc.buffered_bytes() == 0);
  CHECK(!acc.has_incomplete());
}

TEST_CASE("buffer.memory also bounds the per-record bookkeeping of closed batches") {
  // 1-byte records: ~10 bytes each on the wire but 72 of bookkeeping with a
  // callback (timestamp, sizes, the callable), so a full 4 KB batch holds
  // ~36 KB beside its bytes. Counting only the bytes, 25 batches would fit
  // in 100 KB; counting everything, two or three.
  AccumulatorConfig c;
  c.batch_size = 4096;
  c.buffer_memory = 25 * 4096;
  c.max_block_ms = 0;
  c.linger_ms = 1000;
  Recorder rec;  // outlives acc, whose destructor completes what is left
  RecordAccumulator acc(c);
  int accepted = 0, batches = 0;
  Error last;
  for (int i = 0; i < 100000; ++i) {
    AppendResult r = add(acc, "t", 0, "x", 0, &rec);
    if (!r.error.ok()) {
      last = r.error;
      break;
    }
    accepted++;
    if (r.new_batch_created) batches++;
  }
  CHECK(last.code() == errc::kQueueFull);
  CHECK(batches >= 2);
  CHECK(batches <= 4);
  // The closed batches' records alone hold more than their 4 KB each.
  const size_t closed_records = static_cast<size_t>(accepted) / static_cast<size_t>(batches) * (batches - 1);
  CHECK(acc.buffered_bytes() >= static_cast<size_t>(batches) * 4096 + closed_records * sizeof(kfk::DeliveryCallback));
  CHECK(acc.available_memory() < 4096);

  // Everything completes; all of it is given back.
  for (;;) {
    auto b = drain_one(acc, "t", 0, 2000);
    if (b.empty()) break;
    for (auto& x : b) ProducerBatch::complete(std::move(x), 0, -1, Error());
  }
  CHECK(rec.md.size() == static_cast<size_t>(accepted));
  CHECK(acc.buffered_bytes() == 0);
  // The pool keeps the freed batches (and their bookkeeping capacity)
  // within the bound: a new batch fits again.
  CHECK(add(acc, "t", 1, "y", 3000, &rec).error.ok());
}
