// CreateTopics (key 19), v0-v7, through the controller. The replication
// factor (-1: the default) is bounded by the registered brokers of the
// metadata image; manual assignments must be placeable by the controller
// (one node: every partition exactly [self]). num_partitions -1:
// num.partitions. Configs are validated by storage.
// validate_only checks without creating. v5+ answers the partition count,
// replication factor and the resulting configs.
#include <map>
#include <set>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/config_resources.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::CreateTopicsResponse;
using proto::ErrorCode;

Status plan_topic(Broker& b, const proto::CreateTopicsRequest::CreatableTopic& t, int32_t* partitions,
                  int16_t* replication_factor, ConfigMap* overrides) {
  if (!t.assignments.empty()) {
    if (t.num_partitions != -1 || t.replication_factor != -1)
      return Status::error(ErrorCode::INVALID_REQUEST,
                           "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be "
                           "used at the same time.");
    std::set<int32_t> seen;
    for (const auto& a : t.assignments) {
      if (!b.controller().can_assign(a.broker_ids))
        return Status::error(ErrorCode::INVALID_REQUEST, "broker-ref is a single broker (node " +
                                                             std::to_string(b.node_id()) +
                                                             "): every partition's replicas must be exactly [" +
                                                             std::to_string(b.node_id()) + "]");
      seen.insert(a.partition_index);
    }
    if (static_cast<size_t>(*seen.rbegin() + 1) != seen.size() || *seen.begin() != 0)
      return Status::error(ErrorCode::INVALID_REPLICA_ASSIGNMENT, "Partitions must be numbered consecutively from 0");
    *partitions = static_cast<int32_t>(seen.size());
    *replication_factor = static_cast<int16_t>(t.assignments.front().broker_ids.size());
  } else {
    *partitions = t.num_partitions == -1 ? b.num_partitions() : t.num_partitions;
    if (*partitions <= 0)
      return Status::error(ErrorCode::INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value.");
    if (t.replication_factor == 0 || t.replication_factor < -1)
      return Status::error(ErrorCode::INVALID_REPLICATION_FACTOR,
                           "Replication factor must be larger than 0, or -1 to use the default value.");
    *replication_factor = t.replication_factor != -1
                              ? t.replication_factor
                              : static_cast<int16_t>(b.config().get_long("default.replication.factor"));
    const int32_t brokers = b.controller().registered_brokers();
    if (*replication_factor > brokers)
      return Status::error(ErrorCode::INVALID_REPLICATION_FACTOR,
                           "Unable to replicate the partition " + std::to_string(t.replication_factor) +
                               " time(s): The target replication factor of " + std::to_string(t.replication_factor) +
                               " cannot be reached because only " + std::to_string(brokers) +
                               " broker(s) are registered.");
  }
  if (*partitions > Broker::kMaxPartitionsPerTopic)
    return Status::error(ErrorCode::INVALID_PARTITIONS, "broker-ref allows at most " +
                                                            std::to_string(Broker::kMaxPartitionsPerTopic) +
                                                            " partitions per topic");
  for (const auto& c : t.configs) {
    if (!c.value) return Status::error(ErrorCode::INVALID_CONFIG, "Null value not supported for topic configs: " + c.name);
    (*overrides)[c.name] = *c.value;
  }
  return Status::Ok();
}

}  // namespace

HandlerResult handle_create_topics(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::CreateTopicsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  std::map<std::string, int> counts;
  for (const auto& t : req.topics) ++counts[t.name];

  CreateTopicsResponse resp;
  for (const auto& t : req.topics) {
    CreateTopicsResponse::CreatableTopicResult r;
    r.name = t.name;
    r.error_message = std::nullopt;
    int32_t partitions = 0;
    int16_t replication_factor = 1;
    ConfigMap overrides;
    Status s;
    if (counts[t.name] > 1)
      s = Status::error(ErrorCode::INVALID_REQUEST, "Create topics request contains multiple entries for the topic " + t.name);
    else s = plan_topic(b, t, &partitions, &replication_factor, &overrides);
    TopicInfo info;
    if (s.ok()) s = b.controller().create_topic(t.name, partitions, overrides, req.validate_only, &info);
    if (!s.ok()) {
      r.error_code = s.kafka_code();
      r.error_message = s.message;
      r.configs = std::nullopt;
    } else {
      if (!req.validate_only) r.topic_id = info.id;
      r.num_partitions = partitions;
      r.replication_factor = replication_factor;
      r.configs.emplace();
      for (const ConfigEntry& e : topic_config_entries(b, overrides)) {
        CreateTopicsResponse::CreatableTopicConfigs c;
        c.name = e.name;
        c.value = e.value;
        c.read_only = e.read_only;
        c.config_source = static_cast<int8_t>(e.source);
        r.configs->push_back(std::move(c));
      }
    }
    resp.topics.push_back(std::move(r));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
