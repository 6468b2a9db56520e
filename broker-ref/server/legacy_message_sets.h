// Legacy message sets (magic 0 and 1), which Kafka 3.x still takes on
// Produce v0-v2 and serves on Fetch v0-v3, and which broker-ref handles
// when it emulates Kafka 3.9 (broker.emulated.kafka.version):
//
//   offset int64 | message_size int32 | crc uint32 (CRC32, IEEE, of what
//   follows it) | magic int8 | attributes int8 (codec bits 0-2; magic 1:
//   bit 3 set = LogAppendTime) | timestamp int64 (magic 1 only) |
//   key bytes (int32 length, -1 null) | value bytes (int32 length, -1 null)
//
// A compressed message is a wrapper whose value is the compressed message
// set of its inner messages (magic 1: inner offsets relative to the
// wrapper's first, the wrapper's offset the last inner one's; magic 0:
// inner offsets absolute).
//
// The log only holds record batches (magic 2): a Produce converts on the
// way in and a Fetch down-converts on the way out, as Kafka 3.x's
// LogValidator and LazyDownConversionRecords do. Neither is a hot path
// (only clients that predate Kafka 0.11 send or ask for these formats).
//
// Thread ownership: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "storage/status.h"

namespace kfk::broker {

// The magic byte of a Produce `records` field (or -1 if too short to say):
// legacy sets and batches keep it at the same position.
int8_t records_magic(std::span<const uint8_t> records);

// Converts a Produce v0-v2 message set of magic 0/1 messages into one
// uncompressed-or-recompressed record batch, as Kafka 3.x's LogValidator:
// every message (inner ones of compressed wrappers) becomes a record in
// order, keeping key and value; timestamps are magic 1's (a wrapper with
// LogAppendTime gives its own to its inner messages) and -1 (NO_TIMESTAMP)
// for magic 0; the batch is compressed with the codec of the compressed
// wrappers (none when there are none). Offsets are assigned later by the
// log, as for any batch. Each message's CRC32 is checked (inner ones too),
// and each top-level message against max_message_bytes. Errors:
// CORRUPT_MESSAGE (framing, CRC, undecodable compressed value),
// INVALID_RECORD (magic 0/1 mixed with magic 2, or an empty set),
// MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE (zstd, which legacy
// messages cannot carry, or a codec broker-ref was built without).
Status convert_legacy_message_set(std::span<const uint8_t> message_set, int32_t max_message_bytes,
                                  std::vector<uint8_t>* batch_out);

// Down-converts consecutive record batches (a log slice; a trailing partial
// batch is dropped) to a message set of `magic` (0 or 1), as Kafka 3.x does
// for Fetch v0-v3: control batches are skipped, headers dropped, magic 0
// loses timestamps; a compressed batch becomes one wrapper message with its
// codec (zstd: UNSUPPORTED_COMPRESSION_TYPE, as Kafka answers Fetch < v10).
Status down_convert_batches(std::span<const uint8_t> batches, int8_t magic, std::vector<uint8_t>* out);

// CRC32 (IEEE 802.3, zlib's), which legacy messages carry.
uint32_t crc32_ieee(std::span<const uint8_t> data);

}  // namespace kfk::broker
