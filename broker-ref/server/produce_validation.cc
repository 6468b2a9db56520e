#include "server/produce_validation.h"

#include <cstdio>

#include "protocol/record_walk.h"

namespace kfk::broker {
namespace {

constexpr size_t kMagicOffset = 16;
// Bound on decompressing one batch to validate it (zip bombs).
constexpr size_t kMaxDecompressed = 256u << 20;

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
    // Uncompressed batches are walked in place (no allocation); compressed
    // ones once decompressed into scratch.
    std::span<const uint8_t> data;
    if (!proto::batch_records(b, scratch, kMaxDecompressed, &data, &why) ||
        !proto::validate_records(h, data, check_keys ? &null_keys : nullptr, &why))
      return fail(ErrorCode::CORRUPT_MESSAGE, "Record batch for partition " + tp + " is corrupt: " + (why ? why : "?"));
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
