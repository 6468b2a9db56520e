// Value makers for the generated test fillers (messages_testing.h). Every
// value depends only on a salt derived from the field's name and position,
// so two versions of a message filled with one salt agree on shared fields.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "protocol/types.h"

namespace kfk::proto::testing {

inline uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// A value different from `def`, wrapped into T's range.
template <class T>
T fill_int(uint64_t h, int64_t def) {
  using U = std::make_unsigned_t<T>;
  U value = static_cast<U>(static_cast<uint64_t>(def) + 1 + h % 97);
  if (static_cast<T>(value) == static_cast<T>(def)) value = static_cast<U>(value + 1);
  return static_cast<T>(value);
}

inline std::string fill_string(uint64_t h) { return 's' + std::to_string(h % 100000); }

inline Bytes fill_bytes(uint64_t h) {
  Bytes b(1 + h % 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(h >> (i * 8));
  return b;
}

inline Records fill_records(uint64_t h) {
  // Larger than Writer::kSpliceThreshold some of the time, so that both the
  // copied and the spliced paths are exercised.
  Bytes b((h % 2) ? 700 : 9);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(h + i * 31);
  return Records::copy_of(b.data(), b.size());
}

inline Uuid fill_uuid(uint64_t h) {
  Uuid u;
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(mix(h, i));
  return u;
}

}  // namespace kfk::proto::testing
