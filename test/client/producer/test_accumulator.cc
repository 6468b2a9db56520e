// RecordAccumulator and ProducerBatch, one thread at a time: linger,
// batch.size, max.request.size, retries and order, muting, expiry,
// compression, completion, drain limits, producer state, split, sticky
// partitioning.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "accumulator_test_util.h"
#include "client/producer/callback_executor.h"
#include "kfk/partitioner.h"

using namespace kfk::producer;
using namespace kfk::producer::testing;
using kfk::Error;
namespace errc = kfk::errc;

namespace {

const RecordAccumulator::LeaderFn kNode1 = [](std::string_view, int32_t) { return 1; };

AccumulatorConfig small_config() {
  AccumulatorConfig c;
  c.batch_size = 1024;
  c.linger_ms = 10;
  c.retry_backoff_ms = 50;
  return c;
}

}  // namespace

TEST_CASE("a batch is not ready before linger.ms and is ready after") {
  RecordAccumulator acc(small_config());
  REQUIRE(add(acc, "t", 0, "v", 100).error.ok());
  ReadyResult r = acc.ready(105, kNode1);
  CHECK(r.ready_nodes.empty());
  CHECK(r.next_ready_check_delay_ms == 5);
  r = acc.ready(110, kNode1);
  CHECK(r.ready_nodes == std::vector<int32_t>{1});

  // Unknown leaders are reported by topic, and never make a node ready.
  r = acc.ready(110, [](std::string_view, int32_t) { return -1; });
  CHECK(r.ready_nodes.empty());
  CHECK(r.unknown_leader_topics == std::vector<std::string>{"t"});

  // An empty accumulator has nothing to wait for.
  RecordAccumulator empty(small_config());
  CHECK(empty.ready(0, kNode1).next_ready_check_delay_ms == INT64_MAX);
}

TEST_CASE("kNowIfNeeded: a new batch takes the monotonic clock's time, appends to it take none") {
  AccumulatorConfig c = small_config();
  c.linger_ms = 1000;
  RecordAccumulator acc(c);
  const int64_t before = RecordAccumulator::mono_now_ms();
  REQUIRE(add(acc, "t", 0, "v", RecordAccumulator::kNowIfNeeded).new_batch_created);
  const int64_t after = RecordAccumulator::mono_now_ms();
  REQUIRE(!add(acc, "t", 0, "w", RecordAccumulator::kNowIfNeeded).new_batch_created);
  // Created between `before` and `after`: lingering until 1000 ms later.
  CHECK(acc.ready(after, kNode1).ready_nodes.empty());
  ReadyResult r = acc.ready(after, kNode1);
  CHECK(r.next_ready_check_delay_ms <= 1000);
  CHECK(r.next_ready_check_delay_ms >= 1000 - (after - before));
  CHECK(acc.ready(after + 1000, kNode1).ready_nodes == std::vector<int32_t>{1});
  auto drained = drain_one(acc, "t", 0, after + 1000);
  REQUIRE(drained.size() == 1);
  CHECK(drained[0]->record_count() == 2);
  CHECK(drained[0]->created_ms() >= before);
  CHECK(drained[0]->created_ms() <= after);
}

TEST_CASE("batch.size closes a batch; a record larger than batch.size travels alone") {
  RecordAccumulator acc(small_config());
  const std::string value(100, 'v');
  int appended = 0;
  AppendResult r;
  do {
    r = add(acc, "t", 0, value, 0);
    REQUIRE(r.error.ok());
    ++appended;
  } while (acc.queued_batch_count() < 2);
  CHECK(r.new_batch_created);
  CHECK(r.batch_full);
  // The first batch is sendable at once, linger or not.
  CHECK(acc.ready(0, kNode1).ready_nodes == std::vector<int32_t>{1});
  auto first = drain_one(acc, "t", 0, 0);
  REQUIRE(first.size() == 1);
  CHECK(first[0]->finished());
  CHECK(first[0]->bytes().size() <= 1024);
  CHECK(first[0]->record_count() == appended - 1);
  CHECK(first[0]->bytes().size() + 100 + 20 > 1024);  // it was really full
  ProducerBatch::complete(std::move(first[0]), 0, -1, Error());

  // 5000 bytes > batch.size: a batch of its own, sealed at once.
  r = add(acc, "t", 0, std::string(5000, 'x'), 0);
  REQUIRE(r.error.ok());
  CHECK(r.new_batch_created);
  CHECK(r.batch_full);
  REQUIRE(add(acc, "t", 0, "after", 0).error.ok());
  CHECK(acc.queued_batch_count() == 3);  // the open one, the big one, the new one
  std::vector<int32_t> counts;
  while (true) {
    auto b = drain_one(acc, "t", 0, 1000);
    if (b.empty()) break;
    counts.push_back(b[0]->record_count());
    if (b[0]->record_count() == 1 && b[0]->bytes().size() > 5000) CHECK(values_of(*b[0])[0].size() == 5000);
    ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
  }
  CHECK(counts == std::vector<int32_t>{1, 1, 1});
  CHECK(acc.buffered_bytes() == 0);
}

