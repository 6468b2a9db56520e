// broker-ref's old API versions through librdkafka (C API), as a client
// of Kafka 0.9 sends them (api.version.request=false,
// broker.version.fallback=0.9.0.0: Produce and Fetch of the magic 0 era;
// librdkafka ignores api.version.request=false for fallbacks from 0.10 on,
// so magic 1 is covered by test_server_versions.cc through the codec):
// magic 0 message sets are read back by a modern consumer, and an old
// consumer reads down-converted data; a transactional producer's
// init_transactions fails at once instead of waiting out its timeout.
#include <librdkafka/rdkafka.h>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

rd_kafka_conf_t* conf_for(const std::string& bootstrap, const std::vector<std::pair<std::string, std::string>>& kv) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) {
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  };
  set("bootstrap.servers", bootstrap);
  set("log_level", "3");
  for (const auto& [k, v] : kv) set(k, v);
  return conf;
}

std::vector<std::pair<std::string, std::string>> old_client(const char* fallback) {
  return {{"api.version.request", "false"}, {"broker.version.fallback", fallback}};
}

struct Got {
  int64_t offset;
  std::string key, value;
  int64_t ts;
  rd_kafka_timestamp_type_t ts_type;
};

std::vector<Got> consume_all(const std::string& bootstrap, const std::string& topic, size_t n,
                             std::vector<std::pair<std::string, std::string>> kv) {
  kv.push_back({"group.id", "unused-with-assign"});
  kv.push_back({"enable.auto.commit", "false"});
  kv.push_back({"fetch.wait.max.ms", "100"});
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf_for(bootstrap, kv), err, sizeof err);
  REQUIRE_MESSAGE(c != nullptr, err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(c, parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<Got> out;
  int64_t deadline = now_ms() + 30000;
  while (out.size() < n && now_ms() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (m == nullptr) continue;
    if (m->err) {
      INFO("consumer error: " << rd_kafka_message_errstr(m));
      CHECK(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
    } else {
      Got g{m->offset, std::string(static_cast<const char*>(m->key), m->key_len),
            std::string(static_cast<const char*>(m->payload), m->len), 0, RD_KAFKA_TIMESTAMP_NOT_AVAILABLE};
      g.ts = rd_kafka_message_timestamp(m, &g.ts_type);
      out.push_back(std::move(g));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_destroy(c);
  return out;
}

}  // namespace

TEST_CASE("server versions: librdkafka as a Kafka 0.9 client produces magic 0 and fetches old versions") {
  auto broker = start_broker({{"num.partitions", "1"}});
  const std::string bootstrap = broker->bootstrap_servers();
  RawConn raw(broker->port());
  for (std::string compression : {"none", "gzip", "snappy"}) {
    const std::string topic = "old-" + compression;
    CAPTURE(topic);
    ensure_topic(raw, topic);
    const int n = 50;
    {
      auto kv = old_client("0.9.0.0");
      kv.push_back({"compression.codec", compression});
      kv.push_back({"linger.ms", "5"});
      char err[512];
      rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(bootstrap, kv), err, sizeof err);
      REQUIRE_MESSAGE(p != nullptr, err);
      for (int i = 0; i < n; ++i) {
        std::string k = 'k' + std::to_string(i), v = "value-" + std::to_string(i) + std::string(i, 'x');
        REQUIRE(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_KEY(k.data(), k.size()), RD_KAFKA_V_VALUE(v.data(), v.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(1700000000000 + i),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
      }
      REQUIRE(rd_kafka_flush(p, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
      // Delivery failures leave nothing queued but show in the log end.
      rd_kafka_destroy(p);
    }
    auto hw = raw.call<proto::FetchResponse>(fetch_request(topic, 0, 0), 11);
    REQUIRE(hw.responses.at(0).partitions.at(0).high_watermark == n);

    // A modern consumer and an old one read the same records.
    for (std::string reader : {"modern", "0.9.0.0"}) {
      CAPTURE(reader);
      auto kv = reader == "modern" ? std::vector<std::pair<std::string, std::string>>{} : old_client(reader.c_str());
      auto got = consume_all(bootstrap, topic, n, kv);
      REQUIRE(got.size() == static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(got[i].offset == i);
        CHECK(got[i].key == 'k' + std::to_string(i));
        CHECK(got[i].value == "value-" + std::to_string(i) + std::string(i, 'x'));
        // Magic 0 carries no timestamp: stored as -1 (NO_TIMESTAMP), which
        // a modern reader sees as a create time of -1; a Fetch v0 reader
        // gets magic 0 back, with none at all.
        if (reader == "0.9.0.0") CHECK(got[i].ts_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE);
        else CHECK(got[i].ts == -1);
      }
    }
  }
}

TEST_CASE("server versions: librdkafka init_transactions fails at once, not after its timeout") {
  auto broker = start_broker();
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER,
                               conf_for(broker->bootstrap_servers(), {{"transactional.id", "txn-fast-fail"}}), err,
                               sizeof err);
  REQUIRE_MESSAGE(p != nullptr, err);
  const int timeout_ms = 60000;
  const int64_t start = now_ms();
  rd_kafka_error_t* e = rd_kafka_init_transactions(p, timeout_ms);
  const int64_t took = now_ms() - start;
  REQUIRE(e != nullptr);
  INFO("init_transactions: " << rd_kafka_error_string(e) << " after " << took << " ms");
  CHECK(rd_kafka_error_is_fatal(e));
  CHECK(rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  CHECK(std::string(rd_kafka_error_string(e)).find("transactions") != std::string::npos);
  // Not a timing assertion: a retriable answer made this wait out the
  // whole timeout; anything well short of it means the error was final.
  CHECK(took < timeout_ms / 2);
  rd_kafka_error_destroy(e);
  rd_kafka_destroy(p);
}
