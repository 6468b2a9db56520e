// Batch compression codecs: gzip, snappy (raw and the xerial framing the
// Java client writes), lz4 (frame format), zstd. Decompression is bounded:
// output past `max_output` bytes is an error, never an out-of-memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kfk::proto {

// Values are the codec bits of the RecordBatch attributes.
enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

const char* compression_name(Compression c);  // "none", "gzip", ...
// Accepts the Java/librdkafka names ("none", "gzip", "snappy", "lz4", "zstd").
bool parse_compression(std::string_view name, Compression& out);
// False when kfk was built without that codec's library.
bool compression_available(Compression c);

// A byte vector whose resize() leaves new bytes uninitialised, for buffers
// whose new bytes are written right after growing: zero-filling them first
// was a second pass over every byte (memset was 4-7% of a 10 KB-record
// producer profile, and the codecs' worst-case room ~1.5% with lz4).
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-initialised: no zeroing
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using UninitBytes = std::vector<uint8_t, UninitAllocator<uint8_t>>;

// Appends the compressed form of `in` to `out`. level -1 = codec default.
bool compress(Compression c, int level, std::span<const uint8_t> in, std::vector<uint8_t>& out,
              const char** why = nullptr);
bool compress(Compression c, int level, std::span<const uint8_t> in, UninitBytes& out, const char** why = nullptr);
// Appends the decompressed form of `in` to `out`; fails if that would take
// `out` past `max_output` bytes of growth.
bool decompress(Compression c, std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output,
                const char** why = nullptr);

}  // namespace kfk::proto
