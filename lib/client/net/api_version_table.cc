#include "client/net/api_version_table.h"

#include <algorithm>

#include "protocol/frame.h"

namespace kfk::net {

ApiVersionTable::ApiVersionTable(const proto::ApiVersionsResponse& resp) {
  for (const auto& k : resp.api_keys) {
    if (k.api_key < 0 || static_cast<size_t>(k.api_key) >= kSlots) continue;
    present_[k.api_key] = true;
    broker_min_[k.api_key] = k.min_version;
    broker_max_[k.api_key] = k.max_version;
  }
}

std::optional<std::pair<int16_t, int16_t>> ApiVersionTable::broker_range(int16_t api_key) const {
  if (api_key < 0 || static_cast<size_t>(api_key) >= kSlots || !present_[api_key]) return std::nullopt;
  return std::make_pair(broker_min_[api_key], broker_max_[api_key]);
}

int16_t ApiVersionTable::pick(int16_t api_key, int16_t min_v, int16_t max_v) const {
  auto r = broker_range(api_key);
  if (!r) return -1;
  int16_t hi = std::min(max_v, r->second);
  int16_t lo = std::max(min_v, r->first);
  return hi >= lo ? hi : -1;
}

int16_t ApiVersionTable::pick(int16_t api_key) const {
  const proto::ApiInfo* a = proto::find_api(api_key);
  if (a == nullptr) return -1;
  return pick(api_key, a->min_version, a->max_version);
}

bool decode_api_versions(proto::Reader body, int16_t version, proto::ApiVersionsResponse& out) {
  // Both layouts start with the int16 error code.
  proto::Reader peek = body;
  int16_t error = peek.i16();
  if (!peek.ok()) return false;
  if (error == 35 && version > 0) {  // UNSUPPORTED_VERSION: the broker wrote v0
    proto::Reader v0 = body;
    out = proto::ApiVersionsResponse();
    out.decode(v0, 0);
    if (v0.ok()) return true;
  }
  proto::Reader r = body;
  out = proto::ApiVersionsResponse();
  out.decode(r, version);
  if (r.ok()) return true;
  if (version == 0) return false;
  proto::Reader v0 = body;  // Java's parser falls back to v0 on any parse failure too
  out = proto::ApiVersionsResponse();
  out.decode(v0, 0);
  return v0.ok();
}

int16_t api_versions_fallback(const proto::ApiVersionsResponse& resp, int16_t tried) {
  for (const auto& k : resp.api_keys)
    if (k.api_key == proto::ApiVersionsRequest::kApiKey)
      return std::max<int16_t>(0, std::min<int16_t>(static_cast<int16_t>(tried - 1), k.max_version));
  return 0;
}

}  // namespace kfk::net
