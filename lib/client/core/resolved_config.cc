// ResolvedConfig accessors and host:port parsing.
#include "client/core/resolved_config.h"

#include <cstdio>
#include <cstdlib>

#include "client/core/config_parse.h"

namespace kfk::core {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool parse_host_port(std::string_view text, HostPort& out) {
  text = trim(text);
  if (size_t scheme = text.find("://"); scheme != std::string_view::npos) text.remove_prefix(scheme + 3);
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) return false;  // bare IPv6: use []
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (host.empty()) return false;
  for (char c : host)
    if (c == ' ' || c == '/' || c == ',' || c == '[' || c == ']') return false;
  int64_t p = 9092;
  if (!port.empty() && !parse_int64(port, p)) return false;
  if (p < 1 || p > 65535) return false;
  out.host = std::string(host);
  out.port = static_cast<int>(p);
  return true;
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
