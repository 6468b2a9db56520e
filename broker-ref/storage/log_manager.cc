// LogManager: opening the data dir, topics, partitions, checkpoints, close.
// Configs are in log_manager_config.cc, the maintenance thread in
// log_manager_maintenance.cc.
#include "storage/log_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "storage/checkpoint_file.h"

namespace kfk::broker {
namespace {

constexpr const char* kMetaDir = "__meta";
constexpr const char* kTopicsDir = "__meta/topics";
constexpr const char* kLockFile = ".lock";

Status unusable(const std::string& dir, const std::string& why) {
  return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, "log dir " + dir + " is unusable: " + why);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_dir_at(int dirfd, const std::string& name) {
  struct stat st;
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int64_t LogManager::now() const { return options_.clock ? options_.clock() : wall_clock_ms(); }

void LogManager::warn(const std::string& msg) const {
  if (options_.log) options_.log(msg);
  else std::fprintf(stderr, "kfk storage: %s\n", msg.c_str());
}

Status LogManager::open(const LogManagerOptions& options, std::unique_ptr<LogManager>* out) {
  std::unique_ptr<LogManager> m(new LogManager());
  m->options_ = options;
  m->data_dir_ = options.data_dir;
  if (m->data_dir_.empty()) return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, "no log dir configured");
  ConfigMap static_cfg = options.broker_config;
  if (Status s = apply_broker_config(static_cfg, &m->defaults_, &m->settings_); !s.ok()) return s;
  if (Status s = m->load(); !s.ok()) {
    // Nothing may be written into a dir we failed to open (it may belong to
    // another broker): the destructor must not close() it.
    m->closed_ = true;
    return s;
  }
  if (options.start_maintenance_thread) m->thread_ = std::thread([p = m.get()] { p->maintenance_loop(); });
  *out = std::move(m);
  return Status::Ok();
}

LogManager::~LogManager() {
  if (!closed_) (void)close();
  stop_thread();
}

Status LogManager::load() {
  const std::string& dir = data_dir_;
  // Usable data dir: a directory (created if missing) we can write and lock.
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return unusable(dir, "it exists and is not a directory");
  } else if (errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return unusable(dir, "cannot create it: " + ec.message());
  } else {
    return unusable(dir, std::strerror(errno));
  }
  int dfd = open_dir(dir);
  if (dfd < 0) return unusable(dir, std::string("cannot open it: ") + std::strerror(errno));
  datafd_.reset(dfd);
  {
    const char* probe = ".kfk-write-probe";
    int fd = ::openat(dfd, probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return unusable(dir, std::string("it is not writable: ") + std::strerror(errno));
    bool ok = ::write(fd, "x", 1) == 1;
    int err = errno;
    ::close(fd);
    unlink_at(dfd, probe);
    if (!ok) return unusable(dir, std::string("it is not writable: ") + std::strerror(err));
  }
  int lfd = ::openat(dfd, kLockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lfd < 0) return unusable(dir, std::string("cannot create the lock file: ") + std::strerror(errno));
  lockfd_.reset(lfd);
  if (::flock(lfd, LOCK_EX | LOCK_NB) != 0)
    return unusable(dir, errno == EWOULDBLOCK ? "it is in use by another broker (the .lock file is held)"
                                              : std::string("cannot lock it: ") + std::strerror(errno));

  // The marker says whether the last run closed cleanly; it is removed now so
  // that a crash during this run is seen as one.
  clean_shutdown_ = exists_at(dfd, kCleanShutdownFile);
  if (clean_shutdown_) {
    unlink_at(dfd, kCleanShutdownFile);
    (void)fsync_fd(dfd, dir);
  }
  for (const auto& name : list_dir_at(dfd))  // checkpoint writes cut short by a crash
    if (ends_with(name, ".tmp") && !is_dir_at(dfd, name)) unlink_at(dfd, name);
  auto read_cp = [&](const char* name, TopicPartitionOffsets* out) {
    if (Status s = read_offset_checkpoint_at(dfd, name, out); !s.ok()) {
      warn(s.message + " (ignored)");
      out->clear();
    }
  };
  read_cp(kRecoveryPointCheckpoint, &recovery_points_);
  read_cp(kLogStartOffsetCheckpoint, &log_start_offsets_);
  read_cp(kCleanerOffsetCheckpoint, &cleaner_offsets_);

  if (::mkdirat(dfd, kMetaDir, 0755) != 0 && errno != EEXIST) return io_error("create " + dir + "/" + kMetaDir, errno);
  if (::mkdirat(dfd, kTopicsDir, 0755) != 0 && errno != EEXIST) return io_error("create " + dir + "/" + kTopicsDir, errno);
  int mfd = ::openat(dfd, kTopicsDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mfd < 0) return io_error("open " + dir + "/" + kTopicsDir, errno);
  metafd_.reset(mfd);

  // Topics: their metadata files are the source of truth.
  MutexLock lk(mu_);
  for (const auto& name : list_dir_at(mfd)) {
    if (ends_with(name, ".tmp")) {
      unlink_at(mfd, name);
      continue;
    }
    if (!ends_with(name, ".json")) continue;
    int err = 0;
    auto text = read_file_at(mfd, name, &err);
    if (!text) return io_error("read " + dir + "/" + kTopicsDir + "/" + name, err);
    Topic t;
    Status s = decode_topic_metadata(*text, &t.info);
    if (s.ok() && t.info.name + ".json" != name) s = Status::error(ErrorCode::CORRUPT_MESSAGE, "name mismatch");
    if (s.ok()) s = LogConfig::with_overrides(defaults_, t.info.overrides, &t.config);
    if (!s.ok())
      return Status::error(ErrorCode::KAFKA_STORAGE_ERROR,
                           "unreadable topic metadata " + dir + "/" + kTopicsDir + "/" + name + ": " + s.message);
    topics_[t.info.name] = std::move(t);
  }

  // Partition dirs nobody owns (deleted topic, crash mid-create, fewer
  // partitions) and *-delete dirs go in the background.
  for (const auto& name : list_dir_at(dfd)) {
    if (!is_dir_at(dfd, name)) continue;
    if (is_delete_dir_name(name)) {
      pending_deletes_.push_back(name);
      continue;
    }
    auto tp = parse_partition_dir_name(name);
    if (!tp) continue;
    auto it = topics_.find(tp->first);
    bool owned = it != topics_.end() && tp->second < it->second.info.partitions;
    if (owned) {
      // partition.metadata from another incarnation of the topic: stale.
      int pfd = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd >= 0) {
        UniqueFd g(pfd);
        int err = 0;
        auto text = read_file_at(pfd, kPartitionMetadataFile, &err);
        auto id = text ? decode_partition_metadata(*text) : std::nullopt;
        if (id && !(*id == it->second.info.id)) owned = false;
      }
    }
    if (!owned) {
      warn("removing stray partition directory " + dir + "/" + name);
      schedule_dir_delete_locked(name);
    }
  }

