// Value types shared by every generated message: UUIDs, raw bytes, record
// sets (zero-copy views) and retained unknown tagged fields.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace kfk::proto {

using Bytes = std::vector<uint8_t>;

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  bool operator==(const Uuid&) const = default;
  bool is_zero() const;
  // Kafka prints topic ids as URL-safe base64 without padding.
  std::string to_string() const;
  static Uuid random();
};

// A tagged field this codec does not know (a newer peer sent it). Kept so
// that decode then encode gives back the same bytes.
struct TaggedField {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const TaggedField&) const = default;
};
using TaggedFields = std::vector<TaggedField>;

// Bytes the codec carries without seeing them: a layer above knows what
// they are (broker-ref's log file ranges, sent with sendfile). The codec
// only knows their size; the writer records them as an external splice, and
// whoever sends the frame resolves them (for_each_chunk's on_external).
class ExternalBytes {
 public:
  virtual ~ExternalBytes() = default;
};

// The `records` field of Produce and Fetch: a sequence of record batches.
// Decoding points into the request buffer (no copy: the caller keeps that
// buffer alive). Encoding splices the bytes into the writer without copying
// them; `owner` keeps them alive until the frame has been written. External
// records (is_external()) are `size` bytes the codec cannot read.
class Records {
 public:
  Records() = default;
  static Records view(const uint8_t* data, size_t size, std::shared_ptr<const void> owner = {});
  static Records external(std::shared_ptr<const ExternalBytes> bytes, size_t size);
  static Records copy_of(const uint8_t* data, size_t size);  // owns a copy

  bool is_null() const { return null_; }
  bool is_external() const { return external_ != nullptr; }
  const uint8_t* data() const { return data_; }  // null when external
  size_t size() const { return size_; }
  const ExternalBytes* external() const { return external_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Equal when both are null or both hold the same bytes (tests compare
  // decoded messages with their originals; external ones by identity).
  bool operator==(const Records& o) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool null_ = true;
  const ExternalBytes* external_ = nullptr;  // kept alive by owner_
  std::shared_ptr<const void> owner_;
};

}  // namespace kfk::proto
