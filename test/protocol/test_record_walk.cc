// The record walk (record_walk.h): fields read from BatchBuilder batches
// (plain, compressed with every codec built in, a control batch), every
// corruption class with its message through all three entry points
// (walk_records, validate_records with its record shapes, decode_records),
// and the shape matching of validate_records held to the plain walk over
// randomized batches with fixed seeds.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protocol/record_batch.h"
#include "protocol/record_walk.h"

using namespace kfk::proto;

namespace {

using Buf = std::vector<uint8_t>;
using Header = std::pair<std::string, std::optional<std::string>>;

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string str(std::span<const uint8_t> s) { return std::string(s.begin(), s.end()); }

// Zigzag varint of `v`, padded with zero-payload continuation bytes to
// `width` bytes when wider than needed (the walk accepts such encodings).
void put_varlong(Buf& out, int64_t v, int width = 0) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  int n = 0;
  do {
    uint8_t b = u & 0x7f;
    u >>= 7;
    ++n;
    if (u != 0 || n < width) b |= 0x80;
    out.push_back(b);
  } while (u != 0);
  for (; n < width; ++n) out.push_back(n + 1 < width ? 0x80 : 0x00);
}

struct Rec {
  int64_t ts_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string> key;
  std::optional<std::string> value = std::string("v");
  std::vector<Header> headers;
};

void put_bytes(Buf& out, const std::optional<std::string>& s) {
  put_varlong(out, s ? static_cast<int64_t>(s->size()) : -1);
  if (s) out.insert(out.end(), s->begin(), s->end());
}

