#include "storage/file_util.h"

#include "storage/fd_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>

namespace kfk::broker {

Status io_error(const std::string& what, int err) {
  std::string msg = what + ": " + std::strerror(err);
  if (err == EMFILE) msg += " (RLIMIT_NOFILE " + std::to_string(fd_soft_limit()) + ")";
  return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, msg);
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string offset_file_name(int64_t offset, std::string_view suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
  std::string s(buf);
  s.append(suffix);
  return s;
}

std::optional<int64_t> parse_offset_file_name(std::string_view name, std::string_view suffix) {
  if (name.size() != 20 + suffix.size() || name.substr(20) != suffix) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool write_all(int fd, const void* data, size_t n, int* err) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (err != nullptr) *err = errno;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool pwrite_all(int fd, const void* data, size_t n, int64_t offset, int* err) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (err != nullptr) *err = errno;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
  return true;
}

int64_t pread_full(int fd, void* buf, size_t n, int64_t offset) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, p + got, n - got, offset + static_cast<int64_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<int64_t>(got);
}

int open_dir(const std::string& path) { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }

std::vector<std::string> list_dir_at(int dirfd) {
  std::vector<std::string> out;
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

bool exists_at(int dirfd, const std::string& name) {
  struct stat st;
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool unlink_at(int dirfd, const std::string& name) {
  return ::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT;
}

Status rename_at(int dirfd, const std::string& from, const std::string& to) {
  if (::renameat(dirfd, from.c_str(), dirfd, to.c_str()) != 0) return io_error("rename " + from + " -> " + to, errno);
  return Status::Ok();
}

Status fsync_fd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return io_error("fsync " + what, errno);
  return Status::Ok();
}

std::optional<std::string> read_file_at(int dirfd, const std::string& name, int* err) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (err != nullptr) *err = errno;
    return std::nullopt;
  }
  UniqueFd guard(fd);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (err != nullptr) *err = errno;
      return std::nullopt;
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

std::string temp_name_for(const std::string& name) {
  if (name.size() + 4 <= 255) return name + ".tmp";
  // Long topic names: a hash keeps the temporary name unique and short.
  char buf[40];
  std::snprintf(buf, sizeof buf, ".long-%016zx.tmp", std::hash<std::string>{}(name));
  return buf;
}

Status write_file_atomic_at(int dirfd, const std::string& name, std::string_view data, bool durable) {
  const std::string tmp = temp_name_for(name);
  int fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create " + tmp, errno);
  UniqueFd guard(fd);
  int err = 0;
  if (!write_all(fd, data.data(), data.size(), &err)) {
    unlink_at(dirfd, tmp);
    return io_error("write " + tmp, err);
  }
  if (durable && ::fsync(fd) != 0) {
    err = errno;
    unlink_at(dirfd, tmp);
    return io_error("fsync " + tmp, err);
  }
  guard.reset();
  if (Status s = rename_at(dirfd, tmp, name); !s.ok()) {
    unlink_at(dirfd, tmp);
    return s;
  }
  if (durable) return fsync_fd(dirfd, "directory of " + name);
  return Status::Ok();
}

}  // namespace kfk::broker
