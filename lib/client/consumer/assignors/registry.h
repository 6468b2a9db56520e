// The assignor registry behind kfk::register_assignor / create_assignor, and
// the lookups config validation needs. The built-in assignors are always
// known; custom ones are registered process-wide.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kfk::assignors {

// "range", "roundrobin", "sticky", "cooperative-sticky".
const std::vector<std::string>& builtin_names();

// The canonical built-in name for `name` ("range", or one of the Java class
// names "org.apache.kafka.clients.consumer.RangeAssignor" / "RangeAssignor"),
// or empty when `name` is not a built-in.
std::string canonical_builtin(std::string_view name);

// True when a custom assignor is registered under exactly `name`.
bool is_registered(std::string_view name);

// Every name create_assignor() accepts (built-ins first, then custom names
// sorted), joined with ", " for error messages.
std::string known_names();

}  // namespace kfk::assignors
