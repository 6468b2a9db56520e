#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"

using namespace kfk::proto;

namespace {

using Buf = std::vector<uint8_t>;

const Compression kCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                               Compression::kZstd};
constexpr size_t kMaxDecompressed = 64 << 20;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string str(std::span<const uint8_t> s) { return std::string(s.begin(), s.end()); }

// A batch laid out by hand from the documented v2 format. The CRC was
// computed separately with a bit-at-a-time CRC32C over bytes [21, 87).
const Buf kHandBatch = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // baseOffset 5
    0x00, 0x00, 0x00, 0x4b,                          // batchLength 75
    0x00, 0x00, 0x00, 0x07,                          // partitionLeaderEpoch 7
    0x02,                                            // magic 2
    0xf6, 0xc4, 0x8c, 0xf3,                          // crc
    0x00, 0x00,                                      // attributes: none, CreateTime
    0x00, 0x00, 0x00, 0x01,                          // lastOffsetDelta 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // baseTimestamp 1000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xf2,  // maxTimestamp 1010
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x63,  // producerId 99
    0x00, 0x03,                                      // producerEpoch 3
    0x00, 0x00, 0x00, 0x0a,                          // baseSequence 10
    0x00, 0x00, 0x00, 0x02,                          // records: count 2
    // record 0
    0x1a,              // length 13 (zigzag)
    0x00,              // attributes
    0x00,              // timestampDelta 0
    0x00,              // offsetDelta 0
    0x04, 'k', '1',    // key "k1"
    0x04, 'v', '1',    // value "v1"
    0x02,              // 1 header
    0x02, 'h', 0x01,   //   key "h", value null (-1)
    // record 1
    0x16,              // length 11
    0x00,              // attributes
    0x14,              // timestampDelta 10
    0x02,              // offsetDelta 1
    0x01,              // key null
    0x0a, 'h', 'e', 'l', 'l', 'o',  // value "hello"
    0x00,              // no headers
};

struct TestRecord {
  int64_t ts;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::vector<TestRecord> make_records(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TestRecord> v;
  int64_t ts = 1700000000000;
  auto rand_str = [&](size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  for (size_t i = 0; i < n; ++i) {
    TestRecord r;
    ts += static_cast<int64_t>(rng() % 100) - 30;  // not monotonic: negative deltas too
    r.ts = ts;
    if (rng() % 5 != 0) r.key = rand_str(20);
    if (rng() % 7 != 0) r.value = rand_str(i % 50 == 0 ? 3000 : 200);
    size_t nh = rng() % 4;
    for (size_t h = 0; h < nh; ++h) {
      std::optional<std::string> hv;
      if (rng() % 3 != 0) hv = rand_str(10);
      r.headers.emplace_back(rand_str(8), hv);
    }
    v.push_back(std::move(r));
  }
  return v;
}

void append_all(BatchBuilder& b, const std::vector<TestRecord>& recs) {
  std::vector<RecordHeader> hs;
  for (const auto& r : recs) {
    hs.clear();
    for (const auto& [k, v] : r.headers) {
      RecordHeader h;
      h.key = k;
      if (v) h.value = std::string_view(*v);
      hs.push_back(h);
    }
    std::optional<std::span<const uint8_t>> key, value;
    if (r.key) key = bytes_of(*r.key);
    if (r.value) value = bytes_of(*r.value);
    b.append(r.ts, key, value, hs);
  }
}

void check_records(const std::vector<Record>& got, const std::vector<TestRecord>& want, int64_t base_offset) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    const auto& g = got[i];
    const auto& w = want[i];
    CHECK(g.offset == base_offset + static_cast<int64_t>(i));
    CHECK(g.timestamp == w.ts);
    REQUIRE(g.key.has_value() == w.key.has_value());
    if (w.key) CHECK(str(*g.key) == *w.key);
    REQUIRE(g.value.has_value() == w.value.has_value());
    if (w.value) CHECK(str(*g.value) == *w.value);
    REQUIRE(g.headers.size() == w.headers.size());
    for (size_t h = 0; h < w.headers.size(); ++h) {
      CHECK(g.headers[h].key == w.headers[h].first);
      REQUIRE(g.headers[h].value.has_value() == w.headers[h].second.has_value());
      if (w.headers[h].second) CHECK(*g.headers[h].value == *w.headers[h].second);
    }
  }
}