Buf encode(const Rec& r) {
  Buf body = {0};  // attributes
  put_varlong(body, r.ts_delta);
  put_varlong(body, r.offset_delta);
  put_bytes(body, r.key);
  put_bytes(body, r.value);
  put_varlong(body, static_cast<int64_t>(r.headers.size()));
  for (const auto& [k, v] : r.headers) {
    put_bytes(body, k);
    put_bytes(body, v);
  }
  Buf out;
  put_varlong(out, static_cast<int64_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A record whose body is `fields` as raw varints (attributes and both
// deltas 0 first), then `tail` bytes of 'x'.
Buf raw_record(std::initializer_list<int64_t> fields, size_t tail = 0) {
  Buf body = {0, 0x00, 0x00};
  for (int64_t f : fields) put_varlong(body, f);
  body.insert(body.end(), tail, 'x');
  Buf out;
  put_varlong(out, static_cast<int64_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Buf concat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const Buf& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

BatchHeader header_for(int32_t count) {
  BatchHeader h;
  h.base_offset = 100;
  h.base_timestamp = 5000;
  h.max_timestamp = 9000;
  h.record_count = count;
  return h;
}

// The plain walk's view of a records section: its verdict ("" or the
// reason) and the records' null-key indices.
struct Verdict {
  std::string why;
  std::vector<int32_t> null_keys;
  bool operator==(const Verdict&) const = default;
};

struct NullKeys {
  std::vector<int32_t>& out;
  int32_t i = 0;
  void record(const RecordFields& f) {
    if (!f.key) out.push_back(i);
    ++i;
  }
};

Verdict plain(const BatchHeader& h, const Buf& data) {
  Verdict v;
  const char* why = nullptr;
  if (!walk_records(h, data, NullKeys{v.null_keys}, &why)) return {why, {}};
  return v;
}

Verdict shaped(const BatchHeader& h, const Buf& data) {
  Verdict v;
  const char* why = nullptr;
  if (!validate_records(h, data, &v.null_keys, &why)) return {why, {}};
  return v;
}

// The reason all three entry points give ("" when they accept); they must agree.
std::string verdict(const BatchHeader& h, const Buf& data) {
  const Verdict p = plain(h, data);
  CHECK(shaped(h, data) == p);
  const char* why = nullptr;
  CHECK(validate_records(h, data, nullptr, &why) == p.why.empty());
  if (!p.why.empty()) CHECK(std::string(why) == p.why);
  // decode_records, on a batch with this header around `data`.
  Buf batch(kBatchHeaderSize, 0);
  batch.insert(batch.end(), data.begin(), data.end());
  BatchHeader bh = h;
  bh.batch_length = static_cast<int32_t>(batch.size() - kBatchLogOverhead);
  std::vector<Record> recs(3);  // stale elements: decoding replaces them
  Buf scratch;
  why = nullptr;
  const bool ok = decode_records(BatchSpan{bh, batch}, recs, scratch, 1 << 20, &why);
  CHECK(ok == p.why.empty());
  if (ok) {
    CHECK(recs.size() == static_cast<size_t>(h.record_count));
  } else {
    CHECK(std::string(why) == p.why);
    CHECK(recs.empty());
  }
  return p.why;
}

}  // namespace

TEST_CASE("record walk: fields of BatchBuilder records, nulls and headers included") {
  BatchBuilder::Options opts;
  opts.base_offset = 42;
  BatchBuilder b(opts);
  const std::string k = "key", v(300, 'v'), empty;
  const std::vector<RecordHeader> hs = {{"a", std::string_view("1")}, {"b", std::nullopt}, {"", std::string_view()}};
  b.append(1000, bytes_of(k), bytes_of(v), hs);
  b.append(999, std::nullopt, bytes_of(v));
  b.append(1500, bytes_of(empty), std::nullopt);
  b.append(1001, std::nullopt, std::nullopt, std::span(hs).first(1));
  const Buf batch(b.finish().begin(), b.finish().end());
  std::vector<BatchSpan> spans;
  REQUIRE(split_batches(batch, spans));
  const BatchHeader& h = spans[0].header;
  Buf scratch;
  std::span<const uint8_t> data;
  REQUIRE(batch_records(spans[0], scratch, 1 << 20, &data));

  struct Seen {
    RecordFields f;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };
  struct Collect {
    std::vector<Seen>& out;
    std::vector<Header> pending;
    int32_t started = -1;
    void start(int32_t n) { started = n; }
    void header(std::string_view key, std::optional<std::string_view> value) {
      pending.emplace_back(std::string(key), value ? std::optional<std::string>(std::string(*value)) : std::nullopt);
    }
    void record(const RecordFields& f) { out.push_back({f, std::exchange(pending, {})}); }
  };
  std::vector<Seen> seen;
  Collect c{seen};
  REQUIRE(walk_records(h, data, c));
  CHECK(c.started == 4);
  REQUIRE(seen.size() == 4);
  CHECK(record_offset(h, seen[3].f) == 45);
  CHECK(record_timestamp(h, seen[1].f) == 999);
  CHECK(record_timestamp(h, seen[2].f) == 1500);
  CHECK(str(*seen[0].f.key) == "key");
  CHECK(str(*seen[0].f.value) == v);
  CHECK(seen[0].f.header_count == 3);
  CHECK(seen[0].headers == std::vector<Header>{{"a", "1"}, {"b", std::nullopt}, {"", ""}});
  CHECK_FALSE(seen[1].f.key.has_value());
  CHECK(seen[2].f.key->empty());
  CHECK_FALSE(seen[2].f.value.has_value());
  CHECK(seen[3].headers == std::vector<Header>{{"a", "1"}});

  std::vector<int32_t> null_keys;
  CHECK(validate_records(h, data, &null_keys));
  CHECK(null_keys == std::vector<int32_t>{1, 3});
  std::vector<Record> recs;
  REQUIRE(decode_records(spans[0], recs, scratch, 1 << 20));
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].headers.size() == 3);
  CHECK(recs[1].headers.empty());
  CHECK(recs[3].headers.size() == 1);

  // LogAppendTime: every record takes the batch's max timestamp.
  BatchHeader lat = h;
  lat.attributes |= batch_attr::kTimestampType;
  CHECK(record_timestamp(lat, seen[2].f) == h.max_timestamp);
}

TEST_CASE("record walk: every corruption class, with its message") {
  const Buf one = encode(Rec{.key = "k", .value = std::string(10, 'v')});
  const Buf three = concat({one, one, one});
  // Record count vs the data.
  CHECK(verdict(header_for(3), three) == "");
  CHECK(verdict(header_for(0), Buf{}) == "");
  CHECK(verdict(header_for(2), three) == "records data longer than the record count says");
  CHECK(verdict(header_for(4), three) == "record truncated");
  CHECK(verdict(header_for(100), three) == "record count exceeds the records data");
  CHECK(verdict(header_for(1), concat({one, Buf{0}})) == "records data longer than the record count says");
  // Truncated records: the length runs past the data, the length varint is cut.
  CHECK(verdict(header_for(3), Buf(three.begin(), three.end() - 1)) == "record length out of range");
  CHECK(verdict(header_for(2), concat({one, Buf(9, 0x80)})) == "record truncated");
  // Bad varints: eleven bytes as the record length, ten as a field, a
  // 32-bit field over 32 bits.
  CHECK(verdict(header_for(1), concat({Buf(10, 0x80), Buf{0x00}, Buf(8, 0)})) == "record truncated");
  Buf overlong = {0x1c, 0};  // length 14: attributes, then an eleven-byte timestamp delta
  overlong.insert(overlong.end(), 10, 0x80);
  overlong.insert(overlong.end(), {0x00, 0x00, 0x01});
  CHECK(verdict(header_for(1), overlong) == "record truncated or malformed");
  Buf wide = {0, 0x00};  // attributes, timestamp delta, then an offset delta of 2^32
  for (uint8_t b : {0x80, 0x80, 0x80, 0x80, 0x10}) wide.push_back(b);
  wide.insert(wide.end(), {0x01, 0x01, 0x00});
  Buf wide_rec;
  put_varlong(wide_rec, static_cast<int64_t>(wide.size()));
  CHECK(verdict(header_for(1), concat({wide_rec, wide})) == "record truncated or malformed");
  // Lengths: under the minimum body, negative.
  CHECK(verdict(header_for(1), concat({Buf{0x0a}, Buf(5, 0), Buf(5, 0)})) == "record length out of range");
  CHECK(verdict(header_for(1), concat({Buf{0x05}, Buf(10, 0)})) == "record length out of range");
  // Negative field lengths other than -1 (null), header counts.
  CHECK(verdict(header_for(1), raw_record({-1, -1, 0})) == "");
  CHECK(verdict(header_for(1), raw_record({-2, 0, 0})) == "record key length is negative");
  CHECK(verdict(header_for(1), raw_record({INT32_MIN, 0, 0})) == "record key length is negative");
  CHECK(verdict(header_for(1), raw_record({-1, -2, 0})) == "record value length is negative");
  CHECK(verdict(header_for(1), raw_record({-1, -1, -1})) == "record header count out of range");
  CHECK(verdict(header_for(1), raw_record({-1, -1, 3, 0, -1})) == "record header count out of range");
  CHECK(verdict(header_for(1), raw_record({-1, -1, 1, -1, 0})) == "record header key is null or negative");
  CHECK(verdict(header_for(1), raw_record({-1, -1, 1, 0, -2})) == "record header value length is negative");
  CHECK(verdict(header_for(1), raw_record({-1, -1, 1, 0, -1})) == "");
  // Fields past their lengths: a key or header value longer than the record.
  CHECK(verdict(header_for(1), raw_record({20, 0, 0}, 2)) == "record truncated or malformed");
  CHECK(verdict(header_for(1), raw_record({-1, -1, 1, 1, 9}, 3)) == "record truncated or malformed");
  // Length mismatch: fields end before the length says, or run past it.
  Buf longer = one;
  longer[0] = static_cast<uint8_t>(longer[0] + 2);
  longer.push_back(0);
  CHECK(verdict(header_for(1), longer) == "record length does not match its fields");
  Buf shorter = one;
  shorter[0] = static_cast<uint8_t>(shorter[0] - 2);
  CHECK(verdict(header_for(1), shorter) == "record truncated or malformed");
}

TEST_CASE("record walk: batch-level checks before the records") {
  BatchBuilder b(BatchBuilder::Options{});
  const std::string v = "v";
  b.append(1, std::nullopt, bytes_of(v));
  const Buf batch(b.finish().begin(), b.finish().end());
  std::vector<BatchSpan> spans;
  REQUIRE(split_batches(batch, spans));
  Buf scratch;
  std::span<const uint8_t> data;
  const char* why = nullptr;
  auto fails = [&](BatchSpan s) {
    why = nullptr;
    CHECK_FALSE(batch_records(s, scratch, 1 << 20, &data, &why));
    return std::string(why != nullptr ? why : "");
  };
  BatchSpan s = spans[0];
  s.header.magic = 1;
  CHECK(fails(s) == "legacy message format (magic 0/1) not supported");
  s = spans[0];
  s.bytes = s.bytes.first(s.bytes.size() - 1);
  CHECK(fails(s) == "record batch truncated");
  s = spans[0];
  s.header.record_count = -1;
  CHECK(fails(s) == "record batch has a negative record count");
  s = spans[0];
  s.header.attributes = 6;
  CHECK(fails(s) == "unknown compression codec");
  s = spans[0];
  s.header.attributes = static_cast<int16_t>(Compression::kGzip);  // the records are not gzip data
  if (compression_available(Compression::kGzip)) CHECK_FALSE(fails(s).empty());
}

namespace {

// Records a producer would send: runs of one shape (deltas counting up,
// key and value sizes fixed), with shape changes part way: a value one
// byte longer, a null key or value, a header, a wider delta.
std::vector<Rec> random_records(std::mt19937& rng, int n) {
  std::vector<Rec> recs;
  Rec shape{.key = std::string(8, 'k'), .value = std::string(100, 'v')};
  for (int i = 0; i < n; ++i) {
    if (rng() % 40 == 0) {
      shape.key = rng() % 3 == 0 ? std::nullopt : std::optional<std::string>(std::string(rng() % 20, 'k'));
      shape.value = rng() % 5 == 0 ? std::nullopt : std::optional<std::string>(std::string(rng() % 300, 'v'));
      shape.headers.clear();
      if (rng() % 4 == 0) shape.headers.push_back({"h", std::string(rng() % 3, 'x')});
    }
    Rec r = shape;
    r.offset_delta = i;
    r.ts_delta = rng() % 8 == 0 ? static_cast<int64_t>(rng()) : i;
    if (rng() % 16 == 0 && r.value) r.value->push_back('+');
    recs.push_back(std::move(r));
  }
  return recs;
}

Buf records_of(const std::vector<Rec>& recs) {
  Buf out;
  for (const Rec& r : recs) {
    const Buf e = encode(r);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

}  // namespace

TEST_CASE("record walk: shape matching gives the plain walk's answers on randomized batches") {
  std::mt19937 rng(2026);
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    const std::vector<Rec> recs = random_records(rng, 1 + static_cast<int>(rng() % 400));
    const Buf data = records_of(recs);
    const BatchHeader h = header_for(static_cast<int32_t>(recs.size()));
    std::vector<int32_t> want_null_keys;
    for (size_t i = 0; i < recs.size(); ++i)
      if (!recs[i].key) want_null_keys.push_back(static_cast<int32_t>(i));
    REQUIRE(verdict(h, data) == "");
    CHECK(shaped(h, data).null_keys == want_null_keys);
  }
}

TEST_CASE("record walk: shape matching gives the plain walk's answers on randomized corruptions") {
  std::mt19937 rng(14);
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    CAPTURE(round);
    const std::vector<Rec> recs = random_records(rng, 20 + static_cast<int>(rng() % 80));
    Buf data = records_of(recs);
    // Edits after the first record (so a shape is learnt), mostly in the
    // structural bytes near a record's start.
    const size_t first = encode(recs[0]).size();
    for (int e = 1 + static_cast<int>(rng() % 2); e > 0; --e) {
      const size_t at = first + rng() % (data.size() - first);
      switch (rng() % 4) {
        case 0: data[at] = static_cast<uint8_t>(rng()); break;
        case 1: data[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2: data.erase(data.begin() + static_cast<std::ptrdiff_t>(at)); break;
        default: data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng())); break;
      }
    }
    if (!verdict(header_for(static_cast<int32_t>(recs.size())), data).empty()) ++rejected;
  }
  CHECK(rejected > 1000);
}

TEST_CASE("record walk: compressed batches, every codec built in, walked from the decompressed records") {
  const std::string v(200, 'v');
  const std::vector<RecordHeader> hs = {{"trace", std::string_view("abc")}};
  for (auto c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    if (!compression_available(c)) continue;
    CAPTURE(static_cast<int>(c));
    BatchBuilder::Options opts;
    opts.compression = c;
    opts.base_offset = 7;
    BatchBuilder b(opts);
    for (int i = 0; i < 50; ++i) {
      const std::string k = "key-" + std::to_string(i);
      b.append(2000 + i, i % 10 == 0 ? std::nullopt : std::optional(bytes_of(k)), bytes_of(v),
               i % 2 == 0 ? std::span(hs) : std::span<const RecordHeader>());
    }
    const Buf batch = b.release();
    std::vector<BatchSpan> spans;
    REQUIRE(split_batches(batch, spans));
    REQUIRE(spans[0].header.compression() == c);
    Buf scratch;
    std::span<const uint8_t> data;
    REQUIRE(batch_records(spans[0], scratch, 1 << 20, &data));
    CHECK(data.data() == scratch.data());  // the walk reads the decompressed records

    struct Count {
      const BatchHeader& h;
      int32_t records = 0, headers = 0;
      int64_t last_offset = -1, last_timestamp = -1;
      std::string key_10;
      void header(std::string_view key, std::optional<std::string_view> value) {
        CHECK(key == "trace");
        CHECK(value == std::optional<std::string_view>("abc"));
        ++headers;
      }
      void record(const RecordFields& f) {
        if (records == 11) key_10 = str(*f.key);
        last_offset = record_offset(h, f);
        last_timestamp = record_timestamp(h, f);
        ++records;
      }
    } count{spans[0].header};
    REQUIRE(walk_records(spans[0].header, data, count));
    CHECK(count.records == 50);
    CHECK(count.headers == 25);
    CHECK(count.last_offset == 56);
    CHECK(count.last_timestamp == 2049);
    CHECK(count.key_10 == "key-11");
    std::vector<int32_t> null_keys;
    CHECK(validate_records(spans[0].header, data, &null_keys));
    CHECK(null_keys == std::vector<int32_t>{0, 10, 20, 30, 40});

    // A bound on decompression under the records' size is refused.
    const char* why = nullptr;
    CHECK_FALSE(batch_records(spans[0], scratch, 1000, &data, &why));
    CHECK(why != nullptr);
  }
}

TEST_CASE("record walk: a control batch's marker record") {
  BatchBuilder::Options opts;
  opts.control = true;
  opts.transactional = true;
  opts.producer_id = 9;
  opts.base_offset = 300;
  BatchBuilder b(opts);
  b.append_control(4242, ControlType::kCommit, 5);
  const Buf batch = b.release();
  std::vector<BatchSpan> spans;
  REQUIRE(split_batches(batch, spans));
  REQUIRE(spans[0].header.is_control());
  std::vector<Record> recs;
  Buf scratch;
  REQUIRE(decode_records(spans[0], recs, scratch, 1 << 20));
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].offset == 300);
  CHECK(recs[0].timestamp == 4242);
  // The key: version 0, type 1 (commit); the value: version 0, epoch 5.
  REQUIRE(recs[0].key.has_value());
  CHECK(Buf(recs[0].key->begin(), recs[0].key->end()) == Buf{0, 0, 0, 1});
  REQUIRE(recs[0].value.has_value());
  REQUIRE(recs[0].value->size() >= 6);
  CHECK(Buf(recs[0].value->begin(), recs[0].value->begin() + 6) == Buf{0, 0, 0, 0, 0, 5});
  std::span<const uint8_t> data;
  REQUIRE(batch_records(spans[0], scratch, 1 << 20, &data));
  std::vector<int32_t> null_keys;
  CHECK(validate_records(spans[0].header, data, &null_keys));
  CHECK(null_keys.empty());
}