TEST_CASE("max.request.size and buffer.memory bound every record, with a clear error") {
  AccumulatorConfig cfg = small_config();
  cfg.max_request_size = 1000;
  RecordAccumulator acc(cfg);
  int called = 0;
  kfk::DeliveryCallback cb = [&](const kfk::RecordMetadata&, const Error&) { ++called; };
  const std::string big(2000, 'b');
  AppendResult r = acc.append("t", 0, 1, std::nullopt, u8(big), {}, std::move(cb), 0);
  CHECK(r.error.code() == errc::kMessageTooLarge);
  CHECK(r.error.name() == std::string("MESSAGE_TOO_LARGE"));
  CHECK(r.error.message().find("max.request.size (1000)") != std::string::npos);
  CHECK(r.error.message().find("bytes when serialized") != std::string::npos);
  REQUIRE(cb);  // not taken: the caller reports the error through it
  cb(kfk::RecordMetadata{}, r.error);
  CHECK(called == 1);
  CHECK(acc.queued_batch_count() == 0);

  CHECK(add(acc, "t", -1, "v", 0).error.code() == errc::kInvalidArgument);

  AccumulatorConfig small_mem = small_config();
  small_mem.buffer_memory = 1500;
  RecordAccumulator acc2(small_mem);
  r = add(acc2, "t", 0, std::string(1600, 'm'), 0);
  CHECK(r.error.code() == errc::kMessageTooLarge);
  CHECK(r.error.message().find("buffer.memory (1500)") != std::string::npos);
}

TEST_CASE("retried batches go back in order and wait retry.backoff.ms") {
  RecordAccumulator acc(small_config());
  const std::string pad(400, '.');  // two records per 1024-byte batch
  for (int i = 0; i < 6; ++i) REQUIRE(add(acc, "t", 0, std::to_string(i) + pad, 0).error.ok());
  REQUIRE(acc.queued_batch_count() == 3);
  auto b1 = drain_one(acc, "t", 0, 0);  // one batch per partition per drain
  auto b2 = drain_one(acc, "t", 0, 0);
  REQUIRE(b1.size() == 1);
  REQUIRE(b2.size() == 1);
  CHECK(values_of(*b1[0])[0][0] == '0');
  CHECK(values_of(*b2[0])[0][0] == '2');
  // Responses fail in the order sent; each retry goes in front of newer batches.
  acc.reenqueue(std::move(b2[0]), 10);
  acc.reenqueue(std::move(b1[0]), 10);
  CHECK(acc.queued_batch_count() == 3);

  ReadyResult r = acc.ready(20, kNode1);
  CHECK(r.ready_nodes.empty());  // backing off
  CHECK(r.next_ready_check_delay_ms == 40);
  CHECK(drain_one(acc, "t", 0, 20).empty());

  std::vector<char> order;
  for (int k = 0; k < 3; ++k) {
    auto b = drain_one(acc, "t", 0, 60);
    REQUIRE(b.size() == 1);
    const auto vals = values_of(*b[0]);
    for (const auto& v : vals) order.push_back(v[0]);
    CHECK(b[0]->attempts() == (k < 2 ? 1 : 0));
    ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
  }
  CHECK(order == std::vector<char>{'0', '1', '2', '3', '4', '5'});
}