// Split one batch out of `bytes` and decode it; false with *why on error.
bool split_and_decode(std::span<const uint8_t> bytes, std::vector<Record>& recs, Buf& scratch, const char** why,
                      size_t max_decompressed = kMaxDecompressed) {
  std::vector<BatchSpan> spans;
  size_t tail = 0;
  if (!split_batches(bytes, spans, why, &tail)) return false;
  if (spans.size() != 1 || tail != 0) {
    *why = "not exactly one batch";
    return false;
  }
  return decode_records(spans[0], recs, scratch, max_decompressed, why);
}

}  // namespace

TEST_CASE("record batch: hand-built batch decodes") {
  BatchHeader h;
  const char* why = nullptr;
  REQUIRE(parse_batch_header(kHandBatch, h, &why));
  CHECK(h.base_offset == 5);
  CHECK(h.batch_length == 75);
  CHECK(h.total_size() == kHandBatch.size());
  CHECK(h.partition_leader_epoch == 7);
  CHECK(h.magic == 2);
  CHECK(h.crc == 0xf6c48cf3u);
  CHECK(h.compression() == Compression::kNone);
  CHECK(h.timestamp_type() == TimestampType::kCreateTime);
  CHECK(h.last_offset_delta == 1);
  CHECK(h.last_offset() == 6);
  CHECK(h.base_timestamp == 1000);
  CHECK(h.max_timestamp == 1010);
  CHECK(h.producer_id == 99);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == 10);
  CHECK(h.last_sequence() == 11);
  CHECK(h.record_count == 2);
  CHECK(verify_batch_crc(kHandBatch));
  CHECK(crc32c(kHandBatch.data() + kBatchAttributesOffset, kHandBatch.size() - kBatchAttributesOffset) == h.crc);

  std::vector<Record> recs;
  Buf scratch;
  REQUIRE(split_and_decode(kHandBatch, recs, scratch, &why));
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].offset == 5);
  CHECK(recs[0].timestamp == 1000);
  CHECK(str(*recs[0].key) == "k1");
  CHECK(str(*recs[0].value) == "v1");
  REQUIRE(recs[0].headers.size() == 1);
  CHECK(recs[0].headers[0].key == "h");
  CHECK_FALSE(recs[0].headers[0].value.has_value());
  CHECK(recs[1].offset == 6);
  CHECK(recs[1].timestamp == 1010);
  CHECK_FALSE(recs[1].key.has_value());
  CHECK(str(*recs[1].value) == "hello");
  CHECK(recs[1].headers.empty());
}

TEST_CASE("record batch: builder reproduces the hand-built batch byte for byte") {
  BatchBuilder::Options o;
  o.base_offset = 5;
  o.partition_leader_epoch = 7;
  o.producer_id = 99;
  o.producer_epoch = 3;
  o.base_sequence = 10;
  BatchBuilder b(o);
  RecordHeader hdr{"h", std::nullopt};
  b.append(1000, bytes_of("k1"), bytes_of("v1"), std::span<const RecordHeader>(&hdr, 1));
  b.append(1010, std::nullopt, bytes_of("hello"));
  auto out = b.finish();
  CHECK(Buf(out.begin(), out.end()) == kHandBatch);
  CHECK(b.release() == kHandBatch);
}

