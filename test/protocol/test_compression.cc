#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "kfk_build_config.h"
#include "protocol/compression.h"

#if KFK_HAVE_SNAPPY
#include <snappy.h>
#endif

using namespace kfk::proto;

namespace {

using Buf = std::vector<uint8_t>;

const Compression kCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4,
                               Compression::kZstd};

Buf random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Buf b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Log-line-like text: compresses well but not trivially.
Buf compressible_bytes(size_t n, uint64_t seed) {
  static const char* words[] = {"kafka", "record", "batch", "offset", "partition", "leader", "epoch",
                                "producer", "consumer", "topic", "fetch", "commit", " ", "\n", "42"};
  std::mt19937_64 rng(seed);
  Buf b;
  b.reserve(n + 16);
  while (b.size() < n) {
    const char* w = words[rng() % std::size(words)];
    b.insert(b.end(), w, w + std::strlen(w));
  }
  b.resize(n);
  return b;
}

Buf round_trip(Compression c, int level, const Buf& in) {
  Buf z, back;
  const char* why = nullptr;
  REQUIRE_MESSAGE(compress(c, level, in, z, &why), (why ? why : ""));
  REQUIRE_MESSAGE(decompress(c, z, back, in.size() + 1, &why), (why ? why : ""));
  return back;
}

struct TempFile {
  std::string path;
  TempFile() {
    char tmpl[] = "/tmp/kfk_codec_XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
  }
  ~TempFile() {
    std::remove(path.c_str());
    std::remove((path + ".out").c_str());
  }
};

