// Every topic config Kafka 3.9 / 4.x accepts (TopicConfig / LogConfig),
// walked against broker-ref over real sockets: CreateTopics,
// DescribeConfigs (value, source, synonyms), IncrementalAlterConfigs
// through kfk's admin client, and CreateTopics / AlterConfigs /
// DescribeConfigs through librdkafka's admin C API.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <cstring>

#include "admin_test_util.h"
#include "kfk_test/brokers.h"

using namespace kfk;
using namespace kfk::admin_testing;

namespace {

// One key as Kafka's documentation ("Topic Configs") and LogConfig define
// it: the default, the broker key behind it ("" for topic-only keys), a
// valid non-default value (as given, and as DescribeConfigs reports it)
// and a value Kafka's validator refuses.
struct KeySpec {
  const char* name;
  const char* default_value;
  const char* broker_key;
  const char* set_value;
  const char* reported;
  const char* bad_value;
};

const KeySpec kKeys[] = {
    {"cleanup.policy", "delete", "log.cleanup.policy", "compact, delete", "compact,delete", "shred"},
    {"compression.type", "producer", "compression.type", "lz4", "lz4", "brotli"},
    {"compression.gzip.level", "-1", "compression.gzip.level", "5", "5", "10"},
    {"compression.lz4.level", "9", "compression.lz4.level", "12", "12", "18"},
    {"compression.zstd.level", "3", "compression.zstd.level", "-5", "-5", "23"},
    {"delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms", "1000", "1000", "-1"},
    {"file.delete.delay.ms", "60000", "log.segment.delete.delay.ms", "1000", "1000", "-1"},
    {"flush.messages", "9223372036854775807", "log.flush.interval.messages", "1000", "1000", "0"},
    {"flush.ms", "9223372036854775807", "log.flush.interval.ms", "1000", "1000", "-1"},
    {"follower.replication.throttled.replicas", "", "", "0:1, 1:1", "0:1,1:1", "0-1"},
    {"index.interval.bytes", "4096", "log.index.interval.bytes", "8192", "8192", "-1"},
    {"leader.replication.throttled.replicas", "", "", "*", "*", "x:1"},
    {"local.retention.bytes", "-2", "log.local.retention.bytes", "-1", "-1", "-3"},
    {"local.retention.ms", "-2", "log.local.retention.ms", "1000", "1000", "-3"},
    {"max.compaction.lag.ms", "9223372036854775807", "log.cleaner.max.compaction.lag.ms", "3600000", "3600000", "0"},
    {"max.message.bytes", "1048588", "message.max.bytes", "2000000", "2000000", "-1"},
    {"message.downconversion.enable", "true", "log.message.downconversion.enable", "false", "false", "maybe"},
    {"message.format.version", "3.0-IV1", "log.message.format.version", "2.8", "2.8", "9.9"},
    {"message.timestamp.after.max.ms", "9223372036854775807", "log.message.timestamp.after.max.ms", "3600000",
     "3600000", "-1"},
    {"message.timestamp.before.max.ms", "9223372036854775807", "log.message.timestamp.before.max.ms", "3600000",
     "3600000", "-1"},
    {"message.timestamp.difference.max.ms", "9223372036854775807", "log.message.timestamp.difference.max.ms",
     "3600000", "3600000", "-1"},
    {"message.timestamp.type", "CreateTime", "log.message.timestamp.type", "LogAppendTime", "LogAppendTime",
     "WallTime"},
    {"min.cleanable.dirty.ratio", "0.5", "log.cleaner.min.cleanable.ratio", "0.25", "0.25", "1.5"},
    {"min.compaction.lag.ms", "0", "log.cleaner.min.compaction.lag.ms", "1000", "1000", "-1"},
    {"min.insync.replicas", "1", "min.insync.replicas", "2", "2", "0"},
    {"preallocate", "false", "log.preallocate", "true", "true", "maybe"},
    {"remote.log.copy.disable", "false", "", "true", "true", "maybe"},
    {"remote.log.delete.on.disable", "false", "", "true", "true", "maybe"},
    // No tiered storage here: only false is possible (true is refused as by
    // a Kafka cluster without remote.log.storage.system.enable).
    {"remote.storage.enable", "false", "", "false", "false", "true"},
    {"retention.bytes", "-1", "log.retention.bytes", "1048576", "1048576", "lots"},
    {"retention.ms", "604800000", "log.retention.ms", "3600000", "3600000", "-2"},
    {"segment.bytes", "1073741824", "log.segment.bytes", "1048576", "1048576", "13"},
    {"segment.index.bytes", "10485760", "log.index.size.max.bytes", "1048576", "1048576", "3"},
    {"segment.jitter.ms", "0", "log.roll.jitter.ms", "1000", "1000", "-1"},
    {"segment.ms", "604800000", "log.roll.ms", "3600000", "3600000", "0"},
    {"unclean.leader.election.enable", "false", "unclean.leader.election.enable", "true", "true", "maybe"},
};

// Set on the broker's command line: the topics' default comes from it.
constexpr const char* kStaticKey = "log.cleaner.max.compaction.lag.ms";
constexpr const char* kStaticValue = "86400000";

std::unique_ptr<kfk::testing::BrokerRef> start_broker() {
  return kfk::test::start_broker({{"auto.create.topics.enable", "false"}, {kStaticKey, kStaticValue}});
}

ResourceConfig describe(Admin& admin, const std::string& topic) {
  ConfigResource r{ConfigResource::Type::kTopic, topic};
  DescribeConfigsOptions opts;
  opts.include_synonyms = true;
  DescribeConfigsResult out;
  Error err = admin.describe_configs({r}, &out, opts);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  REQUIRE_MESSAGE(out.resources[r].error.ok(), out.resources[r].error.to_string());
  return out.resources[r];
}

bool names_key_and_value(const Error& e, const KeySpec& k) {
  if (std::string_view(k.name) == "remote.storage.enable") return e.message().find("remote log storage") != std::string::npos;
  return e.message().find(k.name) != std::string::npos && e.message().find(k.bad_value) != std::string::npos;
}

}  // namespace

