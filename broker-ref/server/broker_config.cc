#include "server/broker_config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace kfk::broker {
namespace {

constexpr BrokerKeyDef kKeys[] = {
    {"listeners", ConfigType::kString, "PLAINTEXT://127.0.0.1:9092",
     "The listener: host:port or PLAINTEXT://host:port (port 0: any free port). --listen sets it.", 0},
    {"advertised.listeners", ConfigType::kString, "",
     "The address given to clients in Metadata (default: the listener's host and bound port).", 0},
    {"node.id", ConfigType::kInt, "1", "This broker's id (and the controller id). --node-id sets it.", 0},
    {"broker.id", ConfigType::kInt, "1", "Alias of node.id (ZooKeeper-era name).", 0},
    {"auto.create.topics.enable", ConfigType::kBoolean, "true",
     "Create unknown topics named in Metadata requests (when the request allows it).", 0},
    {"num.partitions", ConfigType::kInt, "1", "Partitions of auto-created topics and of CreateTopics with -1.", 1},
    {"default.replication.factor", ConfigType::kShort, "1",
     "Replication factor of auto-created topics; must be 1 (a single broker).", 1},
    {"socket.request.max.bytes", ConfigType::kInt, "104857600",
     "Largest request frame accepted; a bigger size prefix closes the connection.", 1},
    {"fetch.max.bytes", ConfigType::kInt, "57671680", "Upper bound on the bytes one Fetch response carries.", 1024},
    {"max.incremental.fetch.session.cache.slots", ConfigType::kInt, "1000",
     "Incremental fetch sessions kept (least recently used evicted).", 0},
    {"group.initial.rebalance.delay.ms", ConfigType::kInt, "3000",
     "Delay of a new consumer group's first rebalance, extended while members keep joining (up to the rebalance "
     "timeout), so a starting group is assigned once.", 0},
    {"group.min.session.timeout.ms", ConfigType::kInt, "6000",
     "Smallest session timeout a JoinGroup may ask for (else INVALID_SESSION_TIMEOUT).", 0},
    {"group.max.session.timeout.ms", ConfigType::kInt, "1800000",
     "Largest session timeout a JoinGroup may ask for (else INVALID_SESSION_TIMEOUT).", 0},
    {"group.max.size", ConfigType::kInt, "2147483647",
     "Most members a consumer group may have (else GROUP_MAX_SIZE_REACHED).", 1},
    {"offset.metadata.max.bytes", ConfigType::kInt, "4096",
     "Longest metadata string an OffsetCommit may store (else OFFSET_METADATA_TOO_LARGE).", 0},
    {"offsets.topic.segment.bytes", ConfigType::kInt, "104857600",
     "segment.bytes of __consumer_offsets (set when the topic is created).", 1024},
    {"connections.max.idle.ms", ConfigType::kLong, "600000",
     "Connections with no request or response for this long are closed (a request the broker holds, "
     "such as a waiting JoinGroup, keeps its connection open).", 1},
    {"offsets.topic.num.partitions", ConfigType::kInt, "50", "Partitions of __consumer_offsets.", 1},
    {"offsets.topic.replication.factor", ConfigType::kShort, "1",
     "Replication factor of __consumer_offsets (accepted for compatibility; always 1).", 1},
    {"transaction.state.log.num.partitions", ConfigType::kInt, "50", "Partitions of __transaction_state.", 1},
    {"transaction.state.log.replication.factor", ConfigType::kShort, "1",
     "Replication factor of __transaction_state (accepted for compatibility; always 1).", 1},
    {"transaction.state.log.min.isr", ConfigType::kInt, "1", "min.insync.replicas of __transaction_state.", 1},
    {"broker.emulated.kafka.version", ConfigType::kString, "3.9",
     "The Apache Kafka generation whose API versions broker-ref serves. 3.9: every version the codec has, "
     "including Produce v0-v2 with magic 0/1 message sets (converted to record batches on append) and "
     "Fetch v0-v3 (down-converted to magic 0/1), as Kafka 3.x. 4.0: Kafka 4.0's minimums (KIP-896: Fetch v4+, "
     "Metadata v4+, ...; lower versions close the connection) and Produce v0-v2 refused with "
     "UNSUPPORTED_VERSION though still listed by ApiVersions, as Kafka 4.0 (KAFKA-18659). The default, 3.9, "
     "takes every client that some supported Kafka takes; 4.0 checks that a client needs nothing Kafka 4.0 "
     "removed.", 0},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_int64(std::string_view s, int64_t* out) {
  s = trim(s);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

bool check_value(const BrokerKeyDef& d, std::string_view value, std::string* error) {
  auto bad = [&](const std::string& why) {
    *error = "invalid value '" + std::string(value) + "' for config key " + d.name + ": " + why;
    return false;
  };
  switch (d.type) {
    case ConfigType::kBoolean: {
      std::string v = lower(trim(value));
      if (v != "true" && v != "false") return bad("expected true or false");
      return true;
    }
    case ConfigType::kInt:
    case ConfigType::kShort:
    case ConfigType::kLong: {
      int64_t x = 0;
      if (!parse_int64(value, &x)) return bad("not a number");
      int64_t hi = d.type == ConfigType::kShort ? INT16_MAX : d.type == ConfigType::kInt ? INT32_MAX : INT64_MAX;
      if (x < d.min_value) return bad("must be at least " + std::to_string(d.min_value));
      if (x > hi) return bad("too large");
      return true;
    }
    default:
      return true;
  }
}

}  // namespace

std::span<const BrokerKeyDef> broker_key_defs() { return kKeys; }

const BrokerKeyDef* find_broker_key(std::string_view name) {
  for (const auto& d : kKeys)
    if (name == d.name) return &d;
  return nullptr;
}

bool parse_listener(std::string_view text, io::HostPort* out, std::string* error) {
  std::string_view s = trim(text);
  if (s.find(',') != std::string_view::npos) {
    *error = "only one listener is supported: " + std::string(text);
    return false;
  }
  if (auto p = s.find("://"); p != std::string_view::npos) {
    std::string proto = lower(s.substr(0, p));
    if (proto != "plaintext") {
      *error = "only PLAINTEXT listeners are supported: " + std::string(text);
      return false;
    }
    s.remove_prefix(p + 3);
  }
  io::HostPortRules rules;
  rules.allow_empty_host = true;
  rules.min_port = 0;
  if (!io::parse_host_port(s, out, error, rules)) return false;
  if (out->host.empty()) out->host = "0.0.0.0";
  return true;
}

bool BrokerConfig::set(std::string_view key_in, std::string_view value_in, std::string* error) {
  std::string key(trim(key_in));
  std::string value(trim(value_in));
  if (const BrokerKeyDef* d = find_broker_key(key)) {
    if (!check_value(*d, value, error)) return false;
    if (key == "listeners" || (key == "advertised.listeners" && !value.empty())) {
      io::HostPort hp;
      std::string why;
      if (!parse_listener(value, &hp, &why)) {
        *error = "invalid value for config key " + key + ": " + why;
        return false;
      }
      if (key == "advertised.listeners" && hp.port == 0) {
        *error = "invalid value for config key advertised.listeners: the port must not be 0";
        return false;
      }
    }
    if (key == "default.replication.factor" && value != "1") {
      *error = "invalid value '" + value + "' for config key default.replication.factor: broker-ref is a single broker, "
               "only 1 is possible";
      return false;
    }
    if (key == "broker.emulated.kafka.version" && value != "3.9" && value != "4.0") {
      *error = "invalid value '" + value + "' for config key broker.emulated.kafka.version: expected 3.9 or 4.0";
      return false;
    }
    if (key == "broker.id") key = "node.id";
    values_[key] = value;
    return true;
  }
  if (is_storage_broker_key(key)) {
    LogConfig defaults;
    StorageSettings settings;
    Status s = apply_broker_config(ConfigMap{{key, value}}, &defaults, &settings);
    if (!s.ok()) {
      *error = "config key " + key + ": " + s.message;
      return false;
    }
    values_[key] = value;
    return true;
  }
  *error = "unknown config key '" + key + "' (see --help for the list)";
  return false;
}

bool BrokerConfig::set_assignment(std::string_view assignment, std::string* error) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    *error = "expected key=value, got '" + std::string(assignment) + "'";
    return false;
  }
  return set(assignment.substr(0, eq), assignment.substr(eq + 1), error);
}