TEST_CASE("muted partitions are neither ready nor drained") {
  RecordAccumulator acc(small_config());
  REQUIRE(add(acc, "t", 0, "v", 0).error.ok());
  acc.mute("t", 0);
  CHECK(acc.is_muted("t", 0));
  CHECK(acc.ready(100, kNode1).ready_nodes.empty());
  CHECK(drain_one(acc, "t", 0, 100).empty());
  acc.unmute("t", 0);
  CHECK(acc.ready(100, kNode1).ready_nodes == std::vector<int32_t>{1});
  CHECK(drain_one(acc, "t", 0, 100).size() == 1);
}

TEST_CASE("batches past delivery.timeout.ms expire, every record with MSG_TIMED_OUT naming the partition") {
  AccumulatorConfig cfg = small_config();
  cfg.delivery_timeout_ms = 100;
  RecordAccumulator acc(cfg);
  Recorder rec;
  for (int i = 0; i < 3; ++i) REQUIRE(add(acc, "t", 0, 'a' + std::to_string(i), 0, &rec).error.ok());
  for (int i = 0; i < 2; ++i) REQUIRE(add(acc, "t", 1, 'b' + std::to_string(i), 50, &rec).error.ok());
  CHECK(acc.ready(60, [](std::string_view, int32_t) { return -1; }).next_ready_check_delay_ms == 40);
  CHECK(acc.expire(99) == 0);
  CHECK(acc.expire(100) == 3);
  REQUIRE(rec.errors.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(rec.errors[i].code() == errc::kMsgTimedOut);
    CHECK(rec.errors[i].message().find("Expiring 3 record(s) for t-0: 100 ms has passed since batch creation") !=
          std::string::npos);
    CHECK(rec.md[i].partition == 0);
    CHECK(rec.md[i].offset == -1);
    CHECK(rec.topics[i] == "t");
  }
  CHECK(acc.expire(150) == 2);
  CHECK(rec.errors.size() == 5);
  CHECK(rec.errors[4].message().find("for t-1") != std::string::npos);
  CHECK(!acc.has_undrained());
  CHECK(!acc.has_incomplete());
  CHECK(acc.buffered_bytes() == 0);
}

