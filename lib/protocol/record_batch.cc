#include "protocol/record_batch.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "protocol/crc32c.h"
#include "protocol/big_endian.h"
#include "protocol/reader.h"
#include "protocol/record_walk.h"

namespace kfk::proto {
namespace {

// Header field offsets (see the layout in record_batch.h).
constexpr size_t kOffBatchLength = 8;
constexpr size_t kOffLeaderEpoch = 12;
constexpr size_t kOffMagic = 16;
constexpr size_t kOffLastOffsetDelta = 23;
constexpr size_t kOffBaseTimestamp = 27;
constexpr size_t kOffMaxTimestamp = 35;
constexpr size_t kOffProducerId = 43;
constexpr size_t kOffProducerEpoch = 51;
constexpr size_t kOffBaseSequence = 53;
constexpr size_t kOffRecordCount = 57;
// batchLength counts everything after itself; the fixed header alone is 49.
constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead);

bool fail(const char** why, const char* msg) {
  if (why != nullptr) *why = msg;
  return false;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
size_t uvarint_size(uint64_t v) { return (static_cast<size_t>(std::bit_width(v | 1)) + 6) / 7; }
size_t varint_size(int64_t v) { return uvarint_size(zigzag(v)); }
size_t bytes_size(size_t n) { return varint_size(static_cast<int64_t>(n)) + n; }

uint8_t* put_uvarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = uint8_t(v | 0x80);
    v >>= 7;
  }
  *p++ = uint8_t(v);
  return p;
}
uint8_t* put_varint(uint8_t* p, int64_t v) { return put_uvarint(p, zigzag(v)); }

// A nullable byte field: varint length (-1 for null), then the bytes.
uint8_t* put_nullable(uint8_t* p, const uint8_t* data, size_t n, bool null) {
  if (null) return put_varint(p, -1);
  p = put_varint(p, static_cast<int64_t>(n));
  if (n > 0) std::memcpy(p, data, n);
  return p + n;
}

void rewrite_crc(std::span<uint8_t> batch) {
  size_t end = batch.size();
  int32_t len = static_cast<int32_t>(load_be32(batch.data() + kOffBatchLength));
  if (len >= kMinBatchLength && kBatchLogOverhead + static_cast<size_t>(len) < end)
    end = kBatchLogOverhead + static_cast<size_t>(len);
  store_be32(batch.data() + kBatchCrcOffset, crc32c(batch.data() + kBatchAttributesOffset, end - kBatchAttributesOffset));
}

}  // namespace

int32_t BatchHeader::last_sequence() const {
  // As Kafka's DefaultRecordBatch.lastSequence(): sequences wrap to 0.
  if (base_sequence < 0) return base_sequence;
  int64_t s = int64_t{base_sequence} + last_offset_delta;  // 64-bit: no overflow on corrupt deltas
  if (s > INT32_MAX) s -= int64_t{INT32_MAX} + 1;
  return static_cast<int32_t>(s);
}

bool parse_batch_header(std::span<const uint8_t> data, BatchHeader& out, const char** why) {
  // Magic sits at byte 16 in every message format, so a legacy message set
  // is recognised (and named) even when the rest would not parse as v2.
  if (data.size() <= kOffMagic) return fail(why, "record batch header truncated");
  if (static_cast<int8_t>(data[kOffMagic]) != kMagicV2)
    return fail(why, "legacy message format (magic 0/1) not supported");
  if (data.size() < kBatchHeaderSize) return fail(why, "record batch header truncated");
  Reader r(data.first(kBatchHeaderSize));
  BatchHeader h;
  h.base_offset = r.i64();
  h.batch_length = r.i32();
  h.partition_leader_epoch = r.i32();
  h.magic = r.i8();
  h.crc = r.u32();
  h.attributes = r.i16();
  h.last_offset_delta = r.i32();
  h.base_timestamp = r.i64();
  h.max_timestamp = r.i64();
  h.producer_id = r.i64();
  h.producer_epoch = r.i16();
  h.base_sequence = r.i32();
  h.record_count = r.i32();
  if (!r.ok()) return fail(why, "record batch header truncated");
  if (h.batch_length < kMinBatchLength) return fail(why, "record batch length too small");
  if (h.record_count < 0) return fail(why, "record batch has a negative record count");
  out = h;
  return true;
}

bool verify_batch_crc(std::span<const uint8_t> batch) {
  BatchHeader h;
  if (!parse_batch_header(batch, h) || h.total_size() > batch.size()) return false;
  size_t n = h.total_size() - kBatchAttributesOffset;
  return crc32c(batch.data() + kBatchAttributesOffset, n) == h.crc;
}

