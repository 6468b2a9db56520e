// ResolvedConfig accessors and host:port parsing.
#include "client/core/resolved_config.h"

#include <cstdio>
#include <cstdlib>

#include "client/core/config_parse.h"

namespace kfk::core {

bool parse_host_port(std::string_view text, io::HostPort& out) {
  text = trim(text);
  if (size_t scheme = text.find("://"); scheme != std::string_view::npos) text.remove_prefix(scheme + 3);
  io::HostPortRules rules;
  rules.default_port = 9092;
  return io::parse_host_port(text, &out, nullptr, rules);
}

const ResolvedConfig::Value& ResolvedConfig::value(std::string_view key, const ConfigKeyInfo** info) const {
  const ConfigKeyInfo* k = find_config_key(key);
  if (k == nullptr || values_.size() != config_registry().size()) {
    std::fprintf(stderr, "kfk: internal error: unknown config key '%.*s' (or unresolved config)\n",
                 static_cast<int>(key.size()), key.data());
    std::abort();
  }
  *info = k;
  return values_[config_key_index(k)];
}

namespace {
[[noreturn]] void wrong_type(const ConfigKeyInfo* k, const char* wanted) {
  std::fprintf(stderr, "kfk: internal error: config key '%s' is %s, read as %s\n", k->name,
               config_type_name(k->type), wanted);
  std::abort();
}
}  // namespace

int32_t ResolvedConfig::get_int(std::string_view key) const {
  const ConfigKeyInfo* k;
  const Value& v = value(key, &k);
  if (k->type != ConfigType::kInt) wrong_type(k, "int");
  return static_cast<int32_t>(v.number);
}

int64_t ResolvedConfig::get_long(std::string_view key) const {
  const ConfigKeyInfo* k;
  const Value& v = value(key, &k);
  if (k->type != ConfigType::kInt && k->type != ConfigType::kLong) wrong_type(k, "long");
  return v.number;
}

bool ResolvedConfig::get_bool(std::string_view key) const {
  const ConfigKeyInfo* k;
  const Value& v = value(key, &k);
  if (k->type != ConfigType::kBool) wrong_type(k, "bool");
  return v.flag;
}

const std::string& ResolvedConfig::get_string(std::string_view key) const {
  const ConfigKeyInfo* k;
  const Value& v = value(key, &k);
  if (k->type != ConfigType::kString && k->type != ConfigType::kEnum) wrong_type(k, "string");
  return v.text;
}

const std::vector<std::string>& ResolvedConfig::get_list(std::string_view key) const {
  const ConfigKeyInfo* k;
  const Value& v = value(key, &k);
  if (k->type != ConfigType::kList) wrong_type(k, "list");
  return v.list;
}

bool ResolvedConfig::is_explicit(std::string_view key) const {
  const ConfigKeyInfo* k;
  return value(key, &k).is_explicit;
}

bool ResolvedConfig::allow_auto_topic_creation() const {
  switch (kind_) {
    case ClientKind::kProducer: return true;
    case ClientKind::kConsumer: return get_bool("allow.auto.create.topics");
    case ClientKind::kAdmin: return false;
  }
  return false;
}

}  // namespace kfk::core
