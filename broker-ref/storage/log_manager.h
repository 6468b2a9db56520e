// LogManager: the broker's data directory (Kafka's LogManager).
//
//   <data-dir>/.lock                              flock'd: one broker per dir
//   <data-dir>/.kafka_cleanshutdown               written by close(), removed at open
//   <data-dir>/recovery-point-offset-checkpoint   (Kafka's text format)
//   <data-dir>/log-start-offset-checkpoint        (Kafka's text format)
//   <data-dir>/cleaner-offset-checkpoint          (Kafka's text format)
//   <data-dir>/__meta/topics/<topic>.json         topic id, partitions, overrides
//   <data-dir>/<topic>-<partition>/               one Log each
//
// Thread ownership:
//   - the broker's network loop thread: topic and config operations, log()
//     lookups, delete_records; the Logs it gets are used on that thread;
//   - the maintenance thread (owned here): retention every
//     log.retention.check.interval.ms, compaction every log.cleaner.backoff.ms,
//     fsync of rolled segments and flush.ms, checkpoints, removal of deleted
//     partitions. It never blocks the network thread for longer than a Log's
//     short critical sections.
// mu_ guards the topic table and configs; lock order: mu_, then a Log's mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/checkpoint_file.h"
#include "storage/file_util.h"
#include "storage/log.h"
#include "storage/log_config.h"
#include "storage/topic_store.h"

namespace kfk::broker {

struct LogManagerOptions {
  std::string data_dir;
  // Broker-level storage keys by their broker names (log.retention.ms,
  // log.segment.bytes, log.retention.check.interval.ms, ...).
  ConfigMap broker_config;
  bool start_maintenance_thread = true;
  // Milliseconds "now" for retention/compaction decisions (tests inject one
  // and drive run_maintenance() themselves with the thread off).
  std::function<int64_t()> clock;
  std::function<void(const std::string&)> log;  // warnings; default stderr
};

struct ConfigEntry {
  std::string name;
  std::string value;
  ConfigSource source = ConfigSource::kDefault;
  ConfigType type = ConfigType::kString;
  bool read_only = false;
  bool is_default = true;
  const char* doc = "";
};

// A map of config changes: a value sets, nullopt reverts to the default.
using ConfigChanges = std::map<std::string, std::optional<std::string>, std::less<>>;

class LogManager {
 public:
  static constexpr const char* kCleanShutdownFile = ".kafka_cleanshutdown";

  // Creates the data dir if needed; KAFKA_STORAGE_ERROR with a clear message
  // when it is unusable (not a directory, not writable, locked by another
  // broker) or holds unreadable metadata. Loads every partition.
  static Status open(const LogManagerOptions& options, std::unique_ptr<LogManager>* out);
  ~LogManager();  // close() unless closed or aborted
  // Stops maintenance, closes every log (flush, snapshots), writes the
  // checkpoints and the clean-shutdown marker.
  Status close();
  // Stops without flushing or writing the marker: what a kill -9 leaves.
  void abort();

  // ------------------------------------------------- topics (network thread)
  // CreateTopics: INVALID_TOPIC_EXCEPTION (name), TOPIC_ALREADY_EXISTS,
  // INVALID_PARTITIONS (< 1), INVALID_CONFIG (overrides).
  Status create_topic(const std::string& name, int32_t partitions, const ConfigMap& overrides = {},
                      bool validate_only = false, TopicInfo* out = nullptr);
  // DeleteTopics: UNKNOWN_TOPIC_OR_PARTITION. The metadata goes first, the
  // partition dirs are renamed *-delete and removed in the background.
  Status delete_topic(const std::string& name);
  // CreatePartitions: grow only (INVALID_PARTITIONS otherwise).
  Status create_partitions(const std::string& name, int32_t total, bool validate_only = false);

  // The partition's log, or nullptr. Valid until the topic is deleted or the
  // manager closes (both happen on the network thread).
  Log* log(std::string_view topic, int32_t partition) const;
  std::shared_ptr<Log> log_shared(std::string_view topic, int32_t partition) const;
  std::optional<TopicInfo> topic(std::string_view name) const;
  std::optional<TopicInfo> topic_by_id(const proto::Uuid& id) const;
  std::vector<TopicInfo> topics() const;

