// DeleteRecords (key 21), v0-v2: moves log start offsets (offset -1: the
// high watermark). OFFSET_OUT_OF_RANGE beyond the high watermark. Only
// the partition's leader deletes (the partition layer's errors otherwise).
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_delete_records(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DeleteRecordsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  proto::DeleteRecordsResponse resp;
  for (const auto& t : req.topics) {
    proto::DeleteRecordsResponse::DeleteRecordsTopicResult tr;
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      proto::DeleteRecordsResponse::DeleteRecordsPartitionResult pr;
      pr.partition_index = p.partition_index;
      int64_t low = -1;
      Status s = b.replicas().delete_records(t.name, p.partition_index, p.offset, &low);
      pr.error_code = s.kafka_code();
      pr.low_watermark = s.ok() ? low : -1;
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
