#include "protocol/writer.h"

#include <cassert>
#include <cstring>

namespace kfk::proto {

void Writer::u16(uint16_t v) {
  uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
  raw(b, 2);
}

void Writer::u32(uint32_t v) {
  uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
  raw(b, 4);
}

void Writer::i64(int64_t sv) {
  uint64_t v = static_cast<uint64_t>(sv);
  uint8_t b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = uint8_t(v);
    v >>= 8;
  }
  raw(b, 8);
}

void Writer::f64(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  i64(static_cast<int64_t>(bits));
}

void Writer::uvarint(uint64_t v) {
  uint8_t b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = uint8_t(v | 0x80);
    v >>= 7;
  }
  b[n++] = uint8_t(v);
  raw(b, n);
}

void Writer::string(std::string_view s, bool compact) {
  if (compact)
    uvarint(s.size() + 1);
  else
    i16(static_cast<int16_t>(s.size()));
  raw(s.data(), s.size());
}

void Writer::nullable_string(const std::optional<std::string>& s, bool compact) {
  if (!s) {
    if (compact)
      uvarint(0);
    else
      i16(-1);
    return;
  }
  string(*s, compact);
}

void Writer::bytes(std::span<const uint8_t> b, bool compact) {
  if (compact)
    uvarint(b.size() + 1);
  else
    i32(static_cast<int32_t>(b.size()));
  raw(b.data(), b.size());
}

void Writer::nullable_bytes(const std::optional<Bytes>& b, bool compact) {
  if (!b) {
    array_length(-1, compact);
    return;
  }
  bytes(*b, compact);
}

void Writer::records(const Records& r, bool compact) {
  if (r.is_null()) {
    array_length(-1, compact);
    return;
  }
  if (compact)
    uvarint(r.size() + 1);
  else
    i32(static_cast<int32_t>(r.size()));
  if (r.is_external())
    splice_external(std::shared_ptr<const ExternalBytes>(r.owner(), r.external()), r.size());
  else
    splice(r.data(), r.size(), r.owner());
}

void Writer::array_length(int32_t n, bool compact) {
  if (compact)
    uvarint(static_cast<uint64_t>(static_cast<int64_t>(n) + 1));
  else
    i32(n);
}

void Writer::raw(const void* p, size_t n) {
  if (n == 0) return;
  const auto* b = static_cast<const uint8_t*>(p);
  buf_.insert(buf_.end(), b, b + n);
}

void Writer::splice(const uint8_t* p, size_t n, std::shared_ptr<const void> owner) {
  if (n < kSpliceThreshold) {
    raw(p, n);
    return;
  }
  splices_.push_back(Splice{buf_.size(), p, n, {}});
  spliced_ += n;
  if (owner) owners_.push_back(std::move(owner));
}

void Writer::splice_external(std::shared_ptr<const ExternalBytes> bytes, size_t n) {
  splices_.push_back(Splice{buf_.size(), nullptr, n, bytes.get()});
  spliced_ += n;
  ++externals_;
  owners_.push_back(std::move(bytes));
}

size_t Writer::reserve_bytes(size_t n) {
  size_t at = buf_.size();
  buf_.resize(at + n);
  return at;
}

void Writer::patch_u32(size_t at, uint32_t v) {
  uint8_t* b = buf_.data() + at;
  b[0] = uint8_t(v >> 24);
  b[1] = uint8_t(v >> 16);
  b[2] = uint8_t(v >> 8);
  b[3] = uint8_t(v);
}

void Writer::patch_i16(size_t at, int16_t sv) {
  uint16_t v = static_cast<uint16_t>(sv);
  buf_[at] = uint8_t(v >> 8);
  buf_[at + 1] = uint8_t(v);
}

void Writer::patch_i64(size_t at, int64_t sv) {
  uint64_t v = static_cast<uint64_t>(sv);
  for (int i = 7; i >= 0; --i) {
    buf_[at + i] = uint8_t(v);
    v >>= 8;
  }
}

void Writer::clear() {
  buf_.clear();
  splices_.clear();
  owners_.clear();
  spliced_ = 0;
  externals_ = 0;
}

std::vector<uint8_t> Writer::flatten() const {
  assert(!has_external() && "flatten(): external bytes are not the codec's to read");
  std::vector<uint8_t> out;
  out.reserve(size());
  for_each_chunk([&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); });
  return out;
}

std::vector<uint8_t> Writer::take() {
  if (!splices_.empty()) return flatten();
  std::vector<uint8_t> out = std::move(buf_);
  clear();
  return out;
}

}  // namespace kfk::proto
