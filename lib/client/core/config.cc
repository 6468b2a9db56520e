// kfk::Config: a plain property map; all checking happens in validate().
#include "kfk/config.h"

namespace kfk {

Config::Config(std::initializer_list<std::pair<std::string, std::string>> properties) {
  for (const auto& [k, v] : properties) props_[k] = v;
}

Config& Config::set(std::string key, std::string value) {
  props_[std::move(key)] = std::move(value);
  return *this;
}

Config& Config::unset(std::string_view key) {
  auto it = props_.find(key);
  if (it != props_.end()) props_.erase(it);
  return *this;
}

std::optional<std::string> Config::get(std::string_view key) const {
  auto it = props_.find(key);
  if (it == props_.end()) return std::nullopt;
  return it->second;
}

bool Config::contains(std::string_view key) const { return props_.find(key) != props_.end(); }

}  // namespace kfk
