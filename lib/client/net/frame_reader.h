// FrameReader: splits a byte stream into Kafka frames ([int32 size][size
// bytes]) with as little copying as possible. Small frames are cut out of a
// 64 KiB scratch buffer (one copy); the body of a large frame is read by the
// socket straight into a buffer of exactly the frame's size (no copy).
// A size prefix < 4 (no room for a correlation id) or above the limit is a
// protocol error (io/framing.h): the caller closes the connection.
//
// Large frame buffers are recycled (FramePool): a Fetch response of tens of
// MB in a fresh buffer costs more in page faults, kernel zeroing and munmap
// than reading it (glibc mmaps anything above 32 MB, and frees it with
// munmap).
//
// Runs on the network thread (one per BrokerConnection); no I/O itself.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/framing.h"

namespace kfk::net {

// One received frame (the size prefix stripped). Shared: decoded messages
// may keep views into it (Fetch records), and the consumer's records keep
// it alive until the application drops them.
struct FrameBuffer {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
  size_t capacity = 0;  // of `bytes` (>= size)
};
using FramePtr = std::shared_ptr<const FrameBuffer>;

// Buffers for large frames, recycled: a frame's buffer comes back here when
// the last reference to the frame goes (wherever that is: the consumer
// releases records on the application thread), so the next large response
// is read into memory that is already mapped. A buffer is reused only once
// nothing refers to its frame, so records the application still holds are
// never overwritten. Bounded: at most kMaxFree buffers and kMaxFreeBytes
// wait here; frames below kMinPooled use plain allocations. A buffer left
// unused for kIdleRelease is freed when the next frame of any size arrives,
// so a consumer that once read large responses does not keep their memory.
// Thread-safe (get() on the network thread, release anywhere).
class FramePool : public std::enable_shared_from_this<FramePool> {
 public:
  static constexpr size_t kMinPooled = size_t{256} << 10;
  static constexpr size_t kMaxFree = 2;
  static constexpr size_t kMaxFreeBytes = size_t{256} << 20;
  static constexpr std::chrono::milliseconds kIdleRelease{5000};

  // A frame of `size` bytes (uninitialized). Above kMinPooled its buffer is
  // a recycled one when one is big enough, else a new one with headroom
  // (so that responses of slightly varying size keep reusing it).
  std::shared_ptr<FrameBuffer> get(size_t size);

  // Frees the buffers that have waited since before now - kIdleRelease
  // (get() does this itself; public for tests).
  void release_idle(std::chrono::steady_clock::time_point now);

  // For tests and metrics.
  size_t free_buffers() const;
  uint64_t reused() const;

 private:
  struct Free {
    std::unique_ptr<uint8_t[]> bytes;
    size_t capacity = 0;
    std::chrono::steady_clock::time_point since;  // when it came back
  };
  void put(std::unique_ptr<uint8_t[]> bytes, size_t capacity);

  mutable std::mutex mu_;
  std::vector<Free> free_;  // guarded by mu_
  size_t free_bytes_ = 0;   // guarded by mu_
  uint64_t reused_ = 0;     // guarded by mu_
  std::atomic<size_t> free_count_{0};  // free_.size(), read without the lock
};

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
  size_t pending_bytes() const { return size_.have() + frame_have_; }
  const FramePool& pool() const { return *pool_; }

 private:
  bool start_frame(int32_t size);

  io::FrameLimits limits_;
  std::shared_ptr<FramePool> pool_ = std::make_shared<FramePool>();  // outlives the reader while frames are out
  std::unique_ptr<uint8_t[]> scratch_;
  io::SizePrefix size_;
  std::shared_ptr<FrameBuffer> frame_;
  size_t frame_have_ = 0;
  bool direct_ = false;  // the last buffer handed out points into frame_
  std::string error_;
};

}  // namespace kfk::net
