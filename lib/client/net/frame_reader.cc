#include "client/net/frame_reader.h"

#include <algorithm>
#include <cstring>

namespace kfk::net {

// --- FramePool ----------------------------------------------------------------

std::shared_ptr<FrameBuffer> FramePool::get(size_t size) {
  if (free_count_.load(std::memory_order_relaxed) > 0) release_idle(std::chrono::steady_clock::now());
  if (size < kMinPooled) {
    auto f = std::make_shared<FrameBuffer>();
    f->bytes.reset(new uint8_t[size]);  // uninitialized: it is about to be filled
    f->size = f->capacity = size;
    return f;
  }
  auto f = std::make_unique<FrameBuffer>();
  f->size = size;
  {
    // The smallest free buffer that fits.
    std::lock_guard<std::mutex> lock(mu_);
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i)
      if (free_[i].capacity >= size && (best == free_.size() || free_[i].capacity < free_[best].capacity)) best = i;
    if (best < free_.size()) {
      f->bytes = std::move(free_[best].bytes);
      f->capacity = free_[best].capacity;
      free_bytes_ -= f->capacity;
      free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
      free_count_.store(free_.size(), std::memory_order_relaxed);
      ++reused_;
    }
  }
  if (!f->bytes) {
    // 1/8 headroom, in whole MiB: pages never written are never faulted in,
    // so the headroom costs address space only.
    constexpr size_t kMiB = size_t{1} << 20;
    f->capacity = (size + size / 8 + kMiB - 1) / kMiB * kMiB;
    f->bytes.reset(new uint8_t[f->capacity]);  // uninitialized
  }
  std::weak_ptr<FramePool> pool = weak_from_this();
  return std::shared_ptr<FrameBuffer>(f.release(), [pool](FrameBuffer* p) {
    std::unique_ptr<FrameBuffer> owned(p);
    if (auto live = pool.lock()) live->put(std::move(owned->bytes), owned->capacity);
  });
}

void FramePool::put(std::unique_ptr<uint8_t[]> bytes, size_t capacity) {
  std::vector<Free> drop;  // freed after unlocking (munmap takes a while)
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (capacity > kMaxFreeBytes) return;
    // Full: keep the larger buffers (they fit more frames).
    while (!free_.empty() && (free_.size() >= kMaxFree || free_bytes_ + capacity > kMaxFreeBytes)) {
      auto smallest = std::min_element(free_.begin(), free_.end(),
                                       [](const Free& a, const Free& b) { return a.capacity < b.capacity; });
      if (smallest->capacity >= capacity) return;
      free_bytes_ -= smallest->capacity;
      drop.push_back(std::move(*smallest));
      free_.erase(smallest);
      free_count_.store(free_.size(), std::memory_order_relaxed);
    }
    free_bytes_ += capacity;
    free_.push_back(Free{std::move(bytes), capacity, std::chrono::steady_clock::now()});
    free_count_.store(free_.size(), std::memory_order_relaxed);
  }
}

void FramePool::release_idle(std::chrono::steady_clock::time_point now) {
  std::vector<Free> drop;  // freed after unlocking
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = free_.begin(); it != free_.end();) {
      if (now - it->since >= kIdleRelease) {
        free_bytes_ -= it->capacity;
        drop.push_back(std::move(*it));
        it = free_.erase(it);
      } else {
        ++it;
      }
    }
    free_count_.store(free_.size(), std::memory_order_relaxed);
  }
}

size_t FramePool::free_buffers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

uint64_t FramePool::reused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reused_;
}

// --- FrameReader --------------------------------------------------------------

FrameReader::FrameReader(size_t max_frame_bytes) : scratch_(new uint8_t[kScratchBytes]) {
  limits_.min_size = 4;  // a correlation id at least
  limits_.max_size = max_frame_bytes;
  limits_.what = "response";
}

void FrameReader::reset() {
  size_.reset();
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
  if (!io::frame_size_ok(size, limits_)) {
    error_ = io::frame_size_error(size, limits_);
    return false;
  }
  frame_ = pool_->get(static_cast<size_t>(size));
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
      p += size_.feed(p, static_cast<size_t>(end - p));
      if (!size_.complete()) break;
      const int32_t size = size_.value();
      size_.reset();
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
