#include "protocol/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define KFK_CRC32C_X86 1
#else
#define KFK_CRC32C_X86 0
#endif

namespace kfk::proto {
namespace {

constexpr uint32_t kPoly = 0x82f63b78;  // Castagnoli, reflected

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero
// bytes, so eight table lookups advance the CRC by eight bytes at once.
using Table8 = std::array<std::array<uint32_t, 256>, 8>;

constexpr Table8 make_slicing_table() {
  Table8 t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t crc = n;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ kPoly : crc >> 1;
    t[0][n] = crc;
  }
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t crc = t[0][n];
    for (int k = 1; k < 8; ++k) {
      crc = t[0][crc & 0xff] ^ (crc >> 8);
      t[k][n] = crc;
    }
  }
  return t;
}

constexpr Table8 kTable = make_slicing_table();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

uint32_t software(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = ~crc;
  // Byte steps until 8-aligned so the word loads below are aligned.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = kTable[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    --n;
  }
  while (n >= 8) {
    c ^= load_le64(p);
    c = kTable[7][c & 0xff] ^ kTable[6][(c >> 8) & 0xff] ^ kTable[5][(c >> 16) & 0xff] ^
        kTable[4][(c >> 24) & 0xff] ^ kTable[3][(c >> 32) & 0xff] ^ kTable[2][(c >> 40) & 0xff] ^
        kTable[1][(c >> 48) & 0xff] ^ kTable[0][c >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = kTable[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    --n;
  }
  return static_cast<uint32_t>(~c);
}

#if KFK_CRC32C_X86

// The hardware path runs three independent crc32 chains over three adjacent
// blocks (the instruction has 3-cycle latency but 1-cycle throughput), then
// joins them: crc(A||B) = shift(crc(A), |B|) ^ crc0(B), where shift() appends
// |B| zero bytes. The shift is a linear map over GF(2), tabulated per byte of
// the CRC (after Mark Adler's crc32c.c).
constexpr size_t kLong = 8192;
constexpr size_t kShort = 256;

using Table4 = std::array<std::array<uint32_t, 256>, 4>;

constexpr uint32_t gf2_times(const std::array<uint32_t, 32>& mat, uint32_t vec) {
  uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1)
    if (vec & 1) sum ^= mat[i];
  return sum;
}

constexpr std::array<uint32_t, 32> gf2_square(const std::array<uint32_t, 32>& mat) {
  std::array<uint32_t, 32> sq{};
  for (int n = 0; n < 32; ++n) sq[n] = gf2_times(mat, mat[n]);
  return sq;
}

// The operator that appends `len` zero bytes (len a power of two).
constexpr std::array<uint32_t, 32> zeros_operator(size_t len) {
  std::array<uint32_t, 32> op{};  // one zero bit
  op[0] = kPoly;
  for (int n = 1; n < 32; ++n) op[n] = 1u << (n - 1);
  for (int i = 0; i < 3; ++i) op = gf2_square(op);  // 8 bits: one byte
  for (; len > 1; len >>= 1) op = gf2_square(op);
  return op;
}

constexpr Table4 make_shift_table(size_t len) {
  auto op = zeros_operator(len);
  Table4 t{};
  for (uint32_t n = 0; n < 256; ++n)
    for (int k = 0; k < 4; ++k) t[k][n] = gf2_times(op, n << (8 * k));
  return t;
}

constexpr Table4 kShiftLong = make_shift_table(kLong);
constexpr Table4 kShiftShort = make_shift_table(kShort);

inline uint32_t shift(const Table4& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

__attribute__((target("sse4.2"))) uint64_t crc_u64(uint64_t crc, const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return _mm_crc32_u64(crc, v);
}

template <size_t kBlock>
__attribute__((target("sse4.2"), always_inline)) inline uint64_t three_way(uint64_t crc0, const uint8_t*& p,
                                                                          size_t& n, const Table4& t) {
  while (n >= 3 * kBlock) {
    uint64_t crc1 = 0, crc2 = 0;
    const uint8_t* end = p + kBlock;
    do {
      uint64_t a, b, c;
      std::memcpy(&a, p, 8);
      std::memcpy(&b, p + kBlock, 8);
      std::memcpy(&c, p + 2 * kBlock, 8);
      crc0 = _mm_crc32_u64(crc0, a);
      crc1 = _mm_crc32_u64(crc1, b);
      crc2 = _mm_crc32_u64(crc2, c);
      p += 8;
    } while (p < end);
    crc0 = shift(t, static_cast<uint32_t>(crc0)) ^ crc1;
    crc0 = shift(t, static_cast<uint32_t>(crc0)) ^ crc2;
    p += 2 * kBlock;
    n -= 3 * kBlock;
  }
  return crc0;
}

__attribute__((target("sse4.2"))) uint32_t hardware(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  c = three_way<kLong>(c, p, n, kShiftLong);
  c = three_way<kShort>(c, p, n, kShiftShort);
  while (n >= 8) {
    c = crc_u64(c, p);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  return ~static_cast<uint32_t>(c);
}

bool detect_hardware() {
  __builtin_cpu_init();  // may run before constructors (a static initializer elsewhere)
  return __builtin_cpu_supports("sse4.2");
}

#endif

}  // namespace

bool crc32c_hardware_available() {
#if KFK_CRC32C_X86
  static const bool available = detect_hardware();
  return available;
#else
  return false;
#endif
}

uint32_t crc32c_software(const void* data, size_t size, uint32_t crc) {
  return software(static_cast<const uint8_t*>(data), size, crc);
}

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
#if KFK_CRC32C_X86
  if (crc32c_hardware_available()) return hardware(static_cast<const uint8_t*>(data), size, crc);
#endif
  return software(static_cast<const uint8_t*>(data), size, crc);
}

}  // namespace kfk::proto
