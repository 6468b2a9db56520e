// Small helpers shared by the group API handlers.
#pragma once

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

}  // namespace kfk::broker
