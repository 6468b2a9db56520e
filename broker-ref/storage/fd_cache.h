// File descriptors of segment files, bounded: a process-wide LRU of the
// `.log`, `.index` and `.timeindex` files that are open. A file idle long
// enough to fall off the end is closed and reopened by name on its next
// use, so thousands of partitions fit a 1024-descriptor limit (Kafka keeps
// about one per segment; broker-ref keeps at most `capacity()` in all).
//
//   PartitionDir  a partition directory, addressed by path: no descriptor
//                 is kept for it (opened only to fsync or openat, then
//                 closed). delete_topic marks it gone before renaming it,
//                 so a stale Log can never reopen a file of a new topic
//                 that took the old name.
//   CachedFile    one file of a segment. get() hands out a FileHandle: a
//                 reference-counted descriptor, so a file being read or
//                 sent with sendfile stays open until its last holder lets
//                 go even when the cache closed its own reference.
//   FdCache       the LRU and its capacity (from RLIMIT_NOFILE: half of a
//                 soft limit up to 2048, the limit less 1024 above).
//
// Thread ownership: any thread. One mutex (FdCache's) guards every
// CachedFile's descriptor, name and list links; PartitionDir has its own,
// taken inside FdCache's (order: FdCache, then PartitionDir).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/mutex.h"
#include "storage/file_util.h"

namespace kfk::broker {

// A descriptor shared by its readers; closed when the last one lets go.
using FileHandle = std::shared_ptr<const UniqueFd>;

class PartitionDir {
 public:
  explicit PartitionDir(std::string path) : path_(std::move(path)) {}
  std::string path() const;
  // open(2) of `name` inside the directory; -1 with errno (ENOENT once gone).
  int open_file(const std::string& name, int flags, mode_t mode = 0644) const;
  // The directory itself (O_DIRECTORY), for *at() helpers and fsync; the
  // caller closes it. Invalid with errno set on failure.
  UniqueFd open() const;
  Status fsync() const;
  // The partition was deleted: nothing more is opened in it.
  void mark_gone();
  bool gone() const;

 private:
  mutable Mutex mu_;
  std::string path_ GUARDED_BY(mu_);
  bool gone_ GUARDED_BY(mu_) = false;
};

using PartitionDirPtr = std::shared_ptr<PartitionDir>;

class CachedFile {
 public:
  CachedFile() = default;
  ~CachedFile();
  CachedFile(const CachedFile&) = delete;
  CachedFile& operator=(const CachedFile&) = delete;

  // Names the file (nothing is opened). Reopens use O_RDWR | O_CLOEXEC.
  void init(PartitionDirPtr dir, std::string name);
  // The open file; reopens it when closed. `first_flags` (e.g. O_CREAT |
  // O_TRUNC) apply when this call opens it. A full descriptor table first
  // closes idle files and retries; if that is not enough, the error names
  // the limit ("Too many open files (RLIMIT_NOFILE 1024)").
  Status get(FileHandle* out, int first_flags = 0);
  // The descriptor only when open right now (no reopen); nullptr otherwise.
  FileHandle get_if_open();
  // Renames the file in its directory (closed or not).
  Status rename(const std::string& new_name);
  // Unlinks it (a missing file is fine); holders keep reading.
  void remove();
  // Drops the cache's reference (holders keep theirs).
  void close();
  std::string name() const;
  const PartitionDirPtr& dir() const { return dir_; }

 private:
  friend class FdCache;
  PartitionDirPtr dir_;
  std::string name_;
  FileHandle fd_;  // null while closed
  CachedFile* prev_ = nullptr;  // LRU links (most recent at the head)
  CachedFile* next_ = nullptr;
  bool linked_ = false;
};

class FdCache {
 public:
  static FdCache& instance();
  size_t capacity() const;
  size_t open_files() const;
  // Sets the capacity from the current soft RLIMIT_NOFILE.
  void size_from_limit();
  void set_capacity(size_t n);

 private:
  friend class CachedFile;
  FdCache();
  void touch_locked(CachedFile* f) REQUIRES(mu_);
  void unlink_locked(CachedFile* f) REQUIRES(mu_);
  void evict_locked(size_t keep) REQUIRES(mu_);  // closes the least recent files beyond `keep`

  // Also guards every CachedFile's fields (not annotated: the analysis
  // cannot name this singleton's mutex from CachedFile's declaration).
  mutable Mutex mu_;
  CachedFile* head_ GUARDED_BY(mu_) = nullptr;
  CachedFile* tail_ GUARDED_BY(mu_) = nullptr;
  size_t open_ GUARDED_BY(mu_) = 0;
  size_t cap_ GUARDED_BY(mu_) = 512;
};

// The soft RLIMIT_NOFILE (0: unknown).
uint64_t fd_soft_limit();
// Raises the soft RLIMIT_NOFILE to the hard limit (Kafka's packaging asks
// for a large one) and sizes FdCache from it. Returns the soft limit now in
// force; *hard gets the hard one.
uint64_t raise_fd_limit(uint64_t* hard = nullptr);

}  // namespace kfk::broker