  // DeleteRecords, with the log start offset checkpointed before returning.
  Status delete_records(std::string_view topic, int32_t partition, int64_t offset, int64_t* low_watermark);

  // ------------------------------------------------------------- configs
  LogConfig default_config() const;
  Status topic_config(std::string_view topic, LogConfig* out) const;
  // IncrementalAlterConfigs-style (SET / DELETE). INVALID_CONFIG names the
  // key for an unknown key or bad value; UNKNOWN_TOPIC_OR_PARTITION.
  Status alter_topic_config(std::string_view topic, const ConfigChanges& changes, bool validate_only = false);
  // AlterConfigs-style: the overrides become exactly `overrides`.
  Status replace_topic_config(std::string_view topic, const ConfigMap& overrides, bool validate_only = false);
  // Dynamic broker defaults (broker names; read-only keys refused). Kept in
  // memory only: the static broker config is the command line's.
  Status alter_broker_config(const ConfigChanges& changes, bool validate_only = false);
  Status describe_topic_config(std::string_view topic, std::vector<ConfigEntry>* out) const;
  std::vector<ConfigEntry> describe_broker_config() const;
  StorageSettings settings() const;

  // ---------------------------------------------------------- maintenance
  // One maintenance pass on the calling thread (serialized with the
  // thread's). force: retention, cleaning and checkpoints regardless of
  // their schedules.
  void run_maintenance(bool force = true);
  void wake_maintenance();
  Status write_checkpoints(bool durable);

  const std::string& data_dir() const { return data_dir_; }
  bool had_clean_shutdown() const { return clean_shutdown_; }

 private:
  struct Topic {
    TopicInfo info;
    LogConfig config;
    std::vector<std::shared_ptr<Log>> logs;
  };

  LogManager() = default;
  Status load();
  int64_t now() const;
  void warn(const std::string& msg) const;
  Status open_partition(const TopicInfo& info, const LogConfig& cfg, int32_t p, bool fresh,
                        std::shared_ptr<Log>* out);
  Status persist_topic_locked(const TopicInfo& info) REQUIRES(mu_);
  void schedule_dir_delete_locked(const std::string& dir_name) REQUIRES(mu_);
  Status recompute_defaults_locked(const ConfigMap& dynamic, bool apply) REQUIRES(mu_);
  std::vector<std::pair<TopicPartition, std::shared_ptr<Log>>> all_logs() const;
  void maintenance_loop();
  int64_t next_wait_ms(int64_t now);
  void stop_thread();

  LogManagerOptions options_;
  std::string data_dir_;
  UniqueFd datafd_;
  UniqueFd metafd_;  // __meta/topics
  UniqueFd lockfd_;
  bool clean_shutdown_ = false;
  bool closed_ = false;

  mutable Mutex mu_;
  std::map<std::string, Topic, std::less<>> topics_ GUARDED_BY(mu_);
  LogConfig defaults_ GUARDED_BY(mu_);
  StorageSettings settings_ GUARDED_BY(mu_);
  ConfigMap dynamic_broker_ GUARDED_BY(mu_);                 // alter_broker_config
  std::vector<std::string> pending_deletes_ GUARDED_BY(mu_);  // dir names under data_dir_

  // Checkpoints read at load, consulted when opening partitions.
  TopicPartitionOffsets recovery_points_, log_start_offsets_, cleaner_offsets_;

  Mutex pass_mu_ ACQUIRED_BEFORE(mu_);  // one maintenance pass at a time
  int64_t next_retention_ms_ GUARDED_BY(pass_mu_) = 0;
  int64_t next_clean_ms_ GUARDED_BY(pass_mu_) = 0;
  int64_t next_checkpoint_ms_ GUARDED_BY(pass_mu_) = 0;
  int64_t next_file_delete_ms_ GUARDED_BY(pass_mu_) = INT64_MAX;  // file.delete.delay.ms of some segment passes

  std::thread thread_;
  Mutex thread_mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(thread_mu_) = false;
  bool wake_ GUARDED_BY(thread_mu_) = false;
};

}  // namespace kfk::broker
