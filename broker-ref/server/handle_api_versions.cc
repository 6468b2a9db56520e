// ApiVersions (key 18), v0-v4. Answers from the handler table for the
// emulated Kafka generation, so the advertised ranges are exactly the
// implemented ones. v3+ clients send
// their software name/version; invalid ones get INVALID_REQUEST, as Kafka.
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

// Kafka's pattern: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
bool valid_software_field(const std::string& s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '.') return false;
  return true;
}

proto::ApiVersionsResponse table_response(KafkaGeneration g) {
  proto::ApiVersionsResponse resp;
  for (const auto& h : handler_table()) {
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = h.api_key;
    v.min_version = h.min_version_for(g);
    v.max_version = h.max_version;
    resp.api_keys.push_back(v);
  }
  resp.finalized_features_epoch = -1;
  return resp;
}

}  // namespace

void encode_unsupported_api_versions(KafkaGeneration g, proto::Writer& response) {
  proto::ApiVersionsResponse resp = table_response(g);
  resp.error_code = proto::to_int(proto::ErrorCode::UNSUPPORTED_VERSION);
  resp.encode(response, 0);
}

HandlerResult handle_api_versions(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::ApiVersionsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  proto::ApiVersionsResponse resp = table_response(ctx.broker.emulated_kafka());
  if (ctx.api_version >= 3 &&
      (!valid_software_field(req.client_software_name) || !valid_software_field(req.client_software_version))) {
    resp.error_code = proto::to_int(proto::ErrorCode::INVALID_REQUEST);
    resp.api_keys.clear();  // Kafka's error response carries no table
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
