// JoinGroup (key 11), v0-v9: see group/group_membership.cc for the
// semantics. The answer usually comes when the rebalance completes: the
// request is then deferred (the connection holds its later requests, so
// responses stay in order, as Kafka's muted channel does).
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/group_request_util.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

void encode_join(const JoinResult& r, proto::Writer& w, int16_t v) {
  proto::JoinGroupResponse resp;
  resp.error_code = r.error;
  resp.generation_id = r.generation_id;
  resp.protocol_type = r.protocol_type;
  // Not nullable before v7.
  resp.protocol_name = v >= 7 ? r.protocol_name : std::optional<std::string>(r.protocol_name.value_or(""));
  resp.leader = r.leader;
  resp.skip_assignment = r.skip_assignment;
  resp.member_id = r.member_id;
  for (const auto& m : r.members) {
    proto::JoinGroupResponse::JoinGroupResponseMember rm;
    rm.member_id = m.member_id;
    rm.group_instance_id = m.group_instance_id;
    rm.metadata = m.metadata;
    resp.members.push_back(std::move(rm));
  }
  resp.encode(w, v);
}

}  // namespace

HandlerResult handle_join_group(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::JoinGroupRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  JoinParams p;
  p.group_id = req.group_id;
  p.session_timeout_ms = req.session_timeout_ms;
  // v0 has no rebalance timeout: Kafka uses the session timeout.
  p.rebalance_timeout_ms = v >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  p.member_id = req.member_id;
  p.group_instance_id = v >= 5 ? req.group_instance_id : std::nullopt;
  p.protocol_type = req.protocol_type;
  for (auto& pr : req.protocols) p.protocols.emplace_back(std::move(pr.name), std::move(pr.metadata));
  p.client_id = request_client_id(ctx);
  p.client_host = request_client_host(ctx);
  p.require_known_member_id = v >= 4;
  JoinResult r;
  auto park = [&ctx]() -> JoinCallback { return deferred_answer<JoinResult>(ctx, encode_join); };
  if (!ctx.broker.groups().join(p, &r, park)) return HandlerResult::kDeferred;
  encode_join(r, response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
