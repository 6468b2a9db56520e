#include "storage/batch_rewriter.h"

#include <algorithm>

#include "protocol/compression.h"
#include "protocol/crc32c.h"
#include "protocol/big_endian.h"
#include "protocol/writer.h"

namespace kfk::broker {
namespace {

using proto::batch_attr::kCompressionMask;
using proto::batch_attr::kDeleteHorizon;

// Header fields in order; lengths and CRC patched by finish().
void write_header(proto::Writer& w, const proto::BatchHeader& h, int16_t attributes, int64_t base_ts, int64_t max_ts,
                  int32_t count) {
  w.i64(h.base_offset);
  w.i32(0);  // batch length
  w.i32(h.partition_leader_epoch);
  w.i8(proto::kMagicV2);
  w.u32(0);  // crc
  w.i16(attributes);
  w.i32(h.last_offset_delta);
  w.i64(base_ts);
  w.i64(max_ts);
  w.i64(h.producer_id);
  w.i16(h.producer_epoch);
  w.i32(h.base_sequence);
  w.i32(count);
}

void finish(proto::Writer& w, std::vector<uint8_t>* out) {
  *out = w.take();
  proto::store_be32(out->data() + 8, static_cast<uint32_t>(out->size() - proto::kBatchLogOverhead));
  proto::store_be32(out->data() + proto::kBatchCrcOffset,
                    proto::crc32c(out->data() + proto::kBatchAttributesOffset,
                                  out->size() - proto::kBatchAttributesOffset));
}

void write_nullable(proto::Writer& w, const std::optional<std::span<const uint8_t>>& b) {
  if (!b) {
    w.varint(-1);
    return;
  }
  w.varint(static_cast<int64_t>(b->size()));
  w.raw(b->data(), b->size());
}

}  // namespace

void rebuild_batch(const proto::BatchHeader& original, std::span<const proto::Record* const> kept,
                   std::optional<int64_t> delete_horizon_ms, std::vector<uint8_t>* out) {
  rebuild_batch(original, kept, delete_horizon_ms, original.compression(), -1, out);
}

void rebuild_batch(const proto::BatchHeader& original, std::span<const proto::Record* const> kept,
                   std::optional<int64_t> delete_horizon_ms, proto::Compression codec, int level,
                   std::vector<uint8_t>* out) {
  const bool log_append = original.timestamp_type() == proto::TimestampType::kLogAppendTime;
  int64_t base_ts = original.base_timestamp;
  int64_t max_ts = original.max_timestamp;
  if (!log_append && !kept.empty()) {
    base_ts = kept.front()->timestamp;
    max_ts = kept.front()->timestamp;
    for (const auto* r : kept) max_ts = std::max(max_ts, r->timestamp);
  }
  int16_t attrs = static_cast<int16_t>(original.attributes & ~kDeleteHorizon);
  if (delete_horizon_ms) {
    base_ts = *delete_horizon_ms;
    attrs = static_cast<int16_t>(attrs | kDeleteHorizon);
  }

  // Records: length varint | attributes int8 | timestampDelta varlong |
  // offsetDelta varint | key | value | header count | headers.
  proto::Writer recs;
  proto::Writer body;
  for (const auto* r : kept) {
    body.clear();
    body.i8(r->attributes);
    body.varint(r->timestamp - base_ts);
    body.varint(r->offset - original.base_offset);
    write_nullable(body, r->key);
    write_nullable(body, r->value);
    body.varint(static_cast<int64_t>(r->headers.size()));
    for (const auto& hd : r->headers) {
      body.varint(static_cast<int64_t>(hd.key.size()));
      body.raw(hd.key.data(), hd.key.size());
      if (hd.value) {
        body.varint(static_cast<int64_t>(hd.value->size()));
        body.raw(hd.value->data(), hd.value->size());
      } else {
        body.varint(-1);
      }
    }
    recs.varint(static_cast<int64_t>(body.position()));
    recs.raw(body.data(), body.position());
  }

  std::vector<uint8_t> compressed;
  if (codec != proto::Compression::kNone && !proto::compress(codec, level, recs.buffer(), compressed)) {
    codec = proto::Compression::kNone;  // codec not built in: store uncompressed
  }
  attrs = static_cast<int16_t>((attrs & ~kCompressionMask) | static_cast<int16_t>(codec));

  proto::Writer w(proto::kBatchHeaderSize + recs.position());
  write_header(w, original, attrs, base_ts, max_ts, static_cast<int32_t>(kept.size()));
  if (codec != proto::Compression::kNone) w.raw(compressed.data(), compressed.size());
  else w.raw(recs.data(), recs.position());
  finish(w, out);
}

void write_empty_batch(const proto::BatchHeader& original, std::vector<uint8_t>* out) {
  // Kafka's DefaultRecordBatch.writeEmptyHeader: no codec, both timestamps
  // the batch's max timestamp.
  int16_t attrs = static_cast<int16_t>(original.attributes & ~(kCompressionMask | kDeleteHorizon));
  proto::Writer w(proto::kBatchHeaderSize);
  write_header(w, original, attrs, original.max_timestamp, original.max_timestamp, 0);
  finish(w, out);
}

}  // namespace kfk::broker
