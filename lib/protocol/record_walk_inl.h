// The record walk's per-record parser, inline for the visitors' loops
// (included by record_walk.h; not for direct use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace kfk::proto {
namespace walk_detail {

// The smallest record body: attributes, timestampDelta, offsetDelta, key
// length, value length, header count (one byte each); plus its length varint.
constexpr size_t kMinRecordBody = 6;
constexpr size_t kMinRecordSize = kMinRecordBody + 1;

inline constexpr const char* kRecordTruncated = "record truncated";
inline constexpr const char* kMalformed = "record truncated or malformed";

inline bool fail(const char** why, const char* msg) {
  if (why != nullptr) *why = msg;
  return false;
}

// Checked before anything is sized by the count: it is untrusted.
inline bool count_fits(const BatchHeader& h, std::span<const uint8_t> data, const char** why) {
  if (static_cast<size_t>(h.record_count) > data.size() / kMinRecordSize)
    return fail(why, "record count exceeds the records data");
  return true;
}

// Results come back in registers: the position after the varint (null when
// it is truncated or malformed) and its value.
struct Varint {
  const uint8_t* next;
  uint64_t value;
};

// The general loop, from the varint's first byte (record_walk.cc).
Varint uvarlong_slow(const uint8_t* p, const uint8_t* end);

// An unsigned varint ending by `end` (its field's bound). Encodings of up
// to three bytes (every length and delta of a small record) are decoded
// without the loop when three bytes can be read (`readable`, the data's
// end, lies at or past `end`); anything else takes the loop.
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
    // A varint running past its field's bound is truncated, as the loop finds.
    if (static_cast<size_t>(end - p) < n) return {nullptr, 0};
    return {p + n, v};
  }
  return uvarlong_slow(p, end);
}

inline int64_t unzigzag64(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

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

inline std::string_view chars(const uint8_t* p, int32_t len) {
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(len)};
}

template <class Visitor>
concept WantsHeaders = requires(Visitor& v, std::string_view k, std::optional<std::string_view> val) {
  v.header(k, val);
};

// The header count and entries from `q` to the record's end (`rend`); the
// position after the last one, or null with the reason.
template <class Visitor>
[[gnu::always_inline]] inline const uint8_t* read_headers(const uint8_t* q, const uint8_t* rend, const uint8_t* readable, int32_t& count,
                            Visitor& visit, const char** why) {
  q = varint(q, rend, readable, count);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  // Each header takes at least two bytes (two length varints).
  if (count < 0 || static_cast<size_t>(count) > static_cast<size_t>(rend - q) / 2)
    return (*why = "record header count out of range"), nullptr;
  if constexpr (requires { visit.header_count(count); }) visit.header_count(count);
  for (int32_t j = 0; j < count; ++j) {
    int32_t hk_len, hv_len;
    q = varint(q, rend, readable, hk_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
    if (hk_len < 0) return (*why = "record header key is null or negative"), nullptr;
    const uint8_t* const hk = q;
    q = skip(q, rend, hk_len);
    if (q != nullptr) q = varint(q, rend, readable, hv_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
    if (hv_len < -1) return (*why = "record header value length is negative"), nullptr;
    const uint8_t* const hv = q;
    q = skip(q, rend, hv_len);
    if (q == nullptr) return (*why = kMalformed), nullptr;
    if constexpr (WantsHeaders<Visitor>) {
      std::optional<std::string_view> value;
      if (hv_len >= 0) value = chars(hv, hv_len);
      visit.header(chars(hk, hk_len), value);
    }
  }
  return q;
}

// A record as read: its fields, and where its structural bytes lie (the
// record shape of validate_records is learnt from them).
struct RecordScan {
  RecordFields f;
  const uint8_t* deltas_at;  // the timestamp delta (after the length and attributes)
  const uint8_t* offset_delta_at;
  const uint8_t* key_len_at;
  const uint8_t* key_at;  // after the key length
  const uint8_t* value_len_at;
  const uint8_t* value_at;    // after the value length
  const uint8_t* headers_at;  // the header count
};

// One record at `start` (the data ending at `end`) with every check; the
// next record's start, or null with the reason.
template <class Visitor>
[[gnu::always_inline]] inline const uint8_t* read_record(const uint8_t* const start, const uint8_t* end,
                                                         RecordScan& s, Visitor& visit, const char** why) {
  int32_t len;
  const uint8_t* p = varint(start, end, end, len);
  if (p == nullptr) return (*why = kRecordTruncated), nullptr;
  if (len < static_cast<int32_t>(kMinRecordBody) || static_cast<size_t>(len) > static_cast<size_t>(end - p))
    return (*why = "record length out of range"), nullptr;
  // The fields are read through their own pointer: the next record's start
  // depends on this record's length only. The first failure rejects the
  // record as malformed; the fields after it are not read.
  const uint8_t* const rend = p + len;
  s.f.attributes = static_cast<int8_t>(*p);  // len >= 6: present
  s.deltas_at = p + 1;
  const Varint ts = uvarlong(s.deltas_at, rend, end);
  const uint8_t* q = ts.next;
  s.f.timestamp_delta = unzigzag64(ts.value);
  s.offset_delta_at = q;
  if (q != nullptr) q = varint(q, rend, end, s.f.offset_delta);
  s.key_len_at = q;
  int32_t key_len, value_len;
  if (q != nullptr) q = varint(q, rend, end, key_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  if (key_len < -1) return (*why = "record key length is negative"), nullptr;
  s.key_at = q;
  q = skip(q, rend, key_len);
  s.value_len_at = q;
  if (q != nullptr) q = varint(q, rend, end, value_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  if (value_len < -1) return (*why = "record value length is negative"), nullptr;
  s.value_at = q;
  q = skip(q, rend, value_len);
  if (q == nullptr) return (*why = kMalformed), nullptr;
  s.headers_at = q;
  int32_t header_count;  // a local: a reference into `s` would keep `s` in memory
  q = read_headers(q, rend, end, header_count, visit, why);
  if (q == nullptr) return nullptr;
  s.f.header_count = header_count;
  if (q != rend) return (*why = "record length does not match its fields"), nullptr;
  // Whole optionals assigned (not reset + emplace), so GCC 12 sees the
  // payload written on every path (-Wmaybe-uninitialized in the visitors).
  using Bytes = std::optional<std::span<const uint8_t>>;
  s.f.key = key_len >= 0 ? Bytes(std::in_place, s.key_at, static_cast<size_t>(key_len)) : Bytes();
  s.f.value = value_len >= 0 ? Bytes(std::in_place, s.value_at, static_cast<size_t>(value_len)) : Bytes();
  return rend;
}

}  // namespace walk_detail

template <class Visitor>
bool walk_records(const BatchHeader& h, std::span<const uint8_t> data, Visitor&& visit, const char** why) {
  if (!walk_detail::count_fits(h, data, why)) return false;
  if constexpr (requires { visit.start(h.record_count); }) visit.start(h.record_count);
  const uint8_t* p = data.data();
  const uint8_t* const end = p + data.size();
  walk_detail::RecordScan s;
  const char* reason = nullptr;
  for (int32_t i = 0; i < h.record_count; ++i) {
    p = walk_detail::read_record(p, end, s, visit, &reason);
    if (p == nullptr) return walk_detail::fail(why, reason);
    visit.record(std::as_const(s.f));
  }
  if (p != end) return walk_detail::fail(why, "records data longer than the record count says");
  return true;
}

}  // namespace kfk::proto
