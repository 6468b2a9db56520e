// Sequential reader of the record batches of a segment file: headers only
// (offset lookups, fetch cut points, producer-state replay) or whole batches
// (recovery CRC checks, compaction). Reads with pread(2) into a chunk
// buffer, so scanning many small batches costs few system calls; it never
// changes the fd's file offset and so can run beside appends.
//
// Thread ownership: one scanner per call, on the calling thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "protocol/record_batch.h"

namespace kfk::broker {

class BatchScanner {
 public:
  enum class Step {
    kBatch,    // header() / position() / bytes() describe the next batch
    kEnd,      // clean end: exactly at `end`
    kCorrupt,  // unparsable header or a batch running past `end` (torn write)
    kError,    // pread failed (errno in error_number())
  };

  // Scans batches starting at `start` (must be a batch boundary) and ending
  // at `end` (the segment size, or less).
  BatchScanner(int fd, uint64_t start, uint64_t end, size_t chunk_size = 64 * 1024);

  // Advances to the next batch. With want_bytes the whole batch is read and
  // bytes() covers it (valid until the next call).
  Step next(bool want_bytes);

  const proto::BatchHeader& header() const { return header_; }
  uint64_t position() const { return batch_pos_; }
  uint64_t next_position() const { return batch_pos_ + header_.total_size(); }
  std::span<const uint8_t> bytes() const { return bytes_; }
  proto::BatchSpan batch() const { return proto::BatchSpan{header_, bytes_}; }
  const char* why() const { return why_; }
  int error_number() const { return errno_; }

 private:
  // Makes [pos, pos + n) available in buf_; false on read error or EOF.
  bool fill(uint64_t pos, size_t n);

  int fd_;
  uint64_t pos_;  // the next batch starts here
  uint64_t end_;
  size_t chunk_;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;
  size_t buf_len_ = 0;
  proto::BatchHeader header_;
  uint64_t batch_pos_ = 0;
  std::span<const uint8_t> bytes_;
  const char* why_ = nullptr;
  int errno_ = 0;
};

}  // namespace kfk::broker
