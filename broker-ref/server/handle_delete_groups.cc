// DeleteGroups (key 42), v0-v2: Empty groups only (NON_EMPTY_GROUP
// otherwise, GROUP_ID_NOT_FOUND for unknown ones). Tombstones for the
// group's offsets and metadata go to __consumer_offsets.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_delete_groups(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DeleteGroupsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  proto::DeleteGroupsResponse resp;
  for (const auto& id : req.groups_names) {
    proto::DeleteGroupsResponse::DeletableGroupResult r;
    r.group_id = id;
    r.error_code = ctx.broker.groups().delete_group(id);
    resp.results.push_back(std::move(r));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