bool BrokerConfig::load_properties_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read config file " + path;
    return false;
  }
  std::string line, logical;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view l = trim(line);
    if (logical.empty() && (l.empty() || l.front() == '#' || l.front() == '!')) continue;
    // A line ending in an odd number of backslashes continues on the next.
    size_t bs = 0;
    while (bs < l.size() && l[l.size() - 1 - bs] == '\\') ++bs;
    if (bs % 2 == 1) {
      logical += std::string(l.substr(0, l.size() - 1));
      continue;
    }
    logical += std::string(l);
    std::string_view entry = logical;
    size_t sep = entry.find_first_of("=:");
    size_t ws = entry.find_first_of(" \t");
    if (ws != std::string_view::npos && (sep == std::string_view::npos || ws < sep)) {
      // "key value" or "key = value".
      std::string_view rest = trim(entry.substr(ws));
      if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest.remove_prefix(1);
      if (!set(entry.substr(0, ws), rest, error)) {
        *error = path + ":" + std::to_string(lineno) + ": " + *error;
        return false;
      }
    } else {
      std::string_view key = sep == std::string_view::npos ? entry : entry.substr(0, sep);
      std::string_view value = sep == std::string_view::npos ? std::string_view() : entry.substr(sep + 1);
      if (!set(key, value, error)) {
        *error = path + ":" + std::to_string(lineno) + ": " + *error;
        return false;
      }
    }
    logical.clear();
  }
  return true;
}

