// DescribeCluster (key 60), v0-v1: the brokers, the cluster id and the
// controller of the metadata image (the same image Metadata answers from). endpoint_type 2 (controllers) is for KRaft
// controllers, which broker-ref is not: UNSUPPORTED_ENDPOINT_TYPE, as a
// Kafka broker answers.
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_describe_cluster(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DescribeClusterRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  proto::DescribeClusterResponse resp;
  resp.endpoint_type = req.endpoint_type;
  if (ctx.api_version >= 1 && req.endpoint_type != 1) {
    resp.error_code = proto::to_int(proto::ErrorCode::UNSUPPORTED_ENDPOINT_TYPE);
    resp.error_message = "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type " +
                         std::string(req.endpoint_type == 2 ? "CONTROLLER" : "UNKNOWN");
  } else {
    std::shared_ptr<const MetadataImage> image = b.metadata_snapshot();
    resp.cluster_id = image->cluster_id();
    resp.controller_id = image->controller_id();
    for (const BrokerEndpoint& e : image->brokers()) {
      proto::DescribeClusterResponse::DescribeClusterBroker db;
      db.broker_id = e.id;
      db.host = e.host;
      db.port = e.port;
      db.rack = e.rack;
      resp.brokers.push_back(std::move(db));
    }
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
    if (req.include_cluster_authorized_operations)
      resp.cluster_authorized_operations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
