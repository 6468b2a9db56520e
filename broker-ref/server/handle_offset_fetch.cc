// OffsetFetch (key 9), v0-v9: one group (v0-v7) or several (v8+); null
// topics (v2+) means every committed offset of the group. Partitions with
// no committed offset answer -1 and NONE, as Kafka. require_stable (v7+)
// has nothing to wait for: there are no transactional offset commits yet.
#include <map>

#include "group/group_coordinator.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using TopicList = std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>;

// Entries grouped by topic, topics in first-seen order.
template <class Topic, class Partition>
std::vector<Topic> by_topic(const std::vector<OffsetFetchEntry>& entries) {
  std::vector<Topic> out;
  std::map<std::string, size_t, std::less<>> index;
  for (const auto& e : entries) {
    auto [it, fresh] = index.emplace(e.topic, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().name = e.topic;
    }
    Partition p;
    p.partition_index = e.partition;
    p.committed_offset = e.offset;
    p.committed_leader_epoch = e.leader_epoch;
    p.metadata = e.metadata;
    p.error_code = e.error;
    out[it->second].partitions.push_back(std::move(p));
  }
  return out;
}

}  // namespace

HandlerResult handle_offset_fetch(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::OffsetFetchRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  const int16_t v = ctx.api_version;
  GroupCoordinator& gc = ctx.broker.groups();
  proto::OffsetFetchResponse resp;
  std::vector<OffsetFetchEntry> entries;
  if (v < 8) {
    TopicList topics;
    if (req.topics) {
      topics.emplace();
      for (const auto& t : *req.topics) topics->emplace_back(t.name, t.partition_indexes);
    }
    resp.error_code = gc.fetch_offsets(req.group_id, topics, &entries);
    using R = proto::OffsetFetchResponse;
    resp.topics = by_topic<R::OffsetFetchResponseTopic, R::OffsetFetchResponsePartition>(entries);
    // v0-v1 have no top-level error: it goes to every partition.
    if (v < 2 && resp.error_code != 0)
      for (auto& t : resp.topics)
        for (auto& p : t.partitions) p.error_code = resp.error_code;
  } else {
    for (const auto& g : req.groups) {
      TopicList topics;
      if (g.topics) {
        topics.emplace();
        for (const auto& t : *g.topics) topics->emplace_back(t.name, t.partition_indexes);
      }
      proto::OffsetFetchResponse::OffsetFetchResponseGroup rg;
      rg.group_id = g.group_id;
      rg.error_code = gc.fetch_offsets(g.group_id, topics, &entries);
      using R = proto::OffsetFetchResponse;
      rg.topics = by_topic<R::OffsetFetchResponseTopics, R::OffsetFetchResponsePartitions>(entries);
      resp.groups.push_back(std::move(rg));
    }
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
