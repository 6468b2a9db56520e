#include "protocol/record_walk.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "protocol/compression.h"

namespace kfk::proto {
namespace walk_detail {

[[gnu::noinline]] Varint uvarlong_slow(const uint8_t* p, const uint8_t* end) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p == end) return {nullptr, 0};
    uint8_t b = *p++;
    if (shift == 63 && b > 1) return {nullptr, 0};
    v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return {p, v};
  }
  return {nullptr, 0};
}

}  // namespace walk_detail

namespace {

using walk_detail::fail;
using walk_detail::RecordScan;

// batchLength counts everything after itself; the fixed header alone is 49.
constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead);

// Masks over the first n bytes of a word loaded from memory (n = 0..8),
// all bits or the high bit of each: in memory order, so masks and loaded
// values agree on any byte order.
using WordMasks = std::array<uint64_t, 9>;
constexpr WordMasks word_masks(uint8_t byte_mask) {
  WordMasks m{};
  for (size_t n = 0; n <= 8; ++n) {
    std::array<uint8_t, 8> bytes{};
    for (size_t i = 0; i < n; ++i) bytes[i] = byte_mask;
    m[n] = std::bit_cast<uint64_t>(bytes);
  }
  return m;
}
constexpr WordMasks kBytes = word_masks(0xff);
constexpr WordMasks kHighBits = word_masks(0x80);

// The structural bytes of a record read_record accepted: a record whose
// bytes equal them at the same places parses the same way, so it is
// accepted with a few masked compares instead of a varint walk. Those
// bytes are the length varint, the continuation bits of the timestamp
// and offset deltas (their values are free; the shape keeps both short
// enough that any value is in range), the key and value length varints,
// and a header count of zero as the last byte. A producer's records
// mostly share one shape (only the deltas and the bytes of key and value
// change), so the next record's start is a fixed stride away and no
// longer waits on decoding this one's length: the CPU overlaps records.
class RecordShape {
 public:
  // Adopts the shape of the record at `rec` (read into `s`, `size` bytes,
  // `readable` bytes from its start to the data's end) when it can be
  // matched this way; else no shape is kept.
  void learn(const uint8_t* rec, size_t size, size_t readable, const RecordScan& s, bool want_null_keys) {
    stride_ = 0;
    auto at = [rec](const uint8_t* p) { return static_cast<uint32_t>(p - rec); };
    const uint32_t ts_at = at(s.deltas_at), offset_delta_at = at(s.offset_delta_at);
    const uint32_t key_len_at = at(s.key_len_at), key_at = at(s.key_at);
    const uint32_t value_len_at = at(s.value_len_at), value_at = at(s.value_at), headers_at = at(s.headers_at);
    const uint32_t deltas_size = key_len_at - ts_at;
    // No headers, each null key reported by read_record, the length at most
    // 3 bytes, the deltas within one word, and the offset delta at most 4
    // bytes (28 bits: a later record's could exceed 32 bits).
    if (headers_at + 1 != size || (!s.f.key && want_null_keys) || ts_at > 4 || deltas_size > 8 ||
        key_len_at - offset_delta_at > 4 || key_at - key_len_at > 4 || value_at - value_len_at > 4)
      return;
    // Its words are loaded as match() loads them (the value length is the
    // last field).
    const size_t need = std::max<size_t>(size, value_len_at + 8);
    if (need > readable) return;
    length_.set(rec, 0, kBytes[ts_at - 1]);  // the length varint (the attributes byte follows)
    deltas_.set(rec, ts_at, kHighBits[deltas_size]);
    key_len_.set(rec, key_len_at, kBytes[key_at - key_len_at]);
    value_len_.set(rec, value_len_at, kBytes[value_at - value_len_at]);
    need_ = need;
    stride_ = static_cast<uint32_t>(size);
  }

  // The next record's start when the record at `p` has this shape (its
  // checks are then the ones read_record made); null otherwise.
  [[gnu::always_inline]] const uint8_t* match(const uint8_t* p, const uint8_t* end) const {
    if (stride_ == 0 || static_cast<size_t>(end - p) < need_) return nullptr;
    // Every compare made (no branch per field), their differences or'ed.
    if ((length_.diff(p) | deltas_.diff(p) | key_len_.diff(p) | value_len_.diff(p) | p[stride_ - 1]) != 0)
      return nullptr;
    return p + stride_;
  }

 private:
  // Bytes of a record compared under a mask.
  struct Field {
    uint32_t at = 0;
    uint64_t mask = 0, bits = 0;
    void set(const uint8_t* rec, uint32_t offset, uint64_t m) {
      at = offset;
      mask = m;
      std::memcpy(&bits, rec + at, 8);
      bits &= mask;
    }
    // Nonzero when the record at `p` differs here.
    [[gnu::always_inline]] uint64_t diff(const uint8_t* p) const {
      uint64_t w;
      std::memcpy(&w, p + at, 8);
      return (w & mask) ^ bits;
    }
  };

