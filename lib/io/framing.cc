#include "io/framing.h"

#include <algorithm>
#include <cstring>

namespace kfk::io {

std::string frame_size_error(int32_t size, const FrameLimits& limits) {
  return std::string("invalid ") + limits.what + " size " + std::to_string(size) + " (" + limits.limit_name + " is " +
         std::to_string(limits.max_size) + ")";
}

size_t SizePrefix::feed(const uint8_t* p, size_t n) {
  size_t take = std::min(kSizePrefixBytes - have_, n);
  std::memcpy(bytes_ + have_, p, take);
  have_ += take;
  return take;
}

}  // namespace kfk::io