TEST_CASE("admin: every Kafka topic config through CreateTopics, DescribeConfigs, IncrementalAlterConfigs") {
  auto broker = start_broker();
  auto admin = make_admin(broker->bootstrap_servers());

  std::map<std::string, std::string> all;
  for (const KeySpec& k : kKeys) all[k.name] = k.set_value;
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"plain", 1, 1}, NewTopic{"every-key", 1, 1, all}}, &created).ok());
  REQUIRE_MESSAGE(created.topics["plain"].error.ok(), created.topics["plain"].error.to_string());
  REQUIRE_MESSAGE(created.topics["every-key"].error.ok(), created.topics["every-key"].error.to_string());

  // Defaults: Kafka's value, DEFAULT_CONFIG (STATIC_BROKER_CONFIG where the
  // broker's command line sets the key), the broker key as synonym.
  ResourceConfig plain = describe(*admin, "plain");
  ResourceConfig every = describe(*admin, "every-key");
  for (const KeySpec& k : kKeys) {
    CAPTURE(k.name);
    const ConfigEntry* e = plain.find(k.name);
    REQUIRE(e != nullptr);
    const bool is_static = std::string_view(k.broker_key) == kStaticKey;
    CHECK(e->value.value_or("null") == (is_static ? kStaticValue : k.default_value));
    CHECK(e->source == (is_static ? ConfigSource::kStaticBroker : ConfigSource::kDefault));
    if (*k.broker_key == '\0') {
      CHECK(e->synonyms.empty());
    } else {
      REQUIRE(e->synonyms.size() == (is_static ? 2u : 1u));
      if (is_static) {
        CHECK(e->synonyms[0].name == k.broker_key);
        CHECK(e->synonyms[0].value.value_or("null") == kStaticValue);
        CHECK(e->synonyms[0].source == ConfigSource::kStaticBroker);
      }
      CHECK(e->synonyms.back().name == k.broker_key);
      CHECK(e->synonyms.back().value.value_or("null") == k.default_value);
      CHECK(e->synonyms.back().source == ConfigSource::kDefault);
    }

    // Set at creation: the value in Kafka's form, DYNAMIC_TOPIC_CONFIG first.
    const ConfigEntry* s = every.find(k.name);
    REQUIRE(s != nullptr);
    CHECK(s->value.value_or("null") == k.reported);
    CHECK(s->source == ConfigSource::kDynamicTopic);
    REQUIRE(!s->synonyms.empty());
    CHECK(s->synonyms[0].name == k.name);
    CHECK(s->synonyms[0].source == ConfigSource::kDynamicTopic);
  }

  // IncrementalAlterConfigs: each key set, refused with a bad value (naming
  // key and value, nothing changed), then deleted back to its default.
  ConfigResource res{ConfigResource::Type::kTopic, "plain"};
  for (const KeySpec& k : kKeys) {
    CAPTURE(k.name);
    AlterConfigsResult altered;
    REQUIRE(admin->incremental_alter_configs({{res, {AlterConfigOp{AlterConfigOp::Type::kSet, k.name, k.set_value}}}},
                                             &altered)
                .ok());
    CHECK_MESSAGE(altered.resources[res].ok(), altered.resources[res].to_string());
    CHECK(describe(*admin, "plain").find(k.name)->value.value_or("null") == k.reported);

    REQUIRE(admin->incremental_alter_configs({{res, {AlterConfigOp{AlterConfigOp::Type::kSet, k.name, k.bad_value}}}},
                                             &altered)
                .ok());
    CHECK(altered.resources[res].code() == errc::kBrokerInvalidConfig);
    CHECK_MESSAGE(names_key_and_value(altered.resources[res], k), altered.resources[res].to_string());
    CHECK(describe(*admin, "plain").find(k.name)->value.value_or("null") == k.reported);

    REQUIRE(admin->incremental_alter_configs({{res, {AlterConfigOp{AlterConfigOp::Type::kDelete, k.name, ""}}}},
                                             &altered)
                .ok());
    CHECK(altered.resources[res].ok());
    CHECK(describe(*admin, "plain").find(k.name)->source != ConfigSource::kDynamicTopic);

    // CreateTopics refuses the bad value too.
    REQUIRE(admin->create_topics({NewTopic{"bad", 1, 1, {{k.name, k.bad_value}}}}, &created).ok());
    CHECK(created.topics["bad"].error.code() == errc::kBrokerInvalidConfig);
    CHECK_MESSAGE(names_key_and_value(created.topics["bad"].error, k), created.topics["bad"].error.to_string());
  }

  // Across keys, as Kafka: min.compaction.lag.ms may not exceed max.
  AlterConfigsResult altered;
  REQUIRE(admin->incremental_alter_configs({{res,
                                             {AlterConfigOp{AlterConfigOp::Type::kSet, "min.compaction.lag.ms", "5000"},
                                              AlterConfigOp{AlterConfigOp::Type::kSet, "max.compaction.lag.ms", "4000"}}}},
                                           &altered)
              .ok());
  CHECK(altered.resources[res].code() == errc::kBrokerInvalidConfig);
  CHECK(altered.resources[res].message().find("max.compaction.lag.ms") != std::string::npos);
}