  uint32_t stride_ = 0;  // 0: no shape learnt
  size_t need_ = 0;      // bytes readable from a record's start for match(): its stride and 8-byte loads
  Field length_, deltas_, key_len_, value_len_;
};

// validate_records' visitor: nothing is read out but the key's presence.
struct NoFields {};

// One record read with every check; its null key reported when asked.
[[gnu::always_inline]] inline const uint8_t* check_record(const uint8_t* p, const uint8_t* end, int32_t index,
                                                          std::vector<int32_t>* null_keys, RecordScan& s,
                                                          const char** why) {
  NoFields none;
  p = walk_detail::read_record(p, end, s, none, why);
  if (p != nullptr && !s.f.key && null_keys != nullptr) null_keys->push_back(index);
  return p;
}

// decode_records' visitor: fills the records of `out` in place, reusing
// each element's header vector from batch to batch (sized once per record
// from its count, then written in place: no capacity check per header).
struct RecordsOut {
  const BatchHeader& h;
  std::vector<Record>& out;
  Record* cur = nullptr;
  RecordHeader* next_header = nullptr;

  void start(int32_t count) {
    out.resize(static_cast<size_t>(count));
    cur = out.data();
  }
  void header_count(int32_t count) {
    cur->headers.resize(static_cast<size_t>(count));
    next_header = cur->headers.data();
  }
  void header(std::string_view key, std::optional<std::string_view> value) { *next_header++ = {key, value}; }
  void record(const RecordFields& f) {
    Record& r = *cur++;
    r.attributes = f.attributes;
    r.offset = record_offset(h, f);
    r.timestamp = record_timestamp(h, f);
    r.key = f.key;
    r.value = f.value;
  }
};

}  // namespace

bool batch_records(const BatchSpan& batch, std::vector<uint8_t>& scratch, size_t max_decompressed,
                   std::span<const uint8_t>* data, const char** why) {
  const BatchHeader& h = batch.header;
  if (h.magic != kMagicV2) return fail(why, "legacy message format (magic 0/1) not supported");
  if (h.batch_length < kMinBatchLength || batch.bytes.size() < h.total_size())
    return fail(why, "record batch truncated");
  if (h.record_count < 0) return fail(why, "record batch has a negative record count");
  *data = batch.bytes.subspan(kBatchHeaderSize, h.total_size() - kBatchHeaderSize);
  const int codec = h.attributes & batch_attr::kCompressionMask;
  if (codec > static_cast<int>(Compression::kZstd)) return fail(why, "unknown compression codec");
  if (h.compression() == Compression::kNone) return true;
  scratch.clear();
  if (!decompress(h.compression(), *data, scratch, max_decompressed, why)) return false;
  *data = scratch;
  return true;
}

bool validate_records(const BatchHeader& h, std::span<const uint8_t> data, std::vector<int32_t>* null_keys,
                      const char** why) {
  if (!walk_detail::count_fits(h, data, why)) return false;
  const uint8_t* p = data.data();
  const uint8_t* const end = p + data.size();
  const char* reason = nullptr;
  // A read record's shape is learnt for the records after it. When the
  // last shape learnt matched none, the next records are read without
  // one, twice as many each time (up to 63), so a batch of varied records
  // pays for few learns and tries.
  constexpr int32_t kMaxLearnWait = 63;
  RecordShape shape;
  RecordScan s;
  bool shape_matched = true;  // by the last shape learnt (true before the first: learn it)
  int32_t learn_wait = 0;
  int32_t i = 0;
  while (i < h.record_count) {
    if (const uint8_t* next = shape.match(p, end)) [[likely]] {
      p = next;
      ++i;
      shape_matched = true;
      continue;
    }
    if (shape_matched) {
      learn_wait = 0;
    } else {
      learn_wait = std::min(2 * learn_wait + 1, kMaxLearnWait);
      for (const int32_t stop = std::min(h.record_count, i + learn_wait); i < stop; ++i) {
        RecordScan unused;  // scoped here: its stores are dead, only the learnt record's are kept
        p = check_record(p, end, i, null_keys, unused, &reason);
        if (p == nullptr) return fail(why, reason);
      }
      if (i == h.record_count) break;
    }
    const uint8_t* const rec = p;
    p = check_record(rec, end, i, null_keys, s, &reason);
    if (p == nullptr) return fail(why, reason);
    ++i;
    shape_matched = false;
    shape.learn(rec, static_cast<size_t>(p - rec), static_cast<size_t>(end - rec), s, null_keys != nullptr);
  }
  if (p != end) return fail(why, "records data longer than the record count says");
  return true;
}

bool decode_records(const BatchSpan& batch, std::vector<Record>& out, std::vector<uint8_t>& scratch,
                    size_t max_decompressed, const char** why) {
  std::span<const uint8_t> data;
  if (batch_records(batch, scratch, max_decompressed, &data, why) &&
      walk_records(batch.header, data, RecordsOut{batch.header, out}, why))
    return true;
  out.clear();
  return false;
}

}  // namespace kfk::proto
