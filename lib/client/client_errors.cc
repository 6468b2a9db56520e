#include "client/client_errors.h"

#include <cstddef>

namespace kfk {
namespace {

constexpr proto::ErrorInfo kTable[] = {
#define KFK_CLIENT_ERROR_ROW_(name, code, retriable, text) {(code), #name, (retriable), (text)},
    KFK_CLIENT_ERRORS(KFK_CLIENT_ERROR_ROW_)
#undef KFK_CLIENT_ERROR_ROW_
};

constexpr size_t kTableSize = sizeof(kTable) / sizeof(kTable[0]);

// Lookup is by index, so the table must be dense: -100, -101, ..., min.
// Checked here, at compile time.
constexpr bool table_is_dense() {
  if (kTableSize != static_cast<size_t>(kMaxClientErrorCode - kMinClientErrorCode) + 1) return false;
  for (size_t i = 0; i < kTableSize; ++i) {
    if (kTable[i].code != kMaxClientErrorCode - static_cast<int>(i)) return false;
  }
  return true;
}
static_assert(table_is_dense(), "KFK_CLIENT_ERRORS must list -100..kMinClientErrorCode without gaps");

}  // namespace

std::span<const proto::ErrorInfo> all_client_errors() { return {kTable, kTableSize}; }

const proto::ErrorInfo* find_client_error(int code) {
  if (code > kMaxClientErrorCode || code < kMinClientErrorCode) return nullptr;
  return &kTable[static_cast<size_t>(kMaxClientErrorCode - code)];
}

}  // namespace kfk
