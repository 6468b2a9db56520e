// LogManager: data dir, topics, partitions, configs, restarts, maintenance.
#include <chrono>
#include <thread>

#include "storage/log_manager.h"
#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

struct Clock {
  int64_t now = 1'700'000'000'000;
};

std::unique_ptr<LogManager> open_manager(const std::string& dir, ConfigMap broker = {}, Clock* clock = nullptr,
                                         bool thread = false) {
  LogManagerOptions o;
  o.data_dir = dir;
  o.broker_config = std::move(broker);
  o.start_maintenance_thread = thread;
  o.log = [](const std::string&) {};
  if (clock != nullptr) o.clock = [clock] { return clock->now; };
  std::unique_ptr<LogManager> m;
  Status s = LogManager::open(o, &m);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return m;
}

Status try_open(const std::string& dir, std::unique_ptr<LogManager>* m, ConfigMap broker = {}) {
  LogManagerOptions o;
  o.data_dir = dir;
  o.broker_config = std::move(broker);
  o.start_maintenance_thread = false;
  o.log = [](const std::string&) {};
  return LogManager::open(o, m);
}

}  // namespace

TEST_CASE("create and delete topics") {
  TempDir tmp;
  const std::string data = tmp.sub("data");
  auto m = open_manager(data);
  TopicInfo info;
  REQUIRE(m->create_topic("orders", 3, {{"retention.ms", "1000"}}, false, &info).ok());
  CHECK(info.partitions == 3);
  CHECK_FALSE(info.id.is_zero());
  for (int p = 0; p < 3; ++p) {
    CHECK(std::filesystem::is_directory(data + "/orders-" + std::to_string(p)));
    CHECK(read_file(data + "/orders-" + std::to_string(p) + "/partition.metadata").find(info.id.to_string()) !=
          std::string::npos);
    REQUIRE(m->log("orders", p) != nullptr);
  }
  CHECK(m->log("orders", 3) == nullptr);
  CHECK(m->log("nope", 0) == nullptr);
  CHECK(std::filesystem::exists(data + "/__meta/topics/orders.json"));
  CHECK(m->topic("orders")->id == info.id);
  CHECK(m->topic_by_id(info.id)->name == "orders");
  CHECK(m->topics().size() == 1);
  LogConfig cfg;
  REQUIRE(m->topic_config("orders", &cfg).ok());
  CHECK(cfg.retention_ms == 1000);
  CHECK(m->log("orders", 1)->config().retention_ms == 1000);

  Status s = m->create_topic("orders", 1);
  CHECK(s.code == ErrorCode::TOPIC_ALREADY_EXISTS);
  CHECK(s.kafka_code() == 36);
  CHECK(m->create_topic("orders", 1, {}, true).code == ErrorCode::TOPIC_ALREADY_EXISTS);
  CHECK(m->create_topic("new", 2, {}, /*validate_only=*/true).ok());
  CHECK_FALSE(m->topic("new"));

  append_ok(*m->log("orders", 0), make_simple_batch(5, 1000));
  REQUIRE(m->delete_topic("orders").ok());
  CHECK(m->log("orders", 0) == nullptr);
  CHECK_FALSE(std::filesystem::exists(data + "/__meta/topics/orders.json"));
  CHECK_FALSE(std::filesystem::exists(data + "/orders-0"));
  CHECK(m->delete_topic("orders").code == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  m->run_maintenance();
  for (const auto& e : std::filesystem::directory_iterator(data))
    CHECK(e.path().filename().string().find("orders") == std::string::npos);

  // Recreated: a fresh log, a new id.
  TopicInfo again;
  REQUIRE(m->create_topic("orders", 1, {}, false, &again).ok());
  CHECK_FALSE(again.id == info.id);
  CHECK(m->log("orders", 0)->log_end_offset() == 0);
}

TEST_CASE("topic name validation and collisions") {
  TempDir tmp;
  auto m = open_manager(tmp.sub("data"));
  for (std::string bad : {std::string(""), std::string("."), std::string(".."), std::string(250, 'a'),
                          std::string("a/b"), std::string("a b"), std::string("t\xc3\xa9"), std::string("x:y")}) {
    Status s = m->create_topic(bad, 1);
    CHECK_MESSAGE(s.code == ErrorCode::INVALID_TOPIC_EXCEPTION, bad);
    CHECK(s.kafka_code() == 17);
    CHECK_FALSE(s.message.empty());
  }
  CHECK(m->create_topic(std::string(249, 'a'), 1).ok());
  CHECK(m->create_topic("Valid.name_with-all-0123", 1).ok());
  REQUIRE(m->create_topic("a.b", 1).ok());
  Status s = m->create_topic("a_b", 1);
  CHECK(s.code == ErrorCode::INVALID_TOPIC_EXCEPTION);
  CHECK(s.message.find("collides") != std::string::npos);
  s = m->create_topic("zero", 0);
  CHECK(s.code == ErrorCode::INVALID_PARTITIONS);
  CHECK(s.kafka_code() == 37);
  // A 249-character topic still gets its delete dir name under 255 bytes.
  REQUIRE(m->delete_topic(std::string(249, 'a')).ok());
  m->run_maintenance();
}

TEST_CASE("create_partitions only grows") {
  TempDir tmp;
  const std::string data = tmp.sub("data");
  auto m = open_manager(data);
  REQUIRE(m->create_topic("t", 3).ok());
  REQUIRE(m->create_partitions("t", 5).ok());
  CHECK(m->topic("t")->partitions == 5);
  CHECK(m->log("t", 4) != nullptr);
  CHECK(std::filesystem::is_directory(data + "/t-4"));
  Status s = m->create_partitions("t", 4);
  CHECK(s.code == ErrorCode::INVALID_PARTITIONS);
  CHECK(s.message.find("higher than the requested") != std::string::npos);
  s = m->create_partitions("t", 5);
  CHECK(s.code == ErrorCode::INVALID_PARTITIONS);
  CHECK(m->create_partitions("nope", 5).code == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  CHECK(m->create_partitions("t", 9, true).ok());
  CHECK(m->topic("t")->partitions == 5);
  m.reset();
  m = open_manager(data);
  CHECK(m->topic("t")->partitions == 5);
}

TEST_CASE("topic configs: validation, alter, describe") {
  TempDir tmp;
  auto m = open_manager(tmp.sub("data"), {{"log.segment.bytes", "4096"}});
  CHECK(m->default_config().segment_bytes == 4096);
  Status s = m->create_topic("t", 1, {{"retention.ms", "abc"}});
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  CHECK(s.kafka_code() == 40);
  CHECK(s.message.find("retention.ms") != std::string::npos);
  s = m->create_topic("t", 1, {{"no.such.key", "1"}});
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  CHECK(s.message.find("no.such.key") != std::string::npos);
  CHECK(m->create_topic("t", 1, {{"cleanup.policy", "compact,nope"}}).code == ErrorCode::INVALID_CONFIG);
  CHECK(m->create_topic("t", 1, {{"min.cleanable.dirty.ratio", "1.5"}}).code == ErrorCode::INVALID_CONFIG);
  CHECK(m->create_topic("t", 1, {{"message.timestamp.type", "Now"}}).code == ErrorCode::INVALID_CONFIG);
  CHECK(m->create_topic("t", 1, {{"segment.bytes", "10"}}).code == ErrorCode::INVALID_CONFIG);
  REQUIRE(m->create_topic("t", 2, {{"cleanup.policy", "compact,delete"}}).ok());

  REQUIRE(m->alter_topic_config("t", {{"retention.ms", "5000"}, {"max.message.bytes", "2000"}}).ok());
  CHECK(m->log("t", 1)->config().retention_ms == 5000);
  CHECK(m->log("t", 1)->config().compact);
  s = m->alter_topic_config("t", {{"retention.ms", "-7"}});
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  CHECK(s.message.find("retention.ms") != std::string::npos);
  s = m->alter_topic_config("t", {{"bogus", "1"}});
  CHECK(s.message.find("bogus") != std::string::npos);
  CHECK(m->log("t", 0)->config().retention_ms == 5000);  // unchanged
  CHECK(m->alter_topic_config("nope", {{"retention.ms", "1"}}).code == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  CHECK(m->alter_topic_config("t", {{"retention.ms", "1"}}, /*validate_only=*/true).ok());
  CHECK(m->log("t", 0)->config().retention_ms == 5000);

  std::vector<ConfigEntry> entries;
  REQUIRE(m->describe_topic_config("t", &entries).ok());
  CHECK(entries.size() == topic_config_defs().size());
  for (const auto& e : entries) {
    if (e.name == "retention.ms") {
      CHECK(e.value == "5000");
      CHECK(e.source == ConfigSource::kTopic);
      CHECK_FALSE(e.is_default);
    } else if (e.name == "segment.bytes") {
      CHECK(e.value == "4096");
      CHECK(e.source == ConfigSource::kStaticBroker);
    } else if (e.name == "index.interval.bytes") {
      CHECK(e.value == "4096");
      CHECK(e.source == ConfigSource::kDefault);
      CHECK(e.is_default);
    } else if (e.name == "cleanup.policy") {
      CHECK(e.value == "compact,delete");
    } else if (e.name == "min.cleanable.dirty.ratio") {
      CHECK(e.value == "0.5");
    }
  }
  // Revert to the default; replace all overrides.
  REQUIRE(m->alter_topic_config("t", {{"retention.ms", std::nullopt}}).ok());
  CHECK(m->log("t", 0)->config().retention_ms == 604800000);
  REQUIRE(m->replace_topic_config("t", {{"segment.ms", "1000"}}).ok());
  CHECK(m->topic("t")->overrides == ConfigMap{{"segment.ms", "1000"}});
  CHECK_FALSE(m->log("t", 0)->config().compact);

  // Dynamic broker defaults reach topics without overrides.
  REQUIRE(m->alter_broker_config({{"log.retention.ms", "1234"}}).ok());
  CHECK(m->log("t", 0)->config().retention_ms == 1234);
  CHECK(m->alter_broker_config({{"log.dirs", "/x"}}).code == ErrorCode::INVALID_CONFIG);
  CHECK(m->alter_broker_config({{"log.retention.ms", "x"}}).code == ErrorCode::INVALID_CONFIG);
  bool found = false;
  for (const auto& e : m->describe_broker_config())
    if (e.name == "log.retention.ms") {
      found = true;
      CHECK(e.value == "1234");
      CHECK(e.source == ConfigSource::kDynamicDefaultBroker);
    }
  CHECK(found);
  // Persisted overrides come back.
  m.reset();
  m = open_manager(tmp.sub("data"), {{"log.segment.bytes", "4096"}});
  CHECK(m->log("t", 0)->config().segment_ms == 1000);
}

TEST_CASE("config table: every topic key has a default that parses") {
  for (const auto& d : topic_config_defs()) {
    LogConfig c;
    CHECK_MESSAGE(c.set(d.name, d.default_value).ok(), d.name);
    CHECK(c.get(d.name) == d.default_value);
    // Topic-only keys (the replication throttles, remote.*) have no broker
    // default, as in Kafka.
    if (d.broker_name != nullptr) CHECK(find_broker_config(d.broker_name) == &d);
    CHECK(std::string(d.doc).size() > 10);
  }
  std::unique_ptr<LogManager> m;
  TempDir tmp;
  Status s = try_open(tmp.sub("data"), &m, {{"listeners", "PLAINTEXT://:9092"}});
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  CHECK_FALSE(is_storage_broker_key("listeners"));
  CHECK(is_storage_broker_key("log.retention.check.interval.ms"));
}

TEST_CASE("unusable data dirs fail with a clear error") {
  TempDir tmp;
  write_file(tmp.sub("file"), "x");
  std::unique_ptr<LogManager> m;
  Status s = try_open(tmp.sub("file"), &m);
  CHECK(s.code == ErrorCode::KAFKA_STORAGE_ERROR);
  CHECK(s.message.find("not a directory") != std::string::npos);
  s = try_open(tmp.sub("file/sub"), &m);
  CHECK(s.code == ErrorCode::KAFKA_STORAGE_ERROR);
  CHECK(s.message.find(tmp.sub("file/sub")) != std::string::npos);

  auto first = open_manager(tmp.sub("data"));
  s = try_open(tmp.sub("data"), &m);
  CHECK(s.code == ErrorCode::KAFKA_STORAGE_ERROR);
  CHECK(s.message.find("in use") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.sub("data/.kafka_cleanshutdown")));  // the failed open wrote nothing
  first.reset();
  CHECK(std::filesystem::exists(tmp.sub("data/.kafka_cleanshutdown")));
  CHECK(try_open(tmp.sub("data"), &m).ok());
  m.reset();

  if (::geteuid() != 0) {  // root writes anywhere
    std::filesystem::create_directory(tmp.sub("ro"));
    std::filesystem::permissions(tmp.sub("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    s = try_open(tmp.sub("ro"), &m);
    CHECK(s.code == ErrorCode::KAFKA_STORAGE_ERROR);
    CHECK(s.message.find("not writable") != std::string::npos);
    std::filesystem::permissions(tmp.sub("ro"), std::filesystem::perms::owner_all);
  }

  // Corrupt topic metadata: refuse to start rather than drop the topic's data.
  {
    auto mm = open_manager(tmp.sub("data2"));
    REQUIRE(mm->create_topic("t", 1).ok());
  }
  write_file(tmp.sub("data2/__meta/topics/t.json"), "{not json");
  s = try_open(tmp.sub("data2"), &m);
  CHECK(s.code == ErrorCode::KAFKA_STORAGE_ERROR);
  CHECK(s.message.find("t.json") != std::string::npos);
}

TEST_CASE("restart: clean shutdown marker, checkpoints, crash recovery") {
  TempDir tmp;
  const std::string data = tmp.sub("data");
  kfk::proto::Uuid id;
  {
    auto m = open_manager(data, {{"log.segment.bytes", "1024"}});
    CHECK_FALSE(m->had_clean_shutdown());
    TopicInfo info;
    REQUIRE(m->create_topic("t", 2, {}, false, &info).ok());
    id = info.id;
    for (int i = 0; i < 30; ++i) append_ok(*m->log("t", i % 2), make_simple_batch(3, 1000 + i));
    int64_t lw = 0;
    REQUIRE(m->delete_records("t", 1, 7, &lw).ok());
    CHECK(lw == 7);
    REQUIRE(m->close().ok());
    CHECK(std::filesystem::exists(data + "/.kafka_cleanshutdown"));
    CHECK(read_file(data + "/recovery-point-offset-checkpoint") == "0\n2\nt 0 45\nt 1 45\n");
    CHECK(read_file(data + "/log-start-offset-checkpoint") == "0\n2\nt 0 0\nt 1 7\n");
  }
  {
    auto m = open_manager(data, {{"log.segment.bytes", "1024"}});
    CHECK(m->had_clean_shutdown());
    CHECK_FALSE(std::filesystem::exists(data + "/.kafka_cleanshutdown"));
    CHECK(m->topic("t")->id == id);
    CHECK(m->log("t", 0)->log_end_offset() == 45);
    CHECK(m->log("t", 1)->log_start_offset() == 7);
    CHECK(read_all(*m->log("t", 0), 0).size() == 45);
    append_ok(*m->log("t", 0), make_simple_batch(3, 5000));
    int64_t lw = 0;
    REQUIRE(m->delete_records("t", 0, 10, &lw).ok());
    m->abort();  // kill -9
  }
  {
    auto m = open_manager(data, {{"log.segment.bytes", "1024"}});
    CHECK_FALSE(m->had_clean_shutdown());
    CHECK(m->log("t", 0)->log_end_offset() == 48);
    CHECK(m->log("t", 0)->log_start_offset() == 10);
    CHECK(read_all(*m->log("t", 0), 10).size() == 38);
  }
}

TEST_CASE("stray partition directories are removed at startup") {
  TempDir tmp;
  const std::string data = tmp.sub("data");
  {
    auto m = open_manager(data);
    REQUIRE(m->create_topic("t", 1).ok());
  }
  std::filesystem::create_directory(data + "/ghost-0");
  std::filesystem::create_directory(data + "/t-5");
  std::filesystem::create_directory(data + "/t-0.0123456789abcdef0123456789abcdef-delete");
  auto m = open_manager(data);
  m->run_maintenance();
  CHECK_FALSE(std::filesystem::exists(data + "/ghost-0"));
  CHECK_FALSE(std::filesystem::exists(data + "/t-5"));
  CHECK_FALSE(std::filesystem::exists(data + "/t-0.0123456789abcdef0123456789abcdef-delete"));
  CHECK(std::filesystem::exists(data + "/t-0"));
  CHECK(m->log("t", 0) != nullptr);
}

TEST_CASE("maintenance: retention and compaction with an injected clock") {
  TempDir tmp;
  Clock clock;
  auto m = open_manager(tmp.sub("data"), {{"log.segment.bytes", "1024"}}, &clock);
  REQUIRE(m->create_topic("del", 1, {{"retention.ms", "60000"}}).ok());
  REQUIRE(m->create_topic("cmp", 1, {{"cleanup.policy", "compact"}, {"min.cleanable.dirty.ratio", "0.1"}}).ok());
  for (int i = 0; i < 40; ++i) {
    append_ok(*m->log("del", 0), make_simple_batch(3, clock.now + i));
    append_ok(*m->log("cmp", 0), make_simple_batch(3, clock.now + i, "key"));
  }
  const size_t del_segments = m->log("del", 0)->segments().size();
  const int64_t cmp_size = m->log("cmp", 0)->size_bytes();
  m->run_maintenance(false);
  CHECK(m->log("del", 0)->segments().size() == del_segments);
  CHECK(m->log("cmp", 0)->size_bytes() < cmp_size);
  clock.now += 120'000;
  m->run_maintenance(false);  // the retention check interval has not passed
  CHECK(m->log("del", 0)->segments().size() == del_segments);
  clock.now += 300'000;
  m->run_maintenance(false);
  CHECK(m->log("del", 0)->segments().size() == 1);
  CHECK(m->log("del", 0)->log_start_offset() > 0);
  CHECK(read_file(tmp.sub("data/cleaner-offset-checkpoint")).find("cmp 0 ") != std::string::npos);
}

TEST_CASE("maintenance thread: retention runs in the background, rolled segments get flushed, clean stop") {
  TempDir tmp;
  LogManagerOptions o;
  o.data_dir = tmp.sub("data");
  o.broker_config = {{"log.segment.bytes", "1024"}, {"log.retention.check.interval.ms", "20"}};
  o.log = [](const std::string&) {};
  std::unique_ptr<LogManager> m;
  REQUIRE(LogManager::open(o, &m).ok());
  REQUIRE(m->create_topic("t", 1, {{"retention.ms", "1000"}}).ok());
  Log* log = m->log("t", 0);
  for (int i = 0; i < 40; ++i) append_ok(*log, make_simple_batch(3, 1000 + i));  // timestamps from 1970
  bool deleted = false;
  for (int i = 0; i < 500 && !deleted; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    deleted = log->segments().size() == 1;
  }
  CHECK(deleted);
  CHECK(log->log_start_offset() == log->segments().front().base_offset);
  bool flushed = false;
  for (int i = 0; i < 500 && !flushed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    flushed = log->recovery_point() >= log->segments().back().base_offset;
  }
  CHECK(flushed);
  REQUIRE(m->close().ok());
}
