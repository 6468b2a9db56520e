#include "protocol/error_codes.h"

#include <cstddef>
#include <cstdint>

namespace kfk::proto {
namespace {

constexpr ErrorInfo kTable[] = {
#define KFK_PROTO_ERROR_ROW_(name, code, retriable, text) {(code), #name, (retriable), (text)},
    KFK_PROTO_ERRORS(KFK_PROTO_ERROR_ROW_)
#undef KFK_PROTO_ERROR_ROW_
};

constexpr size_t kTableSize = sizeof(kTable) / sizeof(kTable[0]);
constexpr size_t kKafkaCount = static_cast<size_t>(kMaxKafkaErrorCode) + 2;  // -1 .. max

// Lookup is by index, so the table must be dense: -1, 0, 1, ..., max.
// Checked here, at compile time.
constexpr bool table_is_dense() {
  if (kTableSize != kKafkaCount) return false;
  for (size_t i = 0; i < kKafkaCount; ++i) {
    if (kTable[i].code != static_cast<int>(i) - 1) return false;
  }
  return true;
}
static_assert(table_is_dense(), "KFK_PROTO_ERRORS must list -1..kMaxKafkaErrorCode without gaps");

constexpr ErrorInfo kUnknown = {INT16_MIN, "UNKNOWN_ERROR_CODE", false, "Unknown error code"};

}  // namespace

std::span<const ErrorInfo> all_errors() { return {kTable, kTableSize}; }

const ErrorInfo* find_error(int16_t code) {
  if (code >= -1 && code <= kMaxKafkaErrorCode) return &kTable[code + 1];
  return nullptr;
}

const ErrorInfo& error_info(int16_t code) {
  const ErrorInfo* e = find_error(code);
  return e ? *e : kUnknown;
}

const char* error_name(int16_t code) { return error_info(code).name; }

bool is_retriable(int16_t code) { return error_info(code).retriable; }

}  // namespace kfk::proto
