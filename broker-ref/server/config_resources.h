// Config resources for DescribeConfigs / AlterConfigs /
// IncrementalAlterConfigs / CreateTopics: the entries of a topic or of the
// broker (broker-ref's own keys plus the storage keys), and the
// incremental operations on them.
//
// Resource types (Kafka's ConfigResource.Type): 2 TOPIC, 4 BROKER.
// Broker-ref's own keys are static (set on the command line); the storage
// keys can be changed at run time (the LogManager applies them).
//
// Thread ownership: the loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/log_manager.h"

namespace kfk::broker {

class Broker;

inline constexpr int8_t kResourceTopic = 2;
inline constexpr int8_t kResourceBroker = 4;

// Every broker config entry: own keys, then the storage keys.
std::vector<ConfigEntry> broker_config_entries(Broker& b);
// The entries a topic would have with these overrides (CreateTopics with
// validate_only, where the topic does not exist).
std::vector<ConfigEntry> topic_config_entries(Broker& b, const ConfigMap& overrides);
// BROKER resource names: "" (cluster default) or this node's id.
bool is_own_broker_resource(Broker& b, const std::string& name);

// One IncrementalAlterConfigs operation.
struct ConfigOp {
  std::string name;
  int8_t op = 0;  // 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
  std::optional<std::string> value;
};
// Applies (or with validate_only, checks) the operations on a topic or the
// broker. APPEND / SUBTRACT work on list-type keys (cleanup.policy).
Status incremental_alter(Broker& b, int8_t resource_type, const std::string& resource_name,
                         const std::vector<ConfigOp>& ops, bool validate_only);
// AlterConfigs: the resource's overrides become exactly `configs`.
Status replace_configs(Broker& b, int8_t resource_type, const std::string& resource_name,
                       const std::vector<std::pair<std::string, std::optional<std::string>>>& configs,
                       bool validate_only);

}  // namespace kfk::broker