void write_file(const std::string& path, const Buf& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Buf read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Buf(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool have_tool(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

TEST_CASE("compression: names") {
  Compression c{};
  for (Compression k : kCodecs) {
    REQUIRE(parse_compression(compression_name(k), c));
    CHECK(c == k);
  }
  CHECK_FALSE(parse_compression("brotli", c));
  CHECK(std::string(compression_name(Compression::kLz4)) == "lz4");
  CHECK(compression_available(Compression::kNone));
  CHECK(compression_available(Compression::kGzip) == bool(KFK_HAVE_GZIP));
  CHECK(compression_available(Compression::kZstd) == bool(KFK_HAVE_ZSTD));
}

TEST_CASE("compression: round trip every codec") {
  const Buf inputs[] = {Buf{}, Buf{'x'}, compressible_bytes(100, 1), random_bytes(1 << 20, 2),
                        compressible_bytes(1 << 20, 3), Buf(200000, 0)};
  for (Compression c : kCodecs) {
    if (!compression_available(c)) {
      MESSAGE("codec not built: " << compression_name(c));
      continue;
    }
    for (const Buf& in : inputs) {
      CAPTURE(std::string(compression_name(c)));
      CAPTURE(in.size());
      CHECK(round_trip(c, -1, in) == in);
    }
  }
}

TEST_CASE("compression: compressible data shrinks") {
  Buf in = compressible_bytes(1 << 20, 4);
  for (Compression c : kCodecs) {
    if (c == Compression::kNone || !compression_available(c)) continue;
    Buf z;
    REQUIRE(compress(c, -1, in, z));
    CAPTURE(std::string(compression_name(c)));
    CHECK(z.size() < in.size() / 2);
  }
}

TEST_CASE("compression: levels pass through") {
  Buf in = compressible_bytes(64 * 1024, 5);
  struct L {
    Compression c;
    int level;
  };
  const L levels[] = {{Compression::kGzip, 1}, {Compression::kGzip, 9}, {Compression::kLz4, 0},
                      {Compression::kLz4, 1},  {Compression::kLz4, 9},  {Compression::kLz4, 12},
                      {Compression::kZstd, 1}, {Compression::kZstd, 19}, {Compression::kZstd, 22}};
  for (auto l : levels) {
    if (!compression_available(l.c)) continue;
    CAPTURE(std::string(compression_name(l.c)));
    CAPTURE(l.level);
    CHECK(round_trip(l.c, l.level, in) == in);
  }
  if (compression_available(Compression::kGzip)) {
    Buf z;
    const char* why = nullptr;
    CHECK_FALSE(compress(Compression::kGzip, 42, in, z, &why));
    CHECK(why != nullptr);
    CHECK(z.empty());
  }
  if (compression_available(Compression::kZstd)) {
    Buf fast, best;
    REQUIRE(compress(Compression::kZstd, 1, in, fast));
    REQUIRE(compress(Compression::kZstd, 19, in, best));
    CHECK(best.size() < fast.size());
  }
}

TEST_CASE("compression: appends to existing output") {
  Buf in = compressible_bytes(5000, 6);
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    Buf z = {1, 2, 3};
    REQUIRE(compress(c, -1, in, z));
    CHECK(z[0] == 1);
    Buf back = {9, 8};
    REQUIRE(decompress(c, std::span<const uint8_t>(z).subspan(3), back, in.size()));
    REQUIRE(back.size() == in.size() + 2);
    CHECK(back[0] == 9);
    CHECK(std::equal(in.begin(), in.end(), back.begin() + 2));
  }
}

TEST_CASE("compression: decompression is bounded") {
  Buf zeros(10 << 20, 0);
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    Buf z;
    REQUIRE(compress(c, -1, zeros, z));
    Buf out = {7};
    const char* why = nullptr;
    CHECK_FALSE(decompress(c, z, out, 1 << 20, &why));
    REQUIRE(why != nullptr);
    CHECK(std::string(why).find("max_output") != std::string::npos);
    CHECK(out == Buf{7});  // left as it was
    CHECK(out.capacity() < (4u << 20));  // never grew anywhere near the 10 MB
    // Exact boundary: max == size passes, one less fails.
    Buf small(100000, 0);
    Buf zs, o;
    REQUIRE(compress(c, -1, small, zs));
    CHECK(decompress(c, zs, o, small.size()));
    CHECK(o == small);
    o.clear();
    CHECK_FALSE(decompress(c, zs, o, small.size() - 1));
    CHECK(o.empty());
  }
}

TEST_CASE("compression: concatenated gzip members, zstd and lz4 frames") {
  Buf a = compressible_bytes(30000, 7), b = random_bytes(20000, 8);
  Buf ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  for (Compression c : {Compression::kGzip, Compression::kZstd, Compression::kLz4, Compression::kSnappy}) {
    if (!compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    Buf z;
    REQUIRE(compress(c, -1, a, z));
    REQUIRE(compress(c, -1, b, z));
    Buf out;
    const char* why = nullptr;
    REQUIRE_MESSAGE(decompress(c, z, out, ab.size(), &why), (why ? why : ""));
    CHECK(out == ab);
  }
}

#if KFK_HAVE_SNAPPY
TEST_CASE("compression: snappy xerial framing and raw blocks") {
  // Hand-written raw snappy: length varint 5, literal tag (5-1)<<2, "hello".
  const Buf raw = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
  Buf out;
  REQUIRE(decompress(Compression::kSnappy, raw, out, 100));
  CHECK(std::string(out.begin(), out.end()) == "hello");

  // The same block in xerial framing, as snappy-java writes it.
  Buf xerial = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7};
  xerial.insert(xerial.end(), raw.begin(), raw.end());
  out.clear();
  REQUIRE(decompress(Compression::kSnappy, xerial, out, 100));
  CHECK(std::string(out.begin(), out.end()) == "hello");

  // What we write: xerial header, then 32 KiB blocks.
  Buf in = compressible_bytes(100000, 9);
  Buf z;
  REQUIRE(compress(Compression::kSnappy, -1, in, z));
  REQUIRE(z.size() > 20);
  CHECK(Buf(z.begin(), z.begin() + 16) == Buf(xerial.begin(), xerial.begin() + 16));
  size_t pos = 16, blocks = 0, total = 0;
  while (pos < z.size()) {
    uint32_t n = (uint32_t(z[pos]) << 24) | (uint32_t(z[pos + 1]) << 16) | (uint32_t(z[pos + 2]) << 8) | z[pos + 3];
    size_t len = 0;
    REQUIRE(snappy::GetUncompressedLength(reinterpret_cast<const char*>(&z[pos + 4]), n, &len));
    CHECK(len <= 32768);
    total += len;
    pos += 4 + n;
    ++blocks;
  }
  CHECK(pos == z.size());
  CHECK(blocks == 4);  // ceil(100000 / 32768)
  CHECK(total == in.size());

  // Plain raw snappy of a large buffer (what some non-Java clients send).
  std::string rawz;
  snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &rawz);
  out.clear();
  REQUIRE(decompress(Compression::kSnappy, Buf(rawz.begin(), rawz.end()), out, in.size()));
  CHECK(out == in);

  // A raw block declaring far more than its size could produce.
  const Buf liar = {0xff, 0xff, 0xff, 0x7f, 0x00};
  out.clear();
  const char* why = nullptr;
  CHECK_FALSE(decompress(Compression::kSnappy, liar, out, SIZE_MAX, &why));
  CHECK(out.empty());
}
#endif

