// The consumer's record decoding (record_drain.cc: proto::decode_records,
// the codec's record walk, into one record vector reused from batch to
// batch): the same records as a decode into a fresh vector from well-formed
// batches of every shape, and the same verdict on thousands of corrupted
// ones, nothing stale left behind.
#include <doctest/doctest.h>

#include <random>

#include "protocol/record_batch.h"

using namespace kfk;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A batch of `n` records with null and empty keys and values, headers
// (null values too) and large fields now and then.
std::vector<uint8_t> make_batch(int n, proto::Compression c, std::mt19937& rng, int64_t base_offset = 100,
                                proto::TimestampType tt = proto::TimestampType::kCreateTime) {
  proto::BatchBuilder::Options o;
  o.compression = c;
  o.base_offset = base_offset;
  o.timestamp_type = tt;
  proto::BatchBuilder b(o);
  std::vector<std::string> keep;
  for (int i = 0; i < n; ++i) {
    std::string key = 'k' + std::to_string(rng() % 1000);
    std::string value(rng() % 7 == 0 ? 300 + rng() % 200 : rng() % 40, static_cast<char>('a' + i % 26));
    std::vector<proto::RecordHeader> headers;
    std::string hk = 'h' + std::to_string(i);
    if (i % 3 == 0) headers.push_back({hk, std::string_view("v")});
    if (i % 5 == 0) headers.push_back({"null", std::nullopt});
    std::optional<std::span<const uint8_t>> k, v;
    if (i % 4 != 0) k = bytes_of(key);
    if (i % 6 != 0) v = bytes_of(value);
    b.append(1700000000000 + i * 3, k, v, headers);
  }
  return b.release();
}

proto::BatchSpan span_of(const std::vector<uint8_t>& bytes) {
  std::vector<proto::BatchSpan> spans;
  const char* why = nullptr;
  REQUIRE_MESSAGE(proto::split_batches(bytes, spans, &why), (why ? why : ""));
  REQUIRE(spans.size() == 1);
  return spans[0];
}

void check_same(const std::vector<proto::Record>& a, const std::vector<proto::Record>& b) {
  REQUIRE(a.size() == b.size());
  auto eq = [](const std::optional<std::span<const uint8_t>>& x, const std::optional<std::span<const uint8_t>>& y) {
    if (x.has_value() != y.has_value()) return false;
    return !x || std::equal(x->begin(), x->end(), y->begin(), y->end());
  };
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].attributes == b[i].attributes);
    CHECK(a[i].offset == b[i].offset);
    CHECK(a[i].timestamp == b[i].timestamp);
    CHECK(eq(a[i].key, b[i].key));
    CHECK(eq(a[i].value, b[i].value));
    REQUIRE(a[i].headers.size() == b[i].headers.size());
    for (size_t h = 0; h < a[i].headers.size(); ++h) {
      CHECK(a[i].headers[h].key == b[i].headers[h].key);
      CHECK(a[i].headers[h].value == b[i].headers[h].value);
    }
  }
}

}  // namespace

TEST_CASE("fetch record decoding: a reused vector holds a fresh decode's records, every codec") {
  std::mt19937 rng(7);
  std::vector<proto::Record> fast;  // reused across batches, as the consumer does
  for (auto c : {proto::Compression::kNone, proto::Compression::kGzip, proto::Compression::kSnappy,
                 proto::Compression::kLz4, proto::Compression::kZstd}) {
    if (!proto::compression_available(c)) continue;
    for (int n : {1, 2, 17, 500, 3}) {
      for (auto tt : {proto::TimestampType::kCreateTime, proto::TimestampType::kLogAppendTime}) {
        CAPTURE(static_cast<int>(c));
        CAPTURE(n);
        auto bytes = make_batch(n, c, rng, 1000 + n, tt);
        if (tt == proto::TimestampType::kLogAppendTime)
          proto::set_batch_log_append_time(bytes, 1800000000000);
        proto::BatchSpan span = span_of(bytes);
        std::vector<proto::Record> ref;
        std::vector<uint8_t> s1, s2;
        REQUIRE(proto::decode_records(span, ref, s1, size_t{64} << 20));
        REQUIRE(proto::decode_records(span, fast, s2, size_t{64} << 20));
        check_same(ref, fast);
        CHECK(fast.back().offset == 1000 + n + n - 1);
      }
    }
  }
}

TEST_CASE("fetch record decoding: corrupted batches get a fresh decode's verdict in a reused vector") {
  std::mt19937 rng(11);
  int rejected = 0, accepted = 0;
  std::vector<proto::Record> fast;
  for (int round = 0; round < 4000; ++round) {
    auto bytes = make_batch(1 + static_cast<int>(rng() % 6), proto::Compression::kNone, rng);
    // Damage the records section (the header is checked elsewhere): flip,
    // overwrite or truncate.
    size_t body = proto::kBatchHeaderSize;
    size_t pos = body + rng() % (bytes.size() - body);
    switch (rng() % 3) {
      case 0: bytes[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
      case 1: bytes[pos] = static_cast<uint8_t>(rng()); break;
      case 2: {
        // A record count that lies.
        uint32_t count = static_cast<uint32_t>(rng() % 12);
        for (int i = 0; i < 4; ++i) bytes[57 + static_cast<size_t>(i)] = static_cast<uint8_t>(count >> (24 - 8 * i));
        break;
      }
    }
    proto::BatchSpan span = span_of(bytes);
    std::vector<proto::Record> ref;
    std::vector<uint8_t> s1, s2;
    const char* why_ref = nullptr;
    const char* why_fast = nullptr;
    bool ok_ref = proto::decode_records(span, ref, s1, size_t{64} << 20, &why_ref);
    bool ok_fast = proto::decode_records(span, fast, s2, size_t{64} << 20, &why_fast);
    CAPTURE(round);
    REQUIRE(ok_ref == ok_fast);
    if (ok_ref) {
      accepted++;
      check_same(ref, fast);
    } else {
      rejected++;
      CHECK(fast.empty());
      CHECK(why_fast != nullptr);
    }
  }
  // Both kinds occurred, so both paths were compared.
  CHECK(rejected > 100);
  CHECK(accepted > 100);
}
