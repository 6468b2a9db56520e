// register_assignor / unregister_assignor / create_assignor.
#include "client/consumer/assignors/registry.h"

#include <map>
#include <mutex>

#include "client/consumer/assignors/builtin.h"
#include "kfk/assignor.h"

namespace kfk::assignors {
namespace {

struct Builtin {
  const char* name;
  const char* java;  // class name in org.apache.kafka.clients.consumer
  std::unique_ptr<PartitionAssignor> (*make)();
};
constexpr Builtin kBuiltins[] = {
    {"range", "RangeAssignor", make_range},
    {"roundrobin", "RoundRobinAssignor", make_roundrobin},
    {"sticky", "StickyAssignor", make_sticky},
    {"cooperative-sticky", "CooperativeStickyAssignor", make_cooperative_sticky},
};

struct Registry {
  std::mutex mu;
  std::map<std::string, AssignorFactory, std::less<>> custom;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: usable from static destructors
  return *r;
}

// Names that config validation could never pass through to the registry: a
// comma splits the list, surrounding blanks are trimmed.
bool usable_name(std::string_view name) {
  if (name.empty() || name.find(',') != std::string_view::npos) return false;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  return !blank(name.front()) && !blank(name.back());
}

}  // namespace

const std::vector<std::string>& builtin_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& b : kBuiltins) v.emplace_back(b.name);
    return v;
  }();
  return names;
}

std::string canonical_builtin(std::string_view name) {
  constexpr std::string_view kPackage = "org.apache.kafka.clients.consumer.";
  std::string_view simple = name;
  if (simple.starts_with(kPackage)) simple.remove_prefix(kPackage.size());
  for (const auto& b : kBuiltins)
    if (name == b.name || simple == b.java) return b.name;
  return {};
}

bool is_registered(std::string_view name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.custom.find(name) != r.custom.end();
}

std::string known_names() {
  std::string out;
  for (const auto& n : builtin_names()) out += (out.empty() ? "" : ", ") + n;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const auto& [n, f] : r.custom) out += ", " + n;
  return out;
}

}  // namespace kfk::assignors

namespace kfk {

Error register_assignor(std::string name, AssignorFactory factory) {
  if (!assignors::usable_name(name))
    return Error(errc::kInvalidArgument, "register_assignor: invalid assignor name '" + name +
                                             "' (empty, contains ',' or has surrounding blanks)");
  if (!factory) return Error(errc::kInvalidArgument, "register_assignor: no factory for '" + name + "'");
  if (!assignors::canonical_builtin(name).empty())
    return Error(errc::kInvalidArgument, "register_assignor: '" + name + "' names a built-in assignor");
  auto& r = assignors::registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.custom.count(name) != 0)
    return Error(errc::kInvalidArgument, "register_assignor: an assignor is already registered as '" + name + "'");
  r.custom.emplace(std::move(name), std::move(factory));
  return Error();
}

bool unregister_assignor(std::string_view name) {
  auto& r = assignors::registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.custom.find(name);
  if (it == r.custom.end()) return false;
  r.custom.erase(it);
  return true;
}

Error create_assignor(std::string_view name, std::unique_ptr<PartitionAssignor>& out) {
  std::string builtin = assignors::canonical_builtin(name);  // Java class names too
  for (const auto& b : assignors::kBuiltins)
    if (builtin == b.name) {
      out = b.make();
      return Error();
    }
  AssignorFactory factory;
  {
    auto& r = assignors::registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (auto it = r.custom.find(name); it != r.custom.end()) factory = it->second;
  }
  // Called outside the lock: a factory may itself consult the registry.
  if (factory) {
    std::unique_ptr<PartitionAssignor> a = factory();
    if (!a)
      return Error(errc::kInvalidArgument, "the factory registered for assignor '" + std::string(name) +
                                               "' returned no assignor");
    out = std::move(a);
    return Error();
  }
  return Error(errc::kInvalidClientConfig, "Unknown partition assignor '" + std::string(name) +
                                         "' (partition.assignment.strategy): known assignors are " +
                                         assignors::known_names());
}

}  // namespace kfk
