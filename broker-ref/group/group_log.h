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
// Records go through the storage layer as ordinary uncompressed batches
// (producer id -1). load() replays every partition at broker start; the
// latest record per key wins and tombstones remove, as compaction would.
//
// Thread ownership: the loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "group/group.h"
#include "protocol/internal_offsets.h"
#include "storage/log_manager.h"

namespace kfk::broker {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

// Java's String.hashCode of the UTF-16 form of `s` (UTF-8 in; malformed
// bytes count as U+FFFD, as Java's decoder substitutes them).
int32_t java_string_hash(std::string_view s);

struct LoadedGroup {
  std::optional<proto::GroupMetadataValue> metadata;
  std::map<std::pair<std::string, int32_t>, CommittedOffset> offsets;
};

class GroupLog {
 public:
  struct KeyValue {
    proto::Bytes key;
    std::optional<proto::Bytes> value;  // nullopt: tombstone
    int64_t timestamp = 0;
  };
  // notify(partition, bytes) after each append (wakes long-poll fetches).
  GroupLog(LogManager& logs, int32_t num_partitions, int32_t segment_bytes,
           std::function<void(int32_t, size_t)> notify);

  int32_t partition_for(std::string_view group) const;
  // Creates the topic (compacted, num_partitions) unless it exists.
  Status ensure_topic();
  // Appends the records to the group's partition as one batch.
  Status append(std::string_view group, const std::vector<KeyValue>& records, int64_t now_ms);
  // Replays the topic (if present) into groups by id. A record it cannot
  // decode is skipped with a warning through `warn`.
  Status load(std::map<std::string, LoadedGroup>* out, const std::function<void(const std::string&)>& warn);

  static KeyValue offset_record(const std::string& group, const std::string& topic, int32_t partition,
                                const CommittedOffset* value, int64_t now_ms);
  static KeyValue group_record(const Group& group, int64_t now_ms);
  static KeyValue group_tombstone(const std::string& group, int64_t now_ms);

 private:
  LogManager& logs_;
  int32_t num_partitions_;
  int32_t segment_bytes_;
  std::function<void(int32_t, size_t)> notify_;
};

}  // namespace kfk::broker
