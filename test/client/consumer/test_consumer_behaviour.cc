// What a consumer tells its application, against broker-ref over real
// sockets: the rebalance listener after a removal (lost, never revoked and
// lost), a subscribed topic that does not exist, the commit error after
// max.poll.interval.ms, calls from two threads at once, wakeup() from a
// signal handler, and a listener given to subscribe().
// GCC 12's <regex> trips a false -Wmaybe-uninitialized when instantiated at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <doctest/doctest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "consumer_test_util.h"
#include "kfk/admin.h"
#include "kfk-broker-ref/broker_ref.h"
#include "kfk_test/brokers.h"
#include "kfk_test/log_lines.h"
#include "kfk_test/wait.h"

using namespace kfk;
using namespace kfk::consumer_testing;
using kfk::test::LogLines;
using kfk::test::start_broker;

namespace {

// The group tests' patience: 20 s.
bool wait_until(const std::function<bool()>& pred, int ms = 20000) { return kfk::test::eventually(pred, ms); }

// Every listener call in order: ("assigned" | "revoked" | "lost", partitions).
class CallLog : public RebalanceListener {
 public:
  using Call = std::pair<std::string, std::set<TopicPartition>>;
  void on_partitions_assigned(const std::vector<TopicPartition>& p) override { add("assigned", p); }
  void on_partitions_revoked(const std::vector<TopicPartition>& p) override { add("revoked", p); }
  void on_partitions_lost(const std::vector<TopicPartition>& p) override { add("lost", p); }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int count(const std::string& kind) {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [&](auto& c) { return c.first == kind; }));
  }

 private:
  void add(const char* kind, const std::vector<TopicPartition>& p) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.emplace_back(kind, std::set<TopicPartition>(p.begin(), p.end()));
  }
  std::mutex mu_;
  std::vector<Call> calls_;
};

std::unique_ptr<kfk::testing::BrokerRef> group_broker(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> cfg{{"num.partitions", "4"}, {"group.initial.rebalance.delay.ms", "0"}};
  for (auto& [k, v] : extra) cfg[k] = v;
  return start_broker(cfg);
}

}  // namespace

// A member that stops polling while a rebalance is due (a second member
// joined; its heartbeat hears REBALANCE_IN_PROGRESS and a revocation waits
// for poll()) is removed when max.poll.interval.ms passes. Its next poll()
// reports the partitions lost, and only lost: the revocation that was due
// is not run too (the application would commit inside it for partitions
// it no longer owns). Its commit before that poll fails saying why.
TEST_CASE("consumer: removed for max.poll.interval.ms while a revocation was due: lost only, commit says why") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  auto produced = produce(bootstrap, "lost", 40);
  auto cfg = consumer_config(bootstrap, {{"group.id", "g-lost"},
                                         {"max.poll.interval.ms", "1500"},
                                         {"heartbeat.interval.ms", "100"},
                                         {"enable.auto.commit", "false"}});
  auto calls = std::make_shared<CallLog>();
  LogLines log;
  ConsumerOptions oa;
  oa.rebalance_listener = calls;
  oa.log = log.sink();
  auto a = make_consumer(cfg, oa);
  REQUIRE(a->subscribe({"lost"}).ok());
  CHECK(drain(*a, produced.size()).size() == produced.size());
  REQUIRE(a->assignment().size() == 4);
  const std::set<TopicPartition> owned = [&] {
    auto v = a->assignment();
    return std::set<TopicPartition>(v.begin(), v.end());
  }();
  const int gen_before = a->metrics().generation_id;

  auto b = make_consumer(cfg);
  REQUIRE(b->subscribe({"lost"}).ok());
  Poller pb(b.get());
  // a does not poll: b's join makes a's revocation due, then a's
  // max.poll.interval.ms (1.5 s) passes and it leaves the group.
  REQUIRE(wait_until([&] { return a->metrics().generation_id == -1; }, 20000));
  REQUIRE(wait_until([&] { return b->assignment().size() == 4; }, 20000));
  CHECK(log.count("max.poll.interval.ms") >= 1);

  // A commit now fails and says why and what to do (nothing is sent: the
  // partitions are b's).
  Error e = a->commit_sync();
  CHECK(e.code() == errc::kUnknownMemberId);
  CHECK(e.message().find("Commit cannot be completed since the group has already rebalanced") != std::string::npos);
  CHECK(e.message().find("max.poll.interval.ms") != std::string::npos);
  CHECK(e.message().find("max.poll.records") != std::string::npos);

  // The next polls report the loss and rejoin.
  CHECK(wait_until([&] {
    a->poll(std::chrono::milliseconds(50));
    return a->metrics().generation_id > gen_before && !a->assignment().empty();
  }));
  auto seen = calls->calls();
  CHECK(calls->count("revoked") == 0);
  REQUIRE(calls->count("lost") == 1);
  for (auto& [kind, parts] : seen)
    if (kind == "lost") CHECK(parts == owned);
  // One callback per change: never revoked and lost for the same partitions.
  for (size_t i = 0; i + 1 < seen.size(); ++i)
    CHECK_FALSE((seen[i].first == "revoked" && seen[i + 1].first == "lost" && seen[i].second == seen[i + 1].second));
  pb.stop();
  CHECK(a->close(std::chrono::seconds(5)).ok());
  CHECK(b->close(std::chrono::seconds(5)).ok());
}

