// FileRecords: record batches of a log segment file, by range, for a Fetch
// response. The codec carries them as external bytes (proto::Records::
// external) without knowing about files; broker-ref's ResponseSender sends
// them with sendfile on a plain TCP stream, or through memory (read())
// where the stream cannot (TLS) and for down-conversion.
//
// Immutable; any thread. Holds the segment file open (FileHandle) until the
// last frame that references it has been written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "protocol/types.h"
#include "storage/fd_cache.h"

namespace kfk::broker {

class FileRecords final : public proto::ExternalBytes {
 public:
  FileRecords(FileHandle file, int fd, int64_t position, size_t size)
      : file_(std::move(file)), fd_(fd), position_(position), size_(size) {}

  // A Records value for a response: the codec sees `size` opaque bytes.
  static proto::Records records(FileHandle file, int fd, int64_t position, size_t size) {
    return proto::Records::external(std::make_shared<FileRecords>(std::move(file), fd, position, size), size);
  }
  // The FileRecords inside `r`, or null when `r` holds memory.
  static const FileRecords* of(const proto::Records& r) { return of(r.external()); }
  static const FileRecords* of(const proto::ExternalBytes* e) { return dynamic_cast<const FileRecords*>(e); }

  int fd() const { return fd_; }
  int64_t position() const { return position_; }
  size_t size() const { return size_; }
  // Copies `n` bytes from `offset` within the range into `out`; the bytes
  // read (short when the file ended), or -1 with errno.
  int64_t read(uint8_t* out, size_t n, size_t offset = 0) const {
    return pread_full(fd_, out, n, position_ + static_cast<int64_t>(offset));
  }

 private:
  FileHandle file_;
  int fd_;
  int64_t position_;
  size_t size_;
};

}  // namespace kfk::broker
