// Kafka's framing: every request and response is a big-endian int32 size
// followed by that many bytes. Both ends refuse sizes that are negative,
// too small to hold a header, or over their limit (the client's response
// limit; broker-ref's socket.request.max.bytes), and then close the
// connection: the stream cannot be resynchronised.
//
// Pure functions and a small value type; no I/O. Used on the loop thread
// that reads the stream (the client's FrameReader, broker-ref's
// Connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kfk::io {

inline constexpr size_t kSizePrefixBytes = 4;

// Which frames a reader accepts, and how it names them in errors.
struct FrameLimits {
  size_t min_size = 1;                // a response needs 4 (its correlation id)
  size_t max_size = 100u << 20;
  const char* what = "frame";         // "request", "response"
  const char* limit_name = "limit";   // "socket.request.max.bytes"
};

// The size announced by a complete prefix at `p` (may be negative).
inline int32_t load_frame_size(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}
inline void store_frame_size(uint8_t* p, int32_t size) {
  const auto v = static_cast<uint32_t>(size);
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// True when a frame of `size` bytes is within `limits`.
inline bool frame_size_ok(int32_t size, const FrameLimits& limits) {
  return size >= 0 && static_cast<size_t>(size) >= limits.min_size && static_cast<size_t>(size) <= limits.max_size;
}

// Why `size` was refused: "invalid request size -1 (socket.request.max.bytes
// is 104857600)".
std::string frame_size_error(int32_t size, const FrameLimits& limits);

// A size prefix that may arrive split across reads.
class SizePrefix {
 public:
  // Takes bytes from [p, p + n) until the prefix is complete; returns how
  // many it took.
  size_t feed(const uint8_t* p, size_t n);
  bool complete() const { return have_ == kSizePrefixBytes; }
  int32_t value() const { return load_frame_size(bytes_); }
  size_t have() const { return have_; }
  void reset() { have_ = 0; }

 private:
  uint8_t bytes_[kSizePrefixBytes] = {};
  size_t have_ = 0;
};

}  // namespace kfk::io
