#include "protocol/reader.h"

#include <cstring>

namespace kfk::proto {

void Reader::fail(const char* why) {
  if (error_ == nullptr) error_ = why;
  p_ = end_;
}

bool Reader::need(size_t n) {
  if (error_ != nullptr) return false;
  if (remaining() < n) {
    fail("truncated: not enough bytes");
    return false;
  }
  return true;
}

int8_t Reader::i8() {
  if (!need(1)) return 0;
  return static_cast<int8_t>(*p_++);
}

uint16_t Reader::u16() {
  if (!need(2)) return 0;
  uint16_t v = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
  p_ += 2;
  return v;
}

uint32_t Reader::u32() {
  if (!need(4)) return 0;
  uint32_t v = (uint32_t(p_[0]) << 24) | (uint32_t(p_[1]) << 16) | (uint32_t(p_[2]) << 8) | uint32_t(p_[3]);
  p_ += 4;
  return v;
}

int16_t Reader::i16() { return static_cast<int16_t>(u16()); }
int32_t Reader::i32() { return static_cast<int32_t>(u32()); }

int64_t Reader::i64() {
  if (!need(8)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p_[i];
  p_ += 8;
  return static_cast<int64_t>(v);
}

double Reader::f64() {
  uint64_t bits = static_cast<uint64_t>(i64());
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

bool Reader::boolean() { return i8() != 0; }

Uuid Reader::uuid() {
  Uuid u;
  auto s = raw(16);
  if (s.size() == 16) std::memcpy(u.bytes.data(), s.data(), 16);
  return u;
}

uint64_t Reader::uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (!need(1)) return 0;
    uint8_t b = *p_++;
    if (shift == 63 && b > 1) {
      fail("varint overflows 64 bits");
      return 0;
    }
    v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  fail("varint too long");
  return 0;
}

uint32_t Reader::uvarint() {
  uint64_t v = uvarlong();
  if (v > 0xffffffffull) {
    fail("varint overflows 32 bits");
    return 0;
  }
  return static_cast<uint32_t>(v);
}

int32_t Reader::varint() {
  uint32_t u = uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t Reader::varlong() {
  uint64_t u = uvarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

int32_t Reader::length_prefix(bool compact, bool wide) {
  int64_t n;
  if (compact) {
    n = static_cast<int64_t>(uvarint()) - 1;
  } else {
    n = wide ? i32() : i16();
  }
  if (!ok()) return -1;
  if (n < -1) {
    fail("negative length");
    return -1;
  }
  if (n > static_cast<int64_t>(remaining())) {
    fail("length prefix exceeds remaining bytes");
    return -1;
  }
  return static_cast<int32_t>(n);
}

std::optional<std::string> Reader::nullable_string(bool compact) {
  int32_t n = length_prefix(compact, false);
  if (n < 0) return std::nullopt;
  auto s = raw(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

std::string Reader::string(bool compact) {
  int32_t n = length_prefix(compact, false);
  if (n < 0) {
    if (ok() && !null_as_empty_) fail("null where a string is required");
    return {};
  }
  auto s = raw(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

std::optional<Bytes> Reader::nullable_bytes(bool compact) {
  int32_t n = length_prefix(compact, true);
  if (n < 0) return std::nullopt;
  auto s = raw(static_cast<size_t>(n));
  return Bytes(s.begin(), s.end());
}

Bytes Reader::bytes(bool compact) {
  int32_t n = length_prefix(compact, true);
  if (n < 0) {
    if (ok() && !null_as_empty_) fail("null where bytes are required");
    return {};
  }
  auto s = raw(static_cast<size_t>(n));
  return Bytes(s.begin(), s.end());
}

Records Reader::records(bool compact) {
  int32_t n = length_prefix(compact, true);
  if (n < 0) return Records();
  auto s = raw(static_cast<size_t>(n));
  return Records::view(s.data(), s.size());
}

int32_t Reader::array_length(bool compact, size_t min_element_size) {
  int64_t n = compact ? static_cast<int64_t>(uvarint()) - 1 : i32();
  if (!ok()) return -1;
  if (n < -1) {
    fail("negative array length");
    return -1;
  }
  if (n > 0 && static_cast<uint64_t>(n) * min_element_size > remaining()) {
    fail("array length exceeds remaining bytes");
    return -1;
  }
  return static_cast<int32_t>(n);
}

std::span<const uint8_t> Reader::raw(size_t n) {
  if (!need(n)) return {};
  std::span<const uint8_t> s(p_, n);
  p_ += n;
  return s;
}

Reader Reader::sub(size_t n) {
  auto s = raw(n);
  Reader r(s.data(), s.size());
  r.null_as_empty_ = null_as_empty_;
  if (!ok()) r.fail(error_);
  return r;
}

}  // namespace kfk::proto
