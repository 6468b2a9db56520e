#include "storage/segment_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "protocol/big_endian.h"

namespace kfk::broker {

// ------------------------------------------------------------- IndexFile

Status IndexFile::open(const PartitionDirPtr& dir, const std::string& name, std::vector<uint8_t>* content,
                       bool* existed) {
  file_.init(dir, name);
  UniqueFd d = dir->open();
  *existed = d.valid() && exists_at(d.get(), name);
  d.reset();
  FileHandle fd;
  if (Status s = file_.get(&fd, O_CREAT); !s.ok()) return s;
  content->clear();
  off_t size = ::lseek(fd->get(), 0, SEEK_END);
  if (size < 0) return io_error("seek index " + name, errno);
  content->resize(static_cast<size_t>(size));
  if (size > 0 && pread_full(fd->get(), content->data(), content->size(), 0) != size)
    return io_error("read index " + name, errno);
  return Status::Ok();
}

Status IndexFile::append(const uint8_t* entry, size_t size, uint64_t at) {
  FileHandle fd;
  if (Status s = file_.get(&fd); !s.ok()) return s;
  int err = 0;
  if (!pwrite_all(fd->get(), entry, size, static_cast<int64_t>(at), &err)) return io_error("write index " + name(), err);
  return Status::Ok();
}

Status IndexFile::truncate(uint64_t size) {
  FileHandle fd;
  if (Status s = file_.get(&fd); !s.ok()) return s;
  if (::ftruncate(fd->get(), static_cast<off_t>(size)) != 0) return io_error("truncate index " + name(), errno);
  return Status::Ok();
}

Status IndexFile::rewrite(const std::vector<uint8_t>& content) {
  FileHandle fd;
  if (Status s = file_.get(&fd); !s.ok()) return s;
  if (::ftruncate(fd->get(), 0) != 0) return io_error("truncate index " + name(), errno);
  int err = 0;
  if (!content.empty() && !pwrite_all(fd->get(), content.data(), content.size(), 0, &err))
    return io_error("write index " + name(), err);
  return Status::Ok();
}

Status IndexFile::rename(const std::string& new_name) { return file_.rename(new_name); }

void IndexFile::remove() { file_.remove(); }

Status IndexFile::flush() {
  // fsync flushes the file's pages whichever descriptor asks: a closed
  // file (a sealed segment's) is reopened for it and closed again.
  const bool was_open = file_.get_if_open() != nullptr;
  FileHandle fd;
  if (Status s = file_.get(&fd); !s.ok()) return s;
  const int rc = ::fsync(fd->get());
  const int err = errno;
  if (!was_open) file_.close();
  if (rc != 0) return io_error("fsync of an index file", err);
  return Status::Ok();
}

// ----------------------------------------------------------- OffsetIndex

Status OffsetIndex::open(const PartitionDirPtr& dir, const std::string& name, int64_t base_offset, bool* existed) {
  base_ = base_offset;
  rel_.clear();
  pos_.clear();
  std::vector<uint8_t> bytes;
  if (Status s = file_.open(dir, name, &bytes, existed); !s.ok()) return s;
  bad_size_ = bytes.size() % kEntrySize != 0;
  size_t n = bytes.size() / kEntrySize;
  rel_.reserve(n);
  pos_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    rel_.push_back(static_cast<int32_t>(proto::load_be32(&bytes[i * kEntrySize])));
    pos_.push_back(proto::load_be32(&bytes[i * kEntrySize + 4]));
  }
  return Status::Ok();
}

OffsetIndex::Entry OffsetIndex::lookup(int64_t target) const {
  int64_t rel = target - base_;
  if (rel_.empty() || rel < rel_.front()) return {base_, 0};
  if (rel > INT32_MAX) rel = INT32_MAX;
  // First entry with relative offset > rel, then step back.
  auto it = std::upper_bound(rel_.begin(), rel_.end(), static_cast<int32_t>(rel));
  size_t i = static_cast<size_t>(it - rel_.begin()) - 1;
  return {base_ + rel_[i], pos_[i]};
}

std::optional<OffsetIndex::Entry> OffsetIndex::floor_by_position(uint32_t pos) const {
  auto it = std::upper_bound(pos_.begin(), pos_.end(), pos);
  if (it == pos_.begin()) return std::nullopt;
  size_t i = static_cast<size_t>(it - pos_.begin()) - 1;
  return Entry{base_ + rel_[i], pos_[i]};
}

std::optional<OffsetIndex::Entry> OffsetIndex::last() const {
  if (rel_.empty()) return std::nullopt;
  return Entry{base_ + rel_.back(), pos_.back()};
}

Status OffsetIndex::append(int64_t offset, uint32_t position) {
  int64_t rel = offset - base_;
  if (rel < 0 || rel > INT32_MAX || (!rel_.empty() && (rel <= rel_.back() || position <= pos_.back())))
    return Status::error(ErrorCode::UNKNOWN_SERVER_ERROR,
                         "offset index entry out of order in " + file_.name() + " at offset " + std::to_string(offset));
  if (!deferred_) {
    uint8_t e[kEntrySize];
    proto::store_be32(e, static_cast<uint32_t>(rel));
    proto::store_be32(e + 4, position);
    if (Status s = file_.append(e, kEntrySize, rel_.size() * kEntrySize); !s.ok()) return s;
  }
  rel_.push_back(static_cast<int32_t>(rel));
  pos_.push_back(position);
  return Status::Ok();
}

