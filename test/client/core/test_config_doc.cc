// include/kfk/config.h must document every registry key with its default,
// and nothing else: each key is a line "//   <key>" followed by
// "//     default: <value>" ("" for empty).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/core/config_registry.h"
#include "kfk/admin.h"
#include "kfk/consumer.h"
#include "kfk/producer.h"

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

// "Not available yet" lines name values create() refuses: each is tried on
// every kind of client the key applies to.
TEST_CASE("config.h: every value documented as not available yet is refused by create()") {
  std::ifstream in(KFK_CONFIG_HEADER_PATH);
  REQUIRE(in.good());
  const std::string key_prefix = "//   ", applies = "//     Applies to: ",
                    marker = "//     Not available yet: create() fails (errc::kUnsupportedFeature) for ";
  std::string line, key, kinds;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.rfind(key_prefix, 0) == 0 && line.size() > key_prefix.size() && line[key_prefix.size()] != ' ') {
      key = line.substr(key_prefix.size());
      kinds.clear();
    } else if (line.rfind(applies, 0) == 0) {
      kinds = line.substr(applies.size(), line.find('.', applies.size()) - applies.size());
    } else if (line.rfind("//     Not available yet", 0) == 0) {
      REQUIRE_MESSAGE(line.rfind(marker, 0) == 0, "malformed 'Not available yet' line under " << key << ": " << line);
      REQUIRE_MESSAGE(!kinds.empty(), "'Not available yet' before 'Applies to' under " << key);
      std::vector<std::string> values;
      for (size_t q = line.find('"', marker.size()); q != std::string::npos; q = line.find('"', q + 1)) {
        size_t end = line.find('"', q + 1);
        REQUIRE(end != std::string::npos);
        values.push_back(line.substr(q + 1, end - q - 1));
        q = end;
      }
      REQUIRE_MESSAGE(!values.empty(), "no quoted value under " << key);
      for (const auto& v : values) {
        kfk::Config cfg{{"bootstrap.servers", "127.0.0.1:1"}, {"group.id", "doc-test"}, {key, v}};
        CAPTURE(key);
        CAPTURE(v);
        kfk::Error err;
        if (kinds.find("producer") != std::string::npos) {
          std::unique_ptr<kfk::Producer> p;
          err = kfk::Producer::create(cfg, &p);
          CHECK(err.code() == kfk::errc::kUnsupportedFeature);
          ++checked;
        }
        if (kinds.find("consumer") != std::string::npos) {
          std::unique_ptr<kfk::Consumer> c;
          err = kfk::Consumer::create(cfg, &c);
          CHECK(err.code() == kfk::errc::kUnsupportedFeature);
          ++checked;
        }
        if (kinds.find("admin") != std::string::npos) {
          std::unique_ptr<kfk::Admin> a;
          err = kfk::Admin::create(cfg, &a);
          CHECK(err.code() == kfk::errc::kUnsupportedFeature);
          ++checked;
        }
      }
    }
  }
  CHECK(checked >= 3);
}
