#include "server/produce_validation.h"

#include <cstdio>

namespace kfk::broker {
namespace {

constexpr size_t kMagicOffset = 16;
// Bound on decompressing one batch to validate it (zip bombs).
constexpr size_t kMaxDecompressed = 256u << 20;

// A sticky-failure cursor with Reader's varint rules (same limits, same
// zero after a failure), inlined: the produce path walks every record.
struct Cursor {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;

  size_t remaining() const { return static_cast<size_t>(end - p); }
  uint64_t uvarlong() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (!ok || p == end) return fail();
      uint8_t b = *p++;
      if (shift == 63 && b > 1) return fail();
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail();
  }
  int32_t varint() {
    uint64_t v = uvarlong();
    if (v > 0xffffffffull) return static_cast<int32_t>(fail());
    auto u = static_cast<uint32_t>(v);
    return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  void skip(size_t n) {
    if (!ok || remaining() < n) {
      fail();
      return;
    }
    p += n;
  }
  uint64_t fail() {
    ok = false;
    return 0;
  }
};

// Uncompressed batches: the same checks as proto::decode_records (same
// order, same messages) without materialising records, so accepting a
// batch costs one pass over its bytes and no allocation. Collects the
// indices of null keys when asked (compacted topics).
bool walk_plain_records(const proto::BatchSpan& batch, std::vector<int32_t>* null_keys, const char** why) {
  constexpr size_t kMinRecordBody = 6;  // as record_batch.cc
  constexpr auto kMinBatchLength = static_cast<int32_t>(proto::kBatchHeaderSize - proto::kBatchLogOverhead);
  const proto::BatchHeader& h = batch.header;
  if (h.batch_length < kMinBatchLength || batch.bytes.size() < h.total_size())
    return (*why = "record batch truncated"), false;
  const uint8_t* begin = batch.bytes.data() + proto::kBatchHeaderSize;
  const uint8_t* end = batch.bytes.data() + h.total_size();
  if (static_cast<size_t>(h.record_count) > static_cast<size_t>(end - begin) / (kMinRecordBody + 1))
    return (*why = "record count exceeds the records data"), false;
  Cursor r{begin, end};
  for (int32_t i = 0; i < h.record_count; ++i) {
    int32_t len = r.varint();
    if (!r.ok) return (*why = "record truncated"), false;
    if (len < static_cast<int32_t>(kMinRecordBody) || static_cast<size_t>(len) > r.remaining())
      return (*why = "record length out of range"), false;
    Cursor rr{r.p, r.p + len};
    r.p += len;
    rr.skip(1);  // attributes
    (void)rr.uvarlong();  // timestamp delta
    (void)rr.varint();    // offset delta
    int32_t key_len = rr.varint();
    if (key_len < -1) return (*why = "record key length is negative"), false;
    if (key_len >= 0) rr.skip(static_cast<size_t>(key_len));
    int32_t value_len = rr.varint();
    if (value_len < -1) return (*why = "record value length is negative"), false;
    if (value_len >= 0) rr.skip(static_cast<size_t>(value_len));
    int32_t header_count = rr.varint();
    if (header_count < 0 || static_cast<size_t>(header_count) > rr.remaining() / 2)
      return (*why = "record header count out of range"), false;
    for (int32_t j = 0; j < header_count && rr.ok; ++j) {
      int32_t hk_len = rr.varint();
      if (hk_len < 0) return (*why = "record header key is null or negative"), false;
      rr.skip(static_cast<size_t>(hk_len));
      int32_t hv_len = rr.varint();
      if (hv_len < -1) return (*why = "record header value length is negative"), false;
      if (hv_len >= 0) rr.skip(static_cast<size_t>(hv_len));
    }
    if (!rr.ok) return (*why = "record truncated or malformed"), false;
    if (rr.p != rr.end) return (*why = "record length does not match its fields"), false;
    if (key_len < 0 && null_keys != nullptr) null_keys->push_back(i);
  }
  if (r.p != r.end) return (*why = "records data longer than the record count says"), false;
  return true;
}

ProduceValidation fail(ErrorCode code, std::string msg) {
  ProduceValidation v;
  v.status = Status::error(code, std::move(msg));
  return v;
}

}  // namespace

ProduceValidation validate_produce_records(std::span<const uint8_t> records, int16_t version, const LogConfig& config,
                                           const std::string& tp) {
  const std::string vs = std::to_string(version);
  if (records.size() > kMagicOffset && static_cast<int8_t>(records[kMagicOffset]) != proto::kMagicV2) {
    if (version >= 3)
      return fail(ErrorCode::INVALID_RECORD,
                  "Produce requests with version " + vs + " are only allowed to contain record batches with magic version 2");
    return fail(ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT,
                "broker-ref only accepts record batches with magic version 2 (no legacy message sets)");
  }
  std::vector<proto::BatchSpan> batches;
  const char* why = nullptr;
  size_t tail = 0;
  if (!proto::split_batches(records, batches, &why, &tail))
    return fail(ErrorCode::CORRUPT_MESSAGE, std::string("Invalid record batch: ") + (why ? why : "?"));
  if (tail != 0) return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch is incomplete (" + std::to_string(tail) + " trailing bytes)");
  if (version >= 3 && batches.empty())
    return fail(ErrorCode::INVALID_RECORD,
                "Produce requests with version " + vs + " must have at least one record batch per partition");
  if (version >= 3 && batches.size() > 1)
    return fail(ErrorCode::INVALID_RECORD, "Produce requests with version " + vs +
                                               " are only allowed to contain exactly one record batch per partition");

  ProduceValidation out;
  out.batch_count = batches.size();
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  std::vector<int32_t> null_keys;
  for (const auto& b : batches) {
    const proto::BatchHeader& h = b.header;
    int codec = h.attributes & proto::batch_attr::kCompressionMask;
    if (codec > static_cast<int>(proto::Compression::kZstd))
      return fail(ErrorCode::CORRUPT_MESSAGE, "Unknown compression codec id " + std::to_string(codec));
    if (h.compression() == proto::Compression::kZstd && version < 7)
      return fail(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                  "Produce requests with version " + vs + " are not allowed to use ZStandard compression");
    if (!proto::compression_available(h.compression()))
      return fail(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
                  std::string("broker-ref was built without ") + proto::compression_name(h.compression()) + " support");
    if (!proto::verify_batch_crc(b.bytes)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "Record batch for partition %s is corrupt (stored crc = %u)", tp.c_str(), h.crc);
      return fail(ErrorCode::CORRUPT_MESSAGE, msg);
    }
    if (h.total_size() > static_cast<size_t>(config.max_message_bytes))
      return fail(ErrorCode::MESSAGE_TOO_LARGE, "The record batch size is " + std::to_string(h.total_size()) +
                                                    " bytes which exceeds the maximum configured value of " +
                                                    std::to_string(config.max_message_bytes) + ".");
    if (h.is_transactional())
      return fail(ErrorCode::INVALID_REQUEST, "transactions not supported yet (broker-ref has no transaction coordinator)");
    const bool check_keys = config.compact && !h.is_control();
    null_keys.clear();
    if (h.compression() == proto::Compression::kNone) {
      if (!walk_plain_records(b, check_keys ? &null_keys : nullptr, &why))
        return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch for partition " + tp + " is corrupt: " + (why ? why : "?"));
    } else {
      if (!proto::decode_records(b, recs, scratch, kMaxDecompressed, &why))
        return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch for partition " + tp + " is corrupt: " + (why ? why : "?"));
      for (size_t i = 0; i < recs.size(); ++i)
        if (!recs[i].key) null_keys.push_back(static_cast<int32_t>(i));
    }
    if (check_keys) {
      for (int32_t i : null_keys)
        out.record_errors.push_back(
            {i, "Compacted topic cannot accept message without key in topic partition " + tp + "."});
      if (!out.record_errors.empty()) {
        std::string msg = "One or more records have been rejected due to " + std::to_string(out.record_errors.size()) +
                          " record errors in total, and only showing the first three errors at most: [";
        for (size_t i = 0; i < out.record_errors.size() && i < 3; ++i)
          msg += (i ? ", " : "") + std::string("RecordError(batchIndex=") + std::to_string(out.record_errors[i].batch_index) +
                 ", message='" + out.record_errors[i].message + "')";
        out.status = Status::error(ErrorCode::INVALID_RECORD, msg + "]");
        return out;
      }
    }
  }
  return out;
}

}  // namespace kfk::broker