TEST_CASE("record batch: round trip for every codec") {
  auto want = make_records(2000, 21);
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    BatchBuilder::Options o;
    o.compression = c;
    o.base_offset = 1234567;
    o.producer_id = 42;
    o.producer_epoch = 1;
    o.base_sequence = 100;
    o.transactional = true;
    BatchBuilder b(o);
    append_all(b, want);
    CHECK(b.record_count() == 2000);
    size_t est = b.estimated_size();
    auto bytes = b.finish();
    if (c == Compression::kNone) CHECK(est == bytes.size());
    CHECK(verify_batch_crc(bytes));

    BatchHeader h;
    REQUIRE(parse_batch_header(bytes, h));
    CHECK(h.compression() == c);
    CHECK(h.is_transactional());
    CHECK_FALSE(h.is_control());
    CHECK(h.record_count == 2000);
    CHECK(h.last_offset_delta == 1999);
    CHECK(h.base_timestamp == want.front().ts);
    int64_t max_ts = want.front().ts;
    for (const auto& r : want) max_ts = std::max(max_ts, r.ts);
    CHECK(h.max_timestamp == max_ts);
    CHECK(h.last_sequence() == 2099);

    std::vector<Record> recs;
    Buf scratch;
    const char* why = nullptr;
    REQUIRE_MESSAGE(split_and_decode(bytes, recs, scratch, &why), why);
    check_records(recs, want, 1234567);

    // The decompression bound applies.
    if (c != Compression::kNone) {
      CHECK_FALSE(split_and_decode(bytes, recs, scratch, &why, 1000));
      CHECK(std::string(why).find("max_output") != std::string::npos);
    }
  }
}

TEST_CASE("record batch: small cases") {
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    BatchBuilder::Options o;
    o.compression = c;
    {  // empty batch
      BatchBuilder b(o);
      auto bytes = b.finish();
      BatchHeader h;
      REQUIRE(parse_batch_header(bytes, h));
      CHECK(h.record_count == 0);
      CHECK(h.base_timestamp == -1);
      CHECK(h.max_timestamp == -1);
      std::vector<Record> recs;
      Buf scratch;
      const char* why = nullptr;
      REQUIRE(split_and_decode(bytes, recs, scratch, &why));
      CHECK(recs.empty());
    }
    {  // empty and null fields
      BatchBuilder b(o);
      RecordHeader hs[] = {{"", std::string_view()}, {"x", std::nullopt}};
      b.append(5, std::span<const uint8_t>(), std::nullopt, hs);
      b.append(-3, std::nullopt, std::span<const uint8_t>());
      auto bytes = b.finish();
      std::vector<Record> recs;
      Buf scratch;
      const char* why = nullptr;
      REQUIRE(split_and_decode(bytes, recs, scratch, &why));
      REQUIRE(recs.size() == 2);
      REQUIRE(recs[0].key.has_value());
      CHECK(recs[0].key->empty());
      CHECK_FALSE(recs[0].value.has_value());
      REQUIRE(recs[0].headers.size() == 2);
      CHECK(recs[0].headers[0].key.empty());
      REQUIRE(recs[0].headers[0].value.has_value());
      CHECK(recs[0].headers[0].value->empty());
      CHECK_FALSE(recs[0].headers[1].value.has_value());
      CHECK_FALSE(recs[1].key.has_value());
      REQUIRE(recs[1].value.has_value());
      CHECK(recs[1].value->empty());
      CHECK(recs[1].timestamp == -3);
    }
  }
}

TEST_CASE("record batch: control records") {
  BatchBuilder::Options o;
  o.transactional = true;
  o.producer_id = 7;
  o.producer_epoch = 2;
  BatchBuilder b(o);
  b.append_control(99, ControlType::kCommit, 0x01020304);
  auto bytes = b.finish();
  BatchHeader h;
  REQUIRE(parse_batch_header(bytes, h));
  CHECK(h.is_control());
  CHECK(h.is_transactional());
  std::vector<Record> recs;
  Buf scratch;
  const char* why = nullptr;
  REQUIRE(split_and_decode(bytes, recs, scratch, &why));
  REQUIRE(recs.size() == 1);
  CHECK(Buf(recs[0].key->begin(), recs[0].key->end()) == Buf{0, 0, 0, 1});
  CHECK(Buf(recs[0].value->begin(), recs[0].value->end()) == Buf{0, 0, 1, 2, 3, 4});
  CHECK(recs[0].headers.empty());

  b.reset(BatchBuilder::Options{});
  b.append_control(1, ControlType::kAbort, 5);
  REQUIRE(parse_batch_header(b.finish(), h));
  CHECK(h.is_control());
  b.reset(BatchBuilder::Options{});  // the control flag does not leak into the next batch
  b.append(1, std::nullopt, bytes_of("v"));
  REQUIRE(parse_batch_header(b.finish(), h));
  CHECK_FALSE(h.is_control());
}

