// One consumer group, two client implementations: kfk::Consumer members
// and librdkafka (C API: rd_kafka_subscribe / rd_kafka_consumer_poll)
// members with the same partition.assignment.strategy, against broker-ref
// and librdkafka's mock cluster. Whoever is elected leader assigns for
// everyone, so each side must read the other's subscriptions and
// assignments (ConsumerProtocol versions, owned partitions, the assignors'
// user data). Checked: the members split the partitions (disjoint, all
// covered, both kinds get some), every record is read exactly once across
// the group, and partitions move between the two kinds on leave, crash and
// max.poll.interval.ms expiry without loss or re-reads; the group's final
// committed offsets are exactly the log ends.
//
// librdkafka 2.0.2's mock coordinator (see also test_consumer_group.cc):
//   - it completes a sync when the leader's SyncGroup arrives and answers a
//     later follower INVALID_REQUEST (the follower rejoins): kfk members
//     there use SlowLeaderAssignor so that a kfk leader syncs last;
//   - it refuses OffsetCommit while a rebalance is in progress
//     (REBALANCE_IN_PROGRESS; Kafka and broker-ref accept the current
//     generation's commits until the sync), so a member's commit before
//     revocation is lost there and every client re-reads what it read since
//     its last commit (at least once, by design). On the mock the scenarios
//     therefore quiesce before each membership change (everything produced
//     was read and committed: the group's committed offsets equal the log
//     ends) and produce the next records once the group settled again.
//     Exactly once remains a valid assertion there: it then checks that
//     partitions are handed over at the committed offsets, by both kinds of
//     member. On broker-ref records are also produced just before each
//     change, so members revoke (and commit) partitions with records in
//     flight;
//   - it delays the first join (~3 s) and waits up to session.timeout.ms -
//     1 s for members to rejoin: session.timeout.ms is 6000 everywhere.
//
// The cooperative-sticky cases found two kfk bugs (group_member.cc,
// commit()): a commit answered ILLEGAL_GENERATION because it was sent in
// the previous generation made the member rejoin, again and again; and
// auto-commits sent while the member's JoinGroup was held timed out and
// closed the coordinator connection, JoinGroup included.
//
// Test names avoid commas: doctest's -tc="..." splits its patterns at them.
// GCC 12's <regex> trips a false -Wmaybe-uninitialized when instantiated at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "consumer_test_util.h"
#include "kfk_test/brokers.h"
#include "kfk_test/mock_cluster.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::MockCluster;

namespace {

using Key = std::pair<int32_t, int64_t>;  // partition, offset
using Parts = std::set<int32_t>;
constexpr int kPartitions = 4;

bool wait_until(const std::function<bool()>& pred, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::string show(const Parts& p) {
  std::string s = "{";
  for (int32_t x : p) {
    if (s.size() > 1) s += ',';
    s += std::to_string(x);
  }
  return s + "}";
}

// See the file comment: makes a kfk leader sync after its followers on the
// mock. Blocks the network thread meanwhile (fine in a test only).
class SlowLeaderAssignor : public PartitionAssignor {
 public:
  explicit SlowLeaderAssignor(const std::string& name) { REQUIRE(create_assignor(name, inner_).ok()); }
  std::string name() const override { return inner_->name(); }
  std::vector<RebalanceProtocol> supported_protocols() const override { return inner_->supported_protocols(); }
  std::vector<uint8_t> subscription_user_data(const std::vector<std::string>& topics) const override {
    return inner_->subscription_user_data(topics);
  }
  Error assign(const GroupAssignmentInput& in, std::map<std::string, MemberAssignment>* out) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return inner_->assign(in, out);
  }
  void on_assignment(const MemberAssignment& a, int32_t generation) override { inner_->on_assignment(a, generation); }

 private:
  std::unique_ptr<PartitionAssignor> inner_;
};

// A group member of either kind, consuming on its own thread.
class Member {
 public:
  virtual ~Member() = default;
  // The partitions it owns now (empty while it is not a stable member).
  virtual Parts owned() = 0;
  // Every record it returned to the application, duplicates included.
  std::vector<Key> reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }
  // Stops polling, commits, revokes and leaves the group (LeaveGroup).
  virtual void close() = 0;
  // Stops polling and goes away without LeaveGroup and without committing:
  // the coordinator notices only when session.timeout.ms passes.
  virtual void crash() = 0;
  virtual std::string name() const = 0;