TEST_CASE("compressed batches decode back to the same records") {
  using kfk::proto::Compression;
  for (Compression c :
       {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    if (!kfk::proto::compression_available(c)) continue;
    CAPTURE(kfk::proto::compression_name(c));
    AccumulatorConfig cfg;
    cfg.batch_size = 4096;
    cfg.compression = c;
    RecordAccumulator acc(cfg);
    std::vector<Decoded> expected;
    for (int i = 0; i < 300; ++i) {
      Decoded d;
      if (i % 5 != 0) d.key = "key-" + std::to_string(i % 17);
      if (i % 7 != 0) d.value = "{\"n\": " + std::to_string(i) + ", \"pad\": \"" + std::string(i % 40, 'p') + "\"}";
      std::vector<kfk::Header> headers;
      if (i % 3 == 0) {
        headers.push_back({"h", 'x' + std::to_string(i)});
        headers.push_back({"null-h", std::nullopt});
        d.headers = {{"h", 'x' + std::to_string(i)}, {"null-h", std::nullopt}};
      }
      d.timestamp = 1'700'000'000'000 + i * 3;
      std::optional<std::span<const uint8_t>> k, v;
      if (d.key) k = u8(*d.key);
      if (d.value) v = u8(*d.value);
      REQUIRE(acc.append("t", 0, d.timestamp, k, v, headers, {}, 0).error.ok());
      expected.push_back(std::move(d));
    }
    CHECK(acc.queued_batch_count() > 1);  // several batches, sealed by the appending thread
    std::vector<Decoded> got;
    while (true) {
      auto b = drain_one(acc, "t", 0, 1000);
      if (b.empty()) break;
      kfk::proto::BatchHeader h;
      auto recs = decode(b[0]->bytes(), &h);
      CHECK(h.compression() == c);
      CHECK(h.record_count == b[0]->record_count());
      if (c != Compression::kNone) CHECK(b[0]->bytes().size() < 4096);
      for (auto& r : recs) {
        r.offset = 0;
        got.push_back(std::move(r));
      }
      ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
    }
    for (auto& e : expected) e.offset = 0;
    CHECK(got == expected);
  }
}

TEST_CASE("complete() reports offsets, timestamps, sizes and errors per record") {
  RecordAccumulator acc(small_config());
  Recorder rec;
  REQUIRE(acc.append("t", 2, 111, u8("kk"), u8("vvv"), {}, rec.cb(), 0).error.ok());
  REQUIRE(acc.append("t", 2, 222, std::nullopt, std::nullopt, {}, rec.cb(), 0).error.ok());
  REQUIRE(acc.append("t", 2, 333, u8(""), u8("x"), {}, {}, 0).error.ok());  // no callback
  REQUIRE(acc.append("t", 2, 444, u8("k"), u8("y"), {}, rec.cb(), 0).error.ok());
  auto b = drain_one(acc, "t", 2, 100);
  REQUIRE(b.size() == 1);
  CHECK(b[0]->topic() == "t");
  CHECK(b[0]->partition() == 2);
  ProducerBatch::complete(std::move(b[0]), 1000, -1, Error());
  REQUIRE(rec.md.size() == 3);
  CHECK(rec.md[0].offset == 1000);
  CHECK(rec.md[0].timestamp == 111);
  CHECK(rec.md[0].serialized_key_size == 2);
  CHECK(rec.md[0].serialized_value_size == 3);
  CHECK(rec.md[1].offset == 1001);
  CHECK(rec.md[1].serialized_key_size == -1);
  CHECK(rec.md[1].serialized_value_size == -1);
  CHECK(rec.md[2].offset == 1003);  // the third record had no callback
  CHECK(rec.md[2].partition == 2);
  for (const auto& e : rec.errors) CHECK(e.ok());

  // LogAppendTime replaces the timestamps; errors blank offset and timestamp.
  Recorder rec2;
  REQUIRE(acc.append("t", 2, 555, std::nullopt, u8("a"), {}, rec2.cb(), 0).error.ok());
  auto b2 = drain_one(acc, "t", 2, 100);
  ProducerBatch::complete(std::move(b2[0]), 7, 999999, Error());
  CHECK(rec2.md[0].timestamp == 999999);
  REQUIRE(acc.append("t", 2, 555, std::nullopt, u8("a"), {}, rec2.cb(), 0).error.ok());
  auto b3 = drain_one(acc, "t", 2, 100);
  ProducerBatch::complete(std::move(b3[0]), 7, -1, Error::from_code(errc::kNotEnoughReplicas));
  CHECK(rec2.md[1].offset == -1);
  CHECK(rec2.md[1].timestamp == -1);
  CHECK(rec2.errors[1].code() == errc::kNotEnoughReplicas);

  // A BatchPtr dropped without complete() still completes its records.
  REQUIRE(acc.append("t", 2, 1, std::nullopt, u8("a"), {}, rec2.cb(), 0).error.ok());
  { auto dropped = drain_one(acc, "t", 2, 100); }
  CHECK(rec2.errors.back().code() == errc::kPurged);
  CHECK(acc.buffered_bytes() == 0);
}

TEST_CASE("callbacks run on the callback executor, in order, without blocking complete()") {
  CallbackExecutor ex;
  AccumulatorConfig cfg = small_config();
  cfg.executor = &ex;
  RecordAccumulator acc(cfg);
  std::vector<int64_t> offsets;
  std::thread::id cb_thread;
  for (int i = 0; i < 5; ++i) {
    auto r = acc.append("t", 0, 1, std::nullopt, u8("v"), {},
                        [&](const kfk::RecordMetadata& md, const Error&) {
                          if (md.offset == 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
                          offsets.push_back(md.offset);
                          cb_thread = std::this_thread::get_id();
                        },
                        0);
    REQUIRE(r.error.ok());
  }
  auto b = drain_one(acc, "t", 0, 100);
  const auto t0 = std::chrono::steady_clock::now();
  ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(400));  // the slow callback runs elsewhere
  ex.wait_idle();
  CHECK(offsets == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(cb_thread != std::this_thread::get_id());
  CHECK(acc.buffered_bytes() == 0);  // released after the callbacks
}

TEST_CASE("flush makes everything sendable and waits for the callbacks") {
  CallbackExecutor ex;
  AccumulatorConfig cfg = small_config();
  cfg.linger_ms = 100000;
  cfg.executor = &ex;
  RecordAccumulator acc(cfg);
  REQUIRE(add(acc, "t", 0, "v", 0).error.ok());
  CHECK(acc.ready(1, kNode1).ready_nodes.empty());
  const uint64_t token = acc.begin_flush();
  CHECK(acc.ready(1, kNode1).ready_nodes == std::vector<int32_t>{1});
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto b = drain_one(acc, "t", 0, 1);
    ProducerBatch::complete(std::move(b[0]), 0, -1, Error());
  });
  CHECK(acc.await_flush_completion(token, 5000).ok());
  sender.join();
  CHECK(acc.ready(1, kNode1).ready_nodes.empty());  // flush over

  // Times out while a batch stays undelivered; refused inside a callback.
  REQUIRE(add(acc, "t", 0, "v", 0).error.ok());
  CHECK(acc.await_flush_completion(acc.begin_flush(), 30).code() == errc::kTimedOut);
  Error inside;
  ex.post([&] { inside = acc.await_flush_completion(acc.begin_flush(), 1000); });
  ex.wait_idle();
  CHECK(inside.code() == errc::kState);
  acc.abort_undrained(Error::from_code(errc::kPurged));
  ex.wait_idle();
}

