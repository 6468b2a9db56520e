// OffsetDelete (key 47), v0: removes committed offsets of an Empty group,
// or of topics a live consumer group does not subscribe to
// (GROUP_SUBSCRIBED_TO_TOPIC for the others); see group/group_offsets.cc.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_offset_delete(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::OffsetDeleteRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  std::vector<std::pair<std::string, int32_t>> parts;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) parts.emplace_back(t.name, p.partition_index);
  std::vector<int16_t> errors;
  proto::OffsetDeleteResponse resp;
  resp.error_code = ctx.broker.groups().delete_offsets(req.group_id, parts, &errors);
  if (resp.error_code == 0) {
    size_t i = 0;
    for (const auto& t : req.topics) {
      proto::OffsetDeleteResponse::OffsetDeleteResponseTopic rt;
      rt.name = t.name;
      for (const auto& p : t.partitions) {
        proto::OffsetDeleteResponse::OffsetDeleteResponsePartition rp;
        rp.partition_index = p.partition_index;
        rp.error_code = errors[i++];
        rt.partitions.push_back(rp);
      }
      resp.topics.push_back(std::move(rt));
    }
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
