// Small parsing helpers shared by config validation (and its tests).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kfk::core {

std::string_view trim(std::string_view s);
// Decimal integer, spaces around allowed; false on garbage or overflow.
bool parse_int64(std::string_view s, int64_t& out);
// "true" / "false", any case, spaces around allowed.
bool parse_bool(std::string_view s, bool& out);
// Comma-separated, items trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view s);
// Splits a '|'-separated choices string.
std::vector<std::string_view> split_choices(const char* choices);
// "a, b or c" for error messages.
std::string join_choices(const char* choices);
// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace kfk::core