TEST_CASE("drain stops at max.request.size, takes an oversized first batch, and rotates") {
  RecordAccumulator acc(small_config());
  std::vector<PartitionRef> parts;
  for (int32_t p = 0; p < 4; ++p) {
    parts.push_back({"t", p});
    for (int i = 0; i < 8; ++i) REQUIRE(add(acc, "t", p, std::string(100, 'a' + p), 0).error.ok());
  }
  std::vector<BatchPtr> out;
  acc.drain(1, parts, 2500, 100, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0]->partition() == 0);
  CHECK(out[1]->partition() == 1);
  out.clear();
  acc.drain(1, parts, 2500, 100, out);  // continues where it stopped
  REQUIRE(out.size() == 2);
  CHECK(out[0]->partition() == 2);
  CHECK(out[1]->partition() == 3);
  out.clear();
  for (int32_t p = 0; p < 4; ++p) REQUIRE(add(acc, "t", p, std::string(100, 'z'), 0).error.ok());
  acc.drain(1, parts, 10, 100, out);  // larger than the limit: still one batch
  CHECK(out.size() == 1);
  CHECK(out[0]->partition() == 0);

  // The filter can hold a partition back (the sender's ordering rules).
  out.clear();
  acc.drain(1, parts, 1 << 20, 100, out, [](const ProducerBatch& b) { return b.partition() != 2; });
  CHECK(out.size() == 2);
  for (auto& b : out) CHECK(b->partition() != 2);
}

TEST_CASE("drain with sendable_only takes full or lingered batches, not one just started") {
  // The sender's further requests to a node in one pass: the batch the
  // application started right after the first drain must go on lingering.
  RecordAccumulator acc(small_config());  // linger.ms 10, batch.size 1024
  const std::vector<PartitionRef> parts = {{"t", 0}, {"t", 1}};
  REQUIRE(add(acc, "t", 0, "young", 100).error.ok());
  std::vector<BatchPtr> out;
  acc.drain(1, parts, 1 << 20, 105, out, {}, /*sendable_only=*/true);
  CHECK(out.empty());
  acc.drain(1, parts, 1 << 20, 110, out, {}, true);  // lingered
  REQUIRE(out.size() == 1);
  out.clear();

  // Full: sealed (batch.size reached), or with a newer batch behind it.
  AppendResult r;
  do {
    r = add(acc, "t", 1, std::string(100, 'f'), 200);
    REQUIRE(r.error.ok());
  } while (!r.batch_full);
  acc.drain(1, parts, 1 << 20, 201, out, {}, true);
  REQUIRE(out.size() == 1);
  CHECK(out[0]->partition() == 1);
  out.clear();

  // Without sendable_only a young batch goes (the node is ready anyway).
  REQUIRE(add(acc, "t", 0, "young", 300).error.ok());
  const std::vector<PartitionRef> p0 = {{"t", 0}};
  acc.drain(1, p0, 1 << 20, 301, out, {}, true);
  CHECK(out.empty());
  acc.drain(1, p0, 1 << 20, 301, out);
  CHECK(out.size() == 1);
}

