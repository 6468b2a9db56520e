#include "storage/fd_cache.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace kfk::broker {

// ----------------------------------------------------------- PartitionDir

std::string PartitionDir::path() const {
  MutexLock lk(mu_);
  return path_;
}

int PartitionDir::open_file(const std::string& name, int flags, mode_t mode) const {
  MutexLock lk(mu_);  // mark_gone() waits: no open lands after it
  if (gone_) {
    errno = ENOENT;
    return -1;
  }
  return ::open((path_ + "/" + name).c_str(), flags | O_CLOEXEC, mode);
}

UniqueFd PartitionDir::open() const {
  MutexLock lk(mu_);
  if (gone_) {
    errno = ENOENT;
    return UniqueFd();
  }
  return UniqueFd(open_dir(path_));
}

Status PartitionDir::fsync() const {
  UniqueFd d = open();
  if (!d.valid()) return io_error("open log dir " + path(), errno);
  return fsync_fd(d.get(), path());
}

void PartitionDir::mark_gone() {
  MutexLock lk(mu_);
  gone_ = true;
}

bool PartitionDir::gone() const {
  MutexLock lk(mu_);
  return gone_;
}

// ------------------------------------------------------------- CachedFile

CachedFile::~CachedFile() { close(); }

void CachedFile::init(PartitionDirPtr dir, std::string name) {
  close();
  MutexLock lk(FdCache::instance().mu_);
  dir_ = std::move(dir);
  name_ = std::move(name);
}

Status CachedFile::get(FileHandle* out, int first_flags) {
  FdCache& c = FdCache::instance();
  MutexLock lk(c.mu_);
  if (fd_) {
    if (c.head_ != this) c.touch_locked(this);
    *out = fd_;
    return Status::Ok();
  }
  if (c.open_ >= c.cap_) c.evict_locked(c.cap_ - 1);
  const int flags = O_RDWR | first_flags;
  int fd = dir_->open_file(name_, flags);
  if (fd < 0 && (errno == EMFILE || errno == ENFILE) && c.open_ > 0) {
    // Someone else (connections, sends in flight) holds the rest: give
    // back half of ours and try once more.
    c.evict_locked(c.open_ / 2);
    fd = dir_->open_file(name_, flags);
  }
  if (fd < 0) {
    if (errno == ENOENT && dir_->gone())
      return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "partition " + dir_->path() + " was deleted");
    return io_error("open " + dir_->path() + "/" + name_, errno);
  }
  fd_ = std::make_shared<const UniqueFd>(fd);
  ++c.open_;
  c.touch_locked(this);
  *out = fd_;
  return Status::Ok();
}

FileHandle CachedFile::get_if_open() {
  MutexLock lk(FdCache::instance().mu_);
  return fd_;
}

Status CachedFile::rename(const std::string& new_name) {
  MutexLock lk(FdCache::instance().mu_);
  UniqueFd d = dir_->open();
  if (!d.valid()) return io_error("open log dir " + dir_->path(), errno);
  if (Status s = rename_at(d.get(), name_, new_name); !s.ok()) return s;
  name_ = new_name;
  return Status::Ok();
}

void CachedFile::remove() {
  std::string name = this->name();
  UniqueFd d = dir_->open();
  if (d.valid()) unlink_at(d.get(), name);
}

void CachedFile::close() {
  FdCache& c = FdCache::instance();
  FileHandle drop;  // closed after the lock is released
  MutexLock lk(c.mu_);
  if (!fd_) return;
  drop = std::move(fd_);
  c.unlink_locked(this);
  --c.open_;
}

std::string CachedFile::name() const {
  MutexLock lk(FdCache::instance().mu_);
  return name_;
}

// ---------------------------------------------------------------- FdCache

FdCache::FdCache() { size_from_limit(); }

FdCache& FdCache::instance() {
  static FdCache* cache = new FdCache();  // never destroyed: segments may outlive statics
  return *cache;
}

size_t FdCache::capacity() const {
  MutexLock lk(mu_);
  return cap_;
}

size_t FdCache::open_files() const {
  MutexLock lk(mu_);
  return open_;
}

void FdCache::size_from_limit() {
  const uint64_t limit = fd_soft_limit();
  size_t cap = 512;
  if (limit > 0) cap = limit <= 2048 ? static_cast<size_t>(limit / 2) : static_cast<size_t>(limit - 1024);
  set_capacity(cap);
}

void FdCache::set_capacity(size_t n) {
  MutexLock lk(mu_);
  cap_ = n < 16 ? 16 : n;
  if (open_ > cap_) evict_locked(cap_);
}

void FdCache::touch_locked(CachedFile* f) {
  if (f->linked_) unlink_locked(f);
  f->prev_ = nullptr;
  f->next_ = head_;
  if (head_ != nullptr) head_->prev_ = f;
  head_ = f;
  if (tail_ == nullptr) tail_ = f;
  f->linked_ = true;
}

void FdCache::unlink_locked(CachedFile* f) {
  if (!f->linked_) return;
  (f->prev_ != nullptr ? f->prev_->next_ : head_) = f->next_;
  (f->next_ != nullptr ? f->next_->prev_ : tail_) = f->prev_;
  f->prev_ = f->next_ = nullptr;
  f->linked_ = false;
}

void FdCache::evict_locked(size_t keep) {
  while (open_ > keep && tail_ != nullptr) {
    CachedFile* f = tail_;
    unlink_locked(f);
    f->fd_.reset();  // a holder's copy keeps the descriptor open until it lets go
    --open_;
  }
}

// ----------------------------------------------------------------- limits

uint64_t fd_soft_limit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return rl.rlim_cur;
}

uint64_t raise_fd_limit(uint64_t* hard) {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      struct rlimit want = rl;
      want.rlim_cur = rl.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &want) != 0 && rl.rlim_max > (1u << 20)) {
        want.rlim_cur = 1u << 20;  // a hard limit above nr_open: take what the kernel allows
        (void)::setrlimit(RLIMIT_NOFILE, &want);
      }
    }
    if (hard != nullptr) *hard = rl.rlim_max == RLIM_INFINITY ? 0 : rl.rlim_max;
  }
  FdCache::instance().size_from_limit();
  return fd_soft_limit();
}

}  // namespace kfk::broker
