// Heartbeat (key 12), v0-v4: see group/group_membership.cc.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_heartbeat(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::HeartbeatRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  proto::HeartbeatResponse resp;
  resp.error_code = ctx.broker.groups().heartbeat(req.group_id, req.member_id,
                                                  v >= 3 ? req.group_instance_id : std::nullopt, req.generation_id);
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