Status OffsetIndex::truncate_to_offset(int64_t offset) {
  int64_t rel = std::clamp<int64_t>(offset - base_, INT32_MIN, INT32_MAX);
  auto it = std::lower_bound(rel_.begin(), rel_.end(), static_cast<int32_t>(rel));
  size_t keep = static_cast<size_t>(it - rel_.begin());
  rel_.resize(keep);
  pos_.resize(keep);
  return deferred_ ? Status::Ok() : file_.truncate(keep * kEntrySize);
}

Status OffsetIndex::reset() {
  rel_.clear();
  pos_.clear();
  bad_size_ = false;
  deferred_ = true;
  return Status::Ok();
}

Status OffsetIndex::finish_rebuild() {
  deferred_ = false;
  std::vector<uint8_t> bytes(rel_.size() * kEntrySize);
  for (size_t i = 0; i < rel_.size(); ++i) {
    proto::store_be32(&bytes[i * kEntrySize], static_cast<uint32_t>(rel_[i]));
    proto::store_be32(&bytes[i * kEntrySize + 4], pos_[i]);
  }
  return file_.rewrite(bytes);
}

std::string OffsetIndex::sanity_check(uint32_t log_size) const {
  if (bad_size_) return "index file " + file_.name() + " size is not a multiple of " + std::to_string(kEntrySize);
  for (size_t i = 0; i < rel_.size(); ++i) {
    if (rel_[i] < 0) return "negative relative offset in " + file_.name();
    if (i > 0 && (rel_[i] <= rel_[i - 1] || pos_[i] <= pos_[i - 1]))
      return "entries not increasing in " + file_.name() + " at entry " + std::to_string(i);
  }
  if (!pos_.empty() && pos_.back() >= log_size)
    return "last entry of " + file_.name() + " points at position " + std::to_string(pos_.back()) +
           " beyond the log size " + std::to_string(log_size);
  return {};
}

// ------------------------------------------------------------- TimeIndex

Status TimeIndex::open(const PartitionDirPtr& dir, const std::string& name, int64_t base_offset, bool* existed) {
  base_ = base_offset;
  ts_.clear();
  rel_.clear();
  std::vector<uint8_t> bytes;
  if (Status s = file_.open(dir, name, &bytes, existed); !s.ok()) return s;
  bad_size_ = bytes.size() % kEntrySize != 0;
  size_t n = bytes.size() / kEntrySize;
  ts_.reserve(n);
  rel_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ts_.push_back(static_cast<int64_t>(proto::load_be64(&bytes[i * kEntrySize])));
    rel_.push_back(static_cast<int32_t>(proto::load_be32(&bytes[i * kEntrySize + 8])));
  }
  return Status::Ok();
}

TimeIndex::Entry TimeIndex::lookup(int64_t target) const {
  auto it = std::upper_bound(ts_.begin(), ts_.end(), target);
  if (it == ts_.begin()) return {-1, base_};
  size_t i = static_cast<size_t>(it - ts_.begin()) - 1;
  return {ts_[i], base_ + rel_[i]};
}

std::optional<TimeIndex::Entry> TimeIndex::last() const {
  if (ts_.empty()) return std::nullopt;
  return Entry{ts_.back(), base_ + rel_.back()};
}

Status TimeIndex::maybe_append(int64_t timestamp, int64_t offset) {
  int64_t rel = offset - base_;
  if (rel < 0 || rel > INT32_MAX) return Status::Ok();
  if (!ts_.empty() && (timestamp <= ts_.back() || rel < rel_.back())) return Status::Ok();
  if (!deferred_) {
    uint8_t e[kEntrySize];
    proto::store_be64(e, static_cast<uint64_t>(timestamp));
    proto::store_be32(e + 8, static_cast<uint32_t>(rel));
    if (Status s = file_.append(e, kEntrySize, ts_.size() * kEntrySize); !s.ok()) return s;
  }
  ts_.push_back(timestamp);
  rel_.push_back(static_cast<int32_t>(rel));
  return Status::Ok();
}

Status TimeIndex::truncate_to_offset(int64_t offset) {
  int64_t rel = offset - base_;
  size_t keep = 0;
  while (keep < rel_.size() && rel_[keep] < rel) ++keep;  // offsets are sorted
  ts_.resize(keep);
  rel_.resize(keep);
  return deferred_ ? Status::Ok() : file_.truncate(keep * kEntrySize);
}

Status TimeIndex::reset() {
  ts_.clear();
  rel_.clear();
  bad_size_ = false;
  deferred_ = true;
  return Status::Ok();
}

Status TimeIndex::finish_rebuild() {
  deferred_ = false;
  std::vector<uint8_t> bytes(ts_.size() * kEntrySize);
  for (size_t i = 0; i < ts_.size(); ++i) {
    proto::store_be64(&bytes[i * kEntrySize], static_cast<uint64_t>(ts_[i]));
    proto::store_be32(&bytes[i * kEntrySize + 8], static_cast<uint32_t>(rel_[i]));
  }
  return file_.rewrite(bytes);
}

std::string TimeIndex::sanity_check(int64_t next_offset) const {
  if (bad_size_) return "time index file " + file_.name() + " size is not a multiple of " + std::to_string(kEntrySize);
  for (size_t i = 0; i < ts_.size(); ++i) {
    if (rel_[i] < 0) return "negative relative offset in " + file_.name();
    if (i > 0 && (ts_[i] <= ts_[i - 1] || rel_[i] < rel_[i - 1]))
      return "entries not increasing in " + file_.name() + " at entry " + std::to_string(i);
  }
  if (!rel_.empty() && base_ + rel_.back() >= next_offset)
    return "last entry of " + file_.name() + " points at offset " + std::to_string(base_ + rel_.back()) +
           " beyond the log end " + std::to_string(next_offset);
  return {};
}

}  // namespace kfk::broker
