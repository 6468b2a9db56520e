// Metadata (key 3), v0-v12: the brokers, the controller and the topics with
// each partition's leader, leader epoch, replicas and ISR, all from one
// metadata image (a partition without a leader: LEADER_NOT_AVAILABLE).
// Unknown topics are auto-created (through the controller) when
// auto.create.topics.enable is on and the request allows it
// (allow_auto_topic_creation, v4+; always before).
#include <set>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
using proto::MetadataResponse;

// Kafka with no authorizer reports every operation a topic supports:
// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
constexpr int32_t kTopicOperations = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
// CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
constexpr int32_t kClusterOperations = (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

MetadataResponse::MetadataResponseTopic topic_entry(const TopicImage& t, bool with_ops) {
  MetadataResponse::MetadataResponseTopic out;
  out.name = t.name;
  out.topic_id = t.id;
  out.is_internal = Broker::is_internal_topic(t.name);
  for (size_t p = 0; p < t.partitions.size(); ++p) {
    const PartitionImage& pi = t.partitions[p];
    MetadataResponse::MetadataResponsePartition part;
    if (pi.leader < 0) part.error_code = proto::to_int(ErrorCode::LEADER_NOT_AVAILABLE);
    part.partition_index = static_cast<int32_t>(p);
    part.leader_id = pi.leader;
    part.leader_epoch = pi.leader_epoch;
    part.replica_nodes = pi.replicas;
    part.isr_nodes = pi.isr;
    out.partitions.push_back(std::move(part));
  }
  if (with_ops) out.topic_authorized_operations = kTopicOperations;
  return out;
}

MetadataResponse::MetadataResponseTopic error_entry(std::optional<std::string> name, const proto::Uuid& id,
                                                    ErrorCode code) {
  MetadataResponse::MetadataResponseTopic out;
  out.error_code = proto::to_int(code);
  out.name = std::move(name);
  out.topic_id = id;
  return out;
}

}  // namespace

HandlerResult handle_metadata(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::MetadataRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  MetadataResponse resp;
  auto fill_brokers = [&](const MetadataImage& image) {
    resp.brokers.clear();
    for (const BrokerEndpoint& e : image.brokers()) {
      MetadataResponse::MetadataResponseBroker mb;
      mb.node_id = e.id;
      mb.host = e.host;
      mb.port = e.port;
      mb.rack = e.rack;
      resp.brokers.push_back(std::move(mb));
    }
    resp.cluster_id = image.cluster_id();
    resp.controller_id = image.controller_id();
  };
  const bool with_ops = v >= 8 && req.include_topic_authorized_operations;
  if (v >= 8 && v <= 10 && req.include_cluster_authorized_operations) resp.cluster_authorized_operations = kClusterOperations;

  const bool all_topics = !req.topics || (v == 0 && req.topics->empty());
  if (all_topics) {
    std::shared_ptr<const MetadataImage> image = b.metadata_snapshot();
    fill_brokers(*image);
    for (const auto& [name, t] : image->topics()) resp.topics.push_back(topic_entry(*t, with_ops));
  } else {
    const bool may_create = b.auto_create_topics() && (v < 4 || req.allow_auto_topic_creation);
    std::set<std::string> seen;  // a topic named twice is answered once, as Kafka
    for (const auto& rt : *req.topics) {
      if (rt.name && !seen.insert(*rt.name).second) continue;
      if (!rt.name) {
        // v10+: by topic id alone.
        const TopicImage* t = b.metadata().topic_by_id(rt.topic_id);
        if (t) resp.topics.push_back(topic_entry(*t, with_ops));
        else resp.topics.push_back(error_entry(std::nullopt, rt.topic_id, ErrorCode::UNKNOWN_TOPIC_ID));
        continue;
      }
      const std::string& name = *rt.name;
      const TopicImage* t = b.metadata().topic(name);
      if (!t && may_create && !Broker::is_internal_topic(name)) {
        Status s = b.controller().create_topic(name, b.num_partitions(), {}, false, nullptr);
        if (s.ok() || s.code == ErrorCode::TOPIC_ALREADY_EXISTS) t = b.metadata().topic(name);
        else {
          resp.topics.push_back(error_entry(name, proto::Uuid{}, s.code == ErrorCode::INVALID_TOPIC_EXCEPTION
                                                                     ? ErrorCode::INVALID_TOPIC_EXCEPTION
                                                                     : s.code));
          continue;
        }
      }
      if (t) resp.topics.push_back(topic_entry(*t, with_ops));
      else if (!validate_topic_name(name).ok())
        resp.topics.push_back(error_entry(name, proto::Uuid{}, ErrorCode::INVALID_TOPIC_EXCEPTION));
      else resp.topics.push_back(error_entry(name, proto::Uuid{}, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
    }
    // Auto-creation published new images: the brokers come from the last.
    fill_brokers(b.metadata());
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
