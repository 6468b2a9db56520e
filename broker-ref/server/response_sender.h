// Writes response frames to one connection's socket, strictly in order,
// with scatter/gather: runs of memory chunks go out in one uv_try_write
// (uv_write for what the socket did not take), file ranges (zero-copy
// Fetch) go out with sendfile(2) on the socket's fd.
//
// When sendfile hits EAGAIN (socket buffer full), a uv_poll waits for
// writability and sendfile resumes: file bytes are never copied through
// user space. The poll watches a dup() of the socket's fd, because libuv
// allows one watcher per fd and the uv_tcp_t has it (epoll keys its
// interest by fd and file, so the two do not collide). Only if that cannot
// be set up does the next piece of the range (up to 256 KiB) go out
// through a staging buffer and uv_write. Each frame's Writer, and with it
// every owner of spliced bytes (segment file handles), lives until the frame is
// fully written.
//
// Thread ownership: the loop thread only.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "protocol/writer.h"

namespace kfk::broker {

class ResponseSender {
 public:
  // on_error(uv error code or -errno): the connection must close.
  // on_progress(): some output was written (backpressure can ease).
  ResponseSender(uv_tcp_t* tcp, std::function<void(int)> on_error, std::function<void()> on_progress);
  ~ResponseSender();
  ResponseSender(const ResponseSender&) = delete;
  ResponseSender& operator=(const ResponseSender&) = delete;

  void send(proto::Writer&& frame);
  // Bytes queued and not yet written.
  size_t queued_bytes() const { return queued_bytes_; }
  bool idle() const { return frames_.empty() && !in_flight_; }
  // The connection is closing: drop everything, ignore callbacks.
  void abandon();

 private:
  struct Chunk {
    const uint8_t* data = nullptr;  // memory chunk, or
    int fd = -1;                    // file range at `offset`
    int64_t offset = 0;
    size_t size = 0;
  };
  struct Frame {
    proto::Writer writer;
    std::vector<Chunk> chunks;
    size_t index = 0;  // current chunk
    size_t done = 0;   // bytes of the current chunk already written
  };
  struct WriteReq {
    uv_write_t req;
    ResponseSender* self;
    size_t bytes;
    std::vector<uint8_t> staging;  // file bytes copied after EAGAIN
  };

  // Waits on a dup() of the socket for writability (see above).
  struct Writable {
    uv_poll_t poll;
    ResponseSender* self = nullptr;
    int fd = -1;
  };

  void pump();
  void advance(size_t n);
  bool write_memory();  // false: stop pumping (in flight or error)
  bool write_file();
  bool wait_writable();  // false: cannot poll, stage instead
  static void on_writable(uv_poll_t* p, int status, int events);
  void release_writable();
  void submit(std::vector<uv_buf_t>& bufs, size_t bytes, std::vector<uint8_t> staging);
  static void on_write(uv_write_t* req, int status);
  void fail(int err);

  uv_tcp_t* tcp_;
  int fd_ = -1;
  std::function<void(int)> on_error_;
  std::function<void()> on_progress_;
  std::deque<Frame> frames_;
  size_t queued_bytes_ = 0;
  bool in_flight_ = false;
  bool failed_ = false;
  WriteReq* pending_ = nullptr;
  Writable* writable_ = nullptr;  // created at the first EAGAIN of sendfile
  bool poll_failed_ = false;      // stage instead of polling
};

}  // namespace kfk::broker