// A lone member removed for max.poll.interval.ms: without a check, its
// commit went out without a generation and the coordinator of the now
// empty group accepted it.
TEST_CASE("consumer: a commit after max.poll.interval.ms expired fails with the CommitFailedException text") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  auto produced = produce(bootstrap, "mpi-commit", 20);
  LogLines log;
  ConsumerOptions o;
  o.log = log.sink();
  auto c = make_consumer(consumer_config(bootstrap, {{"group.id", "g-mpi-commit"},
                                                     {"max.poll.interval.ms", "1000"},
                                                     {"enable.auto.commit", "false"}}),
                         o);
  REQUIRE(c->subscribe({"mpi-commit"}).ok());
  CHECK(drain(*c, produced.size()).size() == produced.size());
  REQUIRE(wait_until([&] { return c->metrics().generation_id == -1; }, 20000));  // no poll: removed
  CHECK(log.count("max.poll.interval.ms") == 1);
  Error e = c->commit_sync();
  CHECK(e.code() == errc::kUnknownMemberId);
  CHECK(e.message().find("max.poll.interval.ms") != std::string::npos);
  std::map<TopicPartition, OffsetAndMetadata> back;
  REQUIRE(c->committed({TopicPartition("mpi-commit", 0)}, &back).ok());
  CHECK(back.empty());  // nothing was committed
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

// librdkafka: "Subscribed topic not available: T: Broker: Unknown topic or
// partition" from poll(), once per topic and error. The other subscribed
// topic is consumed meanwhile, and the missing one once it is created.
TEST_CASE("consumer: a subscribed topic that does not exist is reported once by poll() and logged") {
  auto broker = group_broker({{"auto.create.topics.enable", "false"}});
  const std::string bootstrap = broker->bootstrap_servers();
  std::unique_ptr<Admin> admin;
  REQUIRE(Admin::create({{"bootstrap.servers", bootstrap}}, &admin).ok());
  CreateTopicsResult created;
  REQUIRE(admin->create_topics({NewTopic{"present", 2}}, &created).ok());
  auto present = produce(bootstrap, "present", 20);
  LogLines log;
  ConsumerOptions o;
  o.log = log.sink();
  auto c = make_consumer(
      consumer_config(bootstrap, {{"group.id", "g-missing"}, {"metadata.max.age.ms", "100"}}), o);
  REQUIRE(c->subscribe({"present", "missing"}).ok());
  std::vector<Error> errors;
  size_t records = 0;
  // Several metadata refreshes (every 100 ms) while the topic stays missing.
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(50));
    if (!recs.error().ok()) errors.push_back(recs.error());
    records += recs.size();
  }
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code() == errc::kUnknownTopicOrPartition);
  CHECK(errors[0].message() == "Subscribed topic not available: missing: Broker: Unknown topic or partition");
  CHECK_FALSE(errors[0].fatal());
  CHECK(log.count("Subscribed topic not available: missing") == 1);
  CHECK(records == present.size());
  // Created later: assigned and consumed.
  REQUIRE(admin->create_topics({NewTopic{"missing", 1}}, &created).ok());
  auto later = produce(bootstrap, "missing", 10);
  auto got = drain(*c, later.size(), 20000);
  CHECK(got.size() == later.size());
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

