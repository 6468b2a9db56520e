// The coordinator's durable state: the compacted internal topic
// __consumer_offsets, in Kafka's own record formats (internal_offsets.kfs),
// so the data dir reads like a Kafka broker's:
//   offset commit   key: int16 1 + OffsetCommitKey v1 (group, topic, partition)
//                   value: int16 3 + OffsetCommitValue v3; null = deleted
//   group metadata  key: int16 2 + GroupMetadataKey v2 (group)
//                   value: int16 3 + GroupMetadataValue v3; null = deleted
// (the versions Kafka 3.x writes). A group lives in partition
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions, Java's
// String.hashCode over UTF-16, so the placement matches Kafka's too.
//
// The coordinator runtime (coordinator/coordinator_runtime.h) places,
// appends (ordinary uncompressed batches, producer id -1) and replays them;
// this file knows the group records. On replay the latest record per key
// wins and tombstones remove, as compaction would.
//
// Thread ownership: the loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/coordinator_runtime.h"
#include "group/group.h"
#include "protocol/internal_offsets.h"

namespace kfk::broker {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

struct LoadedGroup {
  std::optional<proto::GroupMetadataValue> metadata;
  std::map<std::pair<std::string, int32_t>, CommittedOffset> offsets;
};

class GroupLog {
 public:
  using KeyValue = CoordinatorRecord;
  explicit GroupLog(CoordinatorRuntime& runtime) : runtime_(runtime) {}

  int32_t partition_for(std::string_view group) const { return runtime_.partition_for(group); }
  // Creates the topic (compacted, num_partitions) unless it exists.
  Status ensure_topic() { return runtime_.ensure_topic(); }
  // Appends the records to the group's partition as one batch.
  Status append(std::string_view group, const std::vector<KeyValue>& records, int64_t now_ms) {
    return runtime_.append(partition_for(group), records, now_ms);
  }

  // Applies one replayed record to the groups by id; false when it is
  // undecodable or of a record type this coordinator does not know.
  static bool apply_record(const proto::Record& rec, std::map<std::string, LoadedGroup>* out);

  static KeyValue offset_record(const std::string& group, const std::string& topic, int32_t partition,
                                const CommittedOffset* value, int64_t now_ms);
  static KeyValue group_record(const Group& group, int64_t now_ms);
  static KeyValue group_tombstone(const std::string& group, int64_t now_ms);

 private:
  CoordinatorRuntime& runtime_;
};

}  // namespace kfk::broker
