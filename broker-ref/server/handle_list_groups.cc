// ListGroups (key 16), v0-v5: every group, filtered by state (v4+, case
// insensitive as Kafka) and type (v5+; every group here is "classic").
#include <algorithm>
#include <cctype>

#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_list_groups(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::ListGroupsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  proto::ListGroupsResponse resp;
  std::vector<ListedGroup> groups;
  resp.error_code = ctx.broker.groups().list(v >= 4 ? req.states_filter : std::vector<std::string>{}, &groups);
  bool classic_wanted = true;
  if (v >= 5 && !req.types_filter.empty()) {
    classic_wanted = std::any_of(req.types_filter.begin(), req.types_filter.end(), [](std::string t) {
      for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return t == "classic";
    });
  }
  if (classic_wanted)
    for (auto& g : groups) {
      proto::ListGroupsResponse::ListedGroup lg;
      lg.group_id = std::move(g.group_id);
      lg.protocol_type = std::move(g.protocol_type);
      lg.group_state = std::move(g.state);
      lg.group_type = "classic";
      resp.groups.push_back(std::move(lg));
    }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
