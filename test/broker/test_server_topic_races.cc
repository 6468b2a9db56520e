// Topics created and deleted while clients use them (issue 21's "also
// check"), against a broker-ref process with librdkafka, asserting what
// Kafka does: a deleted topic answers UNKNOWN_TOPIC_OR_PARTITION, a
// recreated one starts empty at offset 0 with none of the old records, and
// a topic created while a producer waits for it takes its records.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "rdkafka_test_util.h"
#include "storage_test_util.h"

using namespace kfk::broker::rdk_test;

namespace {

struct Deliveries {
  std::mutex mu;
  int64_t acked = 0;
  std::map<rd_kafka_resp_err_t, int> errors;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Deliveries*>(opaque);
  std::lock_guard lk(d->mu);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++d->acked;
  else ++d->errors[m->err];
}

rd_kafka_t* new_producer(const std::string& bootstrap, Deliveries* d) {
  rd_kafka_conf_t* conf = conf_for(bootstrap, {{"linger.ms", "2"},
                                               {"message.timeout.ms", "4000"},
                                               {"topic.metadata.refresh.interval.ms", "500"},
                                               {"log_level", "0"}});
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, d);
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  REQUIRE_MESSAGE(p != nullptr, err);
  return p;
}

void produce(rd_kafka_t* p, const std::string& topic, const std::string& value) {
  rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(p, 10);
  rd_kafka_poll(p, 0);
}

// Everything in `topic` from the beginning (partitions 0..n-1), by value.
std::vector<std::string> read_all(const std::string& bootstrap, const std::string& topic, int partitions,
                                  size_t expect, int64_t* min_offset) {
  rd_kafka_conf_t* conf = conf_for(bootstrap, {{"group.id", "race-reader"},
                                               {"enable.auto.commit", "false"},
                                               {"fetch.wait.max.ms", "50"},
                                               {"log_level", "0"}});
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE_MESSAGE(c != nullptr, err);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(c, parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<std::string> out;
  *min_offset = INT64_MAX;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Reads a little past `expect`, so extra records would show.
  auto quiet_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(until, quiet_until)) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.emplace_back(static_cast<const char*>(m->payload), m->len);
      *min_offset = std::min<int64_t>(*min_offset, m->offset);
      if (out.size() >= expect && quiet_until == std::chrono::steady_clock::time_point::max())
        quiet_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  return out;
}

// CreateTopics, retried while the old incarnation's name is still taken.
void create_topic(rd_kafka_t* admin, const std::string& name, int partitions) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string error;
  do {
    error = create_topics(admin, {name}, partitions)[name];
  } while (error.find("already exists") != std::string::npos && std::chrono::steady_clock::now() < until &&
           (::usleep(100000), true));
  REQUIRE_MESSAGE(error.empty(), error);
}

// The delivery errors Kafka gives a producer whose topic went away.
bool topic_gone_error(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ||
         e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
         e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
}

}  // namespace

TEST_CASE("a topic deleted and recreated under a running producer: the new one holds only new records") {
  kfk::broker::test::TempDir tmp;
  BrokerProcess broker(tmp.sub("data"), 0, {"auto.create.topics.enable=false"});
  char err[512];
  rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(broker.bootstrap(), {{"log_level", "0"}}), err, sizeof err);
  REQUIRE(admin != nullptr);
  const std::string topic = "race";
  create_topic(admin, topic, 3);

  Deliveries old_d;
  rd_kafka_t* old_p = new_producer(broker.bootstrap(), &old_d);
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (int64_t i = 0; !stop; ++i) {
      produce(old_p, topic, "old-" + std::to_string(i));
      if (i % 50 == 0) ::usleep(1000);
    }
  });
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto acked = [&] {
    std::lock_guard lk(old_d.mu);
    return old_d.acked;
  };
  while (acked() < 500 && std::chrono::steady_clock::now() < until) ::usleep(10000);
  REQUIRE(acked() >= 500);

  // Deleted under the producer, then recreated at once with fewer partitions.
  // (A librdkafka consumer fetching all along is left out: its
  // rd_kafka_destroy() then waits forever on a broker handle's references,
  // against broker-ref before and after this change alike.)
  auto deleted = delete_topics(admin, {topic});
  CHECK(deleted[topic] == RD_KAFKA_RESP_ERR_NO_ERROR);
  ::usleep(300000);
  stop = true;
  producer.join();
  rd_kafka_flush(old_p, 10000);  // what was in flight fails (or timed out)
  rd_kafka_destroy(old_p);
  REQUIRE(broker.alive());
  {
    std::lock_guard lk(old_d.mu);
    MESSAGE("old producer: " << old_d.acked << " acknowledged; errors " << old_d.errors.size() << " kinds");
    for (const auto& entry : old_d.errors) {  // no structured binding: clang 14 cannot capture one (CHECK_MESSAGE)
      const rd_kafka_resp_err_t code = entry.first;
      const int n = entry.second;
      CHECK_MESSAGE(topic_gone_error(code), n << " x " << rd_kafka_err2name(code) << ": " << rd_kafka_err2str(code));
    }
  }

  create_topic(admin, topic, 2);
  Deliveries new_d;
  rd_kafka_t* new_p = new_producer(broker.bootstrap(), &new_d);
  for (int i = 0; i < 100; ++i) produce(new_p, topic, "new-" + std::to_string(i));
  CHECK(rd_kafka_flush(new_p, 20000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(new_p);
  CHECK(new_d.acked == 100);
  CHECK(new_d.errors.empty());

  int64_t min_offset = 0;
  std::vector<std::string> values = read_all(broker.bootstrap(), topic, 2, 100, &min_offset);
  CHECK(values.size() == 100);
  CHECK(min_offset == 0);
  std::set<std::string> distinct(values.begin(), values.end());
  CHECK(distinct.size() == values.size());
  for (const auto& v : values) CHECK_MESSAGE(v.rfind("new-", 0) == 0, "the recreated topic holds " << v);
  rd_kafka_destroy(admin);
  REQUIRE(broker.alive());
  CHECK(broker.stop() == 0);
}

TEST_CASE("a topic created while a producer waits for it takes every record") {
  kfk::broker::test::TempDir tmp;
  BrokerProcess broker(tmp.sub("data"), 0, {"auto.create.topics.enable=false"});
  Deliveries d;
  rd_kafka_t* p = new_producer(broker.bootstrap(), &d);
  const std::string topic = "born-late";
  for (int i = 0; i < 200; ++i) produce(p, topic, "v-" + std::to_string(i));  // the topic does not exist yet
  ::usleep(300000);
  char err[512];
  rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(broker.bootstrap(), {{"log_level", "0"}}), err, sizeof err);
  REQUIRE(admin != nullptr);
  create_topic(admin, topic, 2);
  CHECK(rd_kafka_flush(p, 20000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
  CHECK(d.acked == 200);
  CHECK(d.errors.empty());
  int64_t min_offset = 0;
  std::vector<std::string> values = read_all(broker.bootstrap(), topic, 2, 200, &min_offset);
  CHECK(values.size() == 200);
  CHECK(std::set<std::string>(values.begin(), values.end()).size() == 200);
  rd_kafka_destroy(admin);
  REQUIRE(broker.alive());
  CHECK(broker.stop() == 0);
}
