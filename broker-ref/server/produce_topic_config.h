// What a topic's config does to produced batches, as Kafka's LogValidator:
//
// compression.type: a topic whose compression.type names a codec
// (uncompressed, gzip, snappy, lz4, zstd) stores every produced batch in
// that codec, at the level the topic sets (compression.gzip/lz4/zstd.level);
// a batch already in the topic's codec is kept as it is, and "producer"
// keeps every batch as produced. A rebuilt batch keeps its records (offset
// deltas, timestamps, keys, values, headers) and header fields (producer
// id, epoch, base sequence), so idempotent producers are unaffected.
//
// message.timestamp.before.max.ms / after.max.ms (3.x: also
// difference.max.ms): on a CreateTime topic, a record whose timestamp is
// further behind / ahead of the broker's clock fails the partition with
// INVALID_TIMESTAMP and a record error. LogAppendTime topics overwrite the
// timestamps instead (Log::append).
//
// Thread ownership: pure functions (the loop thread's Produce handler).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "server/produce_validation.h"
#include "storage/log_config.h"

namespace kfk::broker {

// When some batch of `batches` (validated record batches of one partition)
// is not in the topic's codec, fills *out with all of them, rewritten where
// needed, in order; leaves *out empty when `batches` can be stored as they
// are. CORRUPT_MESSAGE when a batch cannot be decoded.
Status recompress_to_topic_codec(std::span<const uint8_t> batches, const LogConfig& cfg, std::vector<uint8_t>* out);

// INVALID_TIMESTAMP (with the offending record in *errors) when a record of
// a CreateTime topic is outside [now - before.max.ms, now + after.max.ms].
// Records are only decoded when the topic sets a bound.
Status check_timestamp_bounds(std::span<const uint8_t> batches, const LogConfig& cfg, int64_t now_ms,
                              std::vector<RecordError>* errors);

}  // namespace kfk::broker
