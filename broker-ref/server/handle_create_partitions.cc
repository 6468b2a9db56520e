// CreatePartitions (key 37), v0-v3: grow only, through the controller.
// Manual assignments must be placeable by the controller (one node: every
// new partition on this broker alone).
#include <map>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_create_partitions(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::CreatePartitionsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  std::map<std::string, int> counts;
  for (const auto& t : req.topics) ++counts[t.name];
  proto::CreatePartitionsResponse resp;
  for (const auto& t : req.topics) {
    proto::CreatePartitionsResponse::CreatePartitionsTopicResult r;
    r.name = t.name;
    Status s;
    if (counts[t.name] > 1) {
      s = Status::error(ErrorCode::INVALID_REQUEST, "Duplicate topic in the request");
    } else if (t.count > Broker::kMaxPartitionsPerTopic) {
      s = Status::error(ErrorCode::INVALID_PARTITIONS,
                        "broker-ref allows at most " + std::to_string(Broker::kMaxPartitionsPerTopic) + " partitions per topic");
    } else if (t.assignments) {
      const TopicImage* info = b.metadata().topic(t.name);
      int32_t added = info ? t.count - static_cast<int32_t>(info->partitions.size()) : 0;
      if (info && static_cast<int32_t>(t.assignments->size()) != added && added > 0)
        s = Status::error(ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                          "Increasing the number of partitions by " + std::to_string(added) + " but " +
                              std::to_string(t.assignments->size()) + " assignments provided.");
      for (const auto& a : *t.assignments)
        if (s.ok() && !b.controller().can_assign(a.broker_ids))
          s = Status::error(ErrorCode::INVALID_REPLICA_ASSIGNMENT,
                            "broker-ref is a single broker: every new partition's replicas must be [" +
                                std::to_string(b.node_id()) + "]");
    }
    if (s.ok()) s = b.controller().create_partitions(t.name, t.count, req.validate_only);
    if (!s.ok()) {
      r.error_code = s.kafka_code();
      r.error_message = s.message;
    }
    resp.results.push_back(std::move(r));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
