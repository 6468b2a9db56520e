// The one walk over the records of a RecordBatch v2 (layout in
// record_batch.h): every bounds and consistency check of the record format,
// in one order, with one set of messages. Its users:
//
//   - proto::decode_records (the client's Fetch path, broker-ref's log
//     reads) walks with a visitor that fills proto::Records;
//   - broker-ref's produce validation calls validate_records, the same
//     checks without reading fields out; it matches records against a
//     learnt record shape (record_walk.cc) instead of parsing each one;
//   - broker-ref's cleaner walks with a visitor that reads keys and offsets.
//
// Varints follow proto::Reader's rules: at most ten bytes, the tenth at
// most 1; a 32-bit varint at most 0xffffffff before zigzag.
//
// Thread ownership: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/record_batch.h"

namespace kfk::proto {

// One record's fields as the walk read them; views into the records data.
struct RecordFields {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::span<const uint8_t>> key;    // nullopt: null key
  std::optional<std::span<const uint8_t>> value;  // nullopt: null value
  int32_t header_count = 0;
};

// Offsets and timestamps add deltas from untrusted input: they wrap, never UB.
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t record_offset(const BatchHeader& h, const RecordFields& f) {
  return wrapping_add(h.base_offset, f.offset_delta);
}
// LogAppendTime batches: every record has the batch's max timestamp.
inline int64_t record_timestamp(const BatchHeader& h, const RecordFields& f) {
  return h.timestamp_type() == TimestampType::kLogAppendTime ? h.max_timestamp
                                                             : wrapping_add(h.base_timestamp, f.timestamp_delta);
}

// The records section of `batch` (after the record count), decompressed
// into `scratch` (bounded by max_decompressed) when the batch is
// compressed. Checks the header fields the walk relies on (magic, length,
// record count sign, codec). False with *why on failure.
bool batch_records(const BatchSpan& batch, std::vector<uint8_t>& scratch, size_t max_decompressed,
                   std::span<const uint8_t>* data, const char** why = nullptr);

// Every check of walk_records, without reading fields out. When null_keys
// is given, the indices of records with a null key are appended to it.
// Records with the structural bytes of the one before are matched against
// its shape instead of parsed (the produce path's records mostly share one).
bool validate_records(const BatchHeader& h, std::span<const uint8_t> data, std::vector<int32_t>* null_keys,
                      const char** why = nullptr);

// Walks the records of `data` (batch_records' output for the batch with
// header `h`). The visitor has
//   void record(const RecordFields&);                  each record, in order, once checked
// and may have
//   void start(int32_t count);                         once the count is known to fit the data
//   void header_count(int32_t count);                  a record's header count, before its headers
//   void header(std::string_view key, std::optional<std::string_view> value);
//                                                      each header of a record, before its record()
// A failure can come after some calls for the failing record or earlier
// ones: a visitor drops what it gathered when the walk returns false.
template <class Visitor>
bool walk_records(const BatchHeader& h, std::span<const uint8_t> data, Visitor&& visit, const char** why = nullptr);

}  // namespace kfk::proto

#include "protocol/record_walk_inl.h"
