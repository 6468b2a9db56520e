#include "server/produce_validation.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstring>

namespace kfk::broker {
namespace {

constexpr size_t kMagicOffset = 16;
// Bound on decompressing one batch to validate it (zip bombs).
constexpr size_t kMaxDecompressed = 256u << 20;

// Reader's varint rules (at most ten bytes, the tenth at most 1; 32-bit
// varints at most 0xffffffff before zigzag), inlined: the produce path
// reads several per record. Encodings of up to three bytes (every length
// and delta of a small record) are decoded without the loop when three
// bytes can be read (`readable`, the batch's end, lies at or past `end`,
// the field's bound); anything else takes the loop from the varint's first
// byte. Results come back in registers (no pointer in memory on the hot
// path): the position after the varint, or null when it is truncated or
// malformed.
struct Varint {
  const uint8_t* next;
  uint64_t value;
};

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

[[gnu::always_inline]] inline Varint uvarlong(const uint8_t* p, const uint8_t* end, const uint8_t* readable) {
  if (readable - p >= 3) [[likely]] {
    uint64_t b0 = p[0], b1 = p[1], b2 = p[2];
    size_t n;
    uint64_t v;
    if (b0 < 0x80) {
      n = 1;
      v = b0;
    } else if (b1 < 0x80) {
      n = 2;
      v = (b0 & 0x7f) | b1 << 7;
    } else if (b2 < 0x80) {
      n = 3;
      v = (b0 & 0x7f) | (b1 & 0x7f) << 7 | b2 << 14;
    } else {
      return uvarlong_slow(p, end);
    }
    // A varint running past its record is truncated, as the loop finds.
    if (static_cast<size_t>(end - p) < n) return {nullptr, 0};
    return {p + n, v};
  }
  return uvarlong_slow(p, end);
}

// A 32-bit zigzag varint into `out`; the position after it, or null.
[[gnu::always_inline]] inline const uint8_t* varint(const uint8_t* p, const uint8_t* end, const uint8_t* readable,
                                                    int32_t& out) {
  Varint r = uvarlong(p, end, readable);
  if (r.next == nullptr || r.value > 0xffffffffull) return nullptr;
  auto u = static_cast<uint32_t>(r.value);
  out = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return r.next;
}

// Skips a length-prefixed field of `len` bytes (-1: null); null when it
// runs past `end`.
[[gnu::always_inline]] inline const uint8_t* skip(const uint8_t* p, const uint8_t* end, int32_t len) {
  if (len <= 0) return p;
  if (static_cast<size_t>(end - p) < static_cast<size_t>(len)) return nullptr;
  return p + len;
}

// Header entries from `q` to the record's end (`rend`); the position
// after the last one, or null (with the reason) when malformed.
const uint8_t* walk_headers(const uint8_t* q, const uint8_t* rend, const uint8_t* end, const char** why) {
  constexpr const char* kMalformed = "record truncated or malformed";
  int32_t header_count;
  q = varint(q, rend, end, header_count);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  if (header_count < 0 || static_cast<size_t>(header_count) > static_cast<size_t>(rend - q) / 2)
    return (*why = "record header count out of range"), nullptr;
  for (int32_t j = 0; j < header_count; ++j) {
    int32_t hk_len, hv_len;
    q = varint(q, rend, end, hk_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
    if (hk_len < 0) return (*why = "record header key is null or negative"), nullptr;
    q = skip(q, rend, hk_len);
    if (q != nullptr) q = varint(q, rend, end, hv_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
    if (hv_len < -1) return (*why = "record header value length is negative"), nullptr;
    q = skip(q, rend, hv_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
  }
  return q;
}

// Where check_record found the fields of a record it accepted, as
// offsets from the record's start.
struct RecordLayout {
  uint32_t deltas_at;  // the timestamp delta (after the length and attributes)
  uint32_t offset_delta_at;
  uint32_t key_len_at;
  uint32_t key_at;  // after the key length
  uint32_t value_len_at;
  uint32_t value_at;    // after the value length
  uint32_t headers_at;  // the header count
  uint32_t size;        // the whole record, its length varint included
  bool null_key;
};

// One record at `p` with every check, in decode_records' order and with
// its messages; the next record's start, or null with the reason. With
// kLayout, where its fields are (for RecordShape::learn).
template <bool kLayout>
const uint8_t* check_record(const uint8_t* const start, const uint8_t* end, int32_t index,
                            std::vector<int32_t>* null_keys, const char** why, RecordLayout* layout) {
  constexpr size_t kMinRecordBody = 6;  // as record_batch.cc
  constexpr const char* kMalformed = "record truncated or malformed";
  int32_t len;
  const uint8_t* p = varint(start, end, end, len);
  if (p == nullptr) return (*why = "record truncated"), nullptr;
  if (len < static_cast<int32_t>(kMinRecordBody) || static_cast<size_t>(len) > static_cast<size_t>(end - p))
    return (*why = "record length out of range"), nullptr;
  // The fields are read through their own pointer: the next record's
  // start depends on this record's length only. A failure leaves the
  // remaining fields unread, as Reader's sticky error did: the record is
  // rejected as malformed either way.
  const uint8_t* const rend = p + len;
  const uint8_t* const deltas = p + 1;  // after the attributes (len >= 6, so present)
  const uint8_t* q = uvarlong(deltas, rend, end).next;  // timestamp delta
  int32_t offset_delta, key_len;
  const uint8_t* const offset_delta_at = q;
  if (q != nullptr) q = varint(q, rend, end, offset_delta);
  const uint8_t* const key_len_at = q;
  if (q != nullptr) q = varint(q, rend, end, key_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  if (key_len < -1) return (*why = "record key length is negative"), nullptr;
  const uint8_t* const key_at = q;
  int32_t value_len;
  q = skip(q, rend, key_len);
  const uint8_t* const value_len_at = q;
  if (q != nullptr) q = varint(q, rend, end, value_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  if (value_len < -1) return (*why = "record value length is negative"), nullptr;
  const uint8_t* const value_at = q;
  q = skip(q, rend, value_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  const uint8_t* const headers_at = q;
  q = walk_headers(q, rend, end, why);
  if (q == nullptr) return nullptr;
  if (q != rend) return (*why = "record length does not match its fields"), nullptr;
  if (key_len < 0 && null_keys != nullptr) null_keys->push_back(index);
  if constexpr (kLayout) {
    auto offset = [start](const uint8_t* at) { return static_cast<uint32_t>(at - start); };
    *layout = {offset(deltas),       offset(offset_delta_at), offset(key_len_at), offset(key_at),
               offset(value_len_at), offset(value_at),        offset(headers_at), offset(rend),
               key_len < 0};
  }
  return rend;
}

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

// The structural bytes of a record check_record accepted: a record whose
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
  // Adopts the shape of a record check_record accepted (layout, `readable`
  // bytes from its start to the batch's end) when it can be matched this
  // way; else no shape is kept.
  void learn(const uint8_t* rec, size_t readable, const RecordLayout& l, bool want_null_keys) {
    stride_ = 0;
    const uint32_t deltas_size = l.key_len_at - l.deltas_at;
    // No headers, each null key collected by check_record, the length at
    // most 3 bytes, the deltas within one word, and the offset delta at
    // most 4 bytes (28 bits: a later record's could exceed 32 bits).
    if (l.headers_at + 1 != l.size || (l.null_key && want_null_keys) || l.deltas_at > 4 || deltas_size > 8 ||
        l.key_len_at - l.offset_delta_at > 4 || l.key_at - l.key_len_at > 4 || l.value_at - l.value_len_at > 4)
      return;
    // Its words are loaded as match() loads them (the value length is the
    // last field).
    const size_t need = std::max<size_t>(l.size, l.value_len_at + 8);
    if (need > readable) return;
    length_.set(rec, 0, kBytes[l.deltas_at - 1]);  // the length varint (the attributes byte follows)
    deltas_.set(rec, l.deltas_at, kHighBits[deltas_size]);
    key_len_.set(rec, l.key_len_at, kBytes[l.key_at - l.key_len_at]);
    value_len_.set(rec, l.value_len_at, kBytes[l.value_at - l.value_len_at]);
    need_ = need;
    stride_ = l.size;
  }

  // The next record's start when the record at `p` has this shape (its
  // checks are then the ones check_record made); null otherwise.
  [[gnu::always_inline]] const uint8_t* match(const uint8_t* p, const uint8_t* end) const {
    if (stride_ == 0 || static_cast<size_t>(end - p) < need_) return nullptr;
    if (length_.differs(p) | deltas_.differs(p) | key_len_.differs(p) | value_len_.differs(p) | (p[stride_ - 1] != 0))
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
    [[gnu::always_inline]] bool differs(const uint8_t* p) const {
      uint64_t w;
      std::memcpy(&w, p + at, 8);
      return (w & mask) != bits;
    }
  };

  uint32_t stride_ = 0;  // 0: no shape learnt
  size_t need_ = 0;      // bytes readable from a record's start for match(): its stride and 8-byte loads
  Field length_, deltas_, key_len_, value_len_;
};

// Uncompressed batches: the same checks as proto::decode_records (same
// order, same messages) without materialising records, so accepting a
// batch costs one pass over its bytes and no allocation. Collects the
// indices of null keys when asked (compacted topics).
bool walk_plain_records(const proto::BatchSpan& batch, std::vector<int32_t>* null_keys, const char** why) {
  constexpr size_t kMinRecordBody = 6;  // as record_batch.cc
  constexpr auto kMinBatchLength = static_cast<int32_t>(proto::kBatchHeaderSize - proto::kBatchLogOverhead);
  const proto::BatchHeader& h = batch.header;
  if (h.batch_length < kMinBatchLength || batch.bytes.size() < h.total_size())
    return (*why = "record batch truncated"), false;
  const uint8_t* p = batch.bytes.data() + proto::kBatchHeaderSize;
  const uint8_t* const end = batch.bytes.data() + h.total_size();
  if (static_cast<size_t>(h.record_count) > static_cast<size_t>(end - p) / (kMinRecordBody + 1))
    return (*why = "record count exceeds the records data"), false;
  // A walked record's shape is learnt for the records after it. When the
  // last shape learnt matched none, the next records are walked without
  // one, twice as many each time (up to 63), so a batch of varied records
  // pays for few learns and tries.
  constexpr int32_t kMaxLearnWait = 63;
  RecordShape shape;
  RecordLayout layout;
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
        p = check_record<false>(p, end, i, null_keys, why, nullptr);
        if (p == nullptr) return false;
      }
      if (i == h.record_count) break;
    }
    const uint8_t* const rec = p;
    p = check_record<true>(rec, end, i, null_keys, why, &layout);
    if (p == nullptr) return false;
    ++i;
    shape_matched = false;
    shape.learn(rec, static_cast<size_t>(end - rec), layout, null_keys != nullptr);
  }
  if (p != end) return (*why = "records data longer than the record count says"), false;
  return true;
}

ProduceValidation fail(ErrorCode code, std::string msg) {
  ProduceValidation v;
  v.status = Status::error(code, std::move(msg));
  return v;
}

}  // namespace

ProduceValidation validate_produce_records(std::span<const uint8_t> records, int16_t version, const LogConfig& config,
                                           const std::string& tp) {
  const std::string vs = std::to_string(version);
  if (records.size() > kMagicOffset && static_cast<int8_t>(records[kMagicOffset]) != proto::kMagicV2) {
    if (version >= 3)
      return fail(ErrorCode::INVALID_RECORD,
                  "Produce requests with version " + vs + " are only allowed to contain record batches with magic version 2");
    return fail(ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT,
                "broker-ref only accepts record batches with magic version 2 (no legacy message sets)");
  }
  std::vector<proto::BatchSpan> batches;
  const char* why = nullptr;
  size_t tail = 0;
  if (!proto::split_batches(records, batches, &why, &tail))
    return fail(ErrorCode::CORRUPT_MESSAGE, std::string("Invalid record batch: ") + (why ? why : "?"));
  if (tail != 0) return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch is incomplete (" + std::to_string(tail) + " trailing bytes)");
  if (version >= 3 && batches.empty())
    return fail(ErrorCode::INVALID_RECORD,
                "Produce requests with version " + vs + " must have at least one record batch per partition");
  if (version >= 3 && batches.size() > 1)
    return fail(ErrorCode::INVALID_RECORD, "Produce requests with version " + vs +
                                               " are only allowed to contain exactly one record batch per partition");

  ProduceValidation out;
  out.batch_count = batches.size();
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  std::vector<int32_t> null_keys;
  for (const auto& b : batches) {
    const proto::BatchHeader& h = b.header;
    int codec = h.attributes & proto::batch_attr::kCompressionMask;
    if (codec > static_cast<int>(proto::Compression::kZstd))
      return fail(ErrorCode::CORRUPT_MESSAGE, "Unknown compression codec id " + std::to_string(codec));
    if (h.compression() == proto::Compression::kZstd && version < 7)
      return fail(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                  "Produce requests with version " + vs + " are not allowed to use ZStandard compression");
    if (!proto::compression_available(h.compression()))
      return fail(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                  std::string("broker-ref was built without ") + proto::compression_name(h.compression()) + " support");
    if (!proto::verify_batch_crc(b.bytes)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "Record batch for partition %s is corrupt (stored crc = %u)", tp.c_str(), h.crc);
      return fail(ErrorCode::CORRUPT_MESSAGE, msg);
    }
    if (h.total_size() > static_cast<size_t>(config.max_message_bytes))
      return fail(ErrorCode::MESSAGE_TOO_LARGE, "The record batch size is " + std::to_string(h.total_size()) +
                                                    " bytes which exceeds the maximum configured value of " +
                                                    std::to_string(config.max_message_bytes) + ".");
    if (h.is_transactional())
      return fail(ErrorCode::INVALID_REQUEST, "transactions not supported yet (broker-ref has no transaction coordinator)");
    const bool check_keys = config.compact && !h.is_control();
    null_keys.clear();
    if (h.compression() == proto::Compression::kNone) {
      if (!walk_plain_records(b, check_keys ? &null_keys : nullptr, &why))
        return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch for partition " + tp + " is corrupt: " + (why ? why : "?"));
    } else {
      if (!proto::decode_records(b, recs, scratch, kMaxDecompressed, &why))
        return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch for partition " + tp + " is corrupt: " + (why ? why : "?"));
      for (size_t i = 0; i < recs.size(); ++i)
        if (!recs[i].key) null_keys.push_back(static_cast<int32_t>(i));
    }
    if (check_keys) {
      for (int32_t i : null_keys)
        out.record_errors.push_back(
            {i, "Compacted topic cannot accept message without key in topic partition " + tp + "."});
      if (!out.record_errors.empty()) {
        std::string msg = "One or more records have been rejected due to " + std::to_string(out.record_errors.size()) +
                          " record errors in total, and only showing the first three errors at most: [";
        for (size_t i = 0; i < out.record_errors.size() && i < 3; ++i)
          msg += (i ? ", " : "") + std::string("RecordError(batchIndex=") + std::to_string(out.record_errors[i].batch_index) +
                 ", message='" + out.record_errors[i].message + "')";
        out.status = Status::error(ErrorCode::INVALID_RECORD, msg + "]");
        return out;
      }
    }
  }
  return out;
}

}  // namespace kfk::broker
