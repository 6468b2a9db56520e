// DeleteTopics (key 20), v0-v6: by name, or from v6 by name or topic id.
// Internal topics (__consumer_offsets) cannot be deleted: INVALID_TOPIC_EXCEPTION.
// Topics are looked up in the metadata image and deleted through the
// controller.
#include <map>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"

namespace kfk::broker {

HandlerResult handle_delete_topics(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DeleteTopicsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  std::vector<proto::DeleteTopicsRequest::DeleteTopicState> wanted = req.topics;
  if (v < 6)
    for (const auto& n : req.topic_names) wanted.push_back({n, proto::Uuid{}});
  std::map<std::string, int> counts;
  for (const auto& w : wanted) ++counts[w.name ? *w.name : w.topic_id.to_string()];

  proto::DeleteTopicsResponse resp;
  for (const auto& w : wanted) {
    proto::DeleteTopicsResponse::DeletableTopicResult r;
    r.name = w.name;
    r.topic_id = w.topic_id;
    Status s;
    // Held for this entry: the delete publishes the next image.
    std::shared_ptr<const MetadataImage> image = b.metadata_snapshot();
    const TopicImage* info = nullptr;
    if (counts[w.name ? *w.name : w.topic_id.to_string()] > 1) {
      s = Status::error(ErrorCode::INVALID_REQUEST, "Duplicate topic in the request");
    } else if (w.name) {
      info = image->topic(*w.name);
      if (!info) s = Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
      else if (!w.topic_id.is_zero() && !(w.topic_id == info->id))
        s = Status::error(ErrorCode::UNKNOWN_TOPIC_ID, "Topic id does not match the topic name");
    } else {
      info = image->topic_by_id(w.topic_id);
      if (!info) s = Status::error(ErrorCode::UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
    }
    if (s.ok() && Broker::is_internal_topic(info->name))
      s = Status::error(ErrorCode::INVALID_TOPIC_EXCEPTION, "Cannot delete internal topic " + info->name);
    if (s.ok()) {
      r.name = info->name;
      r.topic_id = info->id;
      s = b.controller().delete_topic(info->name);
      if (s.ok()) b.groups().remove_offsets_of_deleted_topic(info->name);
    }
    if (!s.ok()) {
      r.error_code = s.kafka_code();
      r.error_message = s.message;
    }
    if (v < 6 && !r.name) r.name = std::string();
    resp.responses.push_back(std::move(r));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