void set_batch_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  if (batch.size() < kBatchHeaderSize) return;
  store_be64(batch.data(), static_cast<uint64_t>(base_offset));
}

void set_batch_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  if (batch.size() < kBatchHeaderSize) return;
  store_be32(batch.data() + kOffLeaderEpoch, static_cast<uint32_t>(epoch));
}

void set_batch_log_append_time(std::span<uint8_t> batch, int64_t timestamp) {
  if (batch.size() < kBatchHeaderSize) return;
  uint8_t* p = batch.data();
  uint16_t attrs = static_cast<uint16_t>((p[kBatchAttributesOffset] << 8) | p[kBatchAttributesOffset + 1]);
  store_be16(p + kBatchAttributesOffset, static_cast<uint16_t>(attrs | batch_attr::kTimestampType));
  store_be64(p + kOffMaxTimestamp, static_cast<uint64_t>(timestamp));
  rewrite_crc(batch);
}

bool split_batches(std::span<const uint8_t> data, std::vector<BatchSpan>& out, const char** why,
                   size_t* partial_tail) {
  out.clear();
  size_t pos = 0;
  while (pos < data.size()) {
    std::span<const uint8_t> rest = data.subspan(pos);
    if (rest.size() > kOffMagic && static_cast<int8_t>(rest[kOffMagic]) != kMagicV2)
      return fail(why, "legacy message format (magic 0/1) not supported");
    if (rest.size() < kBatchHeaderSize) break;  // partial header
    BatchHeader h;
    if (!parse_batch_header(rest, h, why)) return false;
    if (h.total_size() > rest.size()) break;  // partial batch (Fetch cuts at its byte limit)
    out.push_back(BatchSpan{h, rest.first(h.total_size())});
    pos += h.total_size();
  }
  if (partial_tail != nullptr) *partial_tail = data.size() - pos;
  return true;
}

// decode_records: record_walk.cc (a walk with a visitor filling Records).

// ---------------------------------------------------------------- builder

BatchBuilder::BatchBuilder(const Options& options) { reset(options); }

void BatchBuilder::reset(const Options& options) {
  opts_ = options;
  out_.clear();
  out_.resize(kBatchHeaderSize);  // header placeholder, written in finish()
  packed_.clear();
  count_ = 0;
  base_timestamp_ = 0;
  max_timestamp_ = 0;
  finished_ = false;
}

void BatchBuilder::reserve(size_t bytes) { out_.reserve(bytes); }

size_t BatchBuilder::estimated_size() const { return out_.size(); }

size_t BatchBuilder::record_size_upper_bound(size_t key_len, size_t value_len, std::span<const RecordHeader> headers) {
  // Widest varints: 5 bytes for a varint, 10 for a varlong.
  size_t n = 5 /*length*/ + 1 /*attributes*/ + 10 /*timestampDelta*/ + 5 /*offsetDelta*/;
  n += 5 + key_len + 5 + value_len + 5 /*header count*/;
  for (const auto& h : headers) n += 5 + h.key.size() + 5 + (h.value ? h.value->size() : 0);
  return n;
}

void BatchBuilder::append(int64_t timestamp, std::optional<std::span<const uint8_t>> key,
                          std::optional<std::span<const uint8_t>> value, std::span<const RecordHeader> headers) {
  assert(!finished_ && "append after finish(): call reset() first");
  if (count_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  } else if (timestamp > max_timestamp_) {
    max_timestamp_ = timestamp;
  }
  const int64_t ts_delta = wrapping_add(timestamp, -base_timestamp_);
  const int64_t offset_delta = count_;

  // Size the body first (the length varint precedes it), then write every
  // field once, in place.
  size_t body = 1 + varint_size(ts_delta) + varint_size(offset_delta);
  body += key ? bytes_size(key->size()) : 1;
  body += value ? bytes_size(value->size()) : 1;
  body += varint_size(static_cast<int64_t>(headers.size()));
  for (const auto& h : headers) body += bytes_size(h.key.size()) + (h.value ? bytes_size(h.value->size()) : 1);

  UninitBytes& dst = out_;
  size_t at = dst.size();
  dst.resize(at + varint_size(static_cast<int64_t>(body)) + body);  // amortized growth, not zeroed
  uint8_t* p = dst.data() + at;
  p = put_varint(p, static_cast<int64_t>(body));
  *p++ = 0;  // record attributes: unused
  p = put_varint(p, ts_delta);
  p = put_varint(p, offset_delta);
  p = key ? put_nullable(p, key->data(), key->size(), false) : put_nullable(p, nullptr, 0, true);
  p = value ? put_nullable(p, value->data(), value->size(), false) : put_nullable(p, nullptr, 0, true);
  p = put_varint(p, static_cast<int64_t>(headers.size()));
  for (const auto& h : headers) {
    p = put_nullable(p, reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size(), false);
    if (h.value)
      p = put_nullable(p, reinterpret_cast<const uint8_t*>(h.value->data()), h.value->size(), false);
    else
      p = put_nullable(p, nullptr, 0, true);
  }
  assert(p == dst.data() + dst.size());
  ++count_;
}