TEST_CASE("producer state goes into the batch header, before or after it was built") {
  RecordAccumulator acc(small_config());
  REQUIRE(add(acc, "t", 0, "a", 0).error.ok());
  REQUIRE(add(acc, "t", 0, "b", 0).error.ok());
  auto b = drain_one(acc, "t", 0, 100);
  REQUIRE(b.size() == 1);
  kfk::proto::BatchHeader h;
  decode(b[0]->bytes(), &h);
  CHECK(h.producer_id == -1);
  CHECK(h.base_sequence == -1);
  b[0]->set_producer_state(4242, 3, INT32_MAX);
  CHECK(b[0]->last_sequence() == 0);  // wraps like Kafka's
  decode(b[0]->bytes(), &h);  // CRC re-checked inside
  CHECK(h.producer_id == 4242);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == INT32_MAX);
  CHECK(h.last_sequence() == 0);
  acc.reenqueue(std::move(b[0]), 100);  // a retry keeps its sequence
  auto again = drain_one(acc, "t", 0, 1000);
  REQUIRE(again.size() == 1);
  decode(again[0]->bytes(), &h);
  CHECK(h.base_sequence == INT32_MAX);
  CHECK(again[0]->has_sequence());
}

TEST_CASE("split_and_reenqueue: halves keep the records, their order and their callbacks") {
  AccumulatorConfig cfg;
  cfg.batch_size = 16384;
  RecordAccumulator acc(cfg);
  Recorder rec;
  for (int i = 0; i < 100; ++i) REQUIRE(add(acc, "t", 0, std::to_string(i) + std::string(90, '.'), 0, &rec).error.ok());
  REQUIRE(add(acc, "t", 0, "later", 0, &rec).error.ok());  // lands in the same open batch
  auto b = drain_one(acc, "t", 0, 100);
  REQUIRE(b.size() == 1);
  REQUIRE(b[0]->record_count() == 101);
  REQUIRE(add(acc, "t", 0, "newer", 0, &rec).error.ok());  // a newer batch behind it
  BatchPtr big = std::move(b[0]);
  const size_t parts = acc.split_and_reenqueue(big, 100);
  CHECK(parts >= 2);
  CHECK(big == nullptr);
  int64_t next_offset = 0;
  std::vector<std::string> values;
  while (true) {
    auto d = drain_one(acc, "t", 0, 1000);
    if (d.empty()) break;
    for (auto& v : values_of(*d[0])) values.push_back(v);
    const int32_t n = d[0]->record_count();
    ProducerBatch::complete(std::move(d[0]), next_offset, -1, Error());
    next_offset += n;
  }
  REQUIRE(values.size() == 102);
  for (int i = 0; i < 100; ++i) CHECK(values[i].substr(0, values[i].find('.')) == std::to_string(i));
  CHECK(values[100] == "later");
  CHECK(values[101] == "newer");
  REQUIRE(rec.md.size() == 102);
  for (size_t i = 0; i < rec.md.size(); ++i) CHECK(rec.md[i].offset == static_cast<int64_t>(i));
  CHECK(acc.buffered_bytes() == 0);
  CHECK(!acc.has_incomplete());

  // One record: nothing to split, the batch stays with the caller.
  REQUIRE(add(acc, "t", 0, "single", 0).error.ok());
  auto one = drain_one(acc, "t", 0, 2000);
  CHECK(acc.split_and_reenqueue(one[0], 2000) == 0);
  CHECK(one[0] != nullptr);
}

