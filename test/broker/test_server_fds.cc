// broker-ref's file descriptors (issue 21, item 3): a broker-ref process
// under `ulimit -n 1024` hosts 2,000 partitions, takes a record in each and
// serves them all back, before and after a restart, driven by librdkafka.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <set>

#include "rdkafka_test_util.h"
#include "storage_test_util.h"

using namespace kfk::broker::rdk_test;

namespace {

constexpr int kTopics = 10;
constexpr int kPartitionsPerTopic = 200;
constexpr uint64_t kNoFile = 1024;

std::string topic_name(int t) { return "fds-" + std::to_string(t); }
std::string value_of(int t, int p) { return "record of " + topic_name(t) + "/" + std::to_string(p); }

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* failed = static_cast<std::vector<std::string>*>(opaque);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && failed->size() < 5) failed->push_back(rd_kafka_err2str(m->err));
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && failed->size() >= 5) failed->push_back("");
}

// Produces one record to every partition; the delivery errors.
std::vector<std::string> produce_everywhere(const std::string& bootstrap) {
  std::vector<std::string> failed;
  rd_kafka_conf_t* conf = conf_for(bootstrap, {{"linger.ms", "20"}, {"message.timeout.ms", "50000"}});
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &failed);
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  REQUIRE_MESSAGE(p != nullptr, err);
  for (int t = 0; t < kTopics; ++t) {
    for (int part = 0; part < kPartitionsPerTopic; ++part) {
      std::string v = value_of(t, part);
      std::string topic = topic_name(t);
      REQUIRE(rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(part),
                                RD_KAFKA_V_VALUE(v.data(), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  }
  CHECK(rd_kafka_flush(p, 55000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
  return failed;
}

// Reads every partition from the beginning; the records that came back
// matching what was produced there, and any that did not.
void consume_everywhere(const std::string& bootstrap, size_t* matching, std::vector<std::string>* wrong) {
  rd_kafka_conf_t* conf = conf_for(bootstrap, {{"group.id", "fds-reader"},
                                               {"enable.auto.commit", "false"},
                                               {"fetch.wait.max.ms", "100"}});
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE_MESSAGE(c != nullptr, err);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(kTopics * kPartitionsPerTopic);
  for (int t = 0; t < kTopics; ++t)
    for (int part = 0; part < kPartitionsPerTopic; ++part)
      rd_kafka_topic_partition_list_add(parts, topic_name(t).c_str(), part)->offset = RD_KAFKA_OFFSET_BEGINNING;
  REQUIRE(rd_kafka_assign(c, parts) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);
  std::set<std::pair<std::string, int>> seen;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(50);
  while (seen.size() < size_t{kTopics * kPartitionsPerTopic} && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string topic = rd_kafka_topic_name(m->rkt);
      std::string v(static_cast<const char*>(m->payload), m->len);
      int t = std::stoi(topic.substr(4));
      if (m->offset == 0 && v == value_of(t, m->partition)) seen.emplace(topic, m->partition);
      else if (wrong->size() < 5) wrong->push_back(topic + "/" + std::to_string(m->partition) + "@" +
                                                   std::to_string(m->offset) + ": " + v);
    } else if (wrong->size() < 5) {
      wrong->push_back(std::string("consumer error: ") + rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }
  *matching = seen.size();
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
}

}  // namespace

TEST_CASE("broker-ref under ulimit -n 1024 hosts 2000 partitions: create, produce, fetch, restart, fetch") {
  kfk::broker::test::TempDir tmp;
  const std::string data = tmp.sub("data");
  constexpr size_t kAll = kTopics * kPartitionsPerTopic;
  {
    BrokerProcess broker(data, kNoFile);
    char err[512];
    rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(broker.bootstrap()), err, sizeof err);
    REQUIRE(admin != nullptr);
    std::vector<std::string> names;
    for (int t = 0; t < kTopics; ++t) names.push_back(topic_name(t));
    auto created = create_topics(admin, names, kPartitionsPerTopic);
    rd_kafka_destroy(admin);
    REQUIRE(created.size() == names.size());
    for (const auto& entry : created) CHECK_MESSAGE(entry.second.empty(), entry.first << ": " << entry.second);
    const int after_create = broker.open_fds();
    MESSAGE("descriptors after creating " << kAll << " partitions: " << after_create);
    CHECK(after_create < static_cast<int>(kNoFile) * 3 / 4);

    std::vector<std::string> failed = produce_everywhere(broker.bootstrap());
    CHECK_MESSAGE(failed.empty(), "delivery failed: " << (failed.empty() ? "" : failed.front()));
    const int after_produce = broker.open_fds();
    MESSAGE("descriptors after producing to every partition: " << after_produce);
    CHECK(after_produce < static_cast<int>(kNoFile) * 3 / 4);

    size_t matching = 0;
    std::vector<std::string> wrong;
    consume_everywhere(broker.bootstrap(), &matching, &wrong);
    CHECK(matching == kAll);
    CHECK_MESSAGE(wrong.empty(), wrong.front());
    const int after_fetch = broker.open_fds();
    MESSAGE("descriptors after fetching every partition: " << after_fetch);
    CHECK(after_fetch < static_cast<int>(kNoFile) * 3 / 4);
    REQUIRE(broker.alive());
    CHECK(broker.stop() == 0);
  }
  {
    // The restarted broker loads all 2000 partitions under the same limit.
    BrokerProcess broker(data, kNoFile);
    size_t matching = 0;
    std::vector<std::string> wrong;
    consume_everywhere(broker.bootstrap(), &matching, &wrong);
    CHECK(matching == kAll);
    CHECK_MESSAGE(wrong.empty(), wrong.front());
    const int after_restart = broker.open_fds();
    MESSAGE("descriptors after the restart and a fetch of every partition: " << after_restart);
    CHECK(after_restart < static_cast<int>(kNoFile) * 3 / 4);
    CHECK(broker.stop() == 0);
  }
}

TEST_CASE("a full descriptor table fails CreateTopics with an error naming RLIMIT_NOFILE, and the broker carries on") {
  kfk::broker::test::TempDir tmp;
  constexpr uint64_t kLimit = 64;
  BrokerProcess broker(tmp.sub("data"), kLimit);
  char err[512];
  rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf_for(broker.bootstrap()), err, sizeof err);
  REQUIRE(admin != nullptr);
  REQUIRE(create_topics(admin, {"before"}, 1)["before"].empty());  // the admin's connections are up

  // Idle connections take every descriptor the broker has left.
  const auto colon = broker.bootstrap().rfind(':');
  const int port = std::stoi(broker.bootstrap().substr(colon + 1));
  std::vector<int> socks;
  for (uint64_t i = 0; i < kLimit; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socks.push_back(s);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (broker.open_fds() < static_cast<int>(kLimit) - 1 && std::chrono::steady_clock::now() < until)
    ::usleep(20000);
  MESSAGE("broker descriptors with the table full: " << broker.open_fds());

  auto full = create_topics(admin, {"during"}, 4);
  CHECK(full["during"].find("Too many open files (RLIMIT_NOFILE 64)") != std::string::npos);
  MESSAGE("CreateTopics with the table full: " << full["during"]);
  REQUIRE(broker.alive());

  for (int s : socks) ::close(s);
  until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::map<std::string, std::string> after;
  do {  // the broker notices the closed connections on its next loop turn
    after = create_topics(admin, {"after"}, 4);
  } while (!after["after"].empty() && std::chrono::steady_clock::now() < until && (::usleep(100000), true));
  CHECK_MESSAGE(after["after"].empty(), after["after"]);
  rd_kafka_destroy(admin);
  REQUIRE(broker.alive());
  CHECK(broker.stop() == 0);
}
