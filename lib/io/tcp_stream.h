// TcpStream: io::Stream over a plain TCP socket (uv_tcp_t), with sendfile
// for file ranges. Client side it connects; server side it adopts an
// accepted socket.
//
// The uv handle lives on the heap and is freed by its close callback; the
// TcpStream object may go at any time (also inside its own callbacks), and
// late callbacks then find no owner.
//
// Thread ownership: the loop thread only.
#pragma once

#include <sys/socket.h>

#include <memory>

#include "io/stream.h"

namespace kfk::io {

class TcpStream final : public Stream, public FileSender {
 public:
  struct Options {
    int send_buffer_bytes = 0;     // SO_SNDBUF; 0: the system's
    int receive_buffer_bytes = 0;  // SO_RCVBUF; 0: the system's
    bool nodelay = true;           // TCP_NODELAY
  };

  // Starts connecting to `addr` (socket options set first, so the receive
  // window is negotiated with them). `on_connected(status)` runs once
  // unless the stream is gone first (0: connected). Null, with *error set,
  // when the socket cannot be made or the connect cannot start.
  static std::unique_ptr<TcpStream> connect(uv_loop_t* loop, const sockaddr* addr, const Options& opts,
                                            std::function<void(int status)> on_connected, int* error);
  // Takes the connection waiting on `listener` (in its connection
  // callback). Null, with *error set, when there is none or it fails.
  static std::unique_ptr<TcpStream> accept(uv_stream_t* listener, const Options& opts, int* error);

  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  int start_reading(StreamReader* reader) override;
  void stop_reading() override;
  int write(const uv_buf_t* bufs, size_t n, WriteRequest* req) override;
  int64_t try_write(const uv_buf_t* bufs, size_t n) override;
  int shutdown(std::function<void(int status)> on_done) override;
  void close(std::function<void()> on_closed = {}) override;
  bool closing() const override { return closing_; }
  std::string peer() const override;
  FileSender* file_sender() override { return this; }

  int64_t send_file(int fd, int64_t offset, size_t n) override;
  bool wait_writable(std::function<void(int status)> on_writable) override;

 private:
  struct Handle;
  struct Writable;
  explicit TcpStream(Handle* h);
  static std::unique_ptr<TcpStream> init(uv_loop_t* loop, int family, int* error);
  void apply(const Options& opts);
  void release_writable();
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_poll(uv_poll_t* p, int status, int events);

  Handle* handle_;  // null once its close callback ran
  StreamReader* reader_ = nullptr;
  bool closing_ = false;
  int fd_ = -1;                   // the socket's fd, for sendfile
  Writable* writable_ = nullptr;  // created at the first wait_writable
  bool poll_failed_ = false;
  std::function<void(int)> on_writable_;
};

}  // namespace kfk::io
