// The unit of work the connection layer moves: one request out, at most one
// response back. Built by the typed helper in request.h (most callers never
// touch these directly). Loop thread only.
#pragma once

#include <cstdint>
#include <functional>

#include "client/net/clock.h"
#include "client/net/frame_reader.h"
#include "kfk/error.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace kfk::net {

// Where a response came from and its bytes (header already parsed).
struct ResponseFrame {
  int32_t node_id = -1;
  int16_t api_key = -1;
  int16_t version = -1;
  FramePtr frame;  // null when no response was expected, or on error
  size_t body_offset = 0;

  proto::Reader body() const {
    if (!frame) return proto::Reader();
    return proto::Reader(frame->bytes.get() + body_offset, frame->size - body_offset);
  }
};

struct OutboundRequest {
  int16_t api_key = -1;
  // Versions the caller can encode and decode (within the codec's range).
  int16_t min_version = 0;
  int16_t max_version = 0;
  // Writes the request body (not the header) in `version`.
  std::function<void(proto::Writer&, int16_t version)> encode;
  // True for requests the broker never answers (Produce with acks=0): they
  // complete, with an empty frame, once written to the socket.
  bool no_response = false;
  // The request fails with errc::kTimedOut if no response arrived by then.
  // If it was already sent, the connection is closed (other requests on it
  // fail with errc::kTransport), as the Java client does.
  TimePoint deadline = kNever;
  // Called exactly once, on the loop thread: with an error (nothing to
  // read), or with success and the response. Returns the decoding result:
  // errc::kMalformedResponse makes the connection close (a call without a
  // response frame has nothing to decode: it ignores the result, `(void)`).
  std::function<Error(const Error&, const ResponseFrame&)> on_complete;
};

}  // namespace kfk::net
