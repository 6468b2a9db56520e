// RecordBatch v2 (magic 2): the unit Kafka stores and ships.
//
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 |
//   magic int8 (2) | crc uint32 (CRC32C of everything after it) |
//   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 |
//   maxTimestamp int64 | producerId int64 | producerEpoch int16 |
//   baseSequence int32 | records [count int32, then each record:]
//     length varint | attributes int8 | timestampDelta varlong |
//     offsetDelta varint | keyLength varint | key | valueLength varint |
//     value | headerCount varint | [headerKeyLength varint | key |
//     headerValueLength varint | value]...
//
// Compression covers the records section only (after the record count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/compression.h"
#include "protocol/writer.h"

namespace kfk::proto {

constexpr size_t kBatchHeaderSize = 61;       // up to and including the record count
constexpr size_t kBatchLogOverhead = 12;      // baseOffset + batchLength
constexpr size_t kBatchCrcOffset = 17;        // where the CRC field starts
constexpr size_t kBatchAttributesOffset = 21; // the CRC covers from here to the end
constexpr int8_t kMagicV2 = 2;

enum class TimestampType : int8_t { kCreateTime = 0, kLogAppendTime = 1 };

namespace batch_attr {
constexpr int16_t kCompressionMask = 0x07;
constexpr int16_t kTimestampType = 0x08;  // set: LogAppendTime
constexpr int16_t kTransactional = 0x10;
constexpr int16_t kControl = 0x20;
constexpr int16_t kDeleteHorizon = 0x40;  // baseTimestamp is the delete horizon (compaction)
}  // namespace batch_attr

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after this field
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & batch_attr::kCompressionMask); }
  TimestampType timestamp_type() const {
    return (attributes & batch_attr::kTimestampType) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_transactional() const { return attributes & batch_attr::kTransactional; }
  bool is_control() const { return attributes & batch_attr::kControl; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  // The sequence of the last record (wraps at INT32_MAX as Kafka does).
  int32_t last_sequence() const;
  size_t total_size() const { return kBatchLogOverhead + static_cast<size_t>(batch_length); }
};

struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: null header value
};

// One decoded record. Views point into the (decompressed) batch buffer.
struct Record {
  int8_t attributes = 0;
  int64_t offset = 0;     // absolute: base offset + delta
  int64_t timestamp = 0;  // absolute (LogAppendTime batches: the batch's max timestamp)
  std::optional<std::span<const uint8_t>> key;    // nullopt: null key
  std::optional<std::span<const uint8_t>> value;  // nullopt: null value (tombstone)
  std::vector<RecordHeader> headers;
};

// Control record (commit/abort marker) key: version int16, type int16.
enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };

// Parses the fixed header from the start of `data`. Fails (returns false and
// sets *why) when fewer than kBatchHeaderSize bytes are there, when magic is
// not 2 (legacy message sets are rejected with a clear error), or when the
// length is impossible. Does not check the CRC.
bool parse_batch_header(std::span<const uint8_t> data, BatchHeader& out, const char** why = nullptr);

// True when the stored CRC matches the CRC32C of bytes [21, total_size).
bool verify_batch_crc(std::span<const uint8_t> batch);

// Writes baseOffset / partitionLeaderEpoch in place (the CRC does not cover
// them), as a broker does when it appends.
void set_batch_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_batch_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Sets the LogAppendTime flag and max timestamp, then recomputes the CRC.
void set_batch_log_append_time(std::span<uint8_t> batch, int64_t timestamp);

// Splits a byte range holding consecutive batches (a Produce or Fetch
// `records` field, or a log segment slice). A trailing partial batch (Fetch
// may cut one) is reported through `partial_tail`, not as an error.
// `out` is cleared first.
struct BatchSpan {
  BatchHeader header;
  std::span<const uint8_t> bytes;  // the whole batch, header included
};
bool split_batches(std::span<const uint8_t> data, std::vector<BatchSpan>& out, const char** why = nullptr,
                   size_t* partial_tail = nullptr);

// Decodes every record of one batch (the record walk of record_walk.h),
// decompressing when needed into `scratch` (bounded by max_decompressed
// bytes). Returns false with *why on corruption; records point into the
// batch or into scratch. `out` ends up holding exactly the batch's records,
// its elements (and their header vectors) reused; empty on failure.
// scratch is overwritten.
bool decode_records(const BatchSpan& batch, std::vector<Record>& out, std::vector<uint8_t>& scratch,
                    size_t max_decompressed, const char** why = nullptr);

// Builds one batch in place: records are encoded once, straight into their
// final position in the output buffer; the header (lengths, deltas, max
// timestamp, CRC) is patched in finish(). With compression, the records
// encoded there are compressed into a second buffer at finish().
class BatchBuilder {
 public:
  struct Options {
    Compression compression = Compression::kNone;
    int compression_level = -1;  // codec default
    int64_t base_offset = 0;
    int32_t partition_leader_epoch = -1;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    int32_t base_sequence = -1;
    bool transactional = false;
    bool control = false;
    TimestampType timestamp_type = TimestampType::kCreateTime;
  };

  explicit BatchBuilder(const Options& options);
  void reset(const Options& options);  // reuse the buffers
  // Makes room for `bytes` of batch (header and uncompressed records) up
  // front, so that filling it up to that size never reallocates: growing
  // by doubling would leave a full batch holding up to twice its size.
  void reserve(size_t bytes);

  // Appends one record. timestamp is absolute (ms); offset deltas count up
  // from 0. Headers are (key, optional value) pairs.
  void append(int64_t timestamp, std::optional<std::span<const uint8_t>> key,
              std::optional<std::span<const uint8_t>> value, std::span<const RecordHeader> headers = {});
  // A control record (transaction marker) with the given coordinator epoch.
  void append_control(int64_t timestamp, ControlType type, int32_t coordinator_epoch);

  int32_t record_count() const { return count_; }
  // Bytes the batch takes so far, uncompressed (for batch.size decisions).
  size_t estimated_size() const;
  // Bytes one more record would add, for deciding before appending.
  static size_t record_size_upper_bound(size_t key_len, size_t value_len, std::span<const RecordHeader> headers);

  // Completes the batch (compressing if asked) and returns its bytes. The
  // builder keeps ownership; reset() or destruction frees them.
  std::span<const uint8_t> finish();
  // Takes the finished buffer out (finishing first; a copy for an
  // uncompressed batch); reset() before reuse.
  std::vector<uint8_t> release();

 private:
  Options opts_;
  // Neither is zero-filled as it grows (see UninitBytes).
  UninitBytes out_;     // header + uncompressed records
  UninitBytes packed_;  // header + compressed records (compressed batches, once finished)
  int32_t count_ = 0;
  int64_t base_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
  bool finished_ = false;
};

}  // namespace kfk::proto

namespace kfk::proto {

// Rewrites producerId / producerEpoch / baseSequence of a built batch in
// place and recomputes the CRC: the producer assigns sequences when a batch
// is drained (after it was built), and rewrites them when its epoch is
// bumped. Batches shorter than the header are left alone.
void set_batch_producer(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

}  // namespace kfk::proto
