#include "server/config_resources.h"

#include <algorithm>
#include <set>

#include "server/broker.h"

namespace kfk::broker {
namespace {

Status invalid_request(std::string msg) { return Status::error(ErrorCode::INVALID_REQUEST, std::move(msg)); }

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// The current effective value and type of a key, for APPEND / SUBTRACT.
Status current_value(Broker& b, int8_t type, const std::string& resource, const std::string& key, std::string* value,
                     ConfigType* ctype) {
  std::vector<ConfigEntry> entries;
  if (type == kResourceTopic) {
    if (Status s = b.logs().describe_topic_config(resource, &entries); !s.ok()) return s;
  } else {
    entries = broker_config_entries(b);
  }
  for (const auto& e : entries)
    if (e.name == key) {
      *value = e.value;
      *ctype = e.type;
      return Status::Ok();
    }
  return Status::error(ErrorCode::INVALID_CONFIG, "Unknown config name: " + key);
}

Status check_broker_resource(Broker& b, const std::string& name) {
  if (!is_own_broker_resource(b, name))
    return invalid_request("Unexpected broker id, expected " + std::to_string(b.node_id()) +
                           " or empty string, but received " + name);
  return Status::Ok();
}

// Broker-ref's own keys are static: set them on the command line.
Status check_dynamic_broker_keys(const ConfigChanges& changes) {
  for (const auto& [k, v] : changes)
    if (find_broker_key(k) != nullptr)
      return Status::error(ErrorCode::INVALID_CONFIG, "Cannot update these configs dynamically: " + k);
  return Status::Ok();
}

Status apply(Broker& b, int8_t type, const std::string& name, const ConfigChanges& changes, bool validate_only) {
  if (type == kResourceTopic) return b.logs().alter_topic_config(name, changes, validate_only);
  if (Status s = check_dynamic_broker_keys(changes); !s.ok()) return s;
  return b.logs().alter_broker_config(changes, validate_only);
}

}  // namespace

bool is_own_broker_resource(Broker& b, const std::string& name) {
  return name.empty() || name == std::to_string(b.node_id());
}

std::vector<ConfigEntry> broker_config_entries(Broker& b) {
  std::vector<ConfigEntry> out;
  const BrokerConfig& cfg = b.config();
  for (const BrokerKeyDef& d : broker_key_defs()) {
    if (std::string_view(d.name) == "broker.id") continue;  // an alias of node.id
    ConfigEntry e;
    e.name = d.name;
    e.value = cfg.get(d.name);
    e.type = d.type;
    e.doc = d.doc;
    e.read_only = true;
    e.source = cfg.is_set(d.name) ? ConfigSource::kStaticBroker : ConfigSource::kDefault;
    e.is_default = e.source == ConfigSource::kDefault;
    out.push_back(std::move(e));
  }
  for (auto& e : b.logs().describe_broker_config()) out.push_back(std::move(e));
  return out;
}

std::vector<ConfigEntry> topic_config_entries(Broker& b, const ConfigMap& overrides) {
  LogConfig cfg;
  if (!LogConfig::with_overrides(b.logs().default_config(), overrides, &cfg).ok()) cfg = b.logs().default_config();
  std::vector<ConfigEntry> broker = b.logs().describe_broker_config();
  std::vector<ConfigEntry> out;
  for (const ConfigDef& d : topic_config_defs()) {
    ConfigEntry e;
    e.name = d.name;
    e.value = cfg.get(d.name);
    e.type = d.type;
    e.doc = d.doc;
    e.read_only = d.read_only;
    e.source = ConfigSource::kDefault;
    if (overrides.count(d.name)) {
      e.source = ConfigSource::kTopic;
    } else {
      for (const auto& be : broker)
        if (d.broker_name != nullptr && be.name == d.broker_name) e.source = be.source;
    }
    e.is_default = e.source == ConfigSource::kDefault;
    out.push_back(std::move(e));
  }
  return out;
}

Status incremental_alter(Broker& b, int8_t type, const std::string& name, const std::vector<ConfigOp>& ops,
                         bool validate_only) {
  if (type != kResourceTopic && type != kResourceBroker)
    return invalid_request("Unsupported resource type " + std::to_string(type));
  if (type == kResourceBroker)
    if (Status s = check_broker_resource(b, name); !s.ok()) return s;
  std::set<std::string> seen;
  for (const auto& op : ops)
    if (!seen.insert(op.name).second) return invalid_request("Error due to duplicate config keys");
  ConfigChanges changes;
  for (const auto& op : ops) {
    switch (op.op) {
      case 0:  // SET
        if (!op.value) return invalid_request("Null value not supported for : " + op.name);
        changes[op.name] = op.value;
        break;
      case 1:  // DELETE
        changes[op.name] = std::nullopt;
        break;
      case 2:    // APPEND
      case 3: {  // SUBTRACT
        std::string current;
        ConfigType ctype = ConfigType::kString;  // set by current_value()
        if (Status s = current_value(b, type, name, op.name, &current, &ctype); !s.ok()) return s;
        if (ctype != ConfigType::kList)
          return Status::error(ErrorCode::INVALID_CONFIG, std::string("Config value ") +
                                                              (op.op == 2 ? "append" : "subtract") +
                                                              " is not allowed for config key: " + op.name);
        std::vector<std::string> items = split_list(current);
        for (const auto& item : split_list(op.value.value_or(""))) {
          auto it = std::find(items.begin(), items.end(), item);
          if (op.op == 2 && it == items.end()) items.push_back(item);
          if (op.op == 3 && it != items.end()) items.erase(it);
        }
        changes[op.name] = join_list(items);
        break;
      }
      default:
        return invalid_request("Unknown config operation " + std::to_string(op.op) + " for " + op.name);
    }
  }
  return apply(b, type, name, changes, validate_only);
}

Status replace_configs(Broker& b, int8_t type, const std::string& name,
                       const std::vector<std::pair<std::string, std::optional<std::string>>>& configs,
                       bool validate_only) {
  if (type != kResourceTopic && type != kResourceBroker)
    return invalid_request("Unsupported resource type " + std::to_string(type));
  ConfigMap wanted;
  for (const auto& [k, v] : configs) {
    if (!v) return invalid_request("Null value not supported for : " + k);
    wanted[k] = *v;
  }
  if (type == kResourceTopic) return b.logs().replace_topic_config(name, wanted, validate_only);
  if (Status s = check_broker_resource(b, name); !s.ok()) return s;
  // The dynamic broker set becomes exactly `wanted`.
  ConfigChanges changes;
  for (const auto& e : b.logs().describe_broker_config())
    if (e.source == ConfigSource::kDynamicDefaultBroker || e.source == ConfigSource::kDynamicBroker)
      changes[e.name] = std::nullopt;
  for (const auto& [k, v] : wanted) changes[k] = v;
  return apply(b, type, name, changes, validate_only);
}

}  // namespace kfk::broker