  for (auto& [name, t] : topics_) {
    for (int32_t p = 0; p < t.info.partitions; ++p) {
      std::shared_ptr<Log> log;
      if (Status s = open_partition(t.info, t.config, p, false, &log); !s.ok()) return s;
      t.logs.push_back(std::move(log));
    }
  }
  return Status::Ok();
}

Status LogManager::open_partition(const TopicInfo& info, const LogConfig& cfg, int32_t p, bool fresh,
                                  std::shared_ptr<Log>* out) {
  const std::string name = partition_dir_name(info.name, p);
  const TopicPartition tp{info.name, p};
  LogOpenOptions o;
  o.now_ms = now();
  o.log = options_.log;
  if (fresh) {
    o.clean_shutdown = true;
  } else {
    o.clean_shutdown = clean_shutdown_;
    if (auto it = recovery_points_.find(tp); it != recovery_points_.end()) o.recovery_point = it->second;
    if (auto it = log_start_offsets_.find(tp); it != log_start_offsets_.end()) o.log_start_offset = it->second;
    if (auto it = cleaner_offsets_.find(tp); it != cleaner_offsets_.end()) o.cleaner_checkpoint = it->second;
  }
  std::unique_ptr<Log> log;
  if (Status s = Log::open(data_dir_ + "/" + name, cfg, o, &log); !s.ok()) return s;
  int pfd = ::openat(datafd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return io_error("open " + data_dir_ + "/" + name, errno);
  UniqueFd g(pfd);
  if (!exists_at(pfd, kPartitionMetadataFile) || fresh)
    if (Status s = write_file_atomic_at(pfd, kPartitionMetadataFile, encode_partition_metadata(info.id), fresh);
        !s.ok())
      return s;
  log->set_roll_listener([this] { wake_maintenance(); });
  *out = std::shared_ptr<Log>(std::move(log));
  return Status::Ok();
}

Status LogManager::persist_topic_locked(const TopicInfo& info) {
  return write_file_atomic_at(metafd_.get(), info.name + ".json", encode_topic_metadata(info), true);
}

void LogManager::schedule_dir_delete_locked(const std::string& dir_name) {
  std::string target = dir_name;
  if (!is_delete_dir_name(dir_name)) {
    auto tp = parse_partition_dir_name(dir_name);
    target = delete_dir_name(tp ? tp->first : dir_name, tp ? tp->second : 0);
    if (!rename_at(datafd_.get(), dir_name, target).ok()) {
      warn("could not rename " + dir_name + " for deletion");
      return;
    }
  }
  pending_deletes_.push_back(target);
}

// ------------------------------------------------------------------ topics

Status LogManager::create_topic(const std::string& name, int32_t partitions, const ConfigMap& overrides,
                                bool validate_only, TopicInfo* out) {
  if (Status s = validate_topic_name(name); !s.ok()) return s;
  MutexLock lk(mu_);
  if (topics_.count(name)) return Status::error(ErrorCode::TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
  for (const auto& [other, t] : topics_)
    if (topic_names_collide(name, other))
      return Status::error(ErrorCode::INVALID_TOPIC_EXCEPTION,
                           "Topic '" + name + "' collides with existing topic: " + other);
  if (partitions < 1) return Status::error(ErrorCode::INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
  Topic t;
  for (const auto& [k, v] : overrides)
    if (find_topic_config(k) == nullptr)
      return Status::error(ErrorCode::INVALID_CONFIG, "Unknown topic config name: " + k);
  if (Status s = LogConfig::with_overrides(defaults_, overrides, &t.config); !s.ok()) return s;
  if (validate_only) return Status::Ok();
  t.info = TopicInfo{name, proto::Uuid::random(), partitions, overrides};

  auto rollback = [&](const Status& s) REQUIRES(mu_) {
    for (int32_t p = 0; p < static_cast<int32_t>(t.logs.size()); ++p) {
      t.logs[static_cast<size_t>(p)]->mark_deleted();
      schedule_dir_delete_locked(partition_dir_name(name, p));
    }
    return s;
  };
  for (int32_t p = 0; p < partitions; ++p) {
    const std::string dname = partition_dir_name(name, p);
    if (exists_at(datafd_.get(), dname)) {  // a stray from an earlier incarnation
      std::error_code ec;
      std::filesystem::remove_all(data_dir_ + "/" + dname, ec);
    }
    std::shared_ptr<Log> log;
    if (Status s = open_partition(t.info, t.config, p, true, &log); !s.ok()) return rollback(s);
    t.logs.push_back(std::move(log));
  }
  // The metadata file is the commit point: without it the dirs are strays.
  if (Status s = persist_topic_locked(t.info); !s.ok()) return rollback(s);
  if (out != nullptr) *out = t.info;
  topics_[name] = std::move(t);
  return Status::Ok();
}

Status LogManager::delete_topic(const std::string& name) {
  {
    MutexLock lk(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end())
      return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
    if (!unlink_at(metafd_.get(), name + ".json")) return io_error("remove metadata of topic " + name, errno);
    (void)fsync_fd(metafd_.get(), data_dir_ + "/" + kTopicsDir);
    for (size_t p = 0; p < it->second.logs.size(); ++p) {
      it->second.logs[p]->mark_deleted();
      schedule_dir_delete_locked(partition_dir_name(name, static_cast<int32_t>(p)));
    }
    topics_.erase(it);
  }
  // Checkpoints must not carry the old offsets over to a recreated topic.
  (void)write_checkpoints(false);
  wake_maintenance();
  return Status::Ok();
}

Status LogManager::create_partitions(const std::string& name, int32_t total, bool validate_only) {
  MutexLock lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end())
    return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
  Topic& t = it->second;
  if (total < t.info.partitions)
    return Status::error(ErrorCode::INVALID_PARTITIONS, "Topic currently has " + std::to_string(t.info.partitions) +
                                                            " partitions, which is higher than the requested " +
                                                            std::to_string(total) + ".");
  if (total == t.info.partitions)
    return Status::error(ErrorCode::INVALID_PARTITIONS,
                         "Topic already has " + std::to_string(t.info.partitions) + " partitions.");
  if (validate_only) return Status::Ok();
  std::vector<std::shared_ptr<Log>> added;
  for (int32_t p = t.info.partitions; p < total; ++p) {
    const std::string dname = partition_dir_name(name, p);
    if (exists_at(datafd_.get(), dname)) {
      std::error_code ec;
      std::filesystem::remove_all(data_dir_ + "/" + dname, ec);
    }
    std::shared_ptr<Log> log;
    Status s = open_partition(t.info, t.config, p, true, &log);
    if (!s.ok()) {
      for (size_t i = 0; i < added.size(); ++i) {
        added[i]->mark_deleted();
        schedule_dir_delete_locked(partition_dir_name(name, t.info.partitions + static_cast<int32_t>(i)));
      }
      return s;
    }
    added.push_back(std::move(log));
  }
  TopicInfo next = t.info;
  next.partitions = total;
  if (Status s = persist_topic_locked(next); !s.ok()) return s;
  t.info = next;
  for (auto& l : added) t.logs.push_back(std::move(l));
  return Status::Ok();
}

std::shared_ptr<Log> LogManager::log_shared(std::string_view topic, int32_t partition) const {
  MutexLock lk(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.logs.size()) return nullptr;
  return it->second.logs[static_cast<size_t>(partition)];
}

Log* LogManager::log(std::string_view topic, int32_t partition) const { return log_shared(topic, partition).get(); }

std::optional<TopicInfo> LogManager::topic(std::string_view name) const {
  MutexLock lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<TopicInfo> LogManager::topic_by_id(const proto::Uuid& id) const {
  MutexLock lk(mu_);
  for (const auto& [n, t] : topics_)
    if (t.info.id == id) return t.info;
  return std::nullopt;
}

std::vector<TopicInfo> LogManager::topics() const {
  MutexLock lk(mu_);
  std::vector<TopicInfo> out;
  for (const auto& [n, t] : topics_) out.push_back(t.info);
  return out;
}

Status LogManager::delete_records(std::string_view topic, int32_t partition, int64_t offset, int64_t* low_watermark) {
  std::shared_ptr<Log> log = log_shared(topic, partition);
  if (!log) return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
  if (Status s = log->delete_records_before(offset, low_watermark); !s.ok()) return s;
  // Kafka checkpoints the log start offset periodically; doing it now means
  // deleted records never reappear after a crash.
  return write_checkpoints(true);
}

std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> LogManager::all_logs() const {
  MutexLock lk(mu_);
  std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> out;
  for (const auto& [n, t] : topics_)
    for (size_t p = 0; p < t.logs.size(); ++p) out.push_back({{n, static_cast<int32_t>(p)}, t.logs[p]});
  return out;
}

Status LogManager::write_checkpoints(bool durable) {
  TopicPartitionOffsets rp, lso, cleaner;
  for (const auto& [tp, log] : all_logs()) {
    rp[tp] = log->recovery_point();
    lso[tp] = log->log_start_offset();
    if (log->config().compact) cleaner[tp] = log->cleaner_checkpoint();
  }
  const int dfd = datafd_.get();
  if (Status s = write_offset_checkpoint_at(dfd, kRecoveryPointCheckpoint, rp, durable); !s.ok()) return s;
  if (Status s = write_offset_checkpoint_at(dfd, kLogStartOffsetCheckpoint, lso, durable); !s.ok()) return s;
  return write_offset_checkpoint_at(dfd, kCleanerOffsetCheckpoint, cleaner, durable);
}

Status LogManager::close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  stop_thread();
  MutexLock pass(pass_mu_);
  Status first;
  for (const auto& [tp, log] : all_logs()) {
    log->set_roll_listener(nullptr);
    Status s = log->close();
    if (!s.ok() && first.ok()) first = s;
  }
  if (Status s = write_checkpoints(true); !s.ok() && first.ok()) first = s;
  // Only a fully flushed data dir gets the marker.
  if (first.ok()) first = write_file_atomic_at(datafd_.get(), kCleanShutdownFile, "", true);
  lockfd_.reset();
  return first;
}

void LogManager::abort() {
  if (closed_) return;
  closed_ = true;
  stop_thread();
  for (const auto& [tp, log] : all_logs()) log->set_roll_listener(nullptr);
  lockfd_.reset();
}

}  // namespace kfk::broker
