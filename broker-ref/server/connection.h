// One client connection: reads size-prefixed frames, queues them, and
// handles one request at a time in arrival order, as Kafka does (it mutes
// a channel while a request is in flight). Pipelined requests wait in the
// queue, so responses leave in request order; a deferred response
// (long-poll Fetch) holds back only this connection's later requests.
//
// Bad input (size prefix <= 0 or > socket.request.max.bytes (io/framing.h), an unknown
// API key or unsupported version, a malformed header or body) is logged
// and closes this connection only. ApiVersions with a version newer than
// ours is answered (v0, UNSUPPORTED_VERSION, full table), as Kafka does.
//
// Idle connections (connections.max.idle.ms) are closed by the Server.
//
// Backpressure: reading pauses while too many requests are queued;
// processing pauses while too much output is queued.
//
// The socket is an io::Stream (plain TCP today): reads land in this
// connection's own request buffer, responses go out through ResponseSender.
//
// Thread ownership: the loop thread only. Owned by the Server (shared_ptr);
// destroyed in the stream's close callback. Deferred responses hold a
// weak_ptr and become no-ops once the connection is gone.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/stream.h"
#include "io/framing.h"
#include "server/request_context.h"
#include "server/response_sender.h"

namespace kfk::broker {

class Broker;

class Connection final : public std::enable_shared_from_this<Connection>, private io::StreamReader {
 public:
  Connection(Broker& broker, uint64_t id, std::unique_ptr<io::Stream> stream, size_t max_request_bytes,
             std::function<void(uint64_t)> on_closed);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts reading.
  void start();
  // Closes the socket (logging `why` when not empty). Idempotent.
  void close(const std::string& why);
  // Shutdown: stop reading, answer what is queued, then close.
  void drain();
  bool closing() const { return closing_; }
  const std::string& peer() const { return peer_; }
  // connections.max.idle.ms: true when nothing was read or written since
  // `idle_since` (uv_now ms) and nothing is pending: no deferred response
  // (a waiting JoinGroup or Fetch is not idleness), no queued request or
  // output.
  bool idle_since(uint64_t idle_since) const;

 private:
  friend class ConnectionDeferred;
  // One request (without its size prefix) inside a read buffer the frame
  // owns: a large request keeps the buffer it was read into (no copy).
  struct FrameBuf {
    std::unique_ptr<uint8_t[]> buf;
    size_t off = 0;
    size_t len = 0;
    uint8_t* data() { return buf.get() + off; }
    size_t size() const { return len; }
  };
  using Frame = std::shared_ptr<FrameBuf>;

  std::span<uint8_t> read_buffer() override;
  void on_read(size_t n) override;
  void on_read_end(int status) override;
  bool parse_frames();
  size_t large_capacity() const;
  void process();
  void dispatch(const Frame& frame);
  void update_reading();
  void maybe_finish_drain();
  void finish_deferred(proto::Writer&& w, size_t size_at);
  static std::shared_ptr<DeferredResponse> defer_thunk(void* conn, const RequestContext& ctx);

  Broker& broker_;
  uint64_t id_;
  io::FrameLimits limits_;  // socket.request.max.bytes
  std::function<void(uint64_t)> on_closed_;
  std::unique_ptr<io::Stream> stream_;
  std::string peer_ = "?";
  std::string client_id_;  // from the latest request header, for log lines
  ResponseSender sender_;

  // Bytes read, not yet framed. Uninitialised storage: every read lands
  // in it, and zero-filling a multi-MB request buffer would cost a pass.
  std::unique_ptr<uint8_t[]> in_;
  size_t in_cap_ = 0;
  size_t in_len_ = 0;
  size_t last_large_ = 0;  // size (with prefix) of the last request of kAdoptMin bytes or more
  std::deque<Frame> requests_;
  size_t requests_bytes_ = 0;

  uint64_t last_active_ = 0;  // uv_now() of the last read or write progress
  bool reading_ = false;
  bool busy_ = false;  // a deferred response is outstanding
  bool processing_ = false;
  bool draining_ = false;
  bool closing_ = false;
};

}  // namespace kfk::broker
