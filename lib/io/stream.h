// Stream: a byte stream on a libuv loop, the transport under the client's
// BrokerConnection and broker-ref's Connection/ResponseSender (and later
// broker-ref's replica fetcher). TcpStream (plain TCP) is the one
// implementation today; a TLS stream (OpenSSL memory BIOs, encrypting and
// decrypting on the loop) implements the same interface, so its users do
// not change.
//
// Reads land in memory the owner provides (StreamReader::read_buffer): the
// client's FrameReader reads a large response straight into its recycled
// frame buffer, broker-ref a request into the buffer the request keeps.
// Writes are scatter/gather over memory the caller keeps alive until its
// WriteRequest completes. File ranges (sendfile) are an optional capability
// (file_sender()): plain TCP has it, TLS cannot have it.
//
// Thread ownership: the loop thread only (every call and callback).
// Destroying a stream closes it; afterwards nothing reaches its reader, and
// writes still in flight complete with `stream_closed` set.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace kfk::io {

// Receives what a stream reads.
class StreamReader {
 public:
  // Where the next read lands (non-empty): the owner's own memory.
  virtual std::span<uint8_t> read_buffer() = 0;
  // `n` (> 0) bytes landed at the start of the last read_buffer().
  virtual void on_read(size_t n) = 0;
  // Reading ended and has stopped: UV_EOF (the peer closed) or a uv error.
  virtual void on_read_end(int status) = 0;

 protected:
  ~StreamReader() = default;
};

// One write in flight: the caller's object, which keeps the written bytes
// alive until it completes.
class WriteRequest {
 public:
  // Called exactly once, on the loop thread; may delete this. `status` is 0
  // or a uv error. `stream_closed`: the stream was closed or destroyed
  // first, so its owner may be gone: only release this request then.
  virtual void on_written(int status, bool stream_closed) = 0;

 protected:
  virtual ~WriteRequest() = default;

 private:
  friend class TcpStream;
  uv_write_t uv_req_{};  // the stream's, while the write is in flight
};

// Sends file ranges from the page cache to the socket (sendfile(2)), so
// file bytes never pass through user space.
class FileSender {
 public:
  // Sends up to `n` bytes of `fd` at `offset`. Returns the bytes sent
  // (> 0), UV_EAGAIN when the socket is full (see wait_writable), UV_EOF
  // when the file ends first, or another uv error.
  virtual int64_t send_file(int fd, int64_t offset, size_t n) = 0;
  // Calls `on_writable(status)` once, when the socket takes bytes again.
  // False when that cannot be watched: send the range through memory.
  virtual bool wait_writable(std::function<void(int status)> on_writable) = 0;

 protected:
  ~FileSender() = default;
};

class Stream {
 public:
  virtual ~Stream() = default;

  // Starts (or resumes) reading into `reader`'s buffers. 0 or a uv error.
  virtual int start_reading(StreamReader* reader) = 0;
  virtual void stop_reading() = 0;
  // Queues `bufs` behind earlier writes; `req` completes once all are
  // written. 0, or a uv error (then `req` is never called).
  virtual int write(const uv_buf_t* bufs, size_t n, WriteRequest* req) = 0;
  // Writes what the socket takes right now, queueing nothing: the bytes
  // written (0 when it would block), or a uv error. Only while no write()
  // is pending (it would overtake it).
  virtual int64_t try_write(const uv_buf_t* bufs, size_t n) = 0;
  // After the queued writes, half-closes: the peer reads EOF.
  // `on_done(status)` runs once (not after close()).
  virtual int shutdown(std::function<void(int status)> on_done) = 0;
  // Closes now: reading stops, queued writes complete with
  // `stream_closed`. `on_closed` runs once the socket is released (a later
  // loop iteration) and may destroy this stream. Idempotent.
  virtual void close(std::function<void()> on_closed = {}) = 0;
  virtual bool closing() const = 0;
  // The peer's address, "ip:port" or "[v6]:port" ("?" when unknown).
  virtual std::string peer() const = 0;
  // File ranges straight to the socket, or null (TLS: bytes must be
  // encrypted in user space; send them from memory instead).
  virtual FileSender* file_sender() { return nullptr; }
};

}  // namespace kfk::io