 protected:
  std::mutex mu_;
  std::vector<Key> reads_;
  std::vector<std::string> errors_;  // unexpected client errors, reported at the end
};

// A kfk::Consumer member. Ownership as seen by both the rebalance listener
// and assignment(), which the polling thread samples after each poll (the
// application thread contract: one thread uses the consumer).
class KfkMember : public Member {
 public:
  struct Options {
    std::string strategy;
    bool on_mock = false;      // SlowLeaderAssignor
    bool commit_each = false;  // commit_sync() after every poll that returned records
  };
  KfkMember(Config cfg, const std::string& topic, Options o) : o_(std::move(o)) {
    cfg.set("partition.assignment.strategy", o_.strategy);
    if (o_.commit_each) cfg.set("enable.auto.commit", "false");
    static_member_ = cfg.contains("group.instance.id");
    ConsumerOptions co;
    co.rebalance_listener = listener_;
    if (o_.on_mock) co.assignors = {std::make_shared<SlowLeaderAssignor>(o_.strategy)};
    c_ = make_consumer(cfg, co);
    REQUIRE(c_->subscribe({topic}).ok());
    start_polling();
  }
  ~KfkMember() override {
    stop_polling();
    if (!closed_) (void)c_->close(std::chrono::seconds(5));
  }
  std::string name() const override { return "kfk"; }

  Parts owned() override {
    Parts l = listener_->owned(), a;
    {
      std::lock_guard<std::mutex> lock(mu_);
      a = assignment_;
    }
    return l == a ? l : Parts{};  // in the middle of a change: not settled
  }
  int lost_calls() { return listener_->lost(); }
  ConsumerMetrics metrics() const { return c_->metrics(); }

  void start_polling() {
    stop_ = false;
    thread_ = std::thread([this] { run(); });
  }
  void stop_polling() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void close() override {
    stop_polling();
    CHECK(c_->close(std::chrono::seconds(10)).ok());
    closed_ = true;
  }
  // A static member (group.instance.id) sends no LeaveGroup when it closes;
  // without auto-commit it commits nothing either: to the coordinator that
  // is a crash (test_consumer_group.cc does the same).
  void crash() override {
    REQUIRE(static_member_);
    REQUIRE(o_.commit_each);  // enable.auto.commit=false: close() commits nothing
    stop_polling();
    CHECK(c_->close(std::chrono::seconds(10)).ok());
    closed_ = true;
  }

 private:
  class Listener : public RebalanceListener {
   public:
    void on_partitions_assigned(const std::vector<TopicPartition>& p) override {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& tp : p) owned_.insert(tp.partition);
    }
    void on_partitions_revoked(const std::vector<TopicPartition>& p) override {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& tp : p) owned_.erase(tp.partition);
    }
    void on_partitions_lost(const std::vector<TopicPartition>& p) override {
      std::lock_guard<std::mutex> lock(mu);
      lost_++;
      for (auto& tp : p) owned_.erase(tp.partition);
    }
    Parts owned() {
      std::lock_guard<std::mutex> lock(mu);
      return owned_;
    }
    int lost() {
      std::lock_guard<std::mutex> lock(mu);
      return lost_;
    }
    std::mutex mu;
    Parts owned_;
    int lost_ = 0;
  };

  void run() {
    while (!stop_) {
      ConsumerRecords recs = c_->poll(std::chrono::milliseconds(50));
      Parts a;
      for (auto& tp : c_->assignment()) a.insert(tp.partition);
      std::lock_guard<std::mutex> lock(mu_);
      assignment_ = std::move(a);
      if (!recs.error().ok()) {
        errors_.push_back("kfk poll: " + recs.error().to_string());
        continue;
      }
      for (auto& r : recs) reads_.emplace_back(r.partition, r.offset);
      if (o_.commit_each && !recs.empty()) {
        Error e = c_->commit_sync(std::chrono::seconds(5));
        if (!e.ok()) errors_.push_back("kfk commit_sync: " + e.to_string());
      }
    }
  }

  Options o_;
  bool static_member_ = false;
  std::shared_ptr<Listener> listener_ = std::make_shared<Listener>();
  std::unique_ptr<Consumer> c_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;
  Parts assignment_;
};

