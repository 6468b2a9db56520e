#include "client/producer/idempotence.h"

namespace kfk::producer {

void IdempotenceState::set_producer(int64_t producer_id, int16_t producer_epoch) {
  producer_id_ = producer_id;
  producer_epoch_ = producer_epoch;
  bump_pending_ = false;
  for (auto& [topic, parts] : topics_) {
    for (Partition& p : parts) {
      p.next_sequence = 0;
      p.last_acked = -1;
    }
  }
}

IdempotenceState::Partition& IdempotenceState::partition(std::string_view topic, int32_t partition) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) it = topics_.emplace(std::string(topic), std::vector<Partition>()).first;
  auto& parts = it->second;
  if (static_cast<size_t>(partition) >= parts.size()) parts.resize(static_cast<size_t>(partition) + 1);
  return parts[static_cast<size_t>(partition)];
}

}  // namespace kfk::producer
