// OffsetCommit, OffsetFetch and ListOffsets request bodies, shared by the
// consumer (group member, fetcher) and the admin client. Partitions are
// grouped by topic in the order given, so a sorted input makes one entry
// per topic. Pure functions; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "client/net/cluster_metadata.h"
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

// ListOffsets for each (partition, timestamp): -2 earliest, -1 latest, -3
// max timestamp (v7+), else a time. Each partition carries its current
// leader epoch from `md` when known (v4+: the leader fences stale asks,
// KIP-320). replica_id -1: a client, not a follower.
proto::ListOffsetsRequest list_offsets_request(const std::vector<std::pair<TopicPartition, int64_t>>& partitions,
                                               int8_t isolation_level, int32_t timeout_ms,
                                               const net::ClusterMetadata* md);

}  // namespace kfk::consumer
