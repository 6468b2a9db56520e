// Kafka's checkpoint text files: a version line, an entry-count line, then
// one entry per line with space-separated fields. Used for
// recovery-point-offset-checkpoint, log-start-offset-checkpoint and
// cleaner-offset-checkpoint ("topic partition offset") at the data dir, and
// leader-epoch-checkpoint ("epoch startOffset") in each partition dir.
// Written atomically (tmp + rename) so a crash leaves the old or new file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storage/status.h"

namespace kfk::broker {

inline constexpr const char* kRecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
inline constexpr const char* kLogStartOffsetCheckpoint = "log-start-offset-checkpoint";
inline constexpr const char* kCleanerOffsetCheckpoint = "cleaner-offset-checkpoint";
inline constexpr const char* kLeaderEpochCheckpoint = "leader-epoch-checkpoint";

// Writes `lines` (already formatted entries) under the version/count header.
Status write_checkpoint_at(int dirfd, const std::string& name, int version, const std::vector<std::string>& lines,
                           bool durable);
// Reads entries with exactly `fields` fields each. A missing file gives an
// empty list and Ok; a malformed one (wrong version, count mismatch, bad
// field count) gives CORRUPT_MESSAGE naming the file.
Status read_checkpoint_at(int dirfd, const std::string& name, int version, size_t fields,
                          std::vector<std::vector<std::string>>* entries);

using TopicPartition = std::pair<std::string, int32_t>;
using TopicPartitionOffsets = std::map<TopicPartition, int64_t>;

Status write_offset_checkpoint_at(int dirfd, const std::string& name, const TopicPartitionOffsets& offsets,
                                  bool durable);
Status read_offset_checkpoint_at(int dirfd, const std::string& name, TopicPartitionOffsets* out);

// Strict decimal parsers (whole string, no spaces).
bool parse_int64(std::string_view s, int64_t* out);
bool parse_int32(std::string_view s, int32_t* out);

}  // namespace kfk::broker
