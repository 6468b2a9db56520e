// kfk::Consumer group membership and offsets against real coordinators:
// librdkafka's mock cluster and broker-ref. Every record is read exactly
// once across the members, also across rebalances, leaves and crashes.
// GCC 12's <regex> trips a false -Wmaybe-uninitialized when instantiated at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "consumer_test_util.h"
#include "kfk-broker-ref/broker_ref.h"
#include "kfk_test/brokers.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::MockCluster;
using kfk::test::start_broker;

namespace {

bool wait_until(const std::function<bool()>& pred, int ms = 20000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

using Key = std::pair<int32_t, int64_t>;
std::set<Key> keys_of(const std::vector<Msg>& v) {
  std::set<Key> s;
  for (auto& m : v) s.insert({m.partition, m.offset});
  return s;
}

// Records a rebalance listener saw.
class Recorder : public RebalanceListener {
 public:
  void on_partitions_assigned(const std::vector<TopicPartition>& p) override {
    std::lock_guard<std::mutex> lock(mu);
    assigned_calls++;
    for (auto& tp : p) owned.insert(tp);
  }
  void on_partitions_revoked(const std::vector<TopicPartition>& p) override {
    std::lock_guard<std::mutex> lock(mu);
    revoked_calls++;
    for (auto& tp : p) owned.erase(tp);
  }
  void on_partitions_lost(const std::vector<TopicPartition>& p) override {
    std::lock_guard<std::mutex> lock(mu);
    lost_calls++;
    for (auto& tp : p) owned.erase(tp);
  }
  std::set<TopicPartition> snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return owned;
  }
  std::mutex mu;
  std::set<TopicPartition> owned;
  int assigned_calls = 0, revoked_calls = 0, lost_calls = 0;
};

struct Cluster {
  std::unique_ptr<MockCluster> mock;
  std::unique_ptr<kfk::testing::BrokerRef> ref;
  std::string bootstrap;
  void topic(const std::string& t, int n) {
    if (mock) mock->create_topic(t, n);
  }
};

// librdkafka 2.0's mock coordinator completes a sync as soon as the
// leader's SyncGroup arrives and answers a follower whose SyncGroup comes
// later INVALID_REQUEST (the follower then rejoins, which starts another
// rebalance with the same race). kfk's leader assigns in microseconds and
// its SyncGroup usually wins, so the group would rarely settle. This
// assignor makes the leader slower than its followers. (It blocks the
// network thread for that while: acceptable in a test, not in an
// application assignor.)
class SlowLeaderAssignor : public PartitionAssignor {
 public:
  explicit SlowLeaderAssignor(const std::string& name) { REQUIRE(create_assignor(name, inner_).ok()); }
  std::string name() const override { return inner_->name(); }
  std::vector<RebalanceProtocol> supported_protocols() const override { return inner_->supported_protocols(); }
  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return inner_->assign(in, out);
  }

 private:
  std::unique_ptr<PartitionAssignor> inner_;
};

Cluster make_cluster(bool use_mock) {
  Cluster c;
  if (use_mock) {
    c.mock = std::make_unique<MockCluster>(3);
    c.bootstrap = c.mock->bootstraps();
  } else {
    c.ref = start_broker({{"num.partitions", "4"}, {"group.initial.rebalance.delay.ms", "0"}});
    c.bootstrap = c.ref->bootstrap_servers();
  }
  return c;
}

