// The user_data the sticky assignors put in their subscriptions, byte for
// byte as Java's StickyAssignor and CooperativeStickyAssignor (and
// librdkafka) write it, so mixed groups keep their stickiness.
//
// StickyAssignorUserData (eager "sticky"; the member's previous assignment,
// since an eager member has revoked everything by the time it joins):
//   v0: previous_assignment: [topic: string(int16 len), partitions: [int32]]
//   v1: v0 followed by generation: int32
// CooperativeStickyAssignorUserData ("cooperative-sticky"; the partitions
// themselves travel in the subscription's owned_partitions):
//   generation: int32
// All integers big-endian; arrays are an int32 count then the elements.
#pragma once

#include <cstdint>
#include <vector>

#include "kfk/topic_partition.h"

namespace kfk::assignors {

struct StickyUserData {
  std::vector<TopicPartition> partitions;
  int32_t generation = -1;  // -1: v0 data, or none
};

std::vector<uint8_t> encode_sticky_user_data(const std::vector<TopicPartition>& partitions, int32_t generation);
// False for bytes that parse as neither version; Java then ignores the
// member's previous assignment, and so do we (`out` is left empty, -1).
bool decode_sticky_user_data(const std::vector<uint8_t>& data, StickyUserData& out);

std::vector<uint8_t> encode_cooperative_user_data(int32_t generation);
// -1 when `data` is empty or too short.
int32_t decode_cooperative_user_data(const std::vector<uint8_t>& data);

}  // namespace kfk::assignors
