// include/kfk/config.h must document every registry key with its default,
// and nothing else: each key is a line "//   <key>" followed by
// "//     default: <value>" ("" for empty).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>

#include "client/core/config_registry.h"

#ifndef KFK_CONFIG_HEADER_PATH
#error "KFK_CONFIG_HEADER_PATH must point at include/kfk/config.h"
#endif

TEST_CASE("config.h documents exactly the registry keys, with their defaults") {
  std::ifstream in(KFK_CONFIG_HEADER_PATH);
  REQUIRE(in.good());
  std::map<std::string, std::string> documented;  // key -> default text
  // A key line: "//   " then [a-z][a-z0-9.]*, nothing else.
  auto key_of = [](const std::string& line) -> std::string {
    const std::string prefix = "//   ";
    if (line.rfind(prefix, 0) != 0 || line.size() == prefix.size()) return {};
    std::string key = line.substr(prefix.size());
    while (!key.empty() && key.back() == ' ') key.pop_back();
    if (key.empty() || key[0] < 'a' || key[0] > 'z' || key.back() == '.') return {};
    for (char c : key)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.')) return {};
    return key;
  };
  const std::string default_prefix = "//     default: ";
  std::string line, pending;
  while (std::getline(in, line)) {
    if (!pending.empty()) {
      REQUIRE_MESSAGE(line.rfind(default_prefix, 0) == 0, "no 'default:' line after key " << pending);
      std::string d = line.substr(default_prefix.size());
      if (d == "\"\"") d.clear();
      CHECK_MESSAGE(documented.count(pending) == 0, "documented twice: " << pending);
      documented[pending] = d;
      pending.clear();
    } else {
      pending = key_of(line);
    }
  }
  for (const auto& k : kfk::core::config_registry()) {
    auto it = documented.find(k.name);
    CHECK_MESSAGE(it != documented.end(), "registry key not documented in config.h: " << k.name);
    if (it != documented.end())
      CHECK_MESSAGE(it->second == k.default_value, "default of " << k.name << ": config.h says '" << it->second
                                                                  << "', registry '" << k.default_value << "'");
  }
  for (const auto& entry : documented)  // not a structured binding: clang < 16 cannot capture one
    CHECK_MESSAGE(kfk::core::find_config_key(entry.first) != nullptr, "config.h documents unknown key: " << entry.first);
  CHECK(documented.size() == kfk::core::config_registry().size());
}
