// OffsetCommit and OffsetFetch request bodies, shared by the consumer's
// group coordinator and the admin client. Partitions are grouped by topic
// in the order given, so a sorted input makes one entry per topic.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kfk/consumer.h"
#include "protocol/messages.h"

namespace kfk::consumer {

// Generation -1, no member: a "simple" commit; a member sets its own.
proto::OffsetCommitRequest offset_commit_request(const std::string& group,
                                                 const std::map<TopicPartition, OffsetAndMetadata>& offsets);

// Both shapes (v0-v7's top-level topics, v8+'s groups[]): the codec writes
// the one of the version. `partitions` null: every partition (v2+).
proto::OffsetFetchRequest offset_fetch_request(const std::string& group, const std::vector<TopicPartition>* partitions,
                                               bool require_stable);

}  // namespace kfk::consumer
