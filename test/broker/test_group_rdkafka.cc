// librdkafka (C API) consumer groups against broker-ref's coordinator:
// three consumers split six partitions, every record is read exactly once,
// offsets are committed, and after a broker restart on the same data dir a
// new consumer of the group resumes after the committed offsets.
#include <librdkafka/rdkafka.h>

#include <set>

#include "kfk_test/temp_dir.h"
#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

constexpr int kPartitions = 6;

rd_kafka_conf_t* conf_for(const std::string& bootstrap, const std::map<std::string, std::string>& extra) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::map<std::string, std::string> all = {{"bootstrap.servers", bootstrap}, {"log_level", "3"}};
  for (const auto& [k, v] : extra) all[k] = v;
  for (const auto& [k, v] : all)
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  return conf;
}

rd_kafka_t* new_consumer(const std::string& bootstrap, const std::string& group) {
  char err[512];
  rd_kafka_conf_t* conf = conf_for(bootstrap, {{"group.id", group},
                                               {"enable.auto.commit", "false"},
                                               {"auto.offset.reset", "earliest"},
                                               {"fetch.wait.max.ms", "100"},
                                               {"session.timeout.ms", "6000"},
                                               {"heartbeat.interval.ms", "500"}});
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE_MESSAGE(c != nullptr, err);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "rdk-group-topic", RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(c, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  return c;
}

void produce(const std::string& bootstrap, int from, int count) {
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(bootstrap, {{"linger.ms", "5"}}), err, sizeof err);
  REQUIRE_MESSAGE(p != nullptr, err);
  for (int i = from; i < from + count; ++i) {
    std::string key = "key-" + std::to_string(i), value = "value-" + std::to_string(i);
    REQUIRE(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("rdk-group-topic"), RD_KAFKA_V_PARTITION(i % kPartitions),
                              RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  REQUIRE(rd_kafka_flush(p, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
}

int assigned_count(rd_kafka_t* c) {
  rd_kafka_topic_partition_list_t* a = nullptr;
  if (rd_kafka_assignment(c, &a) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int n = a->cnt;
  rd_kafka_topic_partition_list_destroy(a);
  return n;
}

// Polls every consumer until `want` records arrived in total (or 30 s);
// returns the values read per consumer, committing synchronously.
std::vector<std::vector<std::string>> consume(const std::vector<rd_kafka_t*>& cs, size_t want) {
  std::vector<std::vector<std::string>> got(cs.size());
  size_t total = 0;
  int64_t deadline = now_ms() + 30000;
  while (total < want && now_ms() < deadline) {
    for (size_t i = 0; i < cs.size(); ++i) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(cs[i], 20);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        got[i].emplace_back(static_cast<const char*>(m->payload), m->len);
        ++total;
      } else {
        CHECK_MESSAGE(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  }
  for (rd_kafka_t* c : cs) CHECK(rd_kafka_commit(c, nullptr, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
  return got;
}

}  // namespace

TEST_CASE("group: librdkafka consumer group splits partitions, reads once, resumes after restart") {
  kfk::test::TempDir tmp("kfk-rdk-group");
  const std::string dir = tmp.path;
  std::map<std::string, std::string> cfg = {{"num.partitions", std::to_string(kPartitions)},
                                            {"group.initial.rebalance.delay.ms", "300"},
                                            {"offsets.topic.num.partitions", "10"}};
  const int first = 600, second = 300;
  {
    auto broker = start_broker(cfg, dir);
    {
      RawConn c(broker->port());
      ensure_topic(c, "rdk-group-topic");
    }
    std::vector<rd_kafka_t*> cs;
    for (int i = 0; i < 3; ++i) cs.push_back(new_consumer(broker->bootstrap_servers(), "rdk-group"));
    // Wait until the group settled: all six partitions assigned, each consumer has some.
    int64_t deadline = now_ms() + 30000;
    bool settled = false;
    while (!settled && now_ms() < deadline) {
      for (rd_kafka_t* c : cs) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 50);
        if (m) rd_kafka_message_destroy(m);
      }
      int total = 0;
      bool each = true;
      for (rd_kafka_t* c : cs) {
        int n = assigned_count(c);
        total += n;
        each = each && n > 0;
      }
      settled = each && total == kPartitions;
    }
    REQUIRE_MESSAGE(settled, "the group did not settle on an assignment");
    produce(broker->bootstrap_servers(), 0, first);
    auto got = consume(cs, first);
    std::set<std::string> seen;
    size_t total = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(!got[i].empty());  // the partitions are split: everyone reads
      total += got[i].size();
      seen.insert(got[i].begin(), got[i].end());
    }
    CHECK(total == first);        // nothing twice
    CHECK(seen.size() == first);  // nothing missing
    for (rd_kafka_t* c : cs) {
      rd_kafka_consumer_close(c);
      rd_kafka_destroy(c);
    }
    produce(broker->bootstrap_servers(), first, second);
    broker->stop();
  }
  {
    auto broker = start_broker(cfg, dir);
    rd_kafka_t* c = new_consumer(broker->bootstrap_servers(), "rdk-group");
    auto got = consume({c}, second);
    std::set<std::string> seen(got[0].begin(), got[0].end());
    CHECK(got[0].size() == second);
    CHECK(seen.size() == second);
    // Only the records after the committed offsets.
    CHECK(seen.count("value-" + std::to_string(first - 1)) == 0);
    CHECK(seen.count("value-" + std::to_string(first)) == 1);
    // Nothing else shows up afterwards.
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 500);
    if (m) {
      CHECK(m->err != RD_KAFKA_RESP_ERR_NO_ERROR);
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    broker->stop();
  }
}