std::string BrokerConfig::get(std::string_view key) const {
  if (auto it = values_.find(key); it != values_.end()) return it->second;
  if (const BrokerKeyDef* d = find_broker_key(key)) return d->default_value;
  if (const ConfigDef* d = find_broker_config(key)) return d->default_value;
  return "";
}

int64_t BrokerConfig::get_long(std::string_view key) const {
  int64_t x = 0;
  (void)parse_int64(get(key), &x);
  return x;
}

bool BrokerConfig::get_bool(std::string_view key) const { return lower(trim(get(key))) == "true"; }

ConfigMap BrokerConfig::storage_config() const {
  ConfigMap out;
  for (const auto& [k, v] : values_)
    if (is_storage_broker_key(k)) out[k] = v;
  return out;
}

KafkaGeneration BrokerConfig::emulated_kafka() const {
  return get("broker.emulated.kafka.version") == "4.0" ? KafkaGeneration::kKafka4 : KafkaGeneration::kKafka3;
}

io::HostPort BrokerConfig::listener() const {
  io::HostPort hp;
  std::string why;
  (void)parse_listener(get("listeners"), &hp, &why);
  return hp;
}

io::HostPort BrokerConfig::advertised() const {
  io::HostPort hp;
  std::string why;
  std::string adv = get("advertised.listeners");
  if (!adv.empty() && parse_listener(adv, &hp, &why)) return hp;
  hp = listener();
  if (hp.host == "0.0.0.0" || hp.host == "::") {
    // A wildcard bind is no address for clients: Kafka advertises the host name.
    char name[256] = {};
    hp.host = ::gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "localhost";
  }
  return hp;
}

std::string BrokerConfig::keys_help() {
  std::ostringstream o;
  auto type_name = [](ConfigType t) {
    switch (t) {
      case ConfigType::kBoolean: return "boolean";
      case ConfigType::kInt: return "int";
      case ConfigType::kShort: return "short";
      case ConfigType::kLong: return "long";
      case ConfigType::kDouble: return "double";
      case ConfigType::kList: return "list";
      default: return "string";
    }
  };
  auto line = [&](const char* name, ConfigType t, const char* def, const char* doc) {
    o << "  " << name << " (" << type_name(t) << ", default: " << (*def ? def : "\"\"") << ")\n      " << doc << "\n";
  };
  o << "Broker keys:\n";
  for (const auto& d : kKeys) line(d.name, d.type, d.default_value, d.doc);
  o << "Storage keys (topic defaults; topics override them by the name in brackets):\n";
  std::string topic_only;
  for (const auto& d : topic_config_defs()) {
    if (d.broker_name == nullptr) {
      topic_only += std::string(topic_only.empty() ? "" : ", ") + d.name;
      continue;
    }
    std::string doc = std::string(d.doc) + " [" + d.name + "]";
    line(d.broker_name, d.type, d.default_value, doc.c_str());
  }
  for (const auto& d : storage_broker_config_defs()) line(d.broker_name, d.type, d.default_value, d.doc);
  o << "Topic-only keys (no broker default, as Kafka): " << topic_only << "\n";
  return o.str();
}

}  // namespace kfk::broker
