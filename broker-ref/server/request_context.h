// What a request handler gets and returns.
//
//   HandlerResult handle_x(RequestContext& ctx, proto::Reader& body, proto::Writer& response);
//
// `body` reads the request body (the header already consumed); `response`
// already holds the size placeholder and the response header: the handler
// appends the body (usually Response::encode(response, ctx.api_version)).
// Trailing bytes after the body are ignored, as Kafka does.
//
// Thread ownership: handlers run on the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "protocol/reader.h"
#include "protocol/writer.h"

namespace kfk::broker {

class Broker;

enum class HandlerResult {
  kRespond,     // send `response`
  kNoResponse,  // nothing to send (Produce with acks=0)
  kDeferred,    // ctx.defer() was called; the response goes out later
  kMalformed,   // undecodable body: log and close the connection
  kClose,       // close without a response (acks=0 produce that failed, as Kafka)
};

// A response completed later (long-poll Fetch). The connection processes no
// further request until complete() is called, so responses stay in order.
class DeferredResponse {
 public:
  virtual ~DeferredResponse() = default;
  // Where the body goes; the header is already in it.
  virtual proto::Writer& body() = 0;
  // Runs on the loop thread: sends the response and resumes the connection.
  // A no-op when the connection has closed meanwhile.
  virtual void complete() = 0;
  virtual bool connection_open() const = 0;
};

struct RequestContext {
  Broker& broker;
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  const std::optional<std::string>* client_id = nullptr;
  const std::string* peer = nullptr;  // "127.0.0.1:54321"
  // The request frame (after the size prefix), writable: Produce assigns
  // offsets in place before appending. `frame_owner` keeps it alive.
  std::span<uint8_t> frame;
  std::shared_ptr<const void> frame_owner;
  // Set by the connection: turns this request into a deferred one.
  std::shared_ptr<DeferredResponse> (*defer_fn)(void* conn, const RequestContext& ctx) = nullptr;
  void* conn = nullptr;
  // Why a handler returned kMalformed / kClose (for the log line).
  std::string close_reason;

  std::shared_ptr<DeferredResponse> defer() const { return defer_fn(conn, *this); }
};

// Decodes a request body; false (and ctx.close_reason) when malformed.
template <class Request>
bool decode_request(RequestContext& ctx, proto::Reader& body, Request& req) {
  req.decode(body, ctx.api_version);
  if (body.ok()) return true;
  ctx.close_reason = std::string("malformed ") + Request::kName + " v" + std::to_string(ctx.api_version) + ": " +
                     (body.error() ? body.error() : "?");
  return false;
}

}  // namespace kfk::broker
