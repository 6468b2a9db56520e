#include "protocol/types.h"

#include <random>

namespace kfk::proto {

bool Uuid::is_zero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

std::string Uuid::to_string() const {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Uuid Uuid::random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  Uuid u;
  do {
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t r = rng();
      for (size_t j = 0; j < 8; ++j) u.bytes[i + j] = uint8_t(r >> (8 * j));
    }
    u.bytes[6] = uint8_t((u.bytes[6] & 0x0f) | 0x40);  // version 4
    u.bytes[8] = uint8_t((u.bytes[8] & 0x3f) | 0x80);  // IETF variant
  } while (u.is_zero());
  return u;
}

Records Records::view(const uint8_t* data, size_t size, std::shared_ptr<const void> owner) {
  Records r;
  r.data_ = data;
  r.size_ = size;
  r.null_ = false;
  r.owner_ = std::move(owner);
  return r;
}

Records Records::external(std::shared_ptr<const ExternalBytes> bytes, size_t size) {
  Records r;
  r.size_ = size;
  r.null_ = false;
  r.external_ = bytes.get();
  r.owner_ = std::move(bytes);
  return r;
}

Records Records::copy_of(const uint8_t* data, size_t size) {
  auto buf = std::make_shared<Bytes>(data, data + size);
  return view(buf->data(), buf->size(), buf);
}

bool Records::operator==(const Records& o) const {
  if (null_ != o.null_) return false;
  if (null_) return true;
  if (size_ != o.size_) return false;
  if (is_external() || o.is_external()) return external_ == o.external_;
  return size_ == 0 || std::memcmp(data_, o.data_, size_) == 0;
}

}  // namespace kfk::proto