TEST_CASE("record batch: in-place patches") {
  Buf batch = kHandBatch;
  set_batch_base_offset(batch, 1000000);
  set_batch_partition_leader_epoch(batch, 12);
  CHECK(verify_batch_crc(batch));  // neither field is under the CRC
  BatchHeader h;
  REQUIRE(parse_batch_header(batch, h));
  CHECK(h.base_offset == 1000000);
  CHECK(h.partition_leader_epoch == 12);

  set_batch_log_append_time(batch, 555555);
  CHECK(verify_batch_crc(batch));
  REQUIRE(parse_batch_header(batch, h));
  CHECK(h.timestamp_type() == TimestampType::kLogAppendTime);
  CHECK(h.max_timestamp == 555555);
  CHECK(h.base_timestamp == 1000);
  std::vector<Record> recs;
  Buf scratch;
  const char* why = nullptr;
  REQUIRE(split_and_decode(batch, recs, scratch, &why));
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].timestamp == 555555);
  CHECK(recs[1].timestamp == 555555);
  CHECK(recs[1].offset == 1000001);

  // Builder with LogAppendTime: flag set, max timestamp = max record time.
  BatchBuilder::Options o;
  o.timestamp_type = TimestampType::kLogAppendTime;
  BatchBuilder b(o);
  b.append(10, std::nullopt, bytes_of("a"));
  b.append(30, std::nullopt, bytes_of("b"));
  b.append(20, std::nullopt, bytes_of("c"));
  REQUIRE(parse_batch_header(b.finish(), h));
  CHECK(h.timestamp_type() == TimestampType::kLogAppendTime);
  CHECK(h.max_timestamp == 30);
}

TEST_CASE("record batch: CRC mismatch detected") {
  Buf batch = kHandBatch;
  for (size_t i = kBatchAttributesOffset; i < batch.size(); ++i) {
    batch[i] ^= 0x01;
    CAPTURE(i);
    CHECK_FALSE(verify_batch_crc(batch));
    batch[i] ^= 0x01;
  }
  batch[kBatchCrcOffset] ^= 0x80;
  CHECK_FALSE(verify_batch_crc(batch));
  CHECK_FALSE(verify_batch_crc(std::span<const uint8_t>(kHandBatch).first(kHandBatch.size() - 1)));
}

TEST_CASE("record batch: legacy magic and bad headers") {
  Buf batch = kHandBatch;
  BatchHeader h;
  const char* why = nullptr;
  for (uint8_t magic : {0, 1}) {
    batch[16] = magic;
    CHECK_FALSE(parse_batch_header(batch, h, &why));
    CHECK(std::string(why) == "legacy message format (magic 0/1) not supported");
    std::vector<BatchSpan> spans;
    CHECK_FALSE(split_batches(batch, spans, &why));
    CHECK(std::string(why) == "legacy message format (magic 0/1) not supported");
  }
  batch = kHandBatch;
  batch[11] = 10;  // batchLength 10 < the fixed header
  CHECK_FALSE(parse_batch_header(batch, h, &why));
  batch = kHandBatch;
  batch[57] = 0xff;  // negative record count
  CHECK_FALSE(parse_batch_header(batch, h, &why));
  CHECK_FALSE(parse_batch_header(std::span<const uint8_t>(kHandBatch).first(60), h, &why));
}

