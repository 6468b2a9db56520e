// Topic metadata on disk and Kafka's naming rules.
//
//   <data-dir>/__meta/topics/<topic>.json   topic id, partition count, config
//                                           overrides (written tmp + rename)
//   <data-dir>/<topic>-<p>/partition.metadata  "version: 0" / "topic_id: <id>"
//                                           (as Kafka), to spot stale dirs
//   <data-dir>/<topic>-<p>.<32 hex>-delete   a deleted partition awaiting removal
//
// Thread ownership: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/types.h"
#include "storage/log_config.h"
#include "storage/status.h"

namespace kfk::broker {

inline constexpr size_t kMaxTopicNameLength = 249;
inline constexpr const char* kPartitionMetadataFile = "partition.metadata";

struct TopicInfo {
  std::string name;
  proto::Uuid id;
  int32_t partitions = 0;
  ConfigMap overrides;  // topic-level config overrides
};

// Kafka's Topic.validate: INVALID_TOPIC_EXCEPTION with Kafka's messages.
Status validate_topic_name(std::string_view name);
// Names equal once '.' is read as '_' collide (Kafka's metric names).
bool topic_names_collide(std::string_view a, std::string_view b);

std::string encode_topic_metadata(const TopicInfo& t);
Status decode_topic_metadata(std::string_view json, TopicInfo* out);

// Kafka's URL-safe base64 form of a topic id (22 characters).
std::optional<proto::Uuid> uuid_from_string(std::string_view s);

std::string encode_partition_metadata(const proto::Uuid& id);
std::optional<proto::Uuid> decode_partition_metadata(std::string_view text);

std::string partition_dir_name(std::string_view topic, int32_t partition);
// "<topic>-<partition>" -> (topic, partition); nullopt otherwise.
std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(std::string_view name);
// "<topic>-<p>.<uuid hex>-delete", the topic cut so the name fits 255 bytes.
std::string delete_dir_name(std::string_view topic, int32_t partition);
bool is_delete_dir_name(std::string_view name);

}  // namespace kfk::broker