// A librdkafka member (C API). Its rebalance callback commits what the
// application consumed before partitions are revoked (unless they were
// lost), as librdkafka's documentation recommends, and uses incremental
// (un)assign under the COOPERATIVE protocol.
class RdMember : public Member {
 public:
  struct Options {
    std::string strategy;
    bool commit_each = false;  // commit every message synchronously (no auto-commit)
  };
  RdMember(const std::string& bootstrap, const std::string& group, const std::string& topic, Options o)
      : o_(std::move(o)) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const std::string& v) {
      REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
    };
    set("bootstrap.servers", bootstrap);
    set("group.id", group);
    set("partition.assignment.strategy", o_.strategy);
    set("session.timeout.ms", "6000");
    set("heartbeat.interval.ms", "300");
    set("auto.offset.reset", "earliest");
    set("enable.auto.commit", o_.commit_each ? "false" : "true");
    set("auto.commit.interval.ms", "200");
    set("fetch.wait.max.ms", "100");
    set("log_level", "0");
    rd_kafka_conf_set_rebalance_cb(conf, &RdMember::on_rebalance);
    rd_kafka_conf_set_opaque(conf, this);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE_MESSAGE(rk_ != nullptr, err);
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    REQUIRE_MESSAGE(e == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(e));
    thread_ = std::thread([this] { run(); });
  }
  ~RdMember() override {
    if (rk_ != nullptr) close();
  }
  std::string name() const override { return "librdkafka"; }

  Parts owned() override {
    std::lock_guard<std::mutex> lock(mu_);
    return owned_;
  }
  // Commits before revocation that the coordinator refused with
  // REBALANCE_IN_PROGRESS.
  int refused_revoke_commits() const { return refused_revoke_commits_; }
  void close() override {
    stop_polling();
    // Serves the final revocation (our callback commits), then LeaveGroup.
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk_);
    CHECK_MESSAGE(e == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(e));
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }
  // No consumer close: no final commit, no LeaveGroup.
  void crash() override {
    REQUIRE(o_.commit_each);  // else auto-commit may or may not have run
    stop_polling();
    rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    rk_ = nullptr;
  }

 private:
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                           void* opaque) {
    auto* self = static_cast<RdMember*>(opaque);
    bool coop = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    std::string problem;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (coop) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts)) {
          problem = std::string("incremental_assign: ") + rd_kafka_error_string(e);
          rd_kafka_error_destroy(e);
        }
      } else if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts)) {
        problem = std::string("assign: ") + rd_kafka_err2str(e);
      }
      std::lock_guard<std::mutex> lock(self->mu_);
      for (int i = 0; i < parts->cnt; ++i) self->owned_.insert(parts->elems[i].partition);
    } else {
      if (!rd_kafka_assignment_lost(rk)) {
        // Commit what was consumed (the current assignment's stored offsets).
        rd_kafka_resp_err_t c = rd_kafka_commit(rk, nullptr, 0);
        if (c == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
          self->refused_revoke_commits_++;  // the mock's quirk, see the file comment
        else if (c != RD_KAFKA_RESP_ERR_NO_ERROR && c != RD_KAFKA_RESP_ERR__NO_OFFSET)
          problem = std::string("commit before revocation: ") + rd_kafka_err2str(c);
      }
      if (coop) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts)) {
          problem = std::string("incremental_unassign: ") + rd_kafka_error_string(e);
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, nullptr);
      }
      std::lock_guard<std::mutex> lock(self->mu_);
      for (int i = 0; i < parts->cnt; ++i) self->owned_.erase(parts->elems[i].partition);
    }
    if (!problem.empty()) {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->errors_.push_back("librdkafka " + problem);
    }
  }

  void run() {
    while (!stop_) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_resp_err_t c = o_.commit_each ? rd_kafka_commit_message(rk_, m, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
        std::lock_guard<std::mutex> lock(mu_);
        reads_.emplace_back(m->partition, m->offset);
        if (c != RD_KAFKA_RESP_ERR_NO_ERROR) errors_.push_back(std::string("librdkafka commit: ") + rd_kafka_err2str(c));
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::lock_guard<std::mutex> lock(mu_);
        errors_.push_back(std::string("librdkafka poll: ") + rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  }
  void stop_polling() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  Options o_;
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> refused_revoke_commits_{0};
  Parts owned_;
};

// The cluster, the topic, the records produced so far and every member
// that ever joined (their reads count until the end).
struct Group {
  std::unique_ptr<MockCluster> mock;
  std::unique_ptr<kfk::testing::BrokerRef> ref;
  std::string bootstrap;
  std::string topic;
  std::string id;
  std::string strategy;
  std::vector<Msg> produced;
  std::vector<std::unique_ptr<Member>> members;
  std::unique_ptr<Consumer> observer;  // never joins: reads committed offsets
  int64_t next_ts = 1800000000000;

  Group(bool use_mock, const std::string& group_id, const std::string& strat) : topic("mixed"), id(group_id), strategy(strat) {
    if (use_mock) {
      mock = std::make_unique<MockCluster>(3);
      mock->create_topic(topic, kPartitions);
      bootstrap = mock->bootstraps();
    } else {
      ref = kfk::test::start_broker(
          {{"num.partitions", std::to_string(kPartitions)}, {"group.initial.rebalance.delay.ms", "0"}});
      bootstrap = ref->bootstrap_servers();
      produce_more(20);  // creates the topic; read by whoever joins first
    }
    observer = make_consumer(consumer_config(bootstrap, {{"group.id", id}, {"enable.auto.commit", "false"}}));
  }
  bool on_mock() const { return mock != nullptr; }

  Config kfk_config(std::map<std::string, std::string> extra = {}) const {
    extra.emplace("group.id", id);
    extra.emplace("auto.commit.interval.ms", "200");
    return consumer_config(bootstrap, std::move(extra));
  }
  KfkMember* add_kfk(std::map<std::string, std::string> extra = {}, bool commit_each = false) {
    members.push_back(std::make_unique<KfkMember>(kfk_config(std::move(extra)), topic,
                                                  KfkMember::Options{strategy, on_mock(), commit_each}));
    return static_cast<KfkMember*>(members.back().get());
  }
  RdMember* add_rd(bool commit_each = false) {
    members.push_back(std::make_unique<RdMember>(bootstrap, id, topic, RdMember::Options{strategy, commit_each}));
    return static_cast<RdMember*>(members.back().get());
  }

  void produce_more(int n) {
    auto more = produce(bootstrap, topic, n, "none", -1, next_ts);
    next_ts += 1000000;
    produced.insert(produced.end(), more.begin(), more.end());
  }

  std::vector<Key> all_reads() {
    std::vector<Key> all;
    for (auto& m : members) {
      auto r = m->reads();
      all.insert(all.end(), r.begin(), r.end());
    }
    return all;
  }
  bool everything_read() {
    std::set<Key> got;
    for (auto& k : all_reads()) got.insert(k);
    for (auto& m : produced)
      if (got.count({m.partition, m.offset}) == 0) return false;
    return true;
  }

  // The live members own every partition, disjointly, each some.
  static bool split(const std::vector<Member*>& live) {
    Parts all;
    size_t n = 0;
    for (Member* m : live) {
      Parts p = m->owned();
      if (p.empty()) return false;
      n += p.size();
      all.insert(p.begin(), p.end());
    }
    return n == kPartitions && all.size() == kPartitions;
  }
  std::string ownership(const std::vector<Member*>& live) {
    std::string s;
    for (Member* m : live) s += m->name() + show(m->owned()) + " ";
    return s;
  }
  void require_split(const std::vector<Member*>& live, int ms = 40000) {
    bool ok = wait_until([&] { return split(live); }, ms);
    REQUIRE_MESSAGE(ok, "not split: " << ownership(live));
  }

  // The group's committed offsets are the log ends (the next offset of
  // every partition), read through OffsetFetch.
  std::string committed_vs_end() {
    std::map<int32_t, int64_t> end;
    for (auto& m : produced) end[m.partition] = std::max(end[m.partition], m.offset + 1);
    std::vector<TopicPartition> tps;
    for (int32_t p = 0; p < kPartitions; ++p) tps.emplace_back(topic, p);
    std::map<TopicPartition, OffsetAndMetadata> got;
    Error e = observer->committed(tps, &got, std::chrono::seconds(3));
    if (!e.ok()) return "committed(): " + e.to_string();
    std::string diff;
    for (auto& tp : tps) {
      auto it = got.find(tp);
      int64_t c = it == got.end() ? 0 : it->second.offset;
      int64_t want = end.count(tp.partition) ? end[tp.partition] : 0;
      if (c != want) diff += tp.to_string() + " committed " + std::to_string(c) + " end " + std::to_string(want) + "; ";
    }
    return diff;
  }
  void wait_committed() {
    std::string diff;
    bool ok = wait_until([&] { return (diff = committed_vs_end()).empty(); }, 15000);
    REQUIRE_MESSAGE(ok, diff);
  }

  // Before a membership change (a member joining, leaving, crashing or
  // stalling): on the mock the group quiesces (see the file comment); on
  // broker-ref `n` more records go out at once.
  void before_change(int n) {
    if (on_mock()) {
      REQUIRE(wait_until([&] { return everything_read(); }, 20000));
      wait_committed();
    } else {
      produce_more(n);
    }
  }

  void wait_all_read() {
    bool ok = wait_until([&] { return everything_read(); }, 20000);
    CHECK_MESSAGE(ok, "read " << all_reads().size() << " of " << produced.size());
  }

  // Every produced record read exactly once across every member.
  void check_exactly_once() {
    std::map<Key, int> n;
    for (auto& k : all_reads()) n[k]++;
    std::set<Key> want;
    for (auto& m : produced) want.insert({m.partition, m.offset});
    size_t dups = 0, missing = 0, extra = 0;
    std::string first_dup;
    for (auto& [k, c] : n) {
      if (c > 1 && dups++ == 0) first_dup = std::to_string(k.first) + "@" + std::to_string(k.second);
      if (want.count(k) == 0) extra++;
    }
    for (auto& k : want)
      if (n.count(k) == 0) missing++;
    CHECK_MESSAGE(dups == 0, "records read twice: " << dups << ", first " << first_dup);
    CHECK(missing == 0);
    CHECK(extra == 0);
    CHECK(want.size() == produced.size());
  }
  // At the end: no member saw an unexpected error (poll errors, failed
  // commits, failed (un)assigns). librdkafka's commit before revocation is
  // refused only by the mock (see the file comment).
  void check_errors() {
    for (auto& m : members) {
      for (auto& e : m->errors()) FAIL_CHECK(m->name() << ": " << e);
      if (auto* rd = dynamic_cast<RdMember*>(m.get()); rd != nullptr && !on_mock())
        CHECK(rd->refused_revoke_commits() == 0);
    }
  }
};

// Reads of `m` on partitions `parts`.
size_t reads_on(Member& m, const Parts& parts) {
  size_t n = 0;
  for (auto& k : m.reads()) n += parts.count(k.first);
  return n;
}

// A kfk and a librdkafka member split the partitions and read everything
// once; the kfk member leaves and the librdkafka member takes over its
// partitions at its committed offsets; a new kfk member joins, the
// librdkafka member leaves and the kfk member takes over. Both commit on
// revocation (kfk: auto-commit; librdkafka: its rebalance callback, plus
// auto-commit).
void mixed_takeover(bool use_mock, const std::string& strategy) {
  Group g(use_mock, "g-mixed-" + strategy, strategy);
  KfkMember* k1 = g.add_kfk();
  RdMember* r1 = g.add_rd();
  g.require_split({k1, r1});
  Parts k1_parts = k1->owned(), r1_parts = r1->owned();
  CAPTURE(show(k1_parts));
  CAPTURE(show(r1_parts));
  g.produce_more(200);  // keyed over all four partitions
  g.wait_all_read();
  g.check_exactly_once();
  CHECK(reads_on(*k1, k1_parts) > 0);
  CHECK(reads_on(*r1, r1_parts) > 0);
  // Each read only its own partitions since the split.
  CHECK(reads_on(*k1, r1_parts) + reads_on(*r1, k1_parts) <= 20);

  // kfk leaves (auto-commit on close, LeaveGroup); librdkafka takes over.
  g.before_change(100);
  size_t r1_before = reads_on(*r1, k1_parts);
  k1->close();
  REQUIRE(wait_until([&] { return r1->owned().size() == kPartitions; }, 30000));
  g.produce_more(100);
  g.wait_all_read();
  g.check_exactly_once();
  CHECK(reads_on(*r1, k1_parts) > r1_before);

  // A new kfk member joins; then librdkafka leaves and kfk takes over.
  g.before_change(100);
  KfkMember* k2 = g.add_kfk();
  g.require_split({k2, r1});
  Parts r1_now = r1->owned();
  g.produce_more(100);
  g.wait_all_read();
  g.before_change(100);
  size_t k2_before = reads_on(*k2, r1_now);
  r1->close();
  REQUIRE(wait_until([&] { return k2->owned().size() == kPartitions; }, 30000));
  g.produce_more(100);
  g.wait_all_read();
  CHECK(reads_on(*k2, r1_now) > k2_before);
  k2->close();
  g.check_exactly_once();
  g.check_errors();
  CHECK(g.committed_vs_end() == "");
}

// Joining, leaving (LeaveGroup) and crashing (no LeaveGroup, no final
// commit: the coordinator notices after session.timeout.ms) members. Each
// member commits synchronously after what it read (kfk: after every poll;
// librdkafka: every message), so a crash loses nothing and re-reads
// nothing. `mixed`: the leaving member and a second crashing member are
// librdkafka consumers; otherwise only kfk members (a kfk crash: a static
// member closing, as in test_consumer_group.cc).
void churn(bool use_mock, bool mixed) {
  Group g(use_mock, mixed ? "g-churn-mixed" : "g-churn", "range");
  KfkMember* a = g.add_kfk({}, true);
  Member* b = mixed ? static_cast<Member*>(g.add_rd(true)) : g.add_kfk({}, true);
  g.require_split({a, b});
  g.produce_more(150);
  g.wait_all_read();

  // b leaves cleanly.
  g.before_change(50);
  b->close();
  REQUIRE(wait_until([&] { return a->owned().size() == kPartitions; }, 30000));
  g.produce_more(50);
  g.wait_all_read();

  // c (kfk, static) joins and crashes.
  g.before_change(50);
  KfkMember* c = g.add_kfk({{"group.instance.id", "crashy-kfk"}}, true);
  g.require_split({a, c});
  g.produce_more(50);
  g.wait_all_read();
  g.before_change(50);
  auto crashed_at = std::chrono::steady_clock::now();
  c->crash();
  REQUIRE(wait_until([&] { return a->owned().size() == kPartitions; }, 30000));
  // No LeaveGroup: the coordinator waited for the session timeout (6 s).
  CHECK(std::chrono::steady_clock::now() - crashed_at > std::chrono::seconds(4));
  g.produce_more(50);
  g.wait_all_read();

  if (mixed) {
    // d (librdkafka) joins and crashes.
    g.before_change(50);
    RdMember* d = g.add_rd(true);
    g.require_split({a, d});
    g.produce_more(50);
    g.wait_all_read();
    g.before_change(50);
    crashed_at = std::chrono::steady_clock::now();
    d->crash();
    REQUIRE(wait_until([&] { return a->owned().size() == kPartitions; }, 30000));
    CHECK(std::chrono::steady_clock::now() - crashed_at > std::chrono::seconds(4));
    g.produce_more(50);
    g.wait_all_read();
  }
  a->close();
  g.check_exactly_once();
  g.check_errors();
  CHECK(g.committed_vs_end() == "");
}

// A kfk member stops polling: after max.poll.interval.ms it leaves the group
// (LeaveGroup) and the librdkafka member takes over its partitions; when it
// polls again it reports them lost, rejoins and the two split again.
void poll_interval_expiry(bool use_mock) {
  Group g(use_mock, "g-mixed-mpi", "roundrobin");
  KfkMember* k = g.add_kfk({{"max.poll.interval.ms", "2000"}});
  RdMember* r = g.add_rd();
  g.require_split({k, r});
  g.produce_more(100);
  g.wait_all_read();
  // Everything read is committed before k stalls: once expired, k cannot
  // commit (its partitions are lost, another member may own them), so what
  // it read after its last auto-commit would be read again by r (at least
  // once, as in Java). Waiting makes exactly once a valid assertion.
  g.wait_committed();
  int gen_before = k->metrics().generation_id;
  CHECK(gen_before >= 1);
  k->stop_polling();
  REQUIRE(wait_until([&] { return r->owned().size() == kPartitions; }, 30000));
  CHECK(k->metrics().generation_id == -1);  // it left
  g.produce_more(100);
  g.wait_all_read();
  g.before_change(50);
  k->start_polling();
  g.require_split({k, r});
  CHECK(k->lost_calls() >= 1);
  CHECK(k->metrics().generation_id > gen_before);
  g.produce_more(100);
  g.wait_all_read();
  // k leaves (LeaveGroup) first, then r, alone, closes.
  g.before_change(50);
  k->close();
  REQUIRE(wait_until([&] { return r->owned().size() == kPartitions; }, 30000));
  g.wait_all_read();
  r->close();
  g.check_exactly_once();
  g.check_errors();
  CHECK(g.committed_vs_end() == "");
}

}  // namespace

TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (broker-ref: range)") {
  mixed_takeover(false, "range");
}
TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (broker-ref: roundrobin)") {
  mixed_takeover(false, "roundrobin");
}
TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (broker-ref: cooperative-sticky)") {
  mixed_takeover(false, "cooperative-sticky");
}
TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (mock: range)") {
  mixed_takeover(true, "range");
}
TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (mock: roundrobin)") {
  mixed_takeover(true, "roundrobin");
}
TEST_CASE("consumer mixed group: kfk and librdkafka split and take over (mock: cooperative-sticky)") {
  mixed_takeover(true, "cooperative-sticky");
}

TEST_CASE("consumer mixed group: members joining and leaving or crashing lose nothing (broker-ref)") {
  churn(false, true);
}
TEST_CASE("consumer mixed group: members joining and leaving or crashing lose nothing (mock)") { churn(true, true); }
TEST_CASE("consumer group churn: kfk members joining and leaving or crashing lose nothing (mock)") {
  churn(true, false);
}

TEST_CASE("consumer mixed group: max.poll.interval.ms expiry hands the partitions over and back (broker-ref)") {
  poll_interval_expiry(false);
}
TEST_CASE("consumer mixed group: max.poll.interval.ms expiry hands the partitions over and back (mock)") {
  poll_interval_expiry(true);
}
