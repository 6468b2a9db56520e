// The two sparse indexes of a log segment, in Kafka's on-disk layout:
//
//   .index      8-byte entries: relative offset int32 BE | file position int32 BE
//   .timeindex 12-byte entries: timestamp int64 BE | relative offset int32 BE
//
// Both are held in memory (sorted vectors, binary-searched) and every new
// entry is also written to the file at once with pwrite(2), so a kill -9
// loses nothing. Lookups never touch the file, so its descriptor is a
// CachedFile: closed when idle, reopened for the next write. Files are not preallocated: their size is exactly
// entries * entry size, which is what the sanity checks rely on.
//
// Thread ownership: owned by a LogSegment; mutated only under the owning
// Log's mutex (or by the single thread building a segment: loader, cleaner).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/fd_cache.h"
#include "storage/file_util.h"

namespace kfk::broker {

// One fixed-entry-size index file.
class IndexFile {
 public:
  // Opens (creating if missing) and reads the whole file into *content.
  Status open(const PartitionDirPtr& dir, const std::string& name, std::vector<uint8_t>* content, bool* existed);
  Status append(const uint8_t* entry, size_t size, uint64_t at);
  Status truncate(uint64_t size);
  Status rewrite(const std::vector<uint8_t>& content);
  Status rename(const std::string& new_name);
  void remove();
  Status flush();
  std::string name() const { return file_.name(); }
  void close() { file_.close(); }

 private:
  CachedFile file_;
};

class OffsetIndex {
 public:
  static constexpr size_t kEntrySize = 8;
  struct Entry {
    int64_t offset = 0;
    uint32_t position = 0;
  };

  // Loads the file. A size that is not a multiple of 8 is noted (see
  // sanity_check) rather than failing: the caller rebuilds the index.
  Status open(const PartitionDirPtr& dir, const std::string& name, int64_t base_offset, bool* existed);

  // The entry with the largest offset <= target, or {base offset, 0}.
  Entry lookup(int64_t target) const;
  // The last entry whose position is <= pos (entries are batch starts).
  std::optional<Entry> floor_by_position(uint32_t pos) const;
  std::optional<Entry> last() const;
  size_t entries() const { return rel_.size(); }

  // Appends an entry; offsets and positions must grow.
  Status append(int64_t offset, uint32_t position);
  // Drops entries with offset >= `offset`.
  Status truncate_to_offset(int64_t offset);
  // Rebuild support: reset() empties the index and defers file writes until
  // finish_rebuild() writes all entries at once.
  Status reset();
  Status finish_rebuild();

  // Kafka's index sanity check, extended: entry size, strictly increasing
  // offsets and positions, last position inside the log. "" when sane.
  std::string sanity_check(uint32_t log_size) const;

  IndexFile& file() { return file_; }

 private:
  int64_t base_ = 0;
  std::vector<int32_t> rel_;   // relative offsets
  std::vector<uint32_t> pos_;  // file positions
  IndexFile file_;
  bool bad_size_ = false;
  bool deferred_ = false;
};

class TimeIndex {
 public:
  static constexpr size_t kEntrySize = 12;
  struct Entry {
    int64_t timestamp = -1;
    int64_t offset = 0;
  };

  Status open(const PartitionDirPtr& dir, const std::string& name, int64_t base_offset, bool* existed);

  // The entry with the largest timestamp <= target, or {-1, base offset}.
  Entry lookup(int64_t target) const;
  std::optional<Entry> last() const;
  size_t entries() const { return ts_.size(); }

  // Appends when `timestamp` is larger than the last entry's (Kafka's
  // maybeAppend): entries then grow in both timestamp and offset.
  Status maybe_append(int64_t timestamp, int64_t offset);
  Status truncate_to_offset(int64_t offset);
  Status reset();
  Status finish_rebuild();

  // Entry size, strictly increasing timestamps, non-decreasing offsets in
  // [base, next_offset). "" when sane.
  std::string sanity_check(int64_t next_offset) const;

  IndexFile& file() { return file_; }

 private:
  int64_t base_ = 0;
  std::vector<int64_t> ts_;
  std::vector<int32_t> rel_;
  IndexFile file_;
  bool bad_size_ = false;
  bool deferred_ = false;
};

}  // namespace kfk::broker
