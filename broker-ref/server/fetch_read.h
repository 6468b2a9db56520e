// Fetch: reading the partitions of one request under its byte limits, and
// building the response from what was read.
//
// Limits (Kafka's): the response carries at most min(request max_bytes,
// fetch.max.bytes); each partition at most its partition_max_bytes. From
// v3, the first partition with data returns at least one whole batch even
// if larger (KIP-74); before v3 the limits are hard (a batch may be cut).
// Consumers read up to the high watermark (read_committed: the last
// stable offset); followers (replica_id >= 0) up to the log end.
// Records are zero-copy file slices of the segment (owner: the segment);
// Fetch v0-v3 (served emulating Kafka 3.9) gets them down-converted to
// magic 0 (v0-v1) or 1 (v2-v3) message sets, as Kafka 3.x.
//
// Thread ownership: the loop thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/messages.h"

namespace kfk::broker {

class Broker;

struct FetchTarget {
  std::string topic;     // the name (resolved from the id for v13+; "" if unknown)
  proto::Uuid topic_id;  // v13+
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  int32_t current_leader_epoch = -1;
};

struct FetchParams {
  int16_t version = 0;
  int32_t max_bytes = INT32_MAX;
  int8_t isolation_level = 0;  // 1: read_committed
  bool from_follower = false;
};

struct PartitionFetch {
  int16_t error = 0;
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  proto::Records records = proto::Records::view(nullptr, 0);
};

// Reads every target in order. *total_bytes: record bytes read;
// *any_error: some partition failed (Kafka then answers at once).
std::vector<PartitionFetch> read_fetch_targets(Broker& b, const FetchParams& params,
                                               const std::vector<FetchTarget>& targets, size_t* total_bytes,
                                               bool* any_error);

// Appends one partition to the response, grouping consecutive partitions
// of the same topic under one topic entry.
void add_fetch_partition(proto::FetchResponse& resp, const FetchParams& params, const FetchTarget& target,
                         PartitionFetch&& data);

}  // namespace kfk::broker
