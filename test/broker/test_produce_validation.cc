// produce_validation as broker-ref's produce path calls it: the codec's
// record walk in its allocation-free form (proto::validate_records, with
// its inlined varint fast path and its matching of records against a
// learnt record shape) checked field by field and against
// proto::decode_records (the same walk filling Records), which it must
// agree with.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protocol/crc32c.h"
#include "protocol/record_batch.h"
#include "server/produce_validation.h"

using namespace kfk;
using namespace kfk::broker;

namespace {

using Bytes = std::vector<uint8_t>;

// Unsigned LEB128 of `u`, padded with zero-payload continuation bytes to
// `width` bytes when wider than needed (Reader accepts such encodings).
void put_uvarlong(Bytes& out, uint64_t u, int width = 0) {
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

void put_varlong(Bytes& out, int64_t v, int width = 0) {
  put_uvarlong(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), width);
}

void put_varint(Bytes& out, int32_t v, int width = 0) {
  put_uvarlong(out, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31), width);
}

struct Rec {
  int64_t ts_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string> key;
  std::optional<std::string> value = std::string("v");
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int width = 0;  // every varint of the record padded to this many bytes (0: minimal)
};

void put_bytes(Bytes& out, const std::optional<std::string>& s, int width) {
  put_varint(out, s ? static_cast<int32_t>(s->size()) : -1, width);
  if (s) out.insert(out.end(), s->begin(), s->end());
}

