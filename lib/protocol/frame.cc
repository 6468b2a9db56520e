#include "protocol/frame.h"

#include <algorithm>
#include <array>

#include "protocol/api_list.h"

namespace kfk::proto {

namespace {

#define KFK_API_INFO(Name, key, lo, hi, flex) ApiInfo{key, #Name, lo, hi, flex},
constexpr ApiInfo kApis[] = {KFK_PROTOCOL_APIS(KFK_API_INFO)};
#undef KFK_API_INFO

constexpr int16_t kApiVersionsKey = 18;

}  // namespace

std::span<const ApiInfo> all_apis() { return kApis; }

const ApiInfo* find_api(int16_t key) {
  for (const auto& a : kApis)
    if (a.key == key) return &a;
  return nullptr;
}

int16_t request_header_version(int16_t api_key, int16_t api_version) {
  const ApiInfo* a = find_api(api_key);
  return (a && a->flexible_version >= 0 && api_version >= a->flexible_version) ? 2 : 1;
}

int16_t response_header_version(int16_t api_key, int16_t api_version) {
  if (api_key == kApiVersionsKey) return 0;
  const ApiInfo* a = find_api(api_key);
  return (a && a->flexible_version >= 0 && api_version >= a->flexible_version) ? 1 : 0;
}

size_t begin_request(Writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id,
                     const std::optional<std::string>& client_id) {
  size_t at = w.reserve_i32();
  RequestHeader h;
  h.request_api_key = api_key;
  h.request_api_version = api_version;
  h.correlation_id = correlation_id;
  h.client_id = client_id;
  h.encode(w, request_header_version(api_key, api_version));
  return at;
}

size_t begin_response(Writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id) {
  size_t at = w.reserve_i32();
  ResponseHeader h;
  h.correlation_id = correlation_id;
  h.encode(w, response_header_version(api_key, api_version));
  return at;
}

void finish_frame(Writer& w, size_t size_at) {
  w.patch_i32(size_at, static_cast<int32_t>(w.size() - size_at - 4));
}

bool parse_request_header(Reader& r, ParsedRequestHeader& out) {
  // Peek key and version: they decide the header version.
  Reader peek = r;
  int16_t key = peek.i16();
  int16_t version = peek.i16();
  if (!peek.ok()) {
    r.fail("truncated request header");
    return false;
  }
  const ApiInfo* a = find_api(key);
  out.known = a && version >= a->min_version && version <= a->max_version;
  out.header.decode(r, out.known ? request_header_version(key, version) : 1);
  return r.ok();
}

bool parse_response_header(Reader& r, int16_t api_key, int16_t api_version, ResponseHeader& out) {
  out.decode(r, response_header_version(api_key, api_version));
  return r.ok();
}

}  // namespace kfk::proto
