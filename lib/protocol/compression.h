// Batch compression codecs: gzip, snappy (raw and the xerial framing the
// Java client writes), lz4 (frame format), zstd. Decompression is bounded:
// output past `max_output` bytes is an error, never an out-of-memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kfk::proto {

// Values are the codec bits of the RecordBatch attributes.
enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

const char* compression_name(Compression c);  // "none", "gzip", ...
// Accepts the Java/librdkafka names ("none", "gzip", "snappy", "lz4", "zstd").
bool parse_compression(std::string_view name, Compression& out);
// False when kfk was built without that codec's library.
bool compression_available(Compression c);

// Appends the compressed form of `in` to `out`. level -1 = codec default.
bool compress(Compression c, int level, std::span<const uint8_t> in, std::vector<uint8_t>& out,
              const char** why = nullptr);
// Appends the decompressed form of `in` to `out`; fails if that would take
// `out` past `max_output` bytes of growth.
bool decompress(Compression c, std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output,
                const char** why = nullptr);

}  // namespace kfk::proto
