// libFuzzer target: any bytes as a batch's records section. The first two
// bytes give the record count (12 bits) and how many times the rest is
// repeated (1 to 16), so records of one shape, which validate_records
// matches instead of parsing, come up often. The walk must never crash or read out of
// bounds, and validate_records (record shapes) must give the plain walk's
// verdict, reason and null keys.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/record_walk.h"

using namespace kfk::proto;

namespace {

struct Plain {
  std::vector<int32_t>& null_keys;
  int32_t index = 0;
  size_t header_bytes = 0;  // touches every header the walk hands out
  void header(std::string_view key, std::optional<std::string_view> value) {
    header_bytes += key.size() + (value ? value->size() : 0);
  }
  void record(const RecordFields& f) {
    if (!f.key) null_keys.push_back(index);
    ++index;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  BatchHeader h;
  h.record_count = static_cast<int32_t>((data[0] << 4) | (data[1] >> 4));
  const int repeat = (data[1] & 15) + 1;
  // The records section in a buffer of its own: the walk must not read
  // past its end (ASan catches any read beyond it).
  std::vector<uint8_t> records;
  for (int i = 0; i < repeat; ++i) records.insert(records.end(), data + 2, data + size);
  const std::span<const uint8_t> section(records);

  std::vector<int32_t> plain_keys, shaped_keys;
  const char* plain_why = nullptr;
  const char* shaped_why = nullptr;
  const bool plain_ok = walk_records(h, section, Plain{plain_keys}, &plain_why);
  const bool shaped_ok = validate_records(h, section, &shaped_keys, &shaped_why);
  if (plain_ok != shaped_ok) abort();
  if (!plain_ok && std::strcmp(plain_why, shaped_why) != 0) abort();
  if (plain_ok && plain_keys != shaped_keys) abort();
  const char* why = nullptr;
  if (validate_records(h, section, nullptr, &why) != plain_ok) abort();
  return 0;
}