Bytes encode(const Rec& r) {
  Bytes body;
  body.push_back(0);  // attributes
  put_varlong(body, r.ts_delta, r.width);
  put_varint(body, r.offset_delta, r.width);
  put_bytes(body, r.key, r.width);
  put_bytes(body, r.value, r.width);
  put_varint(body, static_cast<int32_t>(r.headers.size()), r.width);
  for (const auto& [k, v] : r.headers) {
    put_bytes(body, k, r.width);
    put_bytes(body, v, r.width);
  }
  Bytes out;
  put_varint(out, static_cast<int32_t>(body.size()), r.width);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void put_be(Bytes& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A batch around already encoded records, `count` in its header (and
// lastOffsetDelta count - 1), with a correct CRC.
Bytes batch_of(const Bytes& records, int32_t count) {
  Bytes b;
  put_be(b, 0, 8);                                                     // base offset
  put_be(b, proto::kBatchHeaderSize - 12 + records.size(), 4);         // batch length
  put_be(b, 0, 4);                                                     // leader epoch
  b.push_back(2);                                                      // magic
  put_be(b, 0, 4);                                                     // crc, below
  put_be(b, 0, 2);                                                     // attributes
  put_be(b, static_cast<uint32_t>(count - 1), 4);                      // last offset delta
  put_be(b, 1000, 8);                                                  // base timestamp
  put_be(b, 1000, 8);                                                  // max timestamp
  put_be(b, static_cast<uint64_t>(-1), 8);                             // producer id
  put_be(b, static_cast<uint16_t>(-1), 2);                             // producer epoch
  put_be(b, static_cast<uint32_t>(-1), 4);                             // base sequence
  put_be(b, static_cast<uint32_t>(count), 4);                          // record count
  b.insert(b.end(), records.begin(), records.end());
  uint32_t crc = proto::crc32c(b.data() + proto::kBatchAttributesOffset, b.size() - proto::kBatchAttributesOffset);
  for (int i = 0; i < 4; ++i) b[proto::kBatchCrcOffset + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  return b;
}

Bytes batch_of(const std::vector<Rec>& recs) {
  Bytes records;
  for (const Rec& r : recs) {
    Bytes e = encode(r);
    records.insert(records.end(), e.begin(), e.end());
  }
  return batch_of(records, static_cast<int32_t>(recs.size()));
}

LogConfig big_config() {
  LogConfig c;
  c.max_message_bytes = 64 << 20;
  return c;
}

// The validation's verdict: "" when accepted, else the walk's reason.
std::string validate(const Bytes& batch) {
  ProduceValidation v = validate_produce_records(batch, 9, big_config(), "t-0");
  if (v.status.ok()) return "";
  const std::string prefix = "Record batch for partition t-0 is corrupt: ";
  REQUIRE(v.status.message.rfind(prefix, 0) == 0);
  return v.status.message.substr(prefix.size());
}

// The reference: "" when decode_records accepts, else its reason.
std::string reference(const Bytes& batch) {
  std::vector<proto::BatchSpan> spans;
  REQUIRE(proto::split_batches(batch, spans));
  REQUIRE(spans.size() == 1);
  std::vector<proto::Record> recs;
  Bytes scratch;
  const char* why = nullptr;
  return proto::decode_records(spans[0], recs, scratch, 1u << 30, &why) ? "" : why;
}

std::string both(const Bytes& batch) {
  std::string v = validate(batch);
  CHECK(v == reference(batch));
  return v;
}

}  // namespace

TEST_CASE("produce validation: varints of every width, padded and minimal") {
  for (int width = 1; width <= 10; ++width) {
    CAPTURE(width);
    Rec r;
    r.width = width;
    r.key.emplace("k");  // not = "k": GCC 12 -Wrestrict false positive (PR 105329) on a 1-char assign
    r.headers = {{"h", "x"}, {"n", std::nullopt}};
    Rec null_key = r;
    null_key.key.reset();
    null_key.offset_delta = 1;
    CHECK(both(batch_of({r, null_key})) == "");
  }
  // Minimal encodings of 1 to 5 bytes (varlong: up to 10) in every field
  // the walk reads, fast-path boundaries included.
  const int64_t ts[] = {0, -1, 63, -64, 64, 8191, 8192, 1 << 20, (1 << 27) - 1, int64_t{1} << 27,
                        int64_t{1} << 34, INT64_MAX, INT64_MIN};
  for (int64_t t : ts) {
    CAPTURE(t);
    Rec r;
    r.ts_delta = t;
    CHECK(both(batch_of({r})) == "");
  }
  const int32_t deltas[] = {0, -1, 63, 64, 8191, 8192, 1 << 20, 1 << 27, INT32_MAX, INT32_MIN};
  for (int32_t d : deltas) {
    CAPTURE(d);
    Rec r;
    r.offset_delta = d;
    CHECK(both(batch_of({r})) == "");
  }
  // Value lengths needing a 1, 2, 3 and 4-byte varint (and a record
  // length one byte wider).
  for (size_t n : {size_t{0}, size_t{63}, size_t{64}, size_t{8191}, size_t{8192}, size_t{1} << 20}) {
    CAPTURE(n);
    Rec r;
    r.value = std::string(n, 'v');
    r.key = std::string(n / 2, 'k');
    CHECK(both(batch_of({r, r})) == "");
  }
}

TEST_CASE("produce validation: overlong and out-of-range varints") {
  auto with_ts_bytes = [](const Bytes& ts) {
    Bytes body = {0};  // attributes
    body.insert(body.end(), ts.begin(), ts.end());
    body.insert(body.end(), {0x00, 0x01, 0x02, 'v', 0x00});  // offset delta, null key, value "v", no headers
    Bytes rec;
    put_varint(rec, static_cast<int32_t>(body.size()));
    rec.insert(rec.end(), body.begin(), body.end());
    return batch_of(rec, 1);
  };
  // Ten bytes, the tenth 1: the largest varlong. Tenth 2: over 64 bits.
  Bytes ten(9, 0xff);
  ten.push_back(0x01);
  CHECK(both(with_ts_bytes(ten)) == "");
  ten.back() = 0x02;
  CHECK(both(with_ts_bytes(ten)) == "record truncated or malformed");
  // Eleven bytes: too long.
  Bytes eleven(10, 0x80);
  eleven.push_back(0x00);
  CHECK(both(with_ts_bytes(eleven)) == "record truncated or malformed");

  // A 32-bit varint holding 2^32 (six bytes) as the offset delta.
  Bytes body = {0, 0x00};
  put_uvarlong(body, uint64_t{1} << 32);
  body.insert(body.end(), {0x01, 0x02, 'v', 0x00});
  Bytes rec;
  put_varint(rec, static_cast<int32_t>(body.size()));
  rec.insert(rec.end(), body.begin(), body.end());
  CHECK(both(batch_of(rec, 1)) == "record truncated or malformed");
  // And 0xffffffff (zigzag INT32_MIN), the largest accepted.
  body = {0, 0x00};
  put_uvarlong(body, 0xffffffffull);
  body.insert(body.end(), {0x01, 0x02, 'v', 0x00});
  rec.clear();
  put_varint(rec, static_cast<int32_t>(body.size()));
  rec.insert(rec.end(), body.begin(), body.end());
  CHECK(both(batch_of(rec, 1)) == "");
}

TEST_CASE("produce validation: negative lengths and counts") {
  // Replaces the record's key/value/header fields with raw varints.
  auto raw = [](std::initializer_list<int32_t> fields, size_t value_bytes = 0) {
    Bytes body = {0, 0x00, 0x00};  // attributes, timestamp delta, offset delta
    for (int32_t f : fields) put_varint(body, f);
    body.insert(body.end(), value_bytes, 'x');
    Bytes rec;
    put_varint(rec, static_cast<int32_t>(body.size()));
    rec.insert(rec.end(), body.begin(), body.end());
    return batch_of(rec, 1);
  };
  CHECK(both(raw({-1, 0, 0})) == "");
  CHECK(both(raw({-2, 0, 0})) == "record key length is negative");
  CHECK(both(raw({INT32_MIN, 0, 0})) == "record key length is negative");
  CHECK(both(raw({-1, -2, 0})) == "record value length is negative");
  CHECK(both(raw({-1, -1, -1})) == "record header count out of range");
  CHECK(both(raw({-1, -1, 1, -1, 0})) == "record header key is null or negative");
  CHECK(both(raw({-1, -1, 1, 0, -2})) == "record header value length is negative");
  CHECK(both(raw({-1, -1, 1, 0, -1})) == "");
  // More headers than could fit in what is left.
  CHECK(both(raw({-1, -1, 3, 0, -1})) == "record header count out of range");
  // Record length negative or under the minimum body.
  Bytes rec;
  put_varint(rec, -3);
  rec.insert(rec.end(), 10, 0);
  CHECK(both(batch_of(rec, 1)) == "record length out of range");
}

TEST_CASE("produce validation: truncated records and record count mismatches") {
  Rec r;
  r.value = std::string(100, 'v');
  Bytes one = encode(r);
  Bytes three;
  for (int i = 0; i < 3; ++i) three.insert(three.end(), one.begin(), one.end());
  CHECK(both(batch_of(three, 3)) == "");
  CHECK(both(batch_of(three, 2)) == "records data longer than the record count says");
  CHECK(both(batch_of(three, 4)) == "record truncated");
  CHECK(both(batch_of(three, 100)) == "record count exceeds the records data");
  // The last record cut short: its length says more than is there.
  Bytes cut(three.begin(), three.end() - 1);
  CHECK(both(batch_of(cut, 3)) == "record length out of range");
  // The record's fields run past its length (the length one short), or
  // stop before it (one long: the next record's first byte is taken).
  Bytes shorter = one;
  shorter[0] = static_cast<uint8_t>(shorter[0] - 2);  // zigzag: length - 1
  CHECK(both(batch_of(shorter, 1)) == "record truncated or malformed");
  Bytes longer = one;
  longer[0] = static_cast<uint8_t>(longer[0] + 2);
  longer.push_back(0);
  CHECK(both(batch_of(longer, 1)) == "record length does not match its fields");
  // A record length varint cut at the end of the data (continuation bit
  // set on the last byte), and a field varint cut at the end of its record,
  // one and two bytes before it.
  Bytes dangling = one;
  dangling.push_back(0x80);
  CHECK(both(batch_of(dangling, 2)) == "record truncated");
  // Varints cut by their record's end with more records after it: the
  // batch has bytes to read on, the record does not (the fast path reads
  // three bytes ahead when the batch has them). The value length's second
  // byte, then the whole header count, lies past the record.
  for (Bytes body : {Bytes{0, 0x00, 0x00, 0x02, 'k', 0xc8}, Bytes{0, 0x00, 0x00, 0x01, 0x02, 'v'}}) {
    Bytes rec;
    put_varint(rec, static_cast<int32_t>(body.size()));
    rec.insert(rec.end(), body.begin(), body.end());
    rec.push_back(0x00);
    for (int i = 0; i < 2; ++i) rec.insert(rec.end(), one.begin(), one.end());
    CHECK(both(batch_of(rec, 3)) == "record truncated or malformed");
  }
  for (int tail = 1; tail <= 2; ++tail) {
    CAPTURE(tail);
    Bytes body = {0, 0x00, 0x00, 0x01, 0x02, 'v'};  // header count missing
    body.insert(body.end(), static_cast<size_t>(tail), 0x80);
    Bytes rec;
    put_varint(rec, static_cast<int32_t>(body.size()));
    rec.insert(rec.end(), body.begin(), body.end());
    CHECK(both(batch_of(rec, 1)) == "record truncated or malformed");
  }
}

TEST_CASE("produce validation: random corruptions agree with decode_records") {
  std::mt19937 rng(42);
  std::vector<Rec> recs;
  for (int i = 0; i < 20; ++i) {
    Rec r;
    r.ts_delta = static_cast<int64_t>(rng() % 100000) - 50000;
    r.offset_delta = i;
    if (rng() % 3) r.key = std::string(rng() % 20, 'k');
    if (rng() % 5) r.value = std::string(rng() % 300, 'v');
    else r.value.reset();
    for (uint32_t h = rng() % 3; h > 0; --h)
      r.headers.push_back({'h' + std::to_string(h), std::string(rng() % 4, 'x')});
    r.width = rng() % 4 == 0 ? static_cast<int>(rng() % 5) + 1 : 0;
    recs.push_back(r);
  }
  Bytes good = batch_of(recs);
  REQUIRE(both(good) == "");
  Bytes records(good.begin() + proto::kBatchHeaderSize, good.end());
  int rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    Bytes m = records;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % m.size();
      switch (rng() % 4) {
        case 0: m[at] = static_cast<uint8_t>(rng()); break;
        case 1: m[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2: m.erase(m.begin() + static_cast<std::ptrdiff_t>(at)); break;
        default:
          m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng() % 4 ? 0x80 : rng()));
          break;
      }
      if (m.empty()) m.push_back(0);
    }
    CAPTURE(iter);
    if (!both(batch_of(m, static_cast<int32_t>(recs.size()))).empty()) ++rejected;
  }
  CHECK(rejected > 1000);  // the corruptions mostly land in fields the walk checks
}

