// A topic deleted while a consumer group reads it, then recreated under the
// same name (Kafka's behaviour, which broker-ref must match): the member
// hears that the topic is gone, DeleteTopics removes the group's committed
// offsets of the topic (Kafka's GroupCoordinator.onPartitionsDeleted), and
// the recreated topic is read from its beginning by auto.offset.reset, so
// no record of the new topic is skipped and none of the old one comes back.
#include <doctest/doctest.h>

#include <chrono>
#include <set>

#include "consumer_test_util.h"
#include "kfk/admin.h"
#include "kfk_test/brokers.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::start_broker;

TEST_CASE("consumer: a topic deleted under a group and recreated is read from its start, old offsets gone") {
  auto broker = start_broker(
      {{"num.partitions", "2"}, {"group.initial.rebalance.delay.ms", "0"}, {"auto.create.topics.enable", "false"}});
  const std::string bootstrap = broker->bootstrap_servers();
  std::unique_ptr<Admin> admin;
  REQUIRE(Admin::create({{"bootstrap.servers", bootstrap}}, &admin).ok());
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"doomed", 2}}, &created).ok());
  auto old_records = produce(bootstrap, "doomed", 40);
  auto c = make_consumer(consumer_config(bootstrap, {{"group.id", "g-doomed"},
                                                     {"enable.auto.commit", "false"},
                                                     {"metadata.max.age.ms", "200"}}));
  REQUIRE(c->subscribe({"doomed"}).ok());
  REQUIRE(drain(*c, old_records.size()).size() == old_records.size());
  REQUIRE(c->commit_sync().ok());
  const std::vector<TopicPartition> parts{TopicPartition("doomed", 0), TopicPartition("doomed", 1)};
  ListConsumerGroupOffsetsResult before;
  REQUIRE(admin->list_consumer_group_offsets("g-doomed", parts, &before).ok());
  int64_t committed_before = 0;
  for (auto& [tp, co] : before.partitions) committed_before += co.offset;
  REQUIRE(committed_before == static_cast<int64_t>(old_records.size()));

  DeleteTopicsResult deleted;
  REQUIRE(admin->delete_topics({"doomed"}, &deleted).ok());
  // The member keeps polling: it is told the topic is gone and ends up
  // owning none of it.
  std::vector<Error> errors;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end && !(errors.size() > 0 && c->assignment().empty())) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(50));
    CHECK(recs.size() == 0);
    if (!recs.error().ok()) errors.push_back(recs.error());
  }
  CHECK(c->assignment().empty());
  REQUIRE_FALSE(errors.empty());
  CHECK(errors.front().code() == errc::kUnknownTopicOrPartition);

  // The group's offsets of the deleted topic are gone, as on Kafka.
  ListConsumerGroupOffsetsResult after;
  REQUIRE(admin->list_consumer_group_offsets("g-doomed", parts, &after).ok());
  for (auto& entry : after.partitions) {  // no structured binding: clang 14 cannot capture one (CAPTURE)
    const auto& tp = entry.first;
    const auto& co = entry.second;
    CAPTURE(tp.partition);
    CHECK(co.offset == -1);
  }

  // Recreated: the still-subscribed member reads exactly the new records.
  REQUIRE(admin->create_topics({NewTopic{"doomed", 2}}, &created).ok());
  auto new_records = produce(bootstrap, "doomed", 100);  // more than the old offsets per partition
  auto got = drain(*c, new_records.size(), 20000);
  REQUIRE(got.size() == new_records.size());
  std::multiset<std::string> want_values, got_values;
  for (auto& m : new_records) want_values.insert(m.value.value_or("<null>") + "@" + std::to_string(m.offset));
  for (auto& m : got) got_values.insert(m.value.value_or("<null>") + "@" + std::to_string(m.offset));
  CHECK(got_values == want_values);
  CHECK(c->close(std::chrono::seconds(5)).ok());
}
