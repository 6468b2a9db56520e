// include/kfk/config.h must document every registry key with its default,
// and nothing else: each key is a line "//   <key>" followed by
// "//     default: <value>" ("" for empty).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "client/core/config_registry.h"

#ifndef KFK_CONFIG_HEADER_PATH
#error "KFK_CONFIG_HEADER_PATH must point at include/kfk/config.h"
#endif

TEST_CASE("config.h documents exactly the registry keys, with their defaults") {
  std::ifstream in(KFK_CONFIG_HEADER_PATH);
  REQUIRE(in.good());
  std::map<std::string, std::string> documented;  // key -> default text
  std::regex key_line(R"(^//   ([a-z][a-z0-9.]*[a-z0-9])\s*$)");
  std::regex default_line(R"(^//     default: (.*)$)");
  std::string line, pending;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!pending.empty()) {
      REQUIRE_MESSAGE(std::regex_match(line, m, default_line), "no 'default:' line after key " << pending);
      std::string d = m[1];
      if (d == "\"\"") d.clear();
      CHECK_MESSAGE(documented.count(pending) == 0, "documented twice: " << pending);
      documented[pending] = d;
      pending.clear();
    } else if (std::regex_match(line, m, key_line)) {
      pending = m[1];
    }
  }
  for (const auto& k : kfk::core::config_registry()) {
    auto it = documented.find(k.name);
    CHECK_MESSAGE(it != documented.end(), "registry key not documented in config.h: " << k.name);
    if (it != documented.end())
      CHECK_MESSAGE(it->second == k.default_value, "default of " << k.name << ": config.h says '" << it->second
                                                                  << "', registry '" << k.default_value << "'");
  }
  for (const auto& [key, d] : documented)
    CHECK_MESSAGE(kfk::core::find_config_key(key) != nullptr, "config.h documents unknown key: " << key);
  CHECK(documented.size() == kfk::core::config_registry().size());
}