void BatchBuilder::append_control(int64_t timestamp, ControlType type, int32_t coordinator_epoch) {
  // Kafka's EndTransactionMarker: key = version int16 (0), type int16;
  // value = version int16 (0), coordinatorEpoch int32.
  uint8_t key[4] = {0, 0, 0, 0};
  store_be16(key + 2, static_cast<uint16_t>(type));
  uint8_t value[6] = {0, 0, 0, 0, 0, 0};
  store_be32(value + 2, static_cast<uint32_t>(coordinator_epoch));
  opts_.control = true;
  append(timestamp, std::span<const uint8_t>(key), std::span<const uint8_t>(value));
}

std::span<const uint8_t> BatchBuilder::finish() {
  if (finished_) return opts_.compression == Compression::kNone || packed_.empty() ? std::span<const uint8_t>(out_)
                                                                                    : std::span<const uint8_t>(packed_);
  finished_ = true;
  Compression codec = opts_.compression;
  std::span<uint8_t> batch(out_);
  if (codec != Compression::kNone) {
    packed_.clear();
    packed_.resize(kBatchHeaderSize);
    const std::span<const uint8_t> records(out_.data() + kBatchHeaderSize, out_.size() - kBatchHeaderSize);
    if (compress(codec, opts_.compression_level, records, packed_)) {
      batch = packed_;
    } else {
      // Only an unavailable codec gets here (callers check
      // compression_available() when configuring); ship the records
      // uncompressed rather than lose them.
      codec = Compression::kNone;
      packed_.clear();
    }
  }

  int16_t attrs = static_cast<int16_t>(codec);
  if (opts_.timestamp_type == TimestampType::kLogAppendTime) attrs |= batch_attr::kTimestampType;
  if (opts_.transactional) attrs |= batch_attr::kTransactional;
  if (opts_.control) attrs |= batch_attr::kControl;
  // An empty batch has no timestamps: Kafka's NO_TIMESTAMP.
  const int64_t base_ts = count_ > 0 ? base_timestamp_ : -1;
  const int64_t max_ts = count_ > 0 ? max_timestamp_ : -1;

  uint8_t* p = batch.data();
  store_be64(p, static_cast<uint64_t>(opts_.base_offset));
  store_be32(p + kOffBatchLength, static_cast<uint32_t>(batch.size() - kBatchLogOverhead));
  store_be32(p + kOffLeaderEpoch, static_cast<uint32_t>(opts_.partition_leader_epoch));
  p[kOffMagic] = static_cast<uint8_t>(kMagicV2);
  store_be16(p + kBatchAttributesOffset, static_cast<uint16_t>(attrs));
  store_be32(p + kOffLastOffsetDelta, static_cast<uint32_t>(count_ > 0 ? count_ - 1 : 0));
  store_be64(p + kOffBaseTimestamp, static_cast<uint64_t>(base_ts));
  store_be64(p + kOffMaxTimestamp, static_cast<uint64_t>(max_ts));
  store_be64(p + kOffProducerId, static_cast<uint64_t>(opts_.producer_id));
  store_be16(p + kOffProducerEpoch, static_cast<uint16_t>(opts_.producer_epoch));
  store_be32(p + kOffBaseSequence, static_cast<uint32_t>(opts_.base_sequence));
  store_be32(p + kOffRecordCount, static_cast<uint32_t>(count_));
  store_be32(p + kBatchCrcOffset, crc32c(p + kBatchAttributesOffset, batch.size() - kBatchAttributesOffset));
  return batch;
}

std::vector<uint8_t> BatchBuilder::release() {
  const std::span<const uint8_t> batch = finish();
  std::vector<uint8_t> bytes(batch.begin(), batch.end());
  out_.clear();  // released: make the state explicit; reset() before reuse
  packed_.clear();
  return bytes;
}

}  // namespace kfk::proto

namespace kfk::proto {

void set_batch_producer(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  if (batch.size() < kBatchHeaderSize) return;
  uint8_t* p = batch.data();
  store_be64(p + kOffProducerId, static_cast<uint64_t>(producer_id));
  store_be16(p + kOffProducerEpoch, static_cast<uint16_t>(producer_epoch));
  store_be32(p + kOffBaseSequence, static_cast<uint32_t>(base_sequence));
  rewrite_crc(batch);
}

}  // namespace kfk::proto
