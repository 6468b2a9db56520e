// SyncGroup (key 14), v0-v5: see group/group_membership.cc. Followers
// wait (deferred) for the leader's assignment.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/group_request_util.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

void encode_sync(const SyncResult& r, proto::Writer& w, int16_t v) {
  proto::SyncGroupResponse resp;
  resp.error_code = r.error;
  resp.protocol_type = r.protocol_type;
  resp.protocol_name = r.protocol_name;
  resp.assignment = r.assignment;
  resp.encode(w, v);
}

}  // namespace

HandlerResult handle_sync_group(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::SyncGroupRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  SyncParams p;
  p.group_id = req.group_id;
  p.generation_id = req.generation_id;
  p.member_id = req.member_id;
  p.group_instance_id = v >= 3 ? req.group_instance_id : std::nullopt;
  if (v >= 5) {
    p.protocol_type = req.protocol_type;
    p.protocol_name = req.protocol_name;
  }
  for (auto& a : req.assignments) p.assignments.emplace(std::move(a.member_id), std::move(a.assignment));
  SyncResult r;
  auto park = [&ctx]() -> SyncCallback { return deferred_answer<SyncResult>(ctx, encode_sync); };
  if (!ctx.broker.groups().sync(p, &r, park)) return HandlerResult::kDeferred;
  encode_sync(r, response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