// Both members subscribe and the group settles first; only then are the
// records produced, so that neither member can read everything before the
// other joined (a race the assertions below would otherwise depend on).
// On broker-ref a few records are produced up front, to create the topic
// (auto-creation); they too must be read exactly once, across the
// rebalance that the second member causes. Not on librdkafka's mock: its
// coordinator refuses commits while a rebalance is in progress
// (REBALANCE_IN_PROGRESS, where Kafka accepts them until the sync), so the
// revoking member's final commit is lost and any client re-reads what it
// had read since its last periodic commit: at least once, by design.
void two_members_split(bool use_mock, const std::string& strategy) {
  Cluster cl = make_cluster(use_mock);
  cl.topic("grp", 4);
  std::vector<Msg> produced;
  if (!use_mock) produced = produce(cl.bootstrap, "grp", 20);
  auto cfg = consumer_config(cl.bootstrap, {{"group.id", "g-split-" + strategy},
                                            {"partition.assignment.strategy", strategy}});
  auto r1 = std::make_shared<Recorder>();
  auto r2 = std::make_shared<Recorder>();
  ConsumerOptions o1, o2;
  o1.rebalance_listener = r1;
  o2.rebalance_listener = r2;
  if (use_mock) {
    o1.assignors = {std::make_shared<SlowLeaderAssignor>(strategy)};
    o2.assignors = {std::make_shared<SlowLeaderAssignor>(strategy)};
  }
  auto c1 = make_consumer(cfg, o1);
  auto c2 = make_consumer(cfg, o2);
  REQUIRE(c1->subscribe({"grp"}).ok());
  REQUIRE(c2->subscribe({"grp"}).ok());
  CHECK(c1->subscription() == std::vector<std::string>{"grp"});
  {
    Poller p1(c1.get()), p2(c2.get());
    // Both members own partitions, disjointly, covering all four (the
    // listeners' view and the consumers' own agree). librdkafka's mock
    // coordinator delays rebalances (initial join delay, then up to the
    // session timeout for members to rejoin): allow it 40 s.
    auto settled = [&] {
      auto a = r1->snapshot(), b = r2->snapshot();
      if (a.empty() || b.empty() || a.size() + b.size() != 4) return false;
      for (auto& tp : a)
        if (b.count(tp)) return false;
      auto aa = c1->assignment(), bb = c2->assignment();
      return std::set<TopicPartition>(aa.begin(), aa.end()) == a && std::set<TopicPartition>(bb.begin(), bb.end()) == b;
    };
    REQUIRE(wait_until(settled, 40000));
    auto more = produce(cl.bootstrap, "grp", 400, "none", -1, 1800000000000);
    produced.insert(produced.end(), more.begin(), more.end());
    REQUIRE(wait_until([&] { return p1.count() + p2.count() >= produced.size(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    p1.stop();
    p2.stop();
    auto m1 = p1.messages(), m2 = p2.messages();
    CHECK(m1.size() + m2.size() == produced.size());
    auto k1 = keys_of(m1), k2 = keys_of(m2);
    CHECK(k1.size() == m1.size());
    CHECK(k2.size() == m2.size());
    std::set<Key> all = k1;
    all.insert(k2.begin(), k2.end());
    CHECK(all == keys_of(produced));
    // The 400 records after the split are keyed over all four partitions,
    // two of which each member owns.
    CHECK(!m1.empty());
    CHECK(!m2.empty());
  }
  auto m = c1->metrics();
  CHECK(m.generation_id >= 1);
  CHECK(!m.member_id.empty());
  CHECK(c1->close(std::chrono::seconds(5)).ok());
  CHECK(c2->close(std::chrono::seconds(5)).ok());
}

}  // namespace

TEST_CASE("consumer: a group of two splits the partitions and reads every record once (mock, range)") {
  two_members_split(true, "range");
}

TEST_CASE("consumer: a group of two splits the partitions and reads every record once (broker-ref, roundrobin)") {
  two_members_split(false, "roundrobin");
}

TEST_CASE("consumer: cooperative-sticky group of two (broker-ref)") { two_members_split(false, "cooperative-sticky"); }

TEST_CASE("consumer: a restarted member resumes from its committed offsets") {
  for (bool use_mock : {true, false}) {
    CAPTURE(use_mock);
    Cluster cl = make_cluster(use_mock);
    cl.topic("resume", 2);
    auto produced = produce(cl.bootstrap, "resume", 100);
    auto cfg = consumer_config(cl.bootstrap, {{"group.id", "g-resume"}, {"enable.auto.commit", "false"}});
    std::map<TopicPartition, int64_t> committed_at;
    {
      auto c = make_consumer(cfg);
      REQUIRE(c->subscribe({"resume"}).ok());
      auto got = drain(*c, 40);
      REQUIRE(got.size() >= 40);
      // Commit exactly the first 40 records consumed.
      std::map<TopicPartition, OffsetAndMetadata> offs;
      for (size_t i = 0; i < 40; ++i) {
        TopicPartition tp(got[i].topic, got[i].partition);
        offs[tp] = OffsetAndMetadata{got[i].offset + 1, "meta-" + std::to_string(i), std::nullopt};
        committed_at[tp] = got[i].offset + 1;
      }
      REQUIRE(c->commit_sync(offs).ok());
      std::map<TopicPartition, OffsetAndMetadata> back;
      REQUIRE(c->committed({TopicPartition("resume", 0), TopicPartition("resume", 1)}, &back).ok());
      for (auto& [tp, om] : offs) {
        CHECK(back[tp].offset == om.offset);
        CHECK(back[tp].metadata == om.metadata);
      }
      CHECK(c->close(std::chrono::seconds(5)).ok());
    }
    auto c = make_consumer(cfg);
    REQUIRE(c->subscribe({"resume"}).ok());
    size_t rest = 0;
    for (auto& m : produced) {
      auto it = committed_at.find(TopicPartition(m.topic, m.partition));
      if (it == committed_at.end() || m.offset >= it->second) ++rest;
    }
    auto got = drain(*c, rest);
    CHECK(got.size() == rest);
    for (auto& m : got) {
      auto it = committed_at.find(TopicPartition(m.topic, m.partition));
      if (it != committed_at.end()) CHECK(m.offset >= it->second);
    }
    CHECK(c->poll(std::chrono::milliseconds(300)).empty());
  }
}

TEST_CASE("consumer: auto-commit on close; the next member continues after it") {
  Cluster cl = make_cluster(false);
  auto produced = produce(cl.bootstrap, "ac", 60);
  auto cfg = consumer_config(cl.bootstrap, {{"group.id", "g-ac"}, {"auto.commit.interval.ms", "100000"}});
  size_t first = 0;
  {
    auto c = make_consumer(cfg);
    REQUIRE(c->subscribe({"ac"}).ok());
    first = drain(*c, produced.size()).size();
    CHECK(first == produced.size());
    CHECK(c->close(std::chrono::seconds(5)).ok());  // commits everything consumed
  }
  auto c = make_consumer(cfg);
  REQUIRE(c->subscribe({"ac"}).ok());
  CHECK(drain(*c, 1, 2000).empty());
}

TEST_CASE("consumer: a member leaving and one crashing trigger rebalances that lose nothing") {
  // session.timeout.ms 3000 is below Kafka's (and broker-ref's) default
  // group.min.session.timeout.ms (6000), which rejects the JoinGroup with
  // INVALID_SESSION_TIMEOUT: allow it on this broker.
  Cluster cl;
  cl.ref = start_broker({{"num.partitions", "4"},
                         {"group.initial.rebalance.delay.ms", "0"},
                         {"group.min.session.timeout.ms", "1000"}});
  cl.bootstrap = cl.ref->bootstrap_servers();
  auto produced = produce(cl.bootstrap, "churn", 300);
  auto cfg = consumer_config(cl.bootstrap, {{"group.id", "g-churn"},
                                           {"session.timeout.ms", "3000"},
                                           {"heartbeat.interval.ms", "200"},
                                           {"enable.auto.commit", "false"}});
  std::mutex mu;
  std::set<Key> seen;
  // Each member commits after every poll (sync), so a crash loses nothing
  // and at most one poll's records are read twice.
  auto run_member = [&](Consumer* c, std::atomic<bool>* stop) {
    while (!*stop) {
      ConsumerRecords recs = c->poll(std::chrono::milliseconds(50));
      for (auto& r : recs) {
        std::lock_guard<std::mutex> lock(mu);
        seen.insert({r.partition, r.offset});
      }
      if (!recs.empty()) (void)c->commit_sync();
    }
  };
  auto a = make_consumer(cfg);
  auto b = make_consumer(cfg);
  REQUIRE(a->subscribe({"churn"}).ok());
  REQUIRE(b->subscribe({"churn"}).ok());
  std::atomic<bool> stop_a{false}, stop_b{false};
  std::thread ta(run_member, a.get(), &stop_a), tb(run_member, b.get(), &stop_b);
  // Let both join and consume a bit, then b leaves cleanly.
  wait_until([&] { return a->assignment().size() + b->assignment().size() == 4 && !b->assignment().empty(); });
  stop_b = true;
  tb.join();
  CHECK(b->close(std::chrono::seconds(5)).ok());
  auto more = produce(cl.bootstrap, "churn", 100, "none", -1, 1800000000000);
  produced.insert(produced.end(), more.begin(), more.end());
  CHECK(wait_until([&] { return a->assignment().size() == 4; }));
  // A third member joins and then "crashes": a static member
  // (group.instance.id) sends no LeaveGroup when it goes away, so, as after
  // a crash, the coordinator notices only when session.timeout.ms (3 s)
  // passes without heartbeats, and then rebalances its partitions to a.
  auto ccfg = cfg;
  ccfg.set("group.instance.id", "crashy");
  auto c = make_consumer(ccfg);
  REQUIRE(c->subscribe({"churn"}).ok());
  std::atomic<bool> stop_c{false};
  std::thread tc(run_member, c.get(), &stop_c);
  CHECK(wait_until([&] { return !c->assignment().empty(); }));
  CHECK(a->assignment().size() < 4);
  stop_c = true;
  tc.join();
  CHECK(c->close(std::chrono::seconds(5)).ok());
  c.reset();
  CHECK(wait_until([&] { return a->assignment().size() == 4; }, 20000));
  auto last = produce(cl.bootstrap, "churn", 50, "none", -1, 1900000000000);
  produced.insert(produced.end(), last.begin(), last.end());
  CHECK(wait_until([&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size() >= produced.size();
  }));
  stop_a = true;
  ta.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(seen == keys_of(produced));
  }
  CHECK(a->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("consumer: max.poll.interval.ms expiry: the member leaves, reports the loss and rejoins") {
  Cluster cl = make_cluster(false);
  produce(cl.bootstrap, "mpi", 20);
  auto rec = std::make_shared<Recorder>();
  ConsumerOptions o;
  o.rebalance_listener = rec;
  auto c = make_consumer(consumer_config(cl.bootstrap, {{"group.id", "g-mpi"},
                                                        {"max.poll.interval.ms", "1500"},
                                                        {"session.timeout.ms", "6000"}}),
                         o);
  REQUIRE(c->subscribe({"mpi"}).ok());
  auto got = drain(*c, 20);
  CHECK(got.size() == 20);
  int gen_before = c->metrics().generation_id;
  CHECK(gen_before >= 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // no poll
  CHECK(c->metrics().generation_id == -1);                       // left the group
  // The next polls report the loss through the listener and rejoin.
  CHECK(wait_until([&] {
    c->poll(std::chrono::milliseconds(50));
    return c->metrics().generation_id > gen_before && !c->assignment().empty();
  }));
  CHECK(rec->lost_calls >= 1);
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("consumer: coordinator errors are retried (mock fault injection)") {
  MockCluster mc(3);
  mc.create_topic("coord", 2);
  auto produced = produce(mc.bootstraps(), "coord", 50);
  rd_kafka_mock_push_request_errors(mc.get(), 10 /* FindCoordinator */, 2, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
  rd_kafka_mock_push_request_errors(mc.get(), 11 /* JoinGroup */, 2, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                                    RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  // The mock writes a null assignment with these (read as empty, not as a
  // malformed answer); INVALID_REQUEST is what it answers a SyncGroup that
  // comes after the sync completed: join again, as librdkafka does.
  rd_kafka_mock_push_request_errors(mc.get(), 14 /* SyncGroup */, 2, RD_KAFKA_RESP_ERR_INVALID_REQUEST,
                                    RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
  rd_kafka_mock_push_request_errors(mc.get(), 8 /* OffsetCommit */, 1, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
  auto c = make_consumer(consumer_config(mc.bootstraps(), {{"group.id", "g-coord"}, {"enable.auto.commit", "false"}}));
  REQUIRE(c->subscribe({"coord"}).ok());
  auto got = drain(*c, produced.size(), 20000);
  CHECK(keys_of(got) == keys_of(produced));
  CHECK(c->commit_sync().ok());
  std::map<TopicPartition, OffsetAndMetadata> back;
  REQUIRE(c->committed({TopicPartition("coord", 0), TopicPartition("coord", 1)}, &back).ok());
  int64_t sum = 0;
  for (auto& [tp, om] : back) sum += om.offset;
  CHECK(sum == static_cast<int64_t>(produced.size()));
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

TEST_CASE("consumer: pattern subscription picks up matching topics, also ones created later") {
  Cluster cl = make_cluster(false);
  auto a = produce(cl.bootstrap, "pat-a", 20);
  produce(cl.bootstrap, "other", 20);
  auto c = make_consumer(consumer_config(cl.bootstrap, {{"group.id", "g-pat"}, {"metadata.max.age.ms", "500"}}));
  REQUIRE(c->subscribe_pattern(std::regex("pat-.*")).ok());
  auto got = drain(*c, a.size());
  CHECK(keys_of(got) == keys_of(a));
  for (auto& m : got) CHECK(m.topic == "pat-a");
  auto b = produce(cl.bootstrap, "pat-b", 20);  // created now
  auto more = drain(*c, b.size(), 20000);
  CHECK(more.size() == b.size());
  for (auto& m : more) CHECK(m.topic == "pat-b");
  auto sub = c->subscription();
  CHECK(std::find(sub.begin(), sub.end(), "pat-b") != sub.end());
  CHECK(std::find(sub.begin(), sub.end(), "other") == sub.end());
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

// A member whose JoinGroup the coordinator holds (waiting for a member that
// has not rejoined yet) must not send OffsetFetch behind it: Kafka answers
// one request per connection at a time, so it would wait for the whole
// rebalance and time out, closing the connection under the JoinGroup.
// committed() meanwhile reports the rebalance; once the group is stable it
// answers normally.
TEST_CASE("consumer: committed() during the member's held JoinGroup reports the rebalance, then works") {
  Cluster cl = make_cluster(false);
  produce(cl.bootstrap, "held", 40);
  auto cfg = consumer_config(cl.bootstrap, {{"group.id", "g-held"},
                                           {"partition.assignment.strategy", "range"},
                                           {"heartbeat.interval.ms", "100"},
                                           {"max.poll.interval.ms", "30000"}});
  auto a = make_consumer(cfg);
  auto b = make_consumer(cfg);
  REQUIRE(a->subscribe({"held"}).ok());
  REQUIRE(b->subscribe({"held"}).ok());
  auto poll_a_until = [&](const std::function<bool()>& pred, int ms) {
    return wait_until([&] {
      a->poll(std::chrono::milliseconds(20));
      return pred();
    }, ms);
  };
  {
    Poller pb(b.get());
    REQUIRE(poll_a_until([&] { return a->assignment().size() + b->assignment().size() == 4 &&
                                      !a->assignment().empty() && !b->assignment().empty(); },
                         20000));
    REQUIRE(a->commit_sync().ok());
  }  // b stops polling: it cannot revoke, so it does not rejoin yet
  auto c = make_consumer(cfg);
  REQUIRE(c->subscribe({"held"}).ok());
  Poller pc(c.get());
  // a hears of the rebalance from its heartbeat, revokes in poll and sends
  // JoinGroup, which the coordinator holds until b rejoins.
  REQUIRE(poll_a_until([&] { return a->assignment().empty(); }, 20000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::map<TopicPartition, OffsetAndMetadata> out;
  Error e = a->committed({TopicPartition("held", 0)}, &out, std::chrono::milliseconds(1000));
  CHECK(e.code() == errc::kRebalanceInProgress);
  // b polls again: it revokes and rejoins, and the three share the topic.
  Poller pb(b.get());
  CHECK(poll_a_until([&] { return a->assignment().size() + b->assignment().size() + c->assignment().size() == 4 &&
                                  !a->assignment().empty() && !b->assignment().empty() &&
                                  !c->assignment().empty(); },
                     20000));
  out.clear();
  CHECK(a->committed({TopicPartition("held", 0)}, &out, std::chrono::seconds(5)).ok());
  CHECK(out.count(TopicPartition("held", 0)) == 1);
  pb.stop();
  pc.stop();
  CHECK(a->close(std::chrono::seconds(5)).ok());
  CHECK(b->close(std::chrono::seconds(5)).ok());
  CHECK(c->close(std::chrono::seconds(5)).ok());
}
