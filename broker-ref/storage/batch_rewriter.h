// Rewrites record batches for the log cleaner, in the RecordBatch v2 layout
// (see protocol/record_batch.h). Unlike proto::BatchBuilder, records keep
// their original offset deltas and timestamps, and the header keeps the
// original base offset, last offset delta, producer id/epoch/base sequence
// and leader epoch, as Kafka's MemoryRecords.filterTo does: the batch still
// spans the same offsets and sequence numbers, so producer state and
// offsets survive compaction.
//
// Thread ownership: pure functions (the maintenance thread's cleaner).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "protocol/record_batch.h"

namespace kfk::broker {

// Builds a batch holding `kept` (a subset of the decoded records of
// `original`, in offset order) into *out (replaced). With delete_horizon_ms
// the batch carries Kafka's delete-horizon attribute (KIP-534): its base
// timestamp is the time after which its tombstones may be removed. The
// records are recompressed with the original codec (uncompressed if that
// codec is not available in this build).
void rebuild_batch(const proto::BatchHeader& original, std::span<const proto::Record* const> kept,
                   std::optional<int64_t> delete_horizon_ms, std::vector<uint8_t>* out);
// The same with another codec and level (-1: the codec's default): the
// broker recompressing a produced batch to its topic's compression.type.
void rebuild_batch(const proto::BatchHeader& original, std::span<const proto::Record* const> kept,
                   std::optional<int64_t> delete_horizon_ms, proto::Compression codec, int level,
                   std::vector<uint8_t>* out);

// A batch with no records that keeps the header (offsets, producer id,
// epoch, sequence): Kafka retains the last batch of an active producer this
// way so its sequence number survives compaction.
void write_empty_batch(const proto::BatchHeader& original, std::vector<uint8_t>* out);

}  // namespace kfk::broker
