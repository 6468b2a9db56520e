// FindCoordinator (key 10), v0-v6. Key type 0 (group): the leader of the
// group's __consumer_offsets partition in the metadata image (today always
// this node), creating the topic on first use as Kafka does;
// COORDINATOR_NOT_AVAILABLE while that partition has no leader. Key type 1 (transaction)
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
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

// InitProducerId answers a transactional id with the same code (its response
// has no message field).
constexpr const char* kNoTransactions =
    "broker-ref does not support transactions (it has no transaction coordinator): unset transactional.id";

// The leader of the key's partition of the coordinator's topic.
void locate(Broker& b, const std::string& topic, int32_t partition, Answer* a) {
  const MetadataImage& image = b.metadata();
  const PartitionImage* p = image.partition(topic, partition);
  const BrokerEndpoint* e = p ? image.broker(p->leader) : nullptr;
  if (e == nullptr) {
    a->error = proto::to_int(ErrorCode::COORDINATOR_NOT_AVAILABLE);
    a->message = "The coordinator is not available.";
    return;
  }
  a->node_id = e->id;
  a->host = e->host;
  a->port = e->port;
}

Answer answer_for(Broker& b, int8_t key_type, const std::string& key) {
  Answer a;
  if (key_type == 0) {
    a.error = b.groups().ensure_offsets_topic();
    if (a.error != 0) a.message = "The coordinator is not available.";
    else locate(b, kOffsetsTopic, b.groups().partition_for(key), &a);
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
    Answer a = answer_for(b, key_type, req.key);
    resp.error_code = a.error;
    resp.error_message = a.message;
    resp.node_id = a.node_id;
    resp.host = a.host;
    resp.port = a.port;
  } else {
    for (const auto& key : req.coordinator_keys) {
      Answer a = answer_for(b, key_type, key);
      proto::FindCoordinatorResponse::Coordinator c;
      c.key = key;
      c.error_code = a.error;
      c.error_message = a.message;
      c.node_id = a.node_id;
      c.host = a.host;
      c.port = a.port;
      resp.coordinators.push_back(std::move(c));
    }
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