// Java's KafkaConsumer.acquire(): a second thread's call fails at once
// (ConcurrentModificationException) instead of running alongside.
TEST_CASE("consumer: calls from a second thread while one is inside poll() fail at once") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  produce(bootstrap, "mt", 4);
  auto c = make_consumer(consumer_config(bootstrap, {{"group.id", "g-mt"}}));
  REQUIRE(c->subscribe({"mt"}).ok());
  REQUIRE(drain(*c, 4).size() == 4);
  std::atomic<bool> polling{false};
  Error first;
  auto refused = [](const Error& e) {
    return e.code() == errc::kState && e.message().find("not safe for multi-threaded access") != std::string::npos;
  };
  std::thread t([&] {
    polling = true;
    // Nothing more to read: blocks until wakeup(). (Entering while this
    // thread's probe below is inside poll() is refused: try again.)
    do {
      first = c->poll(std::chrono::seconds(60)).error();
    } while (refused(first));
  });
  REQUIRE(wait_until([&] { return polling.load(); }));
  // Once the other thread is inside poll(), a poll() here is refused.
  REQUIRE(wait_until([&] { return refused(c->poll(std::chrono::milliseconds(0)).error()); }));
  CHECK(refused(c->commit_sync()));
  CHECK(refused(c->seek(TopicPartition("mt", 0), 0)));
  int64_t pos = -1;
  CHECK(refused(c->position(TopicPartition("mt", 0), &pos)));
  CHECK(refused(c->subscribe({"other"})));
  CHECK(refused(c->close(std::chrono::seconds(1))));
  Error async_error;
  c->commit_async([&](const auto&, const Error& ae) { async_error = ae; });
  CHECK(refused(async_error));  // called at once, on this thread
  // Any thread: assignment(), paused(), metrics(), wakeup().
  CHECK(c->assignment().size() == 4);
  CHECK(c->paused().empty());
  CHECK(c->metrics().generation_id >= 1);
  c->wakeup();
  t.join();
  CHECK(first.code() == errc::kWakeup);
  // The first thread is out: this one may use the consumer now.
  CHECK(c->poll(std::chrono::milliseconds(10)).error().ok());
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

namespace {
Consumer* g_signal_consumer = nullptr;
extern "C" void wakeup_on_signal(int) { g_signal_consumer->wakeup(); }

struct SignalHandler {
  struct sigaction old {};
  explicit SignalHandler(int sig) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = wakeup_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig_, &sa, &old);
  }
  ~SignalHandler() { sigaction(sig_, &old, nullptr); }
  int sig_;
};
}  // namespace

