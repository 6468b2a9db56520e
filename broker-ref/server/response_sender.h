// Writes response frames to one connection's stream, strictly in order,
// with scatter/gather: runs of memory chunks go out in one try_write
// (a queued write for what the socket did not take), log file ranges
// (FileRecords, zero-copy Fetch) with sendfile where the stream can
// (io::FileSender: plain TCP).
//
// When sendfile hits EAGAIN (socket buffer full), the stream's
// wait_writable resumes it once the socket drains: file bytes are never
// copied through user space. Where the stream has no sendfile (TLS), or
// writability cannot be watched, each piece of the range (up to 256 KiB)
// is read into a staging buffer and written from memory: a first-class
// path, not an error path. Each frame's Writer, and with it every owner of
// spliced bytes (segment file handles), lives until the frame is fully
// written.
//
// Thread ownership: the loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "io/stream.h"
#include "protocol/writer.h"

namespace kfk::broker {

class FileRecords;

class ResponseSender {
 public:
  // on_error(uv error code or -errno): the connection must close.
  // on_progress(): some output was written (backpressure can ease).
  // `stream` outlives this sender.
  ResponseSender(io::Stream* stream, std::function<void(int)> on_error, std::function<void()> on_progress);
  ResponseSender(const ResponseSender&) = delete;
  ResponseSender& operator=(const ResponseSender&) = delete;

  void send(proto::Writer&& frame);
  // Bytes queued and not yet written.
  size_t queued_bytes() const { return queued_bytes_; }
  bool idle() const { return frames_.empty() && !in_flight_; }
  // The connection is closing: drop everything, ignore callbacks.
  void abandon() { failed_ = true; }

 private:
  struct Chunk {
    const uint8_t* data = nullptr;      // memory chunk, or
    const FileRecords* file = nullptr;  // a log file range
    size_t size = 0;
  };
  struct Frame {
    proto::Writer writer;
    std::vector<Chunk> chunks;
    size_t index = 0;  // current chunk
    size_t done = 0;   // bytes of the current chunk already written
  };
  struct WriteReq;

  void pump();
  void advance(size_t n);
  bool write_memory();  // false: stop pumping (in flight or error)
  bool write_file();
  bool stage_file(const Chunk& c, size_t done);
  void on_writable(int status);
  void submit(std::vector<uv_buf_t>& bufs, size_t bytes, std::vector<uint8_t> staging);
  void on_written(size_t bytes, int status);
  void fail(int err);

  io::Stream* stream_;
  std::function<void(int)> on_error_;
  std::function<void()> on_progress_;
  std::deque<Frame> frames_;
  size_t queued_bytes_ = 0;
  bool in_flight_ = false;
  bool failed_ = false;
};

}  // namespace kfk::broker
