// IncrementalAlterConfigs (key 44), v0-v1: SET (0), DELETE (1), APPEND (2)
// and SUBTRACT (3, list-type keys) on topics and the broker. Applied at
// run time.
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/config_resources.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_incremental_alter_configs(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::IncrementalAlterConfigsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  proto::IncrementalAlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    proto::IncrementalAlterConfigsResponse::AlterConfigsResourceResponse r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    std::vector<ConfigOp> ops;
    for (const auto& c : res.configs) ops.push_back({c.name, c.config_operation, c.value});
    Status s = incremental_alter(ctx.broker, res.resource_type, res.resource_name, ops, req.validate_only);
    r.error_code = s.kafka_code();
    r.error_message = s.ok() ? std::nullopt : std::optional<std::string>(s.message);
    resp.responses.push_back(std::move(r));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