namespace {

// Records as a producer sends them: one shape, the deltas counting up.
std::vector<Rec> stream_of(int n, const std::optional<std::string>& key, size_t value_size, int64_t ts_step) {
  std::vector<Rec> recs;
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.ts_delta = i * ts_step;
    r.offset_delta = i;
    r.key = key;
    r.value = std::string(value_size, 'v');
    recs.push_back(r);
  }
  return recs;
}

}  // namespace

TEST_CASE("produce validation: streams of one record shape (matched against the first) agree with decode_records") {
  // Null and present keys; lengths of 1, 2 and 3 bytes; deltas that widen
  // part way (64, 8192 and 2^20: the shape changes and is learnt again).
  for (const std::optional<std::string>& key : {std::optional<std::string>{}, std::optional<std::string>{"key-0001"}}) {
    for (size_t value : {size_t{0}, size_t{1}, size_t{5}, size_t{50}, size_t{100}, size_t{1000}, size_t{10000}}) {
      for (int64_t ts_step : {int64_t{0}, int64_t{1}, int64_t{1000}, int64_t{1} << 21}) {
        CAPTURE(value);
        CAPTURE(ts_step);
        CHECK(both(batch_of(stream_of(value >= 1000 ? 300 : 9000, key, value, ts_step))) == "");
      }
    }
  }
  // A header in one record of a stream, and one more byte of value in
  // another: both leave the shape and are walked.
  std::vector<Rec> recs = stream_of(100, std::string("k"), 100, 1);
  recs[40].headers = {{"h", "x"}};
  recs[60].value = std::string(101, 'v');
  CHECK(both(batch_of(recs)) == "");
  // Values of varied sizes (records walked, shapes tried less and less
  // often), then a stream of one shape, then varied again.
  std::vector<Rec> mixed;
  std::mt19937 rng(3);
  for (int i = 0; i < 900; ++i) {
    Rec r;
    r.ts_delta = i;
    r.offset_delta = i;
    r.key = std::string("k");
    r.value = std::string(i >= 300 && i < 600 ? 100 : 50 + rng() % 100, 'v');
    mixed.push_back(r);
  }
  CHECK(both(batch_of(mixed)) == "");
  mixed[450].value.reset();  // a null value inside the uniform stretch
  mixed[800].key.reset();
  CHECK(both(batch_of(mixed)) == "");
}

