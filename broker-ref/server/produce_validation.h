// Validation of one partition's records in a Produce request, before
// anything is written (Kafka's ProduceRequest.validateRecords and the
// LogValidator checks that are not the storage layer's): batch framing,
// magic 2 only, one batch per partition from v3, CRC, size, compression
// codec, decodable records (proto::validate_records, the codec's record
// walk: uncompressed batches in place, allocation-free; compressed ones
// decompressed, bounded), keys for compacted topics, no transactional batches (not supported yet).
// Offsets, producer state and max.message.bytes are checked again by
// Log::append.
//
// Thread ownership: pure function.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/record_batch.h"
#include "storage/log_config.h"
#include "storage/status.h"

namespace kfk::broker {

struct RecordError {
  int32_t batch_index = 0;  // the record's index within its batch
  std::string message;
};

struct ProduceValidation {
  Status status;
  std::vector<RecordError> record_errors;  // with INVALID_RECORD
  size_t batch_count = 0;
};

ProduceValidation validate_produce_records(std::span<const uint8_t> records, int16_t produce_version,
                                           const LogConfig& config, const std::string& topic_partition);

}  // namespace kfk::broker
