// AlterConfigs (key 33), v0-v2: the resource's overrides become exactly
// the given set (topics: topic overrides; broker: the dynamic storage
// keys). Applied at run time.
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/config_resources.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_alter_configs(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::AlterConfigsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  proto::AlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    proto::AlterConfigsResponse::AlterConfigsResourceResponse r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    std::vector<std::pair<std::string, std::optional<std::string>>> configs;
    for (const auto& c : res.configs) configs.emplace_back(c.name, c.value);
    Status s = replace_configs(ctx.broker, res.resource_type, res.resource_name, configs, req.validate_only);
    r.error_code = s.kafka_code();
    r.error_message = s.ok() ? std::nullopt : std::optional<std::string>(s.message);
    resp.responses.push_back(std::move(r));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