TEST_CASE("produce validation: corruptions inside a stream of one shape agree with decode_records") {
  std::mt19937 rng(7);
  const Bytes good = batch_of(stream_of(200, std::string("key-0001"), 100, 1));
  REQUIRE(both(good) == "");
  const Bytes records(good.begin() + proto::kBatchHeaderSize, good.end());
  const Bytes first = encode(stream_of(1, std::string("key-0001"), 100, 1)[0]);
  int rejected = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    Bytes m = records;
    // Edits after the first record (learnt unchanged), mostly in the
    // structural bytes of some record: its first 16 and its last.
    const int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits; ++e) {
      const size_t rec = 1 + rng() % 198;
      size_t at = first.size() * rec + (rng() % 3 == 0 ? first.size() - 1 : rng() % 16);
      if (rng() % 4 == 0) at = first.size() + rng() % (m.size() - first.size());
      if (at >= m.size()) at = m.size() - 1;
      switch (rng() % 4) {
        case 0: m[at] = static_cast<uint8_t>(rng()); break;
        case 1: m[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2: m.erase(m.begin() + static_cast<std::ptrdiff_t>(at)); break;
        default: m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng())); break;
      }
    }
    CAPTURE(iter);
    if (!both(batch_of(m, 200)).empty()) ++rejected;
  }
  CHECK(rejected > 2000);
}

