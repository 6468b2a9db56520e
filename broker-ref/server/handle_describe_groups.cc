// DescribeGroups (key 15), v0-v5. Unknown groups answer NONE with state
// "Dead", as Kafka. Member metadata and assignments only for Stable groups.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

// READ, DELETE, DESCRIBE: what a group's ACLs can grant (no authorizer: all).
constexpr int32_t kGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

HandlerResult handle_describe_groups(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DescribeGroupsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  proto::DescribeGroupsResponse resp;
  for (const auto& id : req.groups) {
    GroupSummary s = ctx.broker.groups().describe(id);
    proto::DescribeGroupsResponse::DescribedGroup g;
    g.error_code = s.error;
    g.group_id = s.group_id;
    g.group_state = s.state;
    g.protocol_type = s.protocol_type;
    g.protocol_data = s.protocol_data;
    for (auto& m : s.members) {
      proto::DescribeGroupsResponse::DescribedGroupMember dm;
      dm.member_id = m.member_id;
      dm.group_instance_id = m.group_instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      dm.member_metadata = std::move(m.metadata);
      dm.member_assignment = std::move(m.assignment);
      g.members.push_back(std::move(dm));
    }
    if (v >= 3 && req.include_authorized_operations) g.authorized_operations = kGroupOperations;
    resp.groups.push_back(std::move(g));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
