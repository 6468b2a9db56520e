// Small POSIX file helpers for the storage layer.
//
// Everything inside a partition directory is addressed relative to a
// directory fd (openat, renameat, unlinkat): a partition directory renamed
// away by delete_topic keeps working for whoever still holds its Log, and a
// new topic with the same name can never receive the old one's files.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace kfk::broker {

// Owns one file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Wall clock in milliseconds since the epoch.
int64_t wall_clock_ms();

// "00000000000000000123" + suffix: Kafka's 20-digit file names.
std::string offset_file_name(int64_t offset, std::string_view suffix);
// Parses a name made by offset_file_name with exactly this suffix.
std::optional<int64_t> parse_offset_file_name(std::string_view name, std::string_view suffix);

// write(2)/pwrite(2) until everything is written (EINTR and short writes
// retried). On failure returns false with errno in *err.
bool write_all(int fd, const void* data, size_t n, int* err);
bool pwrite_all(int fd, const void* data, size_t n, int64_t offset, int* err);
// pread(2) until n bytes or end of file; returns the byte count or -1.
int64_t pread_full(int fd, void* buf, size_t n, int64_t offset);

// Opens a directory (O_DIRECTORY | O_CLOEXEC). -1 with errno on failure.
int open_dir(const std::string& path);
// File names in a directory ("." and ".." excluded). Empty on error.
std::vector<std::string> list_dir_at(int dirfd);
bool exists_at(int dirfd, const std::string& name);
// Removes a file; a missing file is not an error.
bool unlink_at(int dirfd, const std::string& name);
Status rename_at(int dirfd, const std::string& from, const std::string& to);
Status fsync_fd(int fd, const std::string& what);

// Reads a whole (small) file. nullopt when missing (*err = ENOENT) or
// unreadable (*err = errno).
std::optional<std::string> read_file_at(int dirfd, const std::string& name, int* err);
// Writes a file atomically: a temporary file, optionally fsynced, renamed
// over `name` (then the directory is fsynced when `durable`). Readers see
// the old or the new content, never a mix, even after a crash.
Status write_file_atomic_at(int dirfd, const std::string& name, std::string_view data, bool durable);
// The temporary name write_file_atomic_at uses (ends in ".tmp"; short
// enough for the 255-byte file name limit). Leftovers are deleted at load.
std::string temp_name_for(const std::string& name);

}  // namespace kfk::broker
