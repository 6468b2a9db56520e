// OffsetCommit (key 8), v0-v9: commits by group members (generation and
// member checked) and by simple consumers (generation -1 on an Empty or
// unknown group); see group/group_offsets.cc. v0 (ZooKeeper-era) is a
// simple commit. Stored in __consumer_offsets before the answer.
#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_offset_commit(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::OffsetCommitRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  std::vector<OffsetCommitEntry> entries;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) {
      OffsetCommitEntry e;
      e.topic = t.name;
      e.partition = p.partition_index;
      e.offset = p.committed_offset;
      e.leader_epoch = v >= 6 ? p.committed_leader_epoch : -1;
      e.metadata = p.committed_metadata;
      entries.push_back(std::move(e));
    }
  ctx.broker.groups().commit_offsets(req.group_id, v >= 1 ? req.generation_id_or_member_epoch : -1,
                                     v >= 1 ? req.member_id : std::string(),
                                     v >= 7 ? req.group_instance_id : std::nullopt, &entries);
  proto::OffsetCommitResponse resp;
  size_t i = 0;
  for (const auto& t : req.topics) {
    proto::OffsetCommitResponse::OffsetCommitResponseTopic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions) {
      proto::OffsetCommitResponse::OffsetCommitResponsePartition rp;
      rp.partition_index = p.partition_index;
      rp.error_code = entries[i++].error;
      rt.partitions.push_back(rp);
    }
    resp.topics.push_back(std::move(rt));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