TEST_CASE("record batch: split with partial tail") {
  Buf all;
  std::vector<Buf> batches;
  for (int i = 0; i < 3; ++i) {
    BatchBuilder::Options o;
    o.base_offset = i * 10;
    BatchBuilder b(o);
    for (int k = 0; k < 5 + i; ++k) b.append(k, std::nullopt, bytes_of("value"));
    batches.push_back(b.release());
    all.insert(all.end(), batches.back().begin(), batches.back().end());
  }
  std::vector<BatchSpan> spans;
  size_t tail = 99;
  const char* why = nullptr;
  REQUIRE(split_batches(all, spans, &why, &tail));
  CHECK(tail == 0);
  REQUIRE(spans.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(spans[i].header.base_offset == i * 10);
    CHECK(spans[i].header.record_count == 5 + i);
    CHECK(Buf(spans[i].bytes.begin(), spans[i].bytes.end()) == batches[i]);
  }
  // Every cut point: complete batches before it, the rest as the tail.
  for (size_t n = 0; n <= all.size(); ++n) {
    CAPTURE(n);
    REQUIRE(split_batches(std::span<const uint8_t>(all).first(n), spans, &why, &tail));
    size_t whole = 0, used = 0;
    for (const auto& b : batches) {
      if (used + b.size() > n) break;
      used += b.size();
      ++whole;
    }
    CHECK(spans.size() == whole);
    CHECK(tail == n - used);
  }
  CHECK(split_batches({}, spans, &why, &tail));
  CHECK(spans.empty());
  CHECK(tail == 0);
}

TEST_CASE("record batch: truncation and corruption never crash") {
  auto want = make_records(40, 31);
  std::mt19937_64 rng(32);
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    BatchBuilder::Options o;
    o.compression = c;
    BatchBuilder b(o);
    append_all(b, want);
    Buf good = b.release();
    std::vector<Record> recs;
    Buf scratch;
    const char* why = nullptr;
    REQUIRE(split_and_decode(good, recs, scratch, &why));

    for (size_t n = 0; n < good.size(); ++n) {
      CAPTURE(n);
      Buf cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
      // As received: a partial batch is a tail, not a batch.
      std::vector<BatchSpan> spans;
      size_t tail = 0;
      REQUIRE(split_batches(cut, spans, &why, &tail));
      CHECK(spans.empty());
      CHECK(tail == n);
      // With the length patched to match the cut, the header is consistent
      // but the records are short: decoding must fail.
      if (n >= kBatchHeaderSize) {
        uint32_t len = static_cast<uint32_t>(n - kBatchLogOverhead);
        cut[8] = uint8_t(len >> 24), cut[9] = uint8_t(len >> 16), cut[10] = uint8_t(len >> 8), cut[11] = uint8_t(len);
        why = nullptr;
        bool ok = split_and_decode(cut, recs, scratch, &why);
        // A snappy (xerial) stream cut between blocks is itself valid; the
        // record count then catches it.
        CHECK_FALSE(ok);
        CHECK(why != nullptr);
        CHECK(recs.empty());
      }
    }
    for (int i = 0; i < 2000; ++i) {
      Buf bad = good;
      int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        // Mostly the records section; sometimes the header.
        size_t at = rng() % 8 == 0 ? rng() % kBatchHeaderSize
                                   : kBatchHeaderSize + rng() % (bad.size() - kBatchHeaderSize);
        bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
      }
      // Any change from the magic byte on (length unchanged) breaks the CRC.
      bool covered_changed = !std::equal(bad.begin() + kBatchLogOverhead + 4, bad.end(),
                                         good.begin() + kBatchLogOverhead + 4);
      bool length_same = std::equal(bad.begin() + 8, bad.begin() + 12, good.begin() + 8);
      if (covered_changed && length_same) CHECK_FALSE(verify_batch_crc(bad));
      std::vector<BatchSpan> spans;
      size_t tail = 0;
      if (!split_batches(bad, spans, &why, &tail)) continue;
      for (const auto& s : spans) {
        if (decode_records(s, recs, scratch, 1 << 20, &why)) {
          CHECK(recs.size() == static_cast<size_t>(s.header.record_count));
        } else {
          CHECK(why != nullptr);
          CHECK(recs.empty());
        }
      }
    }
  }
}

