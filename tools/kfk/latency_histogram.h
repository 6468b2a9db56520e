// LatencyHistogram: a fixed-size log-linear histogram of microsecond values
// (HdrHistogram's layout: 512 sub-buckets per power of two, under 0.2%
// relative error), so recording never allocates. Not thread-safe: one
// writer; read it on the same thread (or after the writer stopped).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace kfk::tool {

class LatencyHistogram {
 public:
  void record(uint64_t us) {
    ++counts_[index_of(us)];
    ++count_;
    sum_ += us;
    max_ = std::max(max_, us);
  }
  void reset() { *this = LatencyHistogram(); }

  uint64_t count() const { return count_; }
  double mean_us() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  uint64_t max_us() const { return max_; }
  // The value at quantile `q` (0..1): the upper bound of its bucket, capped
  // at the maximum seen.
  uint64_t quantile_us(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(upper_of(i), max_);
    }
    return max_;
  }

 private:
  static constexpr int kSubBits = 9;  // 512 sub-buckets per power of two
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr int kMaxShift = 34;  // up to ~2^43 us (100 days)
  static constexpr size_t kBuckets = 2 * kSub + kMaxShift * kSub;

  static size_t index_of(uint64_t v) {
    if (v < 2 * kSub) return static_cast<size_t>(v);
    int shift = std::min<int>(std::bit_width(v) - (kSubBits + 1), kMaxShift);
    uint64_t top = std::min<uint64_t>(v >> shift, 2 * kSub - 1);  // in [kSub, 2*kSub)
    return static_cast<size_t>(2 * kSub + (shift - 1) * kSub + (top - kSub));
  }
  static uint64_t upper_of(size_t i) {
    if (i < 2 * kSub) return i;
    size_t k = i - 2 * kSub;
    int shift = static_cast<int>(k / kSub) + 1;
    uint64_t top = kSub + k % kSub;
    return ((top + 1) << shift) - 1;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace kfk::tool
