// LogManager: broker defaults, topic overrides, DescribeConfigs.
//
// Thread ownership: network loop thread (AlterConfigs, DescribeConfigs,
// CreateTopics validation); guarded by mu_. New configs reach each Log
// through Log::set_config.
#include <cstdint>

#include "storage/log_manager.h"

namespace kfk::broker {

LogConfig LogManager::default_config() const {
  MutexLock lk(mu_);
  return defaults_;
}

StorageSettings LogManager::settings() const {
  MutexLock lk(mu_);
  return settings_;
}

Status LogManager::topic_config(std::string_view topic, LogConfig* out) const {
  MutexLock lk(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end())
    return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
  *out = it->second.config;
  return Status::Ok();
}

namespace {

Status check_topic_keys(const ConfigChanges& changes) {
  for (const auto& [k, v] : changes)
    if (find_topic_config(k) == nullptr)
      return Status::error(ErrorCode::INVALID_CONFIG, "Unknown topic config name: " + k);
  return Status::Ok();
}

}  // namespace

Status LogManager::alter_topic_config(std::string_view topic, const ConfigChanges& changes, bool validate_only) {
  if (Status s = check_topic_keys(changes); !s.ok()) return s;
  MutexLock lk(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end())
    return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
  TopicInfo next = it->second.info;
  for (const auto& [k, v] : changes) {
    if (v) next.overrides[k] = *v;
    else next.overrides.erase(k);
  }
  LogConfig cfg;
  if (Status s = LogConfig::with_overrides(defaults_, next.overrides, &cfg); !s.ok()) return s;
  if (validate_only) return Status::Ok();
  if (Status s = persist_topic_locked(next); !s.ok()) return s;
  it->second.info = std::move(next);
  it->second.config = cfg;
  for (auto& log : it->second.logs) log->set_config(cfg);
  return Status::Ok();
}

Status LogManager::replace_topic_config(std::string_view topic, const ConfigMap& overrides, bool validate_only) {
  ConfigChanges changes;
  {
    MutexLock lk(mu_);
    auto it = topics_.find(topic);
    if (it == topics_.end())
      return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
    for (const auto& [k, v] : it->second.info.overrides) changes[k] = std::nullopt;
  }
  for (const auto& [k, v] : overrides) changes[k] = v;
  return alter_topic_config(topic, changes, validate_only);
}

Status LogManager::recompute_defaults_locked(const ConfigMap& dynamic, bool apply) {
  LogConfig d;
  StorageSettings st;
  if (Status s = apply_broker_config(options_.broker_config, &d, &st); !s.ok()) return s;
  if (Status s = apply_broker_config(dynamic, &d, &st); !s.ok()) return s;
  std::map<std::string, LogConfig, std::less<>> per_topic;
  for (const auto& [name, t] : topics_) {
    LogConfig c;
    if (Status s = LogConfig::with_overrides(d, t.info.overrides, &c); !s.ok()) return s;
    per_topic[name] = c;
  }
  if (!apply) return Status::Ok();
  defaults_ = d;
  dynamic_broker_ = dynamic;
  for (auto& [name, t] : topics_) {
    t.config = per_topic[name];
    for (auto& log : t.logs) log->set_config(t.config);
  }
  return Status::Ok();
}

Status LogManager::alter_broker_config(const ConfigChanges& changes, bool validate_only) {
  MutexLock lk(mu_);
  ConfigMap dynamic = dynamic_broker_;
  for (const auto& [k, v] : changes) {
    const ConfigDef* def = find_broker_config(k);
    if (def == nullptr) return Status::error(ErrorCode::INVALID_CONFIG, "Unknown broker config name: " + k);
    if (def->read_only) return Status::error(ErrorCode::INVALID_CONFIG, "Cannot update these configs dynamically: " + k);
    if (v) dynamic[k] = *v;
    else dynamic.erase(k);
  }
  return recompute_defaults_locked(dynamic, !validate_only);
}

Status LogManager::describe_topic_config(std::string_view topic, std::vector<ConfigEntry>* out) const {
  MutexLock lk(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end())
    return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
  out->clear();
  for (const ConfigDef& d : topic_config_defs()) {
    ConfigEntry e;
    e.name = d.name;
    e.value = it->second.config.get(d.name);
    e.type = d.type;
    e.doc = d.doc;
    e.read_only = d.read_only;
    if (it->second.info.overrides.count(d.name)) e.source = ConfigSource::kTopic;
    else if (d.broker_name != nullptr && dynamic_broker_.count(d.broker_name)) e.source = ConfigSource::kDynamicDefaultBroker;
    else if (d.broker_name != nullptr && options_.broker_config.count(d.broker_name)) e.source = ConfigSource::kStaticBroker;
    else e.source = ConfigSource::kDefault;
    e.is_default = e.source == ConfigSource::kDefault;
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

std::vector<ConfigEntry> LogManager::describe_broker_config() const {
  MutexLock lk(mu_);
  std::vector<ConfigEntry> out;
  auto source_of = [&](const char* broker_name) REQUIRES(mu_) {
    if (dynamic_broker_.count(broker_name)) return ConfigSource::kDynamicDefaultBroker;
    if (options_.broker_config.count(broker_name)) return ConfigSource::kStaticBroker;
    return ConfigSource::kDefault;
  };
  for (const ConfigDef& d : topic_config_defs()) {
    if (d.broker_name == nullptr) continue;  // topic-only key
    ConfigEntry e{d.broker_name, defaults_.get(d.name), source_of(d.broker_name), d.type, d.read_only, true, d.doc};
    e.is_default = e.source == ConfigSource::kDefault;
    out.push_back(std::move(e));
  }
  for (const ConfigDef& d : storage_broker_config_defs()) {
    std::string v;
    const std::string n = d.broker_name;
    if (n == "log.dirs") v = data_dir_;
    else if (n == "log.retention.check.interval.ms") v = std::to_string(settings_.retention_check_interval_ms);
    else if (n == "log.cleaner.enable") v = settings_.cleaner_enable ? "true" : "false";
    else if (n == "log.cleaner.backoff.ms") v = std::to_string(settings_.cleaner_backoff_ms);
    else if (n == "log.cleaner.dedupe.buffer.size") v = std::to_string(settings_.cleaner_dedupe_buffer_size);
    else if (n == "log.flush.scheduler.interval.ms") v = std::to_string(settings_.flush_scheduler_interval_ms);
    else if (n == "log.flush.offset.checkpoint.interval.ms") v = std::to_string(settings_.flush_offset_checkpoint_interval_ms);
    ConfigEntry e{n, v, n == "log.dirs" ? ConfigSource::kStaticBroker : source_of(d.broker_name), d.type, d.read_only,
                  true, d.doc};
    e.is_default = e.source == ConfigSource::kDefault;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace kfk::broker
