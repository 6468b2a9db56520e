#include "server/produce_topic_config.h"

#include "protocol/record_walk.h"
#include "storage/batch_rewriter.h"

namespace kfk::broker {
namespace {

constexpr size_t kMaxDecompressed = 256u << 20;  // as produce validation

// The record walk's visitor for check_timestamp_bounds: the first record
// outside [lo, hi] (-1, no timestamp, is never out of range, as Kafka).
struct TimestampBounds {
  const proto::BatchHeader& h;
  int64_t lo, hi;
  int32_t index = 0;
  int32_t bad_index = -1;
  int64_t bad_timestamp = 0;

  void record(const proto::RecordFields& f) {
    const int64_t ts = proto::record_timestamp(h, f);
    if (bad_index < 0 && ts != -1 && (ts < lo || ts > hi)) {
      bad_index = index;
      bad_timestamp = ts;
    }
    ++index;
  }
};

}  // namespace

Status recompress_to_topic_codec(std::span<const uint8_t> batches, const LogConfig& cfg, std::vector<uint8_t>* out) {
  out->clear();
  if (!cfg.compression) return Status::Ok();  // "producer"
  const proto::Compression target = *cfg.compression;
  std::vector<proto::BatchSpan> spans;
  const char* why = nullptr;
  if (!proto::split_batches(batches, spans, &why))
    return Status::error(ErrorCode::CORRUPT_MESSAGE, why != nullptr ? why : "malformed record batches");
  bool needed = false;
  for (const auto& sp : spans) needed = needed || (!sp.header.is_control() && sp.header.compression() != target);
  if (!needed) return Status::Ok();

  std::vector<proto::Record> recs;
  std::vector<const proto::Record*> kept;
  std::vector<uint8_t> scratch, rebuilt;
  out->reserve(batches.size());
  for (const auto& sp : spans) {
    if (sp.header.is_control() || sp.header.compression() == target) {
      out->insert(out->end(), sp.bytes.begin(), sp.bytes.end());
      continue;
    }
    if (!proto::decode_records(sp, recs, scratch, kMaxDecompressed, &why))
      return Status::error(ErrorCode::CORRUPT_MESSAGE, std::string("undecodable batch: ") + (why ? why : "?"));
    kept.clear();
    for (const auto& r : recs) kept.push_back(&r);
    rebuild_batch(sp.header, kept, std::nullopt, target, cfg.compression_level(), &rebuilt);
    out->insert(out->end(), rebuilt.begin(), rebuilt.end());
  }
  return Status::Ok();
}

Status check_timestamp_bounds(std::span<const uint8_t> batches, const LogConfig& cfg, int64_t now_ms,
                              std::vector<RecordError>* errors) {
  const int64_t before = cfg.effective_before_max_ms();
  const int64_t after = cfg.effective_after_max_ms();
  if (cfg.timestamp_type != proto::TimestampType::kCreateTime || (before == INT64_MAX && after == INT64_MAX))
    return Status::Ok();
  const int64_t lo = before >= now_ms ? INT64_MIN : now_ms - before;
  const int64_t hi = after > INT64_MAX - now_ms ? INT64_MAX : now_ms + after;
  std::vector<proto::BatchSpan> spans;
  const char* why = nullptr;
  if (!proto::split_batches(batches, spans, &why))
    return Status::error(ErrorCode::CORRUPT_MESSAGE, why != nullptr ? why : "malformed record batches");
  std::vector<uint8_t> scratch;
  for (const auto& sp : spans) {
    if (sp.header.is_control()) continue;
    TimestampBounds bounds{sp.header, lo, hi};
    std::span<const uint8_t> data;
    if (!proto::batch_records(sp, scratch, kMaxDecompressed, &data, &why) ||
        !proto::walk_records(sp.header, data, bounds, &why))
      return Status::error(ErrorCode::CORRUPT_MESSAGE, std::string("undecodable batch: ") + (why ? why : "?"));
    if (bounds.bad_index < 0) continue;
    const int64_t ts = bounds.bad_timestamp;
    std::string msg = "Timestamp " + std::to_string(ts) + " of message with offset " +
                      std::to_string(bounds.bad_index) + " is out of range. The timestamp should be within [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]";
    errors->push_back(RecordError{bounds.bad_index, msg});
    return Status::error(ErrorCode::INVALID_TIMESTAMP, msg);
  }
  return Status::Ok();
}

}  // namespace kfk::broker
