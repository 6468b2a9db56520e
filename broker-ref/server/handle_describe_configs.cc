// DescribeConfigs (key 32), v0-v4: TOPIC (2) and BROKER (4) resources, all
// keys or the named ones, with synonyms (v1+, in precedence order),
// config types and documentation (v3+). Nothing is sensitive.
#include <algorithm>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/config_resources.h"
#include "server/handler_table.h"

namespace kfk::broker {
namespace {

using proto::DescribeConfigsResponse;

std::string default_of(const std::string& broker_name) {
  if (const ConfigDef* d = find_broker_config(broker_name)) return d->default_value;
  if (const BrokerKeyDef* d = find_broker_key(broker_name)) return d->default_value;
  return "";
}

}  // namespace

HandlerResult handle_describe_configs(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::DescribeConfigsRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  const bool synonyms = v >= 1 && req.include_synonyms;
  const bool docs = v >= 3 && req.include_documentation;
  std::vector<ConfigEntry> broker_entries = broker_config_entries(b);

  DescribeConfigsResponse resp;
  for (const auto& res : req.resources) {
    DescribeConfigsResponse::DescribeConfigsResult r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    std::vector<ConfigEntry> entries;
    Status s;
    if (res.resource_type == kResourceTopic) {
      s = b.logs().describe_topic_config(res.resource_name, &entries);
    } else if (res.resource_type == kResourceBroker) {
      if (is_own_broker_resource(b, res.resource_name)) entries = broker_entries;
      else s = Status::error(ErrorCode::INVALID_REQUEST, "Unexpected broker id, expected " + std::to_string(b.node_id()) +
                                                              " or empty string, but received " + res.resource_name);
    } else {
      s = Status::error(ErrorCode::INVALID_REQUEST, "Unsupported resource type " + std::to_string(res.resource_type));
    }
    if (!s.ok()) {
      r.error_code = s.kafka_code();
      r.error_message = s.message;
      resp.results.push_back(std::move(r));
      continue;
    }
    const auto& keys = res.configuration_keys;
    for (const ConfigEntry& e : entries) {
      if (keys && !keys->empty() && std::find(keys->begin(), keys->end(), e.name) == keys->end()) continue;
      DescribeConfigsResponse::DescribeConfigsResourceResult c;
      c.name = e.name;
      c.value = e.value;
      c.read_only = e.read_only;
      c.is_default = e.is_default;
      c.config_source = static_cast<int8_t>(e.source);
      c.is_sensitive = false;
      c.config_type = static_cast<int8_t>(e.type);
      c.documentation = docs ? std::optional<std::string>(e.doc) : std::nullopt;
      if (synonyms) {
        auto add = [&](const std::string& n, const std::string& val, ConfigSource src) {
          DescribeConfigsResponse::DescribeConfigsSynonym syn;
          syn.name = n;
          syn.value = val;
          syn.source = static_cast<int8_t>(src);
          c.synonyms.push_back(std::move(syn));
        };
        if (res.resource_type == kResourceTopic) {
          if (e.source == ConfigSource::kTopic) add(e.name, e.value, ConfigSource::kTopic);
          // Kafka lists the broker key behind the topic key (none for
          // topic-only keys such as the replication throttles).
          const ConfigDef* d = find_topic_config(e.name);
          if (d != nullptr && d->broker_name != nullptr) {
            std::string broker_name = d->broker_name;
            for (const auto& be : broker_entries)
              if (be.name == broker_name && be.source != ConfigSource::kDefault) add(be.name, be.value, be.source);
            add(broker_name, default_of(broker_name), ConfigSource::kDefault);
          }
        } else {
          if (e.source != ConfigSource::kDefault) add(e.name, e.value, e.source);
          add(e.name, default_of(e.name), ConfigSource::kDefault);
        }
      }
      r.configs.push_back(std::move(c));
    }
    resp.results.push_back(std::move(r));
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
