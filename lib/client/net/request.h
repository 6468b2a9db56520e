// The typed request helper: send a generated request struct, get the decoded
// response struct back. Loop thread only (call it from a posted function or
// a callback).
//
//   proto::MetadataRequest req;
//   req.topics = std::nullopt;  // all topics
//   send_request(pool, kAnyNode, std::move(req),
//                [](const Error& err, proto::MetadataResponse& resp) {
//                  if (!err.ok()) return;  // transport, timeout, version...
//                  ...
//                });
//
// The callback may instead take `Reply<Resp>&`, which adds the version used,
// the node that answered and the frame buffer that `Records` views in the
// response point into (keep `reply.frame` alive to keep them valid).
//
// Errors handed to the callback: errc::kTransport / kResolve (retriable),
// errc::kTimedOut (retriable), errc::kNoCommonApiVersion when the broker
// and kfk share no version of the API (the message names the API and both
// ranges), errc::kMalformedResponse (the connection is then closed),
// errc::kDestroyed at shutdown. Broker error codes inside the response body
// are the caller's to read.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>

#include "client/net/client_api_versions.h"
#include "client/net/connection_pool.h"
#include "protocol/api_list.h"
#include "protocol/messages.h"

namespace kfk::net {

// ResponseOf<proto::FooRequest>::type is proto::FooResponse.
template <class Req>
struct ResponseOf;
#define KFK_NET_RESPONSE_OF_(Name, key, lo, hi, flex) \
  template <>                                          \
  struct ResponseOf<proto::Name##Request> {            \
    using type = proto::Name##Response;                \
  };
KFK_PROTOCOL_APIS(KFK_NET_RESPONSE_OF_)
#undef KFK_NET_RESPONSE_OF_

template <class Req>
using ResponseOfT = typename ResponseOf<Req>::type;

template <class Resp>
struct Reply {
  Resp msg;
  int16_t version = -1;
  int32_t node_id = -1;
  FramePtr frame;  // owns the bytes Records views point into
};

struct RequestOptions {
  // Overrides request.timeout.ms for this request (e.g. a fetch adds
  // fetch.max.wait.ms, a JoinGroup the rebalance timeout). -1: default.
  int64_t timeout_ms = -1;
  // Narrow the versions tried (-1: the client's bound, client_api_versions.h).
  int16_t min_version = -1;
  int16_t max_version = -1;
};

namespace detail {
// Produce with acks=0 gets no response.
template <class Req>
bool expects_no_response(const Req& req) {
  if constexpr (std::is_same_v<Req, proto::ProduceRequest>)
    return req.acks == 0;
  else
    return false;
}
}  // namespace detail

// Sends `req` to `node_id` (a broker id, a bootstrap id or kAnyNode). `cb`
// is called exactly once on the loop thread, with Resp& or Reply<Resp>&.
template <class Req, class Callback>
void send_request(ConnectionPool& pool, int32_t node_id, Req req, Callback cb, RequestOptions opts = {}) {
  using Resp = ResponseOfT<Req>;
  constexpr bool kWantsReply = std::is_invocable_v<Callback&, const Error&, Reply<Resp>&>;
  static_assert(kWantsReply || std::is_invocable_v<Callback&, const Error&, Resp&>,
                "callback must take (const kfk::Error&, Resp&) or (const kfk::Error&, Reply<Resp>&)");
  OutboundRequest out;
  out.api_key = Req::kApiKey;
  constexpr int16_t kMin = ClientVersions<Req>::kMin, kMax = ClientVersions<Req>::kMax;
  out.min_version = opts.min_version >= 0 ? std::max(opts.min_version, kMin) : kMin;
  out.max_version = opts.max_version >= 0 ? std::min(opts.max_version, kMax) : kMax;
  out.no_response = detail::expects_no_response(req);
  out.deadline = after_ms(opts.timeout_ms >= 0 ? opts.timeout_ms : pool.options().request_timeout_ms);
  auto shared = std::make_shared<Req>(std::move(req));
  out.encode = [shared](proto::Writer& w, int16_t v) { shared->encode(w, v); };
  out.on_complete = [cb = std::move(cb)](const Error& err, const ResponseFrame& f) mutable -> Error {
    Reply<Resp> reply;
    reply.version = f.version;
    reply.node_id = f.node_id;
    Error result = err;
    if (err.ok() && f.frame) {
      proto::Reader r = f.body();
      r.accept_null_as_empty();
      reply.msg.decode(r, f.version);
      if (!r.ok()) {
        result = Error::from_code(errc::kMalformedResponse, std::string(Resp::kName) + " v" +
                                                                std::to_string(f.version) + " from broker " +
                                                                std::to_string(f.node_id) + ": " + r.error());
        reply.msg = Resp();
      } else {
        reply.frame = f.frame;
      }
    }
    if constexpr (kWantsReply)
      cb(result, reply);
    else
      cb(result, reply.msg);
    return result;
  };
  pool.submit(node_id, std::move(out));
}

}  // namespace kfk::net
