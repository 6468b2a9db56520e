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
#if defined(__x86_64__)
#include <immintrin.h>
#define KFK_CRC32C_CLMUL 1
#else
#define KFK_CRC32C_CLMUL 0
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

#if KFK_CRC32C_CLMUL

// Long buffers on CPUs with VPCLMULQDQ: the crc32 instruction and
// carry-less multiplication run on different execution units, so each
// 7 KiB block keeps both busy at once. Three crc32 chains take its first
// 3 KiB; the other 4 KiB are folded 64 bytes at a time with carry-less
// multiplies (Intel's "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ", with CRC32C's constants), reduced to 32 bits by two crc32
// steps; shift() joins the four. 1.25-1.7x the crc32 chains alone on a
// 1 MiB buffer (bench_codec, AMD EPYC).
constexpr size_t kChain = 1024;        // bytes per crc32 chain
constexpr size_t kFold = 4 * kChain;   // bytes folded (64 per step of the chains' 16)
constexpr size_t kHybridBlock = 3 * kChain + kFold;
constexpr Table4 kShiftChain = make_shift_table(kChain);
constexpr Table4 kShiftFold = make_shift_table(kFold);

// x^n mod P, reflected: the folding constants.
constexpr uint32_t x_pow_mod(uint64_t n) {
  uint32_t a = 0x80000000u;  // x^0
  for (; n > 0; --n) a = (a & 1) ? (a >> 1) ^ kPoly : a >> 1;
  return a;
}

#define KFK_CLMUL_TARGET __attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2")))

// Per 128-bit lane: x carried d bits forward (x times x^d mod P, kept at
// 128 bits) plus the data there. k holds the constants for the lane's low
// and high halves, x^(d+31) and x^(d-33) mod P, reflected (the +31 and
// -33 absorb the reflection and the 64-bit product).
KFK_CLMUL_TARGET inline __m256i fold256(__m256i x, __m256i k, __m256i data) {
  return _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(x, k, 0x00), _mm256_clmulepi64_epi128(x, k, 0x11)),
                          data);
}

KFK_CLMUL_TARGET inline __m128i fold128(__m128i x, __m128i k, __m128i data) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), data);
}

KFK_CLMUL_TARGET uint64_t hybrid_blocks(uint64_t crc0, const uint8_t*& p, size_t& n) {
  constexpr uint32_t k512a = x_pow_mod(512 + 31), k512b = x_pow_mod(512 - 33);
  constexpr uint32_t k256a = x_pow_mod(256 + 31), k256b = x_pow_mod(256 - 33);
  constexpr uint32_t k128a = x_pow_mod(128 + 31), k128b = x_pow_mod(128 - 33);
  const __m256i k512 = _mm256_setr_epi32(k512a, 0, k512b, 0, k512a, 0, k512b, 0);
  const __m256i k256 = _mm256_setr_epi32(k256a, 0, k256b, 0, k256a, 0, k256b, 0);
  const __m128i k128 = _mm_setr_epi32(k128a, 0, k128b, 0);
  while (n >= kHybridBlock) {
    uint64_t crc1 = 0, crc2 = 0;
    const uint8_t* c = p;
    const uint8_t* f = p + 3 * kChain;
    // The fold starts from a zero CRC: its block is joined by shift().
    __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f));
    __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + 32));
    f += 64;
    for (size_t i = 0; i < kChain / 16; ++i) {
      uint64_t a0, a1, b0, b1, c0, c1;
      std::memcpy(&a0, c, 8);
      std::memcpy(&a1, c + 8, 8);
      std::memcpy(&b0, c + kChain, 8);
      std::memcpy(&b1, c + kChain + 8, 8);
      std::memcpy(&c0, c + 2 * kChain, 8);
      std::memcpy(&c1, c + 2 * kChain + 8, 8);
      crc0 = _mm_crc32_u64(crc0, a0);
      crc1 = _mm_crc32_u64(crc1, b0);
      crc2 = _mm_crc32_u64(crc2, c0);
      crc0 = _mm_crc32_u64(crc0, a1);
      crc1 = _mm_crc32_u64(crc1, b1);
      crc2 = _mm_crc32_u64(crc2, c1);
      c += 16;
      if (i + 1 < kChain / 16) {
        y0 = fold256(y0, k512, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f)));
        y1 = fold256(y1, k512, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(f + 32)));
        f += 64;
      }
    }
    const __m256i y = fold256(y0, k256, y1);
    const __m128i z = fold128(_mm256_castsi256_si128(y), k128, _mm256_extracti128_si256(y, 1));
    const uint64_t folded = _mm_crc32_u64(_mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(z))),
                                          static_cast<uint64_t>(_mm_extract_epi64(z, 1)));
    crc0 = shift(kShiftChain, static_cast<uint32_t>(crc0)) ^ crc1;
    crc0 = shift(kShiftChain, static_cast<uint32_t>(crc0)) ^ crc2;
    crc0 = shift(kShiftFold, static_cast<uint32_t>(crc0)) ^ folded;
    p += kHybridBlock;
    n -= kHybridBlock;
  }
  return crc0;
}

#endif

// The crc32 instruction; with `clmul`, long runs go through hybrid_blocks.
__attribute__((target("sse4.2"))) uint32_t hardware(const uint8_t* p, size_t n, uint32_t crc, bool clmul) {
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
#if KFK_CRC32C_CLMUL
  if (clmul) c = hybrid_blocks(c, p, n);
#else
  (void)clmul;
#endif
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

#endif

// What the CPU offers, detected once.
struct CpuPaths {
  bool crc32 = false;  // SSE4.2
  bool clmul = false;  // and PCLMULQDQ, AVX2, VPCLMULQDQ (x86-64)
};

CpuPaths detect_paths() {
  CpuPaths paths;
#if KFK_CRC32C_X86
  __builtin_cpu_init();  // may run before constructors (a static initializer elsewhere)
  paths.crc32 = __builtin_cpu_supports("sse4.2");
#if KFK_CRC32C_CLMUL
  paths.clmul = paths.crc32 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx2") &&
                __builtin_cpu_supports("vpclmulqdq");
#endif
#endif
  return paths;
}

const CpuPaths& cpu_paths() {
  static const CpuPaths paths = detect_paths();
  return paths;
}

}  // namespace

bool crc32c_hardware_available() { return cpu_paths().crc32; }

bool crc32c_clmul_available() { return cpu_paths().clmul; }

uint32_t crc32c_software(const void* data, size_t size, uint32_t crc) {
  return software(static_cast<const uint8_t*>(data), size, crc);
}

uint32_t crc32c_sse42(const void* data, size_t size, uint32_t crc) {
#if KFK_CRC32C_X86
  if (crc32c_hardware_available()) return hardware(static_cast<const uint8_t*>(data), size, crc, false);
#endif
  return software(static_cast<const uint8_t*>(data), size, crc);
}

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
#if KFK_CRC32C_X86
  if (crc32c_hardware_available())
    return hardware(static_cast<const uint8_t*>(data), size, crc, crc32c_clmul_available());
#endif
  return software(static_cast<const uint8_t*>(data), size, crc);
}

}  // namespace kfk::proto
