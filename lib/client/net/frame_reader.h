// FrameReader: splits a byte stream into Kafka frames ([int32 size][size
// bytes]) with as little copying as possible. Small frames are cut out of a
// 64 KiB scratch buffer (one copy); the body of a large frame is read by the
// socket straight into a buffer of exactly the frame's size (no copy).
// A size prefix < 4 (no room for a correlation id) or above the limit is a
// protocol error: the caller closes the connection.
//
// Runs on the network thread (one per BrokerConnection); no I/O itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace kfk::net {

// One received frame (the size prefix stripped). Shared: decoded messages
// may keep views into it (Fetch records).
struct FrameBuffer {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
};
using FramePtr = std::shared_ptr<const FrameBuffer>;

class FrameReader {
 public:
  static constexpr size_t kScratchBytes = 64 * 1024;

  explicit FrameReader(size_t max_frame_bytes);

  // The buffer the next read should fill (for uv_alloc_cb).
  void next_buffer(uint8_t** data, size_t* size);
  // `n` bytes were read into the buffer last handed out by next_buffer().
  // Every completed frame goes to `on_frame`, which returns false to stop
  // (e.g. its owner closed the connection). Returns false on a bad size
  // prefix; error() then says why.
  bool consume(size_t n, const std::function<bool(FramePtr)>& on_frame);
  const std::string& error() const { return error_; }
  // Forgets any partial frame (new connection).
  void reset();
  // Bytes of a partial frame held (tests).
  size_t pending_bytes() const { return size_have_ + frame_have_; }

 private:
  bool start_frame(int32_t size);

  size_t max_frame_;
  std::unique_ptr<uint8_t[]> scratch_;
  uint8_t size_buf_[4] = {};
  size_t size_have_ = 0;
  std::shared_ptr<FrameBuffer> frame_;
  size_t frame_have_ = 0;
  bool direct_ = false;  // the last buffer handed out points into frame_
  std::string error_;
};

}  // namespace kfk::net
