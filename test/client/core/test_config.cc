// Config validation: parsing, ranges, enums, per-client keys and the Java
// client's cross-key rules.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "client/core/config_parse.h"
#include "client/core/resolved_config.h"
#include "kfk/config.h"

using kfk::Config;
using kfk::Error;
using kfk::core::ClientKind;
using kfk::core::ResolvedConfig;
namespace errc = kfk::errc;

namespace {

Error check(Config c, ClientKind kind, ResolvedConfig* out = nullptr) {
  if (!c.contains("bootstrap.servers")) c.set("bootstrap.servers", "localhost:9092");
  ResolvedConfig tmp;
  return kfk::core::validate(c, kind, out ? out : &tmp);
}

bool mentions(const Error& e, const std::string& s) { return e.message().find(s) != std::string::npos; }

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("Config: set, get, unset, initializer list") {
  Config c{{"bootstrap.servers", "a:1"}, {"acks", "1"}};
  CHECK(c.get("acks") == "1");
  c.set("acks", "all").set("linger.ms", "7");
  CHECK(c.get("acks") == "all");
  CHECK(c.contains("linger.ms"));
  c.unset("linger.ms");
  CHECK_FALSE(c.get("linger.ms").has_value());
  CHECK(c.properties().size() == 2);
}

TEST_CASE("validate: defaults for every client kind") {
  for (ClientKind k : {ClientKind::kProducer, ClientKind::kConsumer, ClientKind::kAdmin}) {
    ResolvedConfig rc;
    REQUIRE(check(Config{}, k, &rc).ok());
    CHECK(rc.get_int("request.timeout.ms") == 30000);
    CHECK(rc.get_long("metadata.max.age.ms") == 300000);
    CHECK(rc.get_long("reconnect.backoff.ms") == 50);
    CHECK(rc.get_long("connections.max.idle.ms") == 540000);
    CHECK(rc.bootstrap_servers().size() == 1);
    CHECK(rc.client_id().rfind("kfk-", 0) == 0);
  }
  ResolvedConfig p;
  REQUIRE(check(Config{}, ClientKind::kProducer, &p).ok());
  CHECK(p.acks() == -1);
  CHECK(p.idempotence());
  CHECK(p.get_long("linger.ms") == 5);
  CHECK(p.get_int("batch.size") == 16384);
  CHECK(p.get_int("retries") == 2147483647);
  CHECK(p.get_int("delivery.timeout.ms") == 120000);
  CHECK(p.compression() == kfk::proto::Compression::kNone);
  CHECK(p.partitioner() == kfk::core::Partitioner::kDefault);
  CHECK(p.allow_auto_topic_creation());
  CHECK(p.adjustments().empty());

  ResolvedConfig c;
  REQUIRE(check(Config{{"group.id", "g"}}, ClientKind::kConsumer, &c).ok());
  CHECK(c.get_bool("enable.auto.commit"));
  CHECK(c.auto_offset_reset() == kfk::core::AutoOffsetReset::kLatest);
  CHECK(c.isolation_level() == kfk::core::IsolationLevel::kReadUncommitted);
  CHECK(c.assignors() == std::vector<std::string>{"range", "cooperative-sticky"});
  CHECK(c.get_int("session.timeout.ms") == 45000);
  CHECK(c.get_int("fetch.max.bytes") == 52428800);

  ResolvedConfig a;
  REQUIRE(check(Config{}, ClientKind::kAdmin, &a).ok());
  CHECK(a.get_int("default.api.timeout.ms") == 60000);
  CHECK_FALSE(a.allow_auto_topic_creation());
}

TEST_CASE("validate: unknown keys are errors naming the key, with a suggestion") {
  Error e = check(Config{{"linger.msx", "5"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "'linger.msx'"));
  CHECK(mentions(e, "did you mean 'linger.ms'"));
  Error far = check(Config{{"totally.unrelated.thing", "1"}}, ClientKind::kProducer);
  CHECK(far.code() == errc::kInvalidClientConfig);
  CHECK_FALSE(mentions(far, "did you mean"));
}

TEST_CASE("validate: bad values name the key and the accepted values") {
  Error e = check(Config{{"linger.ms", "soon"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "'linger.ms'"));
  CHECK(mentions(e, "a long in [0, "));

  e = check(Config{{"batch.size", "-1"}}, ClientKind::kProducer);
  CHECK(mentions(e, "'batch.size'"));
  CHECK(mentions(e, "[0, 2147483647]"));

  e = check(Config{{"request.timeout.ms", "99999999999"}}, ClientKind::kAdmin);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "'request.timeout.ms'"));

  e = check(Config{{"enable.idempotence", "yes"}}, ClientKind::kProducer);
  CHECK(mentions(e, "true or false"));

  e = check(Config{{"acks", "2"}}, ClientKind::kProducer);
  CHECK(mentions(e, "'acks'"));
  CHECK(mentions(e, "all, -1, 0 or 1"));

  e = check(Config{{"auto.offset.reset", "smallest"}}, ClientKind::kConsumer);
  CHECK(mentions(e, "latest, earliest or none"));

  e = check(Config{{"partition.assignment.strategy", "range,bogus"}}, ClientKind::kConsumer);
  CHECK(mentions(e, "'bogus'"));
  CHECK(mentions(e, "cooperative-sticky"));

  // Spaces and case are forgiven where Java forgives them.
  ResolvedConfig rc;
  REQUIRE(check(Config{{"linger.ms", " 12 "}, {"enable.idempotence", "TRUE"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.get_long("linger.ms") == 12);
}

TEST_CASE("validate: bootstrap.servers is required and parsed") {
  ResolvedConfig rc;
  Error e = kfk::core::validate(Config{}, ClientKind::kProducer, &rc);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "'bootstrap.servers' is required"));
  e = check(Config{{"bootstrap.servers", "a:1,b:notaport"}}, ClientKind::kProducer);
  CHECK(mentions(e, "'b:notaport'"));
  e = check(Config{{"bootstrap.servers", "a:70000"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  REQUIRE(check(Config{{"bootstrap.servers", " PLAINTEXT://k1:9093, [::1]:9094 ,k3"}}, ClientKind::kProducer, &rc)
              .ok());
  REQUIRE(rc.bootstrap_servers().size() == 3);
  CHECK(rc.bootstrap_servers()[0] == kfk::io::HostPort{"k1", 9093});
  CHECK(rc.bootstrap_servers()[1] == kfk::io::HostPort{"::1", 9094});
  CHECK(rc.bootstrap_servers()[1].to_string() == "[::1]:9094");
  CHECK(rc.bootstrap_servers()[2] == kfk::io::HostPort{"k3", 9092});
}

TEST_CASE("validate: explicit enable.idempotence=true conflicts name both keys") {
  Error e = check(Config{{"enable.idempotence", "true"}, {"acks", "1"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "enable.idempotence"));
  CHECK(mentions(e, "acks=1"));

  e = check(Config{{"enable.idempotence", "true"}, {"max.in.flight.requests.per.connection", "6"}},
            ClientKind::kProducer);
  CHECK(mentions(e, "enable.idempotence"));
  CHECK(mentions(e, "max.in.flight.requests.per.connection=6"));

  e = check(Config{{"enable.idempotence", "true"}, {"retries", "0"}}, ClientKind::kProducer);
  CHECK(mentions(e, "enable.idempotence"));
  CHECK(mentions(e, "retries=0"));

  ResolvedConfig rc;
  REQUIRE(check(Config{{"enable.idempotence", "true"}, {"acks", "-1"}, {"max.in.flight.requests.per.connection", "5"}},
                ClientKind::kProducer, &rc)
              .ok());
  CHECK(rc.idempotence());
}

TEST_CASE("validate: default idempotence yields silently to acks=1 (as Java)") {
  ResolvedConfig rc;
  REQUIRE(check(Config{{"acks", "1"}}, ClientKind::kProducer, &rc).ok());
  CHECK_FALSE(rc.idempotence());
  CHECK(rc.acks() == 1);
  REQUIRE(rc.adjustments().size() == 1);
  CHECK(rc.adjustments()[0].find("acks=1") != std::string::npos);

  REQUIRE(check(Config{{"max.in.flight.requests.per.connection", "10"}}, ClientKind::kProducer, &rc).ok());
  CHECK_FALSE(rc.idempotence());

  REQUIRE(check(Config{{"acks", "0"}, {"enable.idempotence", "false"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.acks() == 0);
  CHECK(rc.adjustments().empty());
}

TEST_CASE("validate: transactional.id requires idempotence") {
  Error e = check(Config{{"transactional.id", "tx"}, {"enable.idempotence", "false"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "transactional.id"));
  CHECK(mentions(e, "enable.idempotence=false"));
  e = check(Config{{"transactional.id", "tx"}, {"acks", "1"}}, ClientKind::kProducer);
  CHECK(mentions(e, "transactional.id"));
  CHECK(mentions(e, "acks=1"));
  CHECK(check(Config{{"transactional.id", "tx"}}, ClientKind::kProducer).ok());
}

TEST_CASE("validate: delivery.timeout.ms >= linger.ms + request.timeout.ms") {
  Error e = check(Config{{"delivery.timeout.ms", "1000"}, {"request.timeout.ms", "30000"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "delivery.timeout.ms"));
  CHECK(mentions(e, "linger.ms"));
  CHECK(mentions(e, "request.timeout.ms"));
  ResolvedConfig rc;
  REQUIRE(check(Config{{"request.timeout.ms", "200000"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.get_int("delivery.timeout.ms") == 200005);
  CHECK_FALSE(rc.adjustments().empty());
}

TEST_CASE("validate: keys of other clients are accepted but unused") {
  ResolvedConfig rc;
  REQUIRE(check(Config{{"group.id", "g"}, {"fetch.min.bytes", "not-even-a-number"}}, ClientKind::kProducer, &rc).ok());
  CHECK(has(rc.unused_keys(), "group.id"));
  CHECK(has(rc.unused_keys(), "fetch.min.bytes"));
  REQUIRE(check(Config{{"acks", "1"}, {"group.id", "g"}}, ClientKind::kConsumer, &rc).ok());
  CHECK(has(rc.unused_keys(), "acks"));
  REQUIRE(check(Config{{"linger.ms", "1"}}, ClientKind::kAdmin, &rc).ok());
  CHECK(has(rc.unused_keys(), "linger.ms"));
}

TEST_CASE("validate: security.protocol other than PLAINTEXT is unsupported (for now)") {
  Error e = check(Config{{"security.protocol", "SSL"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kUnsupportedFeature);
  CHECK(mentions(e, "security.protocol=SSL"));
  e = check(Config{{"security.protocol", "TLS"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "SASL_SSL"));
  CHECK(check(Config{{"security.protocol", "PLAINTEXT"}}, ClientKind::kConsumer).ok());
}

TEST_CASE("validate: consumer group rules") {
  Error e = check(Config{{"enable.auto.commit", "true"}}, ClientKind::kConsumer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "enable.auto.commit"));
  CHECK(mentions(e, "group.id"));

  ResolvedConfig rc;
  REQUIRE(check(Config{}, ClientKind::kConsumer, &rc).ok());
  CHECK_FALSE(rc.get_bool("enable.auto.commit"));

  e = check(Config{{"group.instance.id", "i"}}, ClientKind::kConsumer);
  CHECK(mentions(e, "group.instance.id"));

  e = check(Config{{"group.id", "g"}, {"heartbeat.interval.ms", "10000"}, {"session.timeout.ms", "6000"}},
            ClientKind::kConsumer);
  CHECK(mentions(e, "heartbeat.interval.ms"));
  CHECK(mentions(e, "session.timeout.ms"));

  // The heartbeat default follows a session timeout set below it; an
  // explicit heartbeat is never changed.
  REQUIRE(check(Config{{"group.id", "g"}}, ClientKind::kConsumer, &rc).ok());
  CHECK(rc.get_long("heartbeat.interval.ms") == 500);
  REQUIRE(check(Config{{"group.id", "g"}, {"session.timeout.ms", "300"}}, ClientKind::kConsumer, &rc).ok());
  CHECK(rc.get_long("heartbeat.interval.ms") == 100);
  e = check(Config{{"group.id", "g"}, {"session.timeout.ms", "300"}, {"heartbeat.interval.ms", "500"}},
            ClientKind::kConsumer);
  CHECK(mentions(e, "heartbeat.interval.ms"));
}

TEST_CASE("validate: assignors accept short names and Java class names") {
  ResolvedConfig rc;
  REQUIRE(check(Config{{"group.id", "g"},
                       {"partition.assignment.strategy",
                        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor, RoundRobinAssignor,range,range"}},
                ClientKind::kConsumer, &rc)
              .ok());
  CHECK(rc.assignors() == std::vector<std::string>{"cooperative-sticky", "roundrobin", "range"});
  CHECK(check(Config{{"group.id", "g"}, {"partition.assignment.strategy", " , "}}, ClientKind::kConsumer).code() ==
        errc::kInvalidClientConfig);
  CHECK(check(Config{{"group.id", "g"}, {"partition.assignment.strategy", "com.example.RangeAssignor"}},
              ClientKind::kConsumer)
            .code() == errc::kInvalidClientConfig);
}

TEST_CASE("validate: partitioner and partitioner.class") {
  ResolvedConfig rc;
  REQUIRE(check(Config{{"partitioner", "murmur2_random"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.partitioner() == kfk::core::Partitioner::kMurmur2Random);
  REQUIRE(check(Config{{"partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner"}},
                ClientKind::kProducer, &rc)
              .ok());
  CHECK(rc.partitioner() == kfk::core::Partitioner::kRoundRobin);
  Error e = check(Config{{"partitioner", "random"}, {"partitioner.class", "UniformStickyPartitioner"}},
                  ClientKind::kProducer);
  CHECK(mentions(e, "'partitioner'"));
  CHECK(mentions(e, "'partitioner.class'"));
  e = check(Config{{"partitioner.class", "com.example.Mine"}}, ClientKind::kProducer);
  CHECK(mentions(e, "com.example.Mine"));
}

TEST_CASE("validate: compression type and levels") {
  ResolvedConfig rc;
  REQUIRE(check(Config{{"compression.type", "zstd"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.compression() == kfk::proto::Compression::kZstd);
  CHECK(rc.compression_level() == 3);
  REQUIRE(check(Config{{"compression.type", "gzip"}, {"compression.level", "9"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.compression_level() == 9);
  Error e = check(Config{{"compression.type", "gzip"}, {"compression.level", "12"}}, ClientKind::kProducer);
  CHECK(e.code() == errc::kInvalidClientConfig);
  CHECK(mentions(e, "compression.level"));
  CHECK(mentions(e, "[1, 9]"));
  CHECK(check(Config{{"compression.type", "brotli"}}, ClientKind::kProducer).code() == errc::kInvalidClientConfig);
  // lz4's default level 9 is the fast compressor (as in Java): the codec
  // default (-1); other levels are LZ4HC levels.
  REQUIRE(check(Config{{"compression.type", "lz4"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.compression_level() == -1);
  REQUIRE(check(Config{{"compression.type", "lz4"}, {"compression.lz4.level", "12"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.compression_level() == 12);
  REQUIRE(check(Config{{"compression.type", "lz4"}, {"compression.level", "9"}}, ClientKind::kProducer, &rc).ok());
  CHECK(rc.compression_level() == -1);
}

TEST_CASE("config parsing helpers") {
  int64_t v = 0;
  CHECK(kfk::core::parse_int64(" +42 ", v));
  CHECK(v == 42);
  CHECK_FALSE(kfk::core::parse_int64("4 2", v));
  CHECK_FALSE(kfk::core::parse_int64("99999999999999999999", v));
  CHECK(kfk::core::split_list(" a, ,b ,") == std::vector<std::string>{"a", "b"});
  CHECK(kfk::core::edit_distance("acks", "acsk") == 2);
  kfk::io::HostPort hp;
  CHECK_FALSE(kfk::core::parse_host_port("::1:9092", hp));  // bare IPv6 needs brackets
  CHECK_FALSE(kfk::core::parse_host_port(":9092", hp));
  CHECK_FALSE(kfk::core::parse_host_port("[::1", hp));
}
