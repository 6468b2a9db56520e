// OffsetForLeaderEpoch (key 23), v0-v4: the end offset of a leader epoch
// (Log::end_offset_for_epoch). The current epoch (0, forever) ends at the
// log end offset, also before anything was appended (Kafka assigns the
// epoch when the leader is elected).
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_offset_for_leader_epoch(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::OffsetForLeaderEpochRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  proto::OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    proto::OffsetForLeaderEpochResponse::OffsetForLeaderTopicResult tr;
    tr.topic = t.topic;
    for (const auto& p : t.partitions) {
      proto::OffsetForLeaderEpochResponse::EpochEndOffset e;
      e.partition = p.partition;
      std::shared_ptr<Log> log = b.logs().log_shared(t.topic, p.partition);
      if (!log) {
        e.error_code = proto::to_int(proto::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
      } else if (int16_t err = Broker::check_leader_epoch(p.current_leader_epoch); err != 0) {
        e.error_code = err;
      } else if (p.leader_epoch == Broker::kLeaderEpoch) {
        e.leader_epoch = Broker::kLeaderEpoch;
        e.end_offset = log->log_end_offset();
      } else {
        auto [epoch, offset] = log->end_offset_for_epoch(p.leader_epoch);
        e.leader_epoch = epoch;
        e.end_offset = offset;
      }
      tr.partitions.push_back(e);
    }
    resp.topics.push_back(std::move(tr));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
