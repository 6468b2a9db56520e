// kfk::TopicPartition: one partition of one topic, the unit of assignment,
// offsets and errors across the consumer and admin APIs.
//
//   kfk::TopicPartition tp{"orders", 3};
//   std::cout << tp.to_string();   // "orders-3", as Kafka prints it
//   std::map<kfk::TopicPartition, int64_t> offsets{{tp, 42}};
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace kfk {

struct KFK_EXPORT TopicPartition {
  std::string topic;
  int32_t partition = -1;

  TopicPartition() = default;
  TopicPartition(std::string t, int32_t p) : topic(std::move(t)), partition(p) {}

  // Ordered by topic, then partition (std::map / std::set keys).
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;

  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

// An offset to commit for a partition, with optional metadata (free text
// stored with the commit and returned with it) and the leader epoch of the
// record before it (KIP-320; nullopt when unknown). Shared by the consumer's
// commits and the admin client's group-offset calls.
struct OffsetAndMetadata {
  int64_t offset = -1;
  std::string metadata;
  std::optional<int32_t> leader_epoch;
};

}  // namespace kfk

template <>
struct std::hash<kfk::TopicPartition> {
  size_t operator()(const kfk::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31u + static_cast<size_t>(static_cast<uint32_t>(tp.partition));
  }
};

#endif  // KFK_INTERNAL_CXX20
