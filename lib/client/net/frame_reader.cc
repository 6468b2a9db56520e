#include "client/net/frame_reader.h"

#include <algorithm>
#include <cstring>

namespace kfk::net {

FrameReader::FrameReader(size_t max_frame_bytes)
    : max_frame_(max_frame_bytes), scratch_(new uint8_t[kScratchBytes]) {}

void FrameReader::reset() {
  size_have_ = 0;
  frame_.reset();
  frame_have_ = 0;
  direct_ = false;
  error_.clear();
}

void FrameReader::next_buffer(uint8_t** data, size_t* size) {
  // Read a large remainder straight into the frame; everything else (size
  // prefixes, small frames, several frames at once) goes through scratch.
  if (frame_ && frame_->size - frame_have_ >= kScratchBytes) {
    direct_ = true;
    *data = frame_->bytes.get() + frame_have_;
    *size = frame_->size - frame_have_;
    return;
  }
  direct_ = false;
  *data = scratch_.get();
  *size = kScratchBytes;
}

bool FrameReader::start_frame(int32_t size) {
  if (size < 4 || static_cast<uint64_t>(size) > max_frame_) {
    error_ = "invalid response size " + std::to_string(size) + " (limit " + std::to_string(max_frame_) + ")";
    return false;
  }
  auto f = std::make_shared<FrameBuffer>();
  f->bytes.reset(new uint8_t[static_cast<size_t>(size)]);  // uninitialized: it is about to be filled
  f->size = static_cast<size_t>(size);
  frame_ = std::move(f);
  frame_have_ = 0;
  return true;
}

bool FrameReader::consume(size_t n, const std::function<bool(FramePtr)>& on_frame) {
  if (direct_) {
    direct_ = false;
    frame_have_ += n;
    if (frame_have_ == frame_->size) {
      FramePtr done = std::move(frame_);
      frame_have_ = 0;
      on_frame(std::move(done));
    }
    return true;
  }
  const uint8_t* p = scratch_.get();
  const uint8_t* end = p + n;
  while (p < end) {
    if (!frame_) {
      size_t take = std::min<size_t>(4 - size_have_, static_cast<size_t>(end - p));
      std::memcpy(size_buf_ + size_have_, p, take);
      size_have_ += take;
      p += take;
      if (size_have_ < 4) break;
      size_have_ = 0;
      int32_t size = static_cast<int32_t>((uint32_t{size_buf_[0]} << 24) | (uint32_t{size_buf_[1]} << 16) |
                                          (uint32_t{size_buf_[2]} << 8) | uint32_t{size_buf_[3]});
      if (!start_frame(size)) return false;
    }
    size_t take = std::min<size_t>(frame_->size - frame_have_, static_cast<size_t>(end - p));
    std::memcpy(frame_->bytes.get() + frame_have_, p, take);
    frame_have_ += take;
    p += take;
    if (frame_have_ == frame_->size) {
      FramePtr done = std::move(frame_);
      frame_have_ = 0;
      if (!on_frame(std::move(done))) return true;  // the owner stopped reading
    }
  }
  return true;
}

}  // namespace kfk::net