TEST_CASE("record batch: hostile record fields") {
  // Records section crafted by hand after a valid header; CRC is not checked
  // by decode_records, so each case exercises the record parser alone.
  auto make = [](int32_t count, const Buf& records) {
    Buf b(kBatchHeaderSize + records.size());
    std::copy(kHandBatch.begin(), kHandBatch.begin() + kBatchHeaderSize, b.begin());
    std::copy(records.begin(), records.end(), b.begin() + kBatchHeaderSize);
    uint32_t len = static_cast<uint32_t>(b.size() - kBatchLogOverhead);
    b[8] = uint8_t(len >> 24), b[9] = uint8_t(len >> 16), b[10] = uint8_t(len >> 8), b[11] = uint8_t(len);
    uint32_t n = static_cast<uint32_t>(count);
    b[57] = uint8_t(n >> 24), b[58] = uint8_t(n >> 16), b[59] = uint8_t(n >> 8), b[60] = uint8_t(n);
    return b;
  };
  const Buf one = {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};  // length 8, key "k", value "v"
  std::vector<Record> recs;
  Buf scratch;
  const char* why = nullptr;
  const Buf valid = make(1, one);  // records point into it: keep it alive
  REQUIRE(split_and_decode(valid, recs, scratch, &why));
  CHECK(str(*recs[0].key) == "k");

  struct Case {
    const char* name;
    int32_t count;
    Buf records;
  };
  const Case cases[] = {
      {"count larger than records", 2, one},
      {"count smaller than records", 0, one},
      {"huge count", 0x7fffffff, one},
      {"length past end", 1, {0x7e, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0}},
      {"negative length", 1, {0x01, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0}},
      {"length shorter than fields", 1, {0x0c, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0, 0}},
      {"length longer than fields", 1, {0x12, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0, 0}},
      {"key past record", 1, {0x10, 0, 0, 0, 0x20, 'k', 0x02, 'v', 0}},
      {"key length -2", 1, {0x10, 0, 0, 0, 0x03, 'k', 0x02, 'v', 0}},
      {"huge header count", 1, {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x7e}},
      {"negative header count", 1, {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x01}},
      {"null header key", 1, {0x14, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0x02, 0x01, 0x01}},
      {"overlong varint", 1, {0x18, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    why = nullptr;
    CHECK_FALSE(split_and_decode(make(c.count, c.records), recs, scratch, &why));
    CHECK(why != nullptr);
  }
}

TEST_CASE("record batch: size estimates") {
  BatchBuilder b(BatchBuilder::Options{});
  CHECK(b.estimated_size() == kBatchHeaderSize);
  std::string key(16, 'k'), value(100, 'v');
  RecordHeader hs[] = {{"trace", std::string_view("abc")}};
  size_t before = b.estimated_size();
  for (int i = 0; i < 100; ++i) {
    size_t bound = BatchBuilder::record_size_upper_bound(key.size(), value.size(), hs);
    b.append(int64_t{1} << 40, bytes_of(key), bytes_of(value), hs);
    CHECK(b.estimated_size() - before <= bound);
    CHECK(b.estimated_size() - before > key.size() + value.size());
    before = b.estimated_size();
  }
}

TEST_CASE("record batch: last_sequence wraps like Kafka") {
  BatchHeader h;
  h.base_sequence = -1;
  CHECK(h.last_sequence() == -1);
  h.base_sequence = INT32_MAX - 1;
  h.last_offset_delta = 3;
  CHECK(h.last_sequence() == 1);
  h.base_sequence = INT32_MAX;
  h.last_offset_delta = 0;
  CHECK(h.last_sequence() == INT32_MAX);
}
