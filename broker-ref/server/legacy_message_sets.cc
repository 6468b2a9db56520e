#include "server/legacy_message_sets.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "protocol/compression.h"
#include "protocol/reader.h"
#include "protocol/record_batch.h"
#include "protocol/writer.h"

namespace kfk::broker {
namespace {

using proto::Compression;
using proto::ErrorCode;

constexpr size_t kLogOverhead = 12;       // offset + message_size
constexpr size_t kMagicPos = 16;          // offset, size, crc (legacy) = baseOffset, length, epoch (v2)
constexpr size_t kMinMessageV0 = 14;      // crc, magic, attributes, key and value lengths
constexpr int8_t kAttrTimestampType = 0x08;
// Bound on what one compressed wrapper may expand to (as the produce path's).
constexpr size_t kMaxInflated = 256u << 20;

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

// One parsed legacy message; views point into the message set (or into the
// decompressed value of its wrapper).
struct LegacyMessage {
  int64_t offset = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<std::span<const uint8_t>> key, value;
  size_t size = 0;  // with the 12-byte log overhead
  Compression codec() const { return static_cast<Compression>(attributes & 0x07); }
};

Status corrupt(const std::string& why) { return Status::error(ErrorCode::CORRUPT_MESSAGE, why); }

std::optional<std::span<const uint8_t>> read_bytes(proto::Reader& r) {
  int32_t n = r.i32();
  if (!r.ok() || n < 0) return std::nullopt;
  return r.raw(static_cast<size_t>(n));
}

// Parses the message at the reader's position (a partial one at the end
// fails: a Produce carries whole messages).
Status next_message(proto::Reader& r, LegacyMessage* m) {
  m->offset = r.i64();
  int32_t size = r.i32();
  if (!r.ok()) return corrupt("truncated message header");
  if (size < static_cast<int32_t>(kMinMessageV0) || static_cast<size_t>(size) > r.remaining())
    return corrupt("message size " + std::to_string(size) + " is impossible here (" + std::to_string(r.remaining()) +
                   " bytes left)");
  std::span<const uint8_t> body = r.raw(static_cast<size_t>(size));
  m->size = kLogOverhead + body.size();
  proto::Reader b(body);
  uint32_t crc = b.u32();
  if (crc32_ieee(body.subspan(4)) != crc) return corrupt("message at offset " + std::to_string(m->offset) +
                                                          " is corrupt (stored crc = " + std::to_string(crc) + ")");
  m->magic = b.i8();
  m->attributes = b.i8();
  if (m->magic != 0 && m->magic != 1)
    return corrupt("message magic " + std::to_string(m->magic) + " inside a legacy message set");
  m->timestamp = m->magic == 1 ? b.i64() : -1;
  m->key = read_bytes(b);
  m->value = read_bytes(b);
  if (!b.ok() || !b.empty()) return corrupt("message at offset " + std::to_string(m->offset) + " is malformed");
  if (m->attributes & ~0x0f) return corrupt("unknown message attributes " + std::to_string(m->attributes));
  return Status::Ok();
}

Status check_codec(Compression c) {
  if (static_cast<int>(c) > static_cast<int>(Compression::kLz4)) {
    if (c == Compression::kZstd)
      return Status::error(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                           "ZStandard compression needs record batches (magic 2)");
    return corrupt("unknown compression codec id " + std::to_string(static_cast<int>(c)));
  }
  if (!proto::compression_available(c))
    return Status::error(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                         std::string("broker-ref was built without ") + proto::compression_name(c) + " support");
  return Status::Ok();
}

// Appends the inner messages of a compressed wrapper to the builder.
Status append_inner(const LegacyMessage& wrapper, proto::BatchBuilder& builder, std::vector<uint8_t>& scratch) {
  if (!wrapper.value) return corrupt("compressed message without a value");
  scratch.clear();
  const char* why = nullptr;
  if (!proto::decompress(wrapper.codec(), *wrapper.value, scratch, kMaxInflated, &why))
    return corrupt(std::string("compressed message cannot be decompressed: ") + (why ? why : "?"));
  proto::Reader r(scratch.data(), scratch.size());
  if (r.empty()) return corrupt("compressed message holds no messages");
  const bool append_time = wrapper.magic == 1 && (wrapper.attributes & kAttrTimestampType);
  while (!r.empty()) {
    LegacyMessage m;
    if (Status s = next_message(r, &m); !s.ok()) return s;
    if (m.codec() != Compression::kNone) return corrupt("compressed message nested in a compressed message");
    if (m.magic != wrapper.magic) return corrupt("inner message magic differs from its wrapper's");
    builder.append(append_time ? wrapper.timestamp : m.timestamp, m.key, m.value);
  }
  return Status::Ok();
}

void put_bytes(proto::Writer& w, const std::optional<std::span<const uint8_t>>& b) {
  if (b)
    w.bytes(*b, false);
  else
    w.i32(-1);
}

// Appends one legacy message (offset, size, crc, body); size and CRC are
// placeholders patched once the body is written.
void put_message(proto::Writer& w, int64_t offset, int8_t magic, int8_t attributes, int64_t timestamp,
                 const std::optional<std::span<const uint8_t>>& key,
                 const std::optional<std::span<const uint8_t>>& value) {
  w.i64(offset);
  const size_t size_at = w.reserve_i32();
  const size_t crc_at = w.reserve_i32();
  w.i8(magic);
  w.i8(attributes);
  if (magic == 1) w.i64(timestamp);
  put_bytes(w, key);
  put_bytes(w, value);
  w.patch_u32(size_at, static_cast<uint32_t>(w.position() - crc_at));
  w.patch_u32(crc_at, crc32_ieee(std::span(w.buffer()).subspan(crc_at + 4)));
}

// One batch's records as legacy messages (a compressed batch: one wrapper).
Status down_convert_batch(const proto::BatchSpan& b, int8_t magic, std::vector<proto::Record>& recs,
                          std::vector<uint8_t>& scratch, proto::Writer& inner, proto::Writer& out) {
  const proto::BatchHeader& h = b.header;
  const char* why = nullptr;
  if (!proto::decode_records(b, recs, scratch, kMaxInflated, &why))
    return corrupt(std::string("stored batch cannot be decoded: ") + (why ? why : "?"));
  if (recs.empty()) return Status::Ok();
  const bool append_time = h.timestamp_type() == proto::TimestampType::kLogAppendTime;
  const int8_t ts_attr = magic == 1 && append_time ? kAttrTimestampType : 0;
  if (h.compression() == Compression::kNone) {
    for (const auto& r : recs) put_message(out, r.offset, magic, ts_attr, r.timestamp, r.key, r.value);
    return Status::Ok();
  }
  if (Status s = check_codec(h.compression()); !s.ok()) return s;
  inner.clear();
  const int64_t first = recs.front().offset;
  int64_t max_ts = -1;
  for (const auto& r : recs) {
    put_message(inner, magic == 1 ? r.offset - first : r.offset, magic, ts_attr, r.timestamp, r.key, r.value);
    max_ts = std::max(max_ts, r.timestamp);
  }
  std::vector<uint8_t> packed;
  if (!proto::compress(h.compression(), -1, inner.buffer(), packed, &why))
    return Status::error(ErrorCode::UNKNOWN_SERVER_ERROR, std::string("recompression failed: ") + (why ? why : "?"));
  put_message(out, recs.back().offset, magic, static_cast<int8_t>(ts_attr | static_cast<int>(h.compression())),
              append_time ? h.max_timestamp : max_ts, std::nullopt, std::span<const uint8_t>(packed));
  return Status::Ok();
}

}  // namespace

uint32_t crc32_ieee(std::span<const uint8_t> data) {
  uint32_t c = 0xffffffffu;
  for (uint8_t byte : data) c = kCrcTable[(c ^ byte) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

int8_t records_magic(std::span<const uint8_t> records) {
  return records.size() > kMagicPos ? static_cast<int8_t>(records[kMagicPos]) : -1;
}

Status convert_legacy_message_set(std::span<const uint8_t> message_set, int32_t max_message_bytes,
                                  std::vector<uint8_t>* batch_out) {
  proto::Reader r(message_set);
  if (r.empty()) return Status::error(ErrorCode::INVALID_RECORD, "empty message set");
  std::optional<Compression> codec;
  std::vector<LegacyMessage> messages;
  while (!r.empty()) {
    if (records_magic(std::span(r.current(), r.remaining())) > 1)
      return Status::error(ErrorCode::INVALID_RECORD, "a message set mixes magic 0/1 messages with record batches");
    LegacyMessage m;
    if (Status s = next_message(r, &m); !s.ok()) return s;
    if (m.size > static_cast<size_t>(max_message_bytes))
      return Status::error(ErrorCode::MESSAGE_TOO_LARGE, "The message size is " + std::to_string(m.size) +
                                                             " bytes which exceeds the maximum configured value of " +
                                                             std::to_string(max_message_bytes) + ".");
    if (m.codec() != Compression::kNone) {
      if (Status s = check_codec(m.codec()); !s.ok()) return s;
      codec = m.codec();  // Kafka: the last compressed wrapper's codec
    }
    messages.push_back(m);
  }
  proto::BatchBuilder::Options opts;
  opts.compression = codec.value_or(Compression::kNone);
  proto::BatchBuilder builder(opts);
  std::vector<uint8_t> scratch;
  for (const auto& m : messages) {
    if (m.codec() == Compression::kNone) {
      builder.append(m.timestamp, m.key, m.value);
    } else if (Status s = append_inner(m, builder, scratch); !s.ok()) {
      return s;
    }
  }
  *batch_out = builder.release();
  return Status::Ok();
}

Status down_convert_batches(std::span<const uint8_t> batches, int8_t magic, std::vector<uint8_t>* out) {
  out->clear();
  std::vector<proto::BatchSpan> spans;
  const char* why = nullptr;
  size_t tail = 0;
  if (!proto::split_batches(batches, spans, &why, &tail))
    return corrupt(std::string("stored batches cannot be split: ") + (why ? why : "?"));
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  proto::Writer inner, w(batches.size());
  for (const auto& b : spans) {
    if (b.header.is_control()) continue;
    if (Status s = down_convert_batch(b, magic, recs, scratch, inner, w); !s.ok()) return s;
  }
  *out = w.take();
  return Status::Ok();
}

}  // namespace kfk::broker
