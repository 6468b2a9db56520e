// Small helpers shared by the group API handlers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "server/request_context.h"

namespace kfk::broker {

// The request's client.id ("" when null).
inline std::string request_client_id(const RequestContext& ctx) {
  return ctx.client_id && *ctx.client_id ? **ctx.client_id : std::string();
}

// Kafka's client host: InetAddress.toString() of the peer, "/127.0.0.1".
inline std::string request_client_host(const RequestContext& ctx) {
  if (ctx.peer == nullptr) return "";
  std::string p = *ctx.peer;
  auto colon = p.rfind(':');
  if (colon != std::string::npos) p.resize(colon);
  if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
  return "/" + p;
}

// For a request the coordinator holds (JoinGroup, SyncGroup): defers the
// response and returns the callback that, once, encodes the coordinator's
// `Result` into it with `encode(result, writer, version)` and sends it.
template <class Result, class Encode>
std::function<void(const Result&)> deferred_answer(RequestContext& ctx, Encode encode) {
  std::shared_ptr<DeferredResponse> d = ctx.defer();
  const int16_t v = ctx.api_version;
  // Runs on the loop thread, once.
  return [d, v, encode](const Result& res) {
    if (d->connection_open()) encode(res, d->body(), v);
    d->complete();
  };
}

}  // namespace kfk::broker
