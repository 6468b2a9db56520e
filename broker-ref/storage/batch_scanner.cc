#include "storage/batch_scanner.h"

#include <cerrno>
#include <cstring>

#include "storage/file_util.h"

namespace kfk::broker {

BatchScanner::BatchScanner(int fd, uint64_t start, uint64_t end, size_t chunk_size)
    : fd_(fd), pos_(start), end_(end), chunk_(chunk_size < proto::kBatchHeaderSize ? proto::kBatchHeaderSize : chunk_size) {}

bool BatchScanner::fill(uint64_t pos, size_t n) {
  if (pos >= buf_start_ && pos + n <= buf_start_ + buf_len_) return true;
  // Read at least a chunk (bounded by `end`) so that the following headers
  // come from memory.
  size_t want = n;
  if (want < chunk_) want = chunk_;
  if (pos + want > end_) want = static_cast<size_t>(end_ - pos);
  if (want < n) return false;
  if (buf_.size() < want) buf_.resize(want);
  int64_t got = pread_full(fd_, buf_.data(), want, static_cast<int64_t>(pos));
  if (got < 0) {
    errno_ = errno;
    buf_len_ = 0;
    return false;
  }
  buf_start_ = pos;
  buf_len_ = static_cast<size_t>(got);
  return buf_len_ >= n;
}

BatchScanner::Step BatchScanner::next(bool want_bytes) {
  bytes_ = {};
  if (pos_ >= end_) return pos_ == end_ ? Step::kEnd : Step::kCorrupt;
  batch_pos_ = pos_;
  if (end_ - pos_ < proto::kBatchHeaderSize) {
    why_ = "partial batch header at the end of the segment";
    return Step::kCorrupt;
  }
  if (!fill(pos_, proto::kBatchHeaderSize)) {
    if (errno_ != 0) return Step::kError;
    why_ = "segment shorter than its recorded size";
    return Step::kCorrupt;
  }
  std::span<const uint8_t> hdr(buf_.data() + (pos_ - buf_start_), proto::kBatchHeaderSize);
  if (!proto::parse_batch_header(hdr, header_, &why_)) return Step::kCorrupt;
  uint64_t total = header_.total_size();
  if (total > end_ - pos_) {
    why_ = "batch runs past the end of the segment";
    return Step::kCorrupt;
  }
  if (want_bytes) {
    if (!fill(pos_, static_cast<size_t>(total))) {
      if (errno_ != 0) return Step::kError;
      why_ = "segment shorter than its recorded size";
      return Step::kCorrupt;
    }
    bytes_ = std::span<const uint8_t>(buf_.data() + (pos_ - buf_start_), static_cast<size_t>(total));
  }
  pos_ += total;
  return Step::kBatch;
}

}  // namespace kfk::broker