// wakeup() is async-signal-safe: a handler for SIGUSR1, run on the polling
// thread itself (the worst case: that thread may hold the consumer's
// locks when the signal arrives), ends a blocking poll() with kWakeup.
TEST_CASE("consumer: wakeup() from a signal handler ends a blocking poll()") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  produce(bootstrap, "sig", 4);
  auto c = make_consumer(consumer_config(bootstrap, {{"group.id", "g-sig"}}));
  REQUIRE(c->subscribe({"sig"}).ok());
  REQUIRE(drain(*c, 4).size() == 4);
  g_signal_consumer = c.get();
  SignalHandler handler(SIGUSR1);

  // One signal during a long blocking poll().
  std::atomic<bool> polling{false};
  Error blocked;
  std::thread t([&] {
    polling = true;
    blocked = c->poll(std::chrono::seconds(60)).error();
  });
  REQUIRE(wait_until([&] { return polling.load(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  pthread_kill(t.native_handle(), SIGUSR1);
  t.join();  // before the 60 s timeout: by the wakeup
  CHECK(blocked.code() == errc::kWakeup);

  // Many signals at non-blocking polls, so that some arrive while the
  // polling thread is inside the consumer's critical sections. A wakeup()
  // that took the consumer's lock deadlocked here.
  std::atomic<bool> done{false};
  std::atomic<int> wakeups{0}, polls{0};
  std::thread p([&] {
    while (polls < 200000) {
      if (c->poll(std::chrono::milliseconds(0)).error().code() == errc::kWakeup) ++wakeups;
      ++polls;
    }
    done = true;
  });
  std::thread s([&] {
    while (!done) {
      pthread_kill(p.native_handle(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  if (!wait_until([&] { return done.load(); }, 60000)) {
    std::fprintf(stderr, "poll() did not return after a wakeup() from a signal handler (deadlock)\n");
    std::_Exit(1);
  }
  p.join();
  s.join();
  CHECK(wakeups > 0);
  CHECK(c->close(std::chrono::seconds(5)).ok());
  g_signal_consumer = nullptr;
}

// Java's subscribe(topics, listener): the listener can be made after the
// consumer and call it (here position() and commit_sync() from inside
// on_partitions_assigned / on_partitions_revoked); create()'s listener is
// not called for that subscription, and is again for a subscribe() without
// one.
TEST_CASE("consumer: a listener given to subscribe() can call the consumer; topic_partition()") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  auto produced = produce(bootstrap, "sub-l", 30);
  auto at_create = std::make_shared<CallLog>();
  ConsumerOptions o;
  o.rebalance_listener = at_create;
  auto c = make_consumer(consumer_config(bootstrap, {{"group.id", "g-sub-l"}, {"enable.auto.commit", "false"}}), o);

  struct Committing : RebalanceListener {
    Consumer& c;
    std::map<TopicPartition, int64_t> positions;
    Error commit_error{errc::kState, "not called"};
    explicit Committing(Consumer& consumer) : c(consumer) {}
    void on_partitions_assigned(const std::vector<TopicPartition>& parts) override {
      for (auto& tp : parts) {
        int64_t pos = -1;
        if (c.position(tp, &pos).ok()) positions[tp] = pos;
      }
    }
    void on_partitions_revoked(const std::vector<TopicPartition>&) override { commit_error = c.commit_sync(); }
  };
  auto mine = std::make_shared<Committing>(*c);
  REQUIRE(c->subscribe({"sub-l"}, mine).ok());
  std::map<TopicPartition, int64_t> next;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t n = 0;
  while (n < produced.size() && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c->poll(std::chrono::milliseconds(100));
    for (auto& r : recs) {
      CHECK(r.topic_partition() == TopicPartition(std::string(r.topic), r.partition));
      next[r.topic_partition()] = r.offset + 1;
      ++n;
    }
  }
  CHECK(n == produced.size());
  CHECK(mine->positions.size() == 4);
  for (auto& [tp, pos] : mine->positions) CHECK(pos == 0);
  // Back to create()'s listener: the revocation goes to the new one
  // (subscribe() switches at once), and it commits what was read.
  REQUIRE(c->subscribe({"sub-l"}).ok());
  REQUIRE(c->unsubscribe().ok());
  CHECK(at_create->count("revoked") == 1);
  CHECK(at_create->count("assigned") == 0);
  REQUIRE(c->subscribe({"sub-l"}, mine).ok());
  CHECK(wait_until([&] {
    c->poll(std::chrono::milliseconds(50));
    return c->assignment().size() == 4;
  }));
  REQUIRE(c->close(std::chrono::seconds(5)).ok());
  CHECK(mine->commit_error.ok());
  CHECK(at_create->count("revoked") == 1);
}

// Two members started together on a broker with
// group.initial.rebalance.delay.ms=0. As on Kafka (an InitialDelayedJoin of
// 0 ms completes at once), the first member to join may form the first
// generation alone, and the second then joins in another rebalance: that
// is the broker's rule, not asserted either way. What is asserted is the
// client's part: no member is ever handed an empty assignment while there
// are partitions to share. The leader used to assign before its metadata
// knew the topic (the first join completes before the refresh subscribe()
// asked for), giving everyone nothing and rebalancing again once the
// metadata arrived; Java's leader waits for fresh metadata first.
TEST_CASE("consumer: two members started together each get a non-empty first assignment") {
  auto broker = group_broker();
  const std::string bootstrap = broker->bootstrap_servers();
  produce(bootstrap, "together", 8);  // the topic exists before either member starts
  // retry.backoff.ms at its default (100 ms; the test config's 20 ms hid
  // it): it spaces the metadata refreshes, so the one subscribe() asks for
  // comes after the bootstrap refresh and the first join.
  auto cfg = consumer_config(bootstrap, {{"group.id", "g-together"},
                                         {"partition.assignment.strategy", "range"},
                                         {"retry.backoff.ms", "100"}});
  auto la = std::make_shared<CallLog>(), lb = std::make_shared<CallLog>();
  ConsumerOptions oa, ob;
  oa.rebalance_listener = la;
  ob.rebalance_listener = lb;
  auto a = make_consumer(cfg, oa);
  auto b = make_consumer(cfg, ob);
  REQUIRE(a->subscribe({"together"}).ok());
  REQUIRE(b->subscribe({"together"}).ok());
  Poller pa(a.get()), pb(b.get());
  REQUIRE(wait_until([&] {
    auto x = a->assignment(), y = b->assignment();
    return x.size() == 2 && y.size() == 2;
  }));
  pa.stop();
  pb.stop();
  for (auto* l : {la.get(), lb.get()}) {
    auto calls = l->calls();
    bool first = true;
    for (auto& [kind, parts] : calls) {
      if (kind != "assigned") continue;
      CHECK_MESSAGE(!parts.empty(), (first ? "first" : "a later"), " assignment is empty");
      first = false;
    }
  }
  CHECK(a->close(std::chrono::seconds(5)).ok());
  CHECK(b->close(std::chrono::seconds(5)).ok());
}
