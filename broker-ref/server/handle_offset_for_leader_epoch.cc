// OffsetForLeaderEpoch (key 23), v0-v4: the end offset of a leader epoch
// (Partition::end_offset_for_epoch). The partition's current epoch (from
// the metadata image) ends at the log end offset, also before anything was
// appended in it (Kafka assigns the epoch when the leader is elected). The
// partition layer checks current_leader_epoch (v2+) and, unless replica_id
// is -2 (debug; the default before v3), that this node leads the partition
// (Kafka's fetchOnlyFromLeader).
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

constexpr int32_t kDebuggingReplicaId = -2;

}  // namespace

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
      proto::ErrorCode lookup = proto::ErrorCode::NONE;
      Partition* part = b.replicas().local(t.topic, p.partition, p.current_leader_epoch,
                                           req.replica_id != kDebuggingReplicaId, &lookup);
      if (part == nullptr) {
        e.error_code = proto::to_int(lookup);
      } else {
        auto [epoch, offset] = part->end_offset_for_epoch(p.leader_epoch);
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