TEST_CASE("produce validation: a compacted topic names every null key in a stream of one shape") {
  LogConfig compacted = big_config();
  compacted.compact = true;
  std::vector<Rec> recs = stream_of(300, std::string("key"), 100, 1);
  // Runs of null keys (a shape of their own) among keyed records.
  std::vector<int32_t> expected;
  for (int i = 0; i < 300; ++i) {
    if (i % 50 < 5 || i == 299) {
      recs[i].key.reset();
      recs[i].value = std::string(103, 'v');  // the same record length as a keyed one
      expected.push_back(i);
    }
  }
  ProduceValidation v = validate_produce_records(batch_of(recs), 9, compacted, "t-0");
  CHECK(v.status.code == ErrorCode::INVALID_RECORD);
  std::vector<int32_t> got;
  for (const RecordError& e : v.record_errors) got.push_back(e.batch_index);
  CHECK(got == expected);
  // Without compaction the same batch is accepted.
  CHECK(both(batch_of(recs)) == "");
}

TEST_CASE("produce validation: a learnt shape keeps the offset delta in range") {
  // Offset deltas of 5 bytes: a later record with the same continuation
  // bits can carry more than 32 bits, which decode_records refuses.
  std::vector<Rec> recs = stream_of(4, std::string("k"), 10, 0);
  for (Rec& r : recs) r.offset_delta = INT32_MAX;
  Bytes records;
  for (const Rec& r : recs) {
    Bytes e = encode(r);
    records.insert(records.end(), e.begin(), e.end());
  }
  CHECK(both(batch_of(records, 4)) == "");
  const size_t size = records.size() / 4;
  const size_t last_delta_byte = 1 + 1 + 1 + 4;  // length, attributes, timestamp delta, then the delta's fifth byte
  REQUIRE(records[2 * size + last_delta_byte] == 0x0f);
  records[2 * size + last_delta_byte] = 0x1f;
  CHECK(both(batch_of(records, 4)) == "record truncated or malformed");
}

TEST_CASE("produce validation: the walk reads nothing past the batch (it ends at an unreadable page)") {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  auto* base = static_cast<uint8_t*>(mem);
  REQUIRE(mprotect(base + 3 * page, page, PROT_NONE) == 0);
  // Shapes whose matching loads reach past the record (values of 0 to 9
  // bytes), the last record ending on the guard page's first byte.
  for (size_t value = 0; value < 10; ++value) {
    for (const std::optional<std::string>& key : {std::optional<std::string>{}, std::optional<std::string>{"k"}}) {
      const Bytes batch = batch_of(stream_of(20, key, value, 1));
      REQUIRE(batch.size() <= 3 * page);
      uint8_t* at = base + 3 * page - batch.size();
      std::memcpy(at, batch.data(), batch.size());
      CAPTURE(value);
      ProduceValidation v = validate_produce_records({at, batch.size()}, 9, big_config(), "t-0");
      CHECK(v.status.ok());
      // Cut short by one byte (the count now overstates the data).
      Bytes cut(batch.begin(), batch.end() - 1);
      std::memcpy(base + 3 * page - cut.size(), cut.data(), cut.size());
      CHECK_FALSE(validate_produce_records({base + 3 * page - cut.size(), cut.size()}, 9, big_config(), "t-0").status.ok());
    }
  }
  munmap(mem, 4 * page);
}
