#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "protocol/crc32c.h"

using namespace kfk::proto;

namespace {

// Bit-at-a-time reference: the definition, independent of both fast paths.
uint32_t crc32c_bitwise(const uint8_t* p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
  }
  return ~crc;
}

struct Vector {
  const char* name;
  std::vector<uint8_t> data;
  uint32_t expected;
};

std::vector<Vector> published_vectors() {
  std::vector<Vector> v;
  // RFC 3720 (iSCSI) appendix B.4.
  v.push_back({"32 zeros", std::vector<uint8_t>(32, 0x00), 0x8A9136AAu});
  v.push_back({"32 0xFF", std::vector<uint8_t>(32, 0xFF), 0x62A8AB43u});
  std::vector<uint8_t> asc(32), desc(32);
  for (int i = 0; i < 32; ++i) {
    asc[i] = static_cast<uint8_t>(i);
    desc[i] = static_cast<uint8_t>(31 - i);
  }
  v.push_back({"0..31", asc, 0x46DD794Eu});
  v.push_back({"31..0", desc, 0x113FDB5Cu});
  std::string_view check = "123456789";  // the usual CRC catalogue check value
  v.push_back({"123456789", std::vector<uint8_t>(check.begin(), check.end()), 0xE3069283u});
  v.push_back({"empty", {}, 0x00000000u});
  return v;
}

}  // namespace

TEST_CASE("crc32c: published vectors, software") {
  for (const auto& v : published_vectors()) {
    CAPTURE(std::string(v.name));
    CHECK(crc32c_software(v.data.data(), v.data.size()) == v.expected);
    CHECK(crc32c_bitwise(v.data.data(), v.data.size()) == v.expected);
  }
}

TEST_CASE("crc32c: published vectors, dispatched (hardware when available)") {
  MESSAGE("crc32c hardware available: " << crc32c_hardware_available());
  for (const auto& v : published_vectors()) {
    CAPTURE(std::string(v.name));
    CHECK(crc32c(v.data.data(), v.data.size()) == v.expected);
  }
}

TEST_CASE("crc32c: incremental equals one-shot") {
  std::string_view s = "123456789";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t a = crc32c(s.data(), cut);
    CHECK(crc32c(s.data() + cut, s.size() - cut, a) == 0xE3069283u);
    uint32_t b = crc32c_software(s.data(), cut);
    CHECK(crc32c_software(s.data() + cut, s.size() - cut, b) == 0xE3069283u);
  }
}

TEST_CASE("crc32c: hardware and software agree on random lengths and alignments") {
  std::mt19937_64 rng(12345);
  // Large enough for the three-way 8 KiB blocks plus odd tails.
  std::vector<uint8_t> buf(3 * 8192 * 2 + 3 * 256 * 3 + 64);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  // Lengths around the block boundaries of the hardware path, then random.
  std::vector<size_t> lengths = {0,    1,    7,    8,    9,     255,   256,   767,   768,   769,
                                 1024, 8191, 8192, 24575, 24576, 24577, 25000, 49152, 49999};
  for (int i = 0; i < 300; ++i) lengths.push_back(rng() % (buf.size() - 16));
  for (size_t len : lengths) {
    for (size_t align = 0; align < 8; ++align) {
      if (align + len > buf.size()) continue;
      const uint8_t* p = buf.data() + align;
      uint32_t sw = crc32c_software(p, len);
      uint32_t hw = crc32c(p, len);
      CAPTURE(len);
      CAPTURE(align);
      REQUIRE(sw == hw);
      if (len <= 4096) REQUIRE(sw == crc32c_bitwise(p, len));
      uint32_t seed = static_cast<uint32_t>(rng());
      REQUIRE(crc32c_software(p, len, seed) == crc32c(p, len, seed));
    }
  }
  // One long buffer against the bit-at-a-time definition.
  CHECK(crc32c(buf.data() + 3, buf.size() - 3) == crc32c_bitwise(buf.data() + 3, buf.size() - 3));
}

TEST_CASE("crc32c: the carry-less fold agrees with the crc32 chains and the tables") {
  MESSAGE("crc32c carry-less fold (VPCLMULQDQ) available: " << crc32c_clmul_available());
  std::mt19937_64 rng(777);
  std::vector<uint8_t> buf((1u << 20) + 64);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  // Around the fold's 7 KiB blocks (3 KiB of crc32 chains, 4 KiB folded)
  // and the crc32 path's blocks that take the rest, then random, up to a
  // 1 MiB batch.
  constexpr size_t kBlock = 7 * 1024;
  std::vector<size_t> lengths = {kBlock - 1, kBlock, kBlock + 1, 2 * kBlock - 8, 2 * kBlock + 8,
                                 kBlock + 3 * 8192, kBlock + 3 * 8192 + 3 * 256 + 7, 1u << 20};
  for (int i = 0; i < 200; ++i) lengths.push_back(rng() % (buf.size() - 64));
  for (size_t len : lengths) {
    for (size_t align : {0, 1, 5, 8, 13, 32}) {
      const uint8_t* p = buf.data() + align;
      const uint32_t seed = static_cast<uint32_t>(rng());
      CAPTURE(len);
      CAPTURE(align);
      const uint32_t sw = crc32c_software(p, len, seed);
      REQUIRE(crc32c(p, len, seed) == sw);
      REQUIRE(crc32c_sse42(p, len, seed) == sw);
    }
  }
  // A single flipped bit anywhere in a folded block changes the result.
  std::vector<uint8_t> block(buf.begin(), buf.begin() + 3 * kBlock);
  const uint32_t clean = crc32c(block.data(), block.size());
  for (int i = 0; i < 64; ++i) {
    const size_t at = rng() % block.size();
    block[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    CHECK(crc32c(block.data(), block.size()) != clean);
    CHECK(crc32c(block.data(), block.size()) == crc32c_software(block.data(), block.size()));
    block[at] = buf[at];
  }
  CHECK(crc32c(buf.data(), 1u << 20) == crc32c_bitwise(buf.data(), 1u << 20));
}
