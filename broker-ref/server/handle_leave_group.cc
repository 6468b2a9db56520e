// LeaveGroup (key 13), v0-v5: one member (v0-v2) or a batch of members
// by member id and/or group.instance.id (v3+, KIP-345).
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_leave_group(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::LeaveGroupRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  std::vector<LeaveIdentity> who;
  if (v < 3) who.push_back({req.member_id, std::nullopt});
  else
    for (const auto& m : req.members) who.push_back({m.member_id, m.group_instance_id});
  std::vector<int16_t> errors;
  proto::LeaveGroupResponse resp;
  resp.error_code = ctx.broker.groups().leave(req.group_id, who, &errors);
  if (v < 3) {
    if (resp.error_code == 0 && !errors.empty()) resp.error_code = errors[0];
  } else if (resp.error_code == 0) {
    for (size_t i = 0; i < who.size(); ++i) {
      proto::LeaveGroupResponse::MemberResponse mr;
      mr.member_id = who[i].member_id;
      mr.group_instance_id = who[i].group_instance_id;
      mr.error_code = errors[i];
      resp.members.push_back(std::move(mr));
    }
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
