// kfk::TopicPartition: one partition of one topic, the unit of assignment,
// offsets and errors across the consumer and admin APIs.
//
//   kfk::TopicPartition tp{"orders", 3};
//   std::cout << tp.to_string();   // "orders-3", as Kafka prints it
//   std::map<kfk::TopicPartition, int64_t> offsets{{tp, 42}};
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace kfk {

struct TopicPartition {
  std::string topic;
  int32_t partition = -1;

  TopicPartition() = default;
  TopicPartition(std::string t, int32_t p) : topic(std::move(t)), partition(p) {}

  // Ordered by topic, then partition (std::map / std::set keys).
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;

  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

}  // namespace kfk

template <>
struct std::hash<kfk::TopicPartition> {
  size_t operator()(const kfk::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31u + static_cast<size_t>(static_cast<uint32_t>(tp.partition));
  }
};
