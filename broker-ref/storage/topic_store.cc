#include "storage/topic_store.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "storage/checkpoint_file.h"

namespace kfk::broker {

Status validate_topic_name(std::string_view name) {
  auto bad = [](std::string msg) { return Status::error(ErrorCode::INVALID_TOPIC_EXCEPTION, std::move(msg)); };
  if (name.empty()) return bad("Topic name is illegal, it can't be empty");
  if (name == "." || name == "..") return bad("Topic name cannot be \".\" or \"..\"");
  if (name.size() > kMaxTopicNameLength)
    return bad("Topic name is illegal, it can't be longer than " + std::to_string(kMaxTopicNameLength) +
               " characters, topic name: " + std::string(name));
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok)
      return bad("Topic name \"" + std::string(name) +
                 "\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'");
  }
  return Status::Ok();
}

bool topic_names_collide(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '.' ? '_' : a[i];
    char y = b[i] == '.' ? '_' : b[i];
    if (x != y) return false;
  }
  return true;
}

std::optional<proto::Uuid> uuid_from_string(std::string_view s) {
  if (s.size() != 22) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  proto::Uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : s) {
    int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16) u.bytes[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  if (n != 16) return std::nullopt;
  return u;
}

std::string encode_topic_metadata(const TopicInfo& t) {
  nlohmann::json j;
  j["version"] = 1;
  j["name"] = t.name;
  j["topic_id"] = t.id.to_string();
  j["partitions"] = t.partitions;
  nlohmann::json cfg = nlohmann::json::object();
  for (const auto& [k, v] : t.overrides) cfg[k] = v;
  j["config"] = cfg;
  return j.dump(2) + "\n";
}

Status decode_topic_metadata(std::string_view text, TopicInfo* out) {
  auto bad = [](const std::string& why) { return Status::error(ErrorCode::CORRUPT_MESSAGE, why); };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    return bad("unsupported version");
  if (!j.contains("name") || !j["name"].is_string()) return bad("missing name");
  if (!j.contains("topic_id") || !j["topic_id"].is_string()) return bad("missing topic_id");
  if (!j.contains("partitions") || !j["partitions"].is_number_integer()) return bad("missing partitions");
  TopicInfo t;
  t.name = j["name"].get<std::string>();
  auto id = uuid_from_string(j["topic_id"].get<std::string>());
  if (!id) return bad("malformed topic_id");
  t.id = *id;
  int64_t parts = j["partitions"].get<int64_t>();
  if (parts < 1 || parts > INT32_MAX) return bad("bad partition count");
  t.partitions = static_cast<int32_t>(parts);
  if (j.contains("config")) {
    if (!j["config"].is_object()) return bad("config is not an object");
    for (const auto& [k, v] : j["config"].items()) {
      if (!v.is_string()) return bad("config value of " + k + " is not a string");
      t.overrides[k] = v.get<std::string>();
    }
  }
  *out = std::move(t);
  return Status::Ok();
}

std::string encode_partition_metadata(const proto::Uuid& id) {
  return "version: 0\ntopic_id: " + id.to_string() + "\n";
}

std::optional<proto::Uuid> decode_partition_metadata(std::string_view text) {
  size_t at = text.find("topic_id: ");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 10);
  size_t nl = rest.find('\n');
  return uuid_from_string(rest.substr(0, nl));
}

std::string partition_dir_name(std::string_view topic, int32_t partition) {
  return std::string(topic) + "-" + std::to_string(partition);
}

std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(std::string_view name) {
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  std::string_view digits = name.substr(dash + 1);
  for (char c : digits)
    if (c < '0' || c > '9') return std::nullopt;
  int32_t p = 0;
  if (!parse_int32(digits, &p)) return std::nullopt;
  std::string topic(name.substr(0, dash));
  if (!validate_topic_name(topic).ok()) return std::nullopt;
  return std::make_pair(topic, p);
}

std::string delete_dir_name(std::string_view topic, int32_t partition) {
  proto::Uuid u = proto::Uuid::random();
  char hex[33];
  for (size_t i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", u.bytes[i]);
  std::string suffix = '-' + std::to_string(partition) + "." + hex + "-delete";
  size_t keep = std::min(topic.size(), 255 - suffix.size());
  return std::string(topic.substr(0, keep)) + suffix;
}

bool is_delete_dir_name(std::string_view name) {
  return name.size() > 7 && name.substr(name.size() - 7) == "-delete";
}

}  // namespace kfk::broker
