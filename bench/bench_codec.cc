// Codec micro-benchmark: CRC32C (hardware / software) and RecordBatch
// encode / decode per compression codec. Single-threaded, steady_clock,
// each measurement runs for a fixed time budget (~7 s in total).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "protocol/compression.h"
#include "protocol/crc32c.h"
#include "protocol/record_batch.h"

using namespace kfk::proto;
using Clock = std::chrono::steady_clock;

namespace {

volatile uint64_t g_sink;  // keeps results observable so no loop is optimised away

// Runs `fn` repeatedly for at least `budget` seconds (and `min_iters`
// times); returns seconds per iteration.
template <class Fn>
double time_per_iter(double budget, int min_iters, Fn&& fn) {
  fn();  // warm-up: page in buffers, size vectors, fill caches
  int iters = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    fn();
    ++iters;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < budget || iters < min_iters);
  return elapsed / iters;
}

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// JSON-ish event values: realistic, moderately compressible payloads.
std::vector<std::string> make_values(size_t n, size_t len, uint64_t seed) {
  static const char* words[] = {"\"user\":", "\"id\":", "\"event\":", "\"click\"", "\"view\"", "\"ts\":",
                                "\"page\":", "\"/home\"", "\"/cart\"", ",", "{", "}", "true", "false"};
  std::mt19937_64 rng(seed);
  std::vector<std::string> v(n);
  for (auto& s : v) {
    while (s.size() < len) {
      if (rng() % 3 == 0)
        s += std::to_string(rng() % 100000);
      else
        s += words[rng() % std::size(words)];
    }
    s.resize(len);
  }
  return v;
}

}  // namespace

int main() {
  std::printf("kfk codec benchmark (single core)\n\n");

  // ------------------------------------------------------------ CRC32C
  {
    auto buf = random_bytes(1 << 20, 1);
    std::printf("%-24s %12s\n", "crc32c (1 MiB buffer)", "GB/s");
    uint32_t acc = 0;
    if (crc32c_hardware_available()) {
      double t = time_per_iter(0.5, 10, [&] { acc ^= crc32c_sse42(buf.data(), buf.size()); });
      std::printf("%-24s %12.2f\n", "hardware (sse4.2)", buf.size() / t / 1e9);
    } else {
      std::printf("%-24s %12s\n", "hardware (sse4.2)", "n/a");
    }
    if (crc32c_clmul_available()) {
      double t = time_per_iter(0.5, 10, [&] { acc ^= crc32c(buf.data(), buf.size()); });
      std::printf("%-24s %12.2f\n", "sse4.2 + vpclmulqdq", buf.size() / t / 1e9);
    } else {
      std::printf("%-24s %12s\n", "sse4.2 + vpclmulqdq", "n/a");
    }
    double t = time_per_iter(0.5, 10, [&] { acc ^= crc32c_software(buf.data(), buf.size()); });
    std::printf("%-24s %12.2f\n\n", "software (slicing-by-8)", buf.size() / t / 1e9);
    g_sink = acc;
  }

  // ------------------------------------------------------------ batches
  constexpr int kRecords = 1000;
  constexpr size_t kKeyLen = 16, kValueLen = 100;
  auto keys = make_values(kRecords, kKeyLen, 2);
  auto values = make_values(kRecords, kValueLen, 3);
  std::printf("batch: %d records, %zu-byte keys, %zu-byte values (JSON-like)\n", kRecords, kKeyLen, kValueLen);
  std::printf("%-8s %10s %10s | %12s %9s | %12s %9s\n", "codec", "raw B", "batch B", "encode rec/s", "GB/s",
              "decode rec/s", "GB/s");

  const Compression codecs[] = {Compression::kNone, Compression::kLz4, Compression::kZstd, Compression::kSnappy,
                                Compression::kGzip};
  for (Compression c : codecs) {
    if (!compression_available(c)) {
      std::printf("%-8s (not built)\n", compression_name(c));
      continue;
    }
    BatchBuilder::Options opts;
    opts.compression = c;
    BatchBuilder builder(opts);
    size_t raw_size = 0, batch_size = 0;
    auto encode = [&] {
      builder.reset(opts);
      for (int i = 0; i < kRecords; ++i) {
        auto k = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(keys[i].data()), keys[i].size());
        auto v = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values[i].data()), values[i].size());
        builder.append(1700000000000 + i, k, v);
      }
      raw_size = builder.estimated_size();
      batch_size = builder.finish().size();
    };
    double t_enc = time_per_iter(0.5, 5, encode);

    std::vector<uint8_t> batch(builder.finish().begin(), builder.finish().end());
    std::vector<BatchSpan> spans;
    std::vector<Record> records;
    std::vector<uint8_t> scratch;
    uint64_t acc = 0;
    bool ok = true;
    auto decode = [&] {
      const char* why = nullptr;
      ok &= split_batches(batch, spans, &why);
      for (const auto& s : spans) ok &= decode_records(s, records, scratch, 64 << 20, &why);
      acc += records.size() + records.back().value->size();
    };
    double t_dec = time_per_iter(0.5, 5, decode);
    g_sink = acc;
    if (!ok || records.size() != kRecords) {
      std::fprintf(stderr, "decode failed for %s\n", compression_name(c));
      return 1;
    }
    std::printf("%-8s %10zu %10zu | %12.0f %9.3f | %12.0f %9.3f\n", compression_name(c), raw_size, batch_size,
                kRecords / t_enc, raw_size / t_enc / 1e9, kRecords / t_dec, raw_size / t_dec / 1e9);
  }
  std::printf("\nGB/s for batches counts uncompressed batch bytes (header + records).\n");
  return 0;
}
