// ListOffsets (key 2), v0-v10. Timestamps: -1 latest (the log end offset;
// read_committed: the last stable offset), -2 earliest (log start), -3
// the record with the max timestamp (v7+), -4 earliest local (v8+), else
// the first offset whose timestamp is >= ts (time index), or -1 when
// there is none. v0 answers old_style_offsets. The partition layer checks
// current_leader_epoch (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH) and,
// unless replica_id is -2 (debug), that this node leads the partition.
#include <algorithm>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
using proto::ListOffsetsResponse;
constexpr int32_t kDebuggingReplicaId = -2;

}  // namespace

HandlerResult handle_list_offsets(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::ListOffsetsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  const bool from_consumer = req.replica_id < 0;
  ListOffsetsResponse resp;
  for (const auto& topic : req.topics) {
    ListOffsetsResponse::ListOffsetsTopicResponse tr;
    tr.name = topic.name;
    for (const auto& p : topic.partitions) {
      ListOffsetsResponse::ListOffsetsPartitionResponse pr;
      pr.partition_index = p.partition_index;
      auto fail = [&](ErrorCode c) {
        pr.error_code = proto::to_int(c);
        pr.timestamp = -1;
        pr.offset = -1;
      };
      ErrorCode lookup = ErrorCode::NONE;
      Partition* part = b.replicas().local(topic.name, p.partition_index, p.current_leader_epoch,
                                           req.replica_id != kDebuggingReplicaId, &lookup);
      Log* log = part ? &part->log() : nullptr;
      if (part == nullptr) {
        fail(lookup);
      } else {
        TimestampOffset to;
        int64_t ts = p.timestamp;
        // Special timestamps newer than the request version are ordinary
        // (negative, so matching nothing) timestamps, as in Kafka.
        bool special_ok = ts == kLatestTimestamp || ts == kEarliestTimestamp || (ts == kMaxTimestamp && v >= 7) ||
                          (ts == kEarliestLocalTimestamp && v >= 8);
        Status s = (ts < 0 && !special_ok) ? Status::Ok() : log->offset_for_timestamp(ts, &to);
        if (!s.ok()) {
          fail(s.code);
        } else {
          if (ts == kLatestTimestamp) {
            // Consumers see up to the high watermark, or the last stable
            // offset when reading committed data.
            if (from_consumer)
              to.offset = req.isolation_level == 1 ? log->last_stable_offset() : log->high_watermark();
            to.timestamp = -1;
          } else if (from_consumer && ts >= 0 && to.offset >= log->high_watermark()) {
            to = TimestampOffset{};
          }
          if (v == 0) {
            pr.old_style_offsets.clear();
            if (to.offset >= 0 && p.max_num_offsets > 0) pr.old_style_offsets.push_back(to.offset);
          }
          pr.offset = to.offset;
          pr.timestamp = to.offset >= 0 ? to.timestamp : -1;
          pr.leader_epoch = to.offset >= 0 ? to.leader_epoch : -1;
        }
      }
      tr.partitions.push_back(std::move(pr));
    }
    resp.topics.push_back(std::move(tr));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
