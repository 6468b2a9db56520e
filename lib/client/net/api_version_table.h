// ApiVersionTable: what a broker said it supports (ApiVersions response)
// intersected with what kfk's codec implements. Loop thread (owned by a
// BrokerConnection), but immutable once built, so copies may travel.
//
// The version used for an API is min(our max, broker max), provided it is
// >= max(our min, broker min); otherwise the API is unusable with that
// broker and requests for it fail locally with errc::kNoCommonApiVersion.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "protocol/api_versions.h"

namespace kfk::net {

class ApiVersionTable {
 public:
  ApiVersionTable() = default;
  explicit ApiVersionTable(const proto::ApiVersionsResponse& resp);

  // The broker's own range for `api_key`, or nullopt if it did not list it.
  std::optional<std::pair<int16_t, int16_t>> broker_range(int16_t api_key) const;
  // The highest version usable with the caller's range [min_v, max_v]
  // (already within the codec's), or -1.
  int16_t pick(int16_t api_key, int16_t min_v, int16_t max_v) const;
  // pick() over the codec's whole range.
  int16_t pick(int16_t api_key) const;

 private:
  static constexpr size_t kSlots = 128;  // api keys are small; larger ones are ignored
  std::array<int16_t, kSlots> broker_min_{};
  std::array<int16_t, kSlots> broker_max_{};
  std::array<bool, kSlots> present_{};
};

// Decodes an ApiVersions response body with Kafka's fallback: a broker that
// does not support the version we sent answers UNSUPPORTED_VERSION in the v0
// layout. Returns false if the body is malformed in both layouts.
bool decode_api_versions(proto::Reader body, int16_t version, proto::ApiVersionsResponse& out);

// The version to retry ApiVersions with after UNSUPPORTED_VERSION: the
// broker's max for ApiVersions capped by ours, or 0 if it listed none.
int16_t api_versions_fallback(const proto::ApiVersionsResponse& resp, int16_t tried);

}  // namespace kfk::net