TEST_CASE("split_and_reenqueue: splitting parts again (several in flight) keeps the partition's order") {
  // As when a broker rejects several batches of a partition in a row: every
  // part in flight is split again, in any order of answers.
  AccumulatorConfig cfg;
  cfg.batch_size = 65536;
  RecordAccumulator acc(cfg);
  for (int i = 0; i < 256; ++i) REQUIRE(add(acc, "t", 0, std::to_string(i) + std::string(90, '.'), 0).error.ok());
  int64_t t = 0;  // every step later than any retry backoff
  auto first = drain_one(acc, "t", 0, t);
  REQUIRE(first.size() == 1);
  REQUIRE(acc.split_and_reenqueue(first[0], t) >= 2);
  for (int round = 0; round < 5; ++round) {
    // Take every batch out (each "in flight"), then split them back newest
    // first, the worst order for a naive split index.
    std::vector<BatchPtr> taken;
    while (true) {
      auto d = drain_one(acc, "t", 0, t += 100000);
      if (d.empty()) break;
      taken.push_back(std::move(d[0]));
    }
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
      if (acc.split_and_reenqueue(*it, t) == 0) acc.reenqueue(std::move(*it), t);
    }
  }
  std::vector<std::string> values;
  int64_t next = 0;
  while (true) {
    auto d = drain_one(acc, "t", 0, t += 100000);
    if (d.empty()) break;
    for (auto& v : values_of(*d[0])) values.push_back(v);
    const int32_t n = d[0]->record_count();
    ProducerBatch::complete(std::move(d[0]), next, -1, Error());
    next += n;
  }
  REQUIRE(values.size() == 256);
  for (int i = 0; i < 256; ++i) CHECK(values[i].substr(0, values[i].find('.')) == std::to_string(i));
}

TEST_CASE("sticky partitioning: null-key records fill one partition's batch, then move on") {
  AccumulatorConfig cfg = small_config();
  RecordAccumulator acc(cfg);
  std::unique_ptr<kfk::Partitioner> part;
  REQUIRE(kfk::create_partitioner("default", part).ok());
  const std::string value(100, 's');
  std::vector<int32_t> placed;
  for (int i = 0; i < 200; ++i) {
    kfk::PartitionerContext ctx;
    ctx.topic = "t";
    ctx.num_partitions = 8;
    int32_t p = part->partition(ctx);
    AppendResult r = acc.append("t", p, 1, std::nullopt, u8(value), {}, {}, 0, part->new_batch_hints());
    if (r.aborted_for_new_batch) {
      part->on_new_batch("t", p);
      p = part->partition(ctx);
      r = acc.append("t", p, 1, std::nullopt, u8(value), {}, {}, 0);
    }
    REQUIRE(r.error.ok());
    placed.push_back(p);
  }
  // Runs of one partition, each run exactly one batch's worth.
  std::vector<int> runs{1};
  for (size_t i = 1; i < placed.size(); ++i) {
    if (placed[i] == placed[i - 1])
      ++runs.back();
    else
      runs.push_back(1);
  }
  CHECK(runs.size() > 10);
  const int per_batch = runs[1];
  CHECK(per_batch >= 7);
  for (size_t i = 1; i + 1 < runs.size(); ++i) CHECK(runs[i] == per_batch);
  // Every closed batch is full.
  std::vector<PartitionRef> parts;
  for (int32_t p = 0; p < 8; ++p) parts.push_back({"t", p});
  size_t drained_records = 0, partial = 0;
  for (int round = 0; round < 100; ++round) {
    std::vector<BatchPtr> out;
    acc.drain(1, parts, 1 << 20, 1000, out);
    if (out.empty()) break;
    for (auto& b : out) {
      drained_records += static_cast<size_t>(b->record_count());
      if (b->record_count() != per_batch) ++partial;
      CHECK(b->record_count() <= per_batch);
    }
  }
  CHECK(drained_records == 200);
  CHECK(partial <= 1);  // only the batch still open at the end
}

TEST_CASE("close: appends fail, undrained records are purged") {
  RecordAccumulator acc(small_config());
  Recorder rec;
  REQUIRE(add(acc, "t", 0, "v", 0, &rec).error.ok());
  REQUIRE(add(acc, "u", 3, "v", 0, &rec).error.ok());
  acc.close();
  CHECK(add(acc, "t", 0, "v", 0).error.code() == errc::kDestroyed);
  CHECK(acc.ready(0, kNode1).ready_nodes == std::vector<int32_t>{1});  // closing: all sendable
  CHECK(acc.abort_undrained(Error::from_code(errc::kPurged, "closing")) == 2);
  REQUIRE(rec.errors.size() == 2);
  CHECK(rec.errors[0].code() == errc::kPurged);
  CHECK(!acc.has_undrained());
}

TEST_CASE("destroying the accumulator completes what is still queued") {
  Recorder rec;
  {
    RecordAccumulator acc(small_config());
    REQUIRE(add(acc, "t", 0, "v", 0, &rec).error.ok());
  }
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].code() == errc::kDestroyed);
}
