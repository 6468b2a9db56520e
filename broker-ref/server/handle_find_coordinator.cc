// FindCoordinator (key 10), v0-v6. broker-ref is the coordinator of every
// group: key type 0 (group) answers this broker, creating
// __consumer_offsets on first use as Kafka does. Key type 1 (transaction)
// gets COORDINATOR_NOT_AVAILABLE: there is no transaction coordinator yet.
// Other key types: INVALID_REQUEST. v4+ batches keys (coordinator_keys).
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;

struct Answer {
  int16_t error = 0;
  std::optional<std::string> message;  // null on success, as Kafka
};

// InitProducerId answers a transactional id with the same code (its response
// has no message field).
constexpr const char* kNoTransactions =
    "broker-ref does not support transactions (it has no transaction coordinator): unset transactional.id";

Answer answer_for(Broker& b, int8_t key_type) {
  Answer a;
  if (key_type == 0) {
    a.error = b.groups().ensure_offsets_topic();
    if (a.error != 0) a.message = "The coordinator is not available.";
  } else if (key_type == 1) {
    a.error = proto::to_int(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    a.message = std::string(kNoTransactions);
  } else {
    a.error = proto::to_int(ErrorCode::INVALID_REQUEST);
    a.message = "Unknown coordinator key type " + std::to_string(key_type);
  }
  return a;
}

}  // namespace

HandlerResult handle_find_coordinator(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::FindCoordinatorRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  const int8_t key_type = v >= 1 ? req.key_type : 0;
  proto::FindCoordinatorResponse resp;
  if (v < 4) {
    Answer a = answer_for(b, key_type);
    resp.error_code = a.error;
    resp.error_message = a.message;
    resp.node_id = a.error == 0 ? b.node_id() : -1;
    resp.host = a.error == 0 ? b.advertised().host : "";
    resp.port = a.error == 0 ? b.advertised().port : -1;
  } else {
    for (const auto& key : req.coordinator_keys) {
      Answer a = answer_for(b, key_type);
      proto::FindCoordinatorResponse::Coordinator c;
      c.key = key;
      c.error_code = a.error;
      c.error_message = a.message;
      c.node_id = a.error == 0 ? b.node_id() : -1;
      c.host = a.error == 0 ? b.advertised().host : "";
      c.port = a.error == 0 ? b.advertised().port : -1;
      resp.coordinators.push_back(std::move(c));
    }
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