TEST_CASE("compression: interop with command-line tools") {
  struct Tool {
    Compression c;
    const char* name;
    const char* compress_cmd;    // input path, output path
    const char* decompress_cmd;  // input path, output path
  };
  const Tool tools[] = {
      {Compression::kGzip, "gzip", "gzip -c '%s' > '%s'", "gzip -dc '%s' > '%s'"},
      {Compression::kLz4, "lz4", "lz4 -q -c '%s' > '%s'", "lz4 -q -dc '%s' > '%s'"},
      {Compression::kZstd, "zstd", "zstd -q -c '%s' > '%s'", "zstd -q -dc '%s' > '%s'"},
  };
  Buf payload = compressible_bytes(300000, 10);
  Buf rnd = random_bytes(70000, 11);
  payload.insert(payload.end(), rnd.begin(), rnd.end());
  for (const Tool& t : tools) {
    if (!compression_available(t.c)) continue;
    if (!have_tool(t.name)) {
      MESSAGE("skipping interop: `" << t.name << "` not installed");
      continue;
    }
    CAPTURE(std::string(t.name));
    char cmd[512];
    {  // tool compresses, we decompress
      TempFile f;
      write_file(f.path, payload);
      std::snprintf(cmd, sizeof cmd, t.compress_cmd, f.path.c_str(), (f.path + ".out").c_str());
      REQUIRE(std::system(cmd) == 0);
      Buf z = read_file(f.path + ".out");
      REQUIRE(!z.empty());
      Buf out;
      const char* why = nullptr;
      CHECK_MESSAGE(decompress(t.c, z, out, payload.size(), &why), (why ? why : ""));
      CHECK(out == payload);
    }
    {  // we compress, tool decompresses
      TempFile f;
      Buf z;
      REQUIRE(compress(t.c, -1, payload, z));
      write_file(f.path, z);
      std::snprintf(cmd, sizeof cmd, t.decompress_cmd, f.path.c_str(), (f.path + ".out").c_str());
      REQUIRE(std::system(cmd) == 0);
      CHECK(read_file(f.path + ".out") == payload);
    }
  }
}

TEST_CASE("compression: truncated and corrupt input fails cleanly") {
  Buf in = compressible_bytes(100000, 12);
  std::mt19937_64 rng(13);
  for (Compression c : kCodecs) {
    if (c == Compression::kNone || !compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    Buf z;
    REQUIRE(compress(c, -1, in, z));
    // Truncations: every length near both ends, sampled in between.
    std::vector<size_t> cuts;
    for (size_t n = 0; n < std::min<size_t>(z.size(), 64); ++n) cuts.push_back(n);
    for (size_t n = z.size() > 64 ? z.size() - 64 : 0; n < z.size(); ++n) cuts.push_back(n);
    for (int i = 0; i < 200; ++i) cuts.push_back(rng() % z.size());
    for (size_t n : cuts) {
      Buf out;
      const char* why = nullptr;
      bool ok = decompress(c, std::span<const uint8_t>(z.data(), n), out, in.size() * 2, &why);
      CAPTURE(n);
      if (c == Compression::kSnappy && ok) {
        // Xerial framing has no end marker: a cut between blocks is a
        // valid shorter stream. Anything it yields must be a true prefix.
        CHECK(out.size() < in.size());
        CHECK(std::equal(out.begin(), out.end(), in.begin()));
      } else {
        CHECK_FALSE(ok);
        CHECK(why != nullptr);
        CHECK(out.empty());
      }
    }
    // Random corruption: must not crash or overrun the bound; lz4 and
    // snappy carry no checksum, so success with wrong bytes is allowed.
    for (int i = 0; i < 300; ++i) {
      Buf bad = z;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      Buf out;
      const char* why = nullptr;
      bool ok = decompress(c, bad, out, in.size() * 2, &why);
      if (ok) {
        CHECK(out.size() <= in.size() * 2);
      } else {
        CHECK(why != nullptr);
        CHECK(out.empty());
      }
    }
    // Garbage after a valid stream.
    Buf trailing = z;
    trailing.insert(trailing.end(), {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04});
    Buf out;
    CHECK_FALSE(decompress(c, trailing, out, in.size() * 2));
  }
  // Pure garbage and empty input.
  Buf garbage = random_bytes(1000, 14);
  for (Compression c : kCodecs) {
    if (c == Compression::kNone || !compression_available(c)) continue;
    CAPTURE(std::string(compression_name(c)));
    Buf out;
    CHECK_FALSE(decompress(c, Buf{}, out, 1000));
    (void)decompress(c, garbage, out, 100000);  // snappy may accept random bytes; no crash is the test
  }
}

TEST_CASE("compression: unknown codec value") {
  Buf out;
  const char* why = nullptr;
  CHECK_FALSE(compress(static_cast<Compression>(7), -1, Buf{1, 2}, out, &why));
  CHECK(why != nullptr);
  CHECK_FALSE(decompress(static_cast<Compression>(5), Buf{1, 2}, out, 10, &why));
}
