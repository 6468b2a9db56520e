// broker-ref server against librdkafka (C API): a real producer and a real
// consumer, 1000 records with keys, headers and timestamps.
#include <librdkafka/rdkafka.h>

#include <cstring>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

rd_kafka_conf_t* base_conf(const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const char* k, const char* v) {
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k, v, err, sizeof err) == RD_KAFKA_CONF_OK, err);
  };
  set("bootstrap.servers", bootstrap.c_str());
  set("log_level", "3");
  return conf;
}

struct Expected {
  std::string key, value;
  int64_t ts;
  std::string header_value;
};

}  // namespace

TEST_CASE("server: librdkafka producer and consumer round trip") {
  auto broker = start_broker({{"num.partitions", "1"}});
  const std::string topic = "rdk";
  const int n = 1000;
  std::vector<Expected> expected;
  for (int i = 0; i < n; ++i)
    expected.push_back({"key-" + std::to_string(i), "value-" + std::to_string(i) + std::string(i % 50, 'z'),
                        1700000000000 + i, 'h' + std::to_string(i)});

  for (const char* compression : {"none", "lz4"}) {
    CAPTURE(compression);
    std::string t = topic + "-" + compression;
    // ---- produce
    {
      rd_kafka_conf_t* conf = base_conf(broker->bootstrap_servers());
      char err[512];
      rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
      rd_kafka_conf_set(conf, "compression.type", compression, err, sizeof err);
      rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
      rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
      REQUIRE_MESSAGE(p != nullptr, err);
      for (const auto& e : expected) {
        rd_kafka_headers_t* hs = rd_kafka_headers_new(1);
        rd_kafka_header_add(hs, "hk", -1, e.header_value.data(), static_cast<ssize_t>(e.header_value.size()));
        rd_kafka_resp_err_t r = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC(t.c_str()), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_KEY(const_cast<char*>(e.key.data()), e.key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(e.value.data()), e.value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(e.ts), RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_END);
        REQUIRE(r == RD_KAFKA_RESP_ERR_NO_ERROR);
      }
      REQUIRE(rd_kafka_flush(p, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
      CHECK(rd_kafka_outq_len(p) == 0);
      rd_kafka_destroy(p);
    }
    // ---- consume from the beginning with assign()
    {
      rd_kafka_conf_t* conf = base_conf(broker->bootstrap_servers());
      char err[512];
      rd_kafka_conf_set(conf, "group.id", "unused-with-assign", err, sizeof err);
      rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
      rd_kafka_conf_set(conf, "fetch.wait.max.ms", "100", err, sizeof err);
      rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
      REQUIRE_MESSAGE(c != nullptr, err);
      rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(parts, t.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
      REQUIRE(rd_kafka_assign(c, parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
      rd_kafka_topic_partition_list_destroy(parts);
      int got = 0;
      int64_t deadline = now_ms() + 30000;
      while (got < n && now_ms() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
        if (m == nullptr) continue;
        if (m->err) {
          INFO("consumer error: " << rd_kafka_message_errstr(m));
          CHECK(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
          rd_kafka_message_destroy(m);
          continue;
        }
        REQUIRE(got < n);
        const Expected& e = expected[static_cast<size_t>(got)];
        CHECK(m->offset == got);
        CHECK(std::string(static_cast<const char*>(m->key), m->key_len) == e.key);
        CHECK(std::string(static_cast<const char*>(m->payload), m->len) == e.value);
        rd_kafka_timestamp_type_t tstype;
        CHECK(rd_kafka_message_timestamp(m, &tstype) == e.ts);
        CHECK(tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME);
        rd_kafka_headers_t* hs = nullptr;
        REQUIRE(rd_kafka_message_headers(m, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR);
        const void* hv = nullptr;
        size_t hl = 0;
        REQUIRE(rd_kafka_header_get_last(hs, "hk", &hv, &hl) == RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK(std::string(static_cast<const char*>(hv), hl) == e.header_value);
        ++got;
        rd_kafka_message_destroy(m);
      }
      CHECK(got == n);
      rd_kafka_consumer_close(c);
      rd_kafka_destroy(c);
    }
  }
}
