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

// A range of a file, sent to a socket with sendfile() (broker fetch path).
struct FileSlice {
  int fd = -1;
  int64_t offset = 0;
  bool operator==(const FileSlice&) const = default;
};

// The `records` field of Produce and Fetch: a sequence of record batches.
// Decoding points into the request buffer (no copy: the caller keeps that
// buffer alive). Encoding splices the bytes into the writer without copying
// them; `owner` keeps them alive until the frame has been written. When
// `file.fd >= 0` the bytes are `size` bytes of that file at `file.offset`.
class Records {
 public:
  Records() = default;
  static Records view(const uint8_t* data, size_t size, std::shared_ptr<const void> owner = {});
  static Records of_file(int fd, int64_t offset, size_t size, std::shared_ptr<const void> owner = {});
  static Records copy_of(const uint8_t* data, size_t size);  // owns a copy

  bool is_null() const { return null_; }
  bool is_file() const { return file_.fd >= 0; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const FileSlice& file() const { return file_; }
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Equal when both are null or both hold the same bytes (tests compare
  // decoded messages with their originals; file-backed compare by slice).
  bool operator==(const Records& o) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool null_ = true;
  FileSlice file_;
  std::shared_ptr<const void> owner_;
};

}  // namespace kfk::proto