namespace {

rd_kafka_t* rdkafka_admin(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  REQUIRE(rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  REQUIRE_MESSAGE(rk != nullptr, err);
  return rk;
}

// Waits for the admin result event of `type` on `q` (30 s, far above what
// a local broker needs).
rd_kafka_event_t* wait_result(rd_kafka_queue_t* q, rd_kafka_event_type_t type) {
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  REQUIRE(ev != nullptr);
  REQUIRE(rd_kafka_event_type(ev) == type);
  REQUIRE_MESSAGE(rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_event_error_string(ev));
  return ev;
}

struct RdConfig {
  std::string value;
  rd_kafka_ConfigSource_t source;
  std::vector<std::pair<std::string, rd_kafka_ConfigSource_t>> synonyms;
};

std::map<std::string, RdConfig> rd_describe(rd_kafka_t* rk, rd_kafka_queue_t* q, const std::string& topic) {
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_DescribeConfigs(rk, &res, 1, nullptr, q);
  rd_kafka_ConfigResource_destroy(res);
  rd_kafka_event_t* ev = wait_result(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
  size_t n = 0;
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
  REQUIRE(n == 1);
  REQUIRE_MESSAGE(rd_kafka_ConfigResource_error(rs[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  rd_kafka_ConfigResource_error_string(rs[0]));
  std::map<std::string, RdConfig> out;
  size_t m = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[0], &m);
  for (size_t i = 0; i < m; ++i) {
    RdConfig c;
    const char* v = rd_kafka_ConfigEntry_value(entries[i]);
    c.value = v ? v : "null";
    c.source = rd_kafka_ConfigEntry_source(entries[i]);
    size_t ns = 0;
    const rd_kafka_ConfigEntry_t** syn = rd_kafka_ConfigEntry_synonyms(entries[i], &ns);
    for (size_t j = 0; j < ns; ++j)
      c.synonyms.emplace_back(rd_kafka_ConfigEntry_name(syn[j]), rd_kafka_ConfigEntry_source(syn[j]));
    out[rd_kafka_ConfigEntry_name(entries[i])] = c;
  }
  rd_kafka_event_destroy(ev);
  return out;
}

}  // namespace

TEST_CASE("admin: Kafka topic configs through librdkafka's CreateTopics, AlterConfigs, DescribeConfigs") {
  auto broker = start_broker();
  rd_kafka_t* rk = rdkafka_admin(broker->bootstrap_servers());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  char err[512];

  // CreateTopics with a few of the keys refused before.
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new("rdk-conf", 1, 1, err, sizeof err);
  REQUIRE_MESSAGE(nt != nullptr, err);
  for (const char* k : {"compression.type", "max.compaction.lag.ms", "unclean.leader.election.enable",
                        "message.timestamp.difference.max.ms", "leader.replication.throttled.replicas"})
    for (const KeySpec& s : kKeys)
      if (std::string_view(s.name) == k) REQUIRE(rd_kafka_NewTopic_set_config(nt, s.name, s.set_value) == 0);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_event_t* ev = wait_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  size_t n = 0;
  const rd_kafka_topic_result_t** tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  REQUIRE(n == 1);
  CHECK_MESSAGE(rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
                rd_kafka_topic_result_error_string(tr[0]));
  rd_kafka_event_destroy(ev);

  auto described = rd_describe(rk, q, "rdk-conf");
  for (const KeySpec& k : kKeys) REQUIRE_MESSAGE(described.count(k.name), k.name);
  CHECK(described["compression.type"].value == "lz4");
  CHECK(described["compression.type"].source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
  CHECK(described["leader.replication.throttled.replicas"].value == "*");
  CHECK(described["segment.jitter.ms"].value == "0");
  CHECK(described["segment.jitter.ms"].source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);

  // AlterConfigs (the legacy, replacing call): every key at once; what is
  // not named goes back to its default.
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, "rdk-conf");
  for (const KeySpec& k : kKeys)
    if (std::string_view(k.name) != "compression.type")
      REQUIRE(rd_kafka_ConfigResource_set_config(res, k.name, k.set_value) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_AlterConfigs(rk, &res, 1, nullptr, q);
  rd_kafka_ConfigResource_destroy(res);
  ev = wait_result(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
  const rd_kafka_ConfigResource_t** rs =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
  REQUIRE(n == 1);
  CHECK_MESSAGE(rd_kafka_ConfigResource_error(rs[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
                rd_kafka_ConfigResource_error_string(rs[0]));
  rd_kafka_event_destroy(ev);

  described = rd_describe(rk, q, "rdk-conf");
  for (const KeySpec& k : kKeys) {
    CAPTURE(k.name);
    if (std::string_view(k.name) == "compression.type") {
      CHECK(described[k.name].value == "producer");
      CHECK(described[k.name].source == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
      continue;
    }
    CHECK(described[k.name].value == k.reported);
    CHECK(described[k.name].source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
  }

  // A bad value: INVALID_CONFIG naming the key.
  res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, "rdk-conf");
  REQUIRE(rd_kafka_ConfigResource_set_config(res, "compression.type", "brotli") == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_AlterConfigs(rk, &res, 1, nullptr, q);
  rd_kafka_ConfigResource_destroy(res);
  ev = wait_result(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
  rs = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
  REQUIRE(n == 1);
  CHECK(rd_kafka_ConfigResource_error(rs[0]) == RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  const char* why = rd_kafka_ConfigResource_error_string(rs[0]);
  CHECK_MESSAGE((why != nullptr && std::strstr(why, "compression.type") != nullptr), (why ? why : "null"));
  rd_kafka_event_destroy(ev);

  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}
