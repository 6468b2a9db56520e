// Pure pieces of the network layer: version negotiation, ApiVersions
// decoding with fallback, metadata merging (KIP-320), the network thread.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>

#include "client/core/classify.h"
#include "client/net/api_version_table.h"
#include "client/net/cluster_metadata.h"
#include "client/net/network_thread.h"
#include "io/timer.h"
#include "io/loop_thread.h"
#include "kfk/error.h"
#include "protocol/frame.h"

using namespace kfk;
using namespace kfk::net;
using kfk::io::Timer;

namespace {

proto::ApiVersionsResponse versions(std::initializer_list<std::tuple<int16_t, int16_t, int16_t>> keys) {
  proto::ApiVersionsResponse r;
  for (auto [k, lo, hi] : keys) {
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = k;
    v.min_version = lo;
    v.max_version = hi;
    r.api_keys.push_back(v);
  }
  return r;
}

}  // namespace

TEST_CASE("ApiVersionTable: min(our max, broker max) if >= max(mins)") {
  ApiVersionTable t(versions({{3, 0, 7}, {0, 3, 20}, {1, 13, 30}, {18, 0, 3}}));
  CHECK(t.pick(3) == 7);                       // broker max below ours
  CHECK(t.pick(0) == proto::ProduceRequest::kMaxVersion);  // ours below the broker's
  CHECK(t.pick(0, 0, 2) == -1);                // caller range below the broker's minimum
  CHECK(t.pick(0, 3, 5) == 5);
  CHECK(t.pick(1, 0, 12) == -1);               // no overlap
  CHECK(t.pick(19) == -1);                     // not listed
  CHECK(t.broker_range(3)->second == 7);
  CHECK_FALSE(t.broker_range(19).has_value());
}

TEST_CASE("decode_api_versions: UNSUPPORTED_VERSION answers are read in the v0 layout") {
  auto resp = versions({{18, 0, 2}, {3, 0, 9}});
  resp.error_code = 35;
  proto::Writer w;
  resp.encode(w, 0);
  auto bytes = w.flatten();
  proto::ApiVersionsResponse out;
  REQUIRE(decode_api_versions(proto::Reader(bytes.data(), bytes.size()), 3, out));
  CHECK(out.error_code == 35);
  REQUIRE(out.api_keys.size() == 2);
  CHECK(api_versions_fallback(out, 3) == 2);
  CHECK(api_versions_fallback(versions({}), 3) == 0);
  CHECK(api_versions_fallback(versions({{18, 0, 9}}), 3) == 2);  // always goes down

  auto ok = versions({{18, 0, 3}});
  proto::Writer w3;
  ok.encode(w3, 3);
  auto b3 = w3.flatten();
  REQUIRE(decode_api_versions(proto::Reader(b3.data(), b3.size()), 3, out));
  CHECK(out.error_code == 0);
  CHECK(out.api_keys.size() == 1);

  std::vector<uint8_t> junk = {0, 0, 0xff, 0xff, 0xff};
  CHECK_FALSE(decode_api_versions(proto::Reader(junk.data(), junk.size()), 3, out));
}

namespace {

proto::MetadataResponse metadata(int32_t leader, int32_t epoch, int partitions = 2) {
  proto::MetadataResponse r;
  r.brokers.push_back({1, "h1", 9092, std::nullopt, {}});
  r.brokers.push_back({2, "h2", 9092, std::string("rack-b"), {}});
  r.controller_id = 1;
  r.cluster_id = "cid";
  proto::MetadataResponse::MetadataResponseTopic t;
  t.name = "t";
  t.topic_id.bytes[0] = 7;
  for (int p = partitions - 1; p >= 0; --p) {  // unsorted on purpose
    proto::MetadataResponse::MetadataResponsePartition mp;
    mp.partition_index = p;
    mp.leader_id = leader;
    mp.leader_epoch = epoch;
    mp.replica_nodes = {1, 2};
    mp.isr_nodes = {1, 2};
    t.partitions.push_back(mp);
  }
  r.topics.push_back(t);
  return r;
}

}  // namespace

TEST_CASE("ClusterMetadata::merge: brokers, topics, leaders, sorted partitions") {
  auto m = ClusterMetadata::merge(nullptr, metadata(2, 5, 3), false, {}, nullptr);
  CHECK(m->generation() == 1);
  CHECK(m->controller_id() == 1);
  CHECK(m->cluster_id() == "cid");
  REQUIRE(m->broker(2) != nullptr);
  CHECK(m->broker(2)->rack == "rack-b");
  const TopicInfo* t = m->topic("t");
  REQUIRE(t != nullptr);
  CHECK(t->usable());
  REQUIRE(t->partitions.size() == 3);
  CHECK(t->partitions[0].partition == 0);
  CHECK(m->leader_of("t", 2) == 2);
  CHECK(m->leader_of("t", 3) == -1);
  CHECK(m->topic(t->id) == t);
}

TEST_CASE("ClusterMetadata::merge: older leader epochs are ignored (KIP-320)") {
  auto m1 = ClusterMetadata::merge(nullptr, metadata(1, 10), false, {}, nullptr);
  ClusterMetadata::MergeStats st;
  auto m2 = ClusterMetadata::merge(m1.get(), metadata(2, 9), false, {}, &st);
  CHECK(st.stale_partitions == 2);
  CHECK(m2->leader_of("t", 0) == 1);  // kept
  CHECK(m2->partition("t", 0)->leader_epoch == 10);
  auto m3 = ClusterMetadata::merge(m2.get(), metadata(2, 11), false, {}, &st);
  CHECK(m3->leader_of("t", 0) == 2);
  // A recreated topic (new id) starts over.
  auto recreated = metadata(2, 0);
  recreated.topics[0].topic_id.bytes[0] = 8;
  auto m4 = ClusterMetadata::merge(m3.get(), recreated, false, {}, &st);
  CHECK(m4->partition("t", 0)->leader_epoch == 0);
  // Epochs seen in fetch responses count too.
  EpochMap seen{{{"t", 0}, 20}};
  ClusterMetadata::MergeStats st2;
  auto m5 = ClusterMetadata::merge(m3.get(), metadata(1, 12), false, seen, &st2);
  CHECK(st2.stale_partitions == 1);
  CHECK(m5->partition("t", 0)->leader_epoch == 11);
  CHECK(m5->partition("t", 1)->leader_epoch == 12);
}

TEST_CASE("ClusterMetadata::merge: topic errors, absent topics") {
  auto m1 = ClusterMetadata::merge(nullptr, metadata(1, 1), false, {}, nullptr);
  proto::MetadataResponse r = metadata(1, 1);
  r.topics[0].name = "missing";
  r.topics[0].error_code = errc::kUnknownTopicOrPartition;
  r.topics[0].partitions.clear();
  ClusterMetadata::MergeStats st;
  auto m2 = ClusterMetadata::merge(m1.get(), r, false, {}, &st);
  CHECK(st.retriable_errors == 1);
  REQUIRE(m2->topic("missing") != nullptr);
  CHECK_FALSE(m2->topic("missing")->usable());
  CHECK(m2->topic("t") != nullptr);  // not asked for: kept
  auto m3 = ClusterMetadata::merge(m2.get(), r, true, {}, nullptr);
  CHECK(m3->topic("t") == nullptr);  // an all-topics answer without it: gone
  CHECK(core::refreshes_metadata(errc::kNotLeaderOrFollower));
  CHECK_FALSE(core::refreshes_metadata(errc::kTopicAuthorizationFailed));
}

TEST_CASE("NetworkThread: post runs in order on the loop thread; stop hooks; post after stop") {
  NetworkThread nt;
  CHECK_FALSE(nt.post([] {}));  // not started
  nt.start();
  std::vector<int> order;
  std::promise<void> done;
  std::atomic<bool> on_loop{false};
  for (int i = 0; i < 100; ++i) nt.post([&, i] { order.push_back(i); });
  nt.post([&] {
    on_loop = nt.in_loop_thread();
    done.set_value();
  });
  done.get_future().wait();
  CHECK(on_loop);
  CHECK_FALSE(nt.in_loop_thread());
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(order[i] == i);

  bool hook_ran = false;
  bool timer_fired = false;
  std::unique_ptr<Timer> timer;
  std::promise<void> armed;
  nt.post([&] {
    timer = std::make_unique<Timer>(nt.loop(), [&] { timer_fired = true; });
    timer->start(60000);  // never fires: the hook destroys it
    nt.add_stop_hook([&] {
      hook_ran = true;
      timer.reset();
    });
    armed.set_value();
  });
  armed.get_future().wait();
  nt.stop();
  CHECK(hook_ran);
  CHECK_FALSE(timer_fired);
  CHECK_FALSE(nt.post([] {}));
  nt.stop();  // idempotent
}

TEST_CASE("KFK_DCHECK_ON_LOOP: passes on the loop's thread, aborts on any other (debug builds)") {
  NetworkThread nt;
  nt.start();
  std::promise<bool> on_loop;
  nt.post([&] {
    KFK_DCHECK_ON_LOOP(nt.loop());  // would abort the test binary if wrong
    on_loop.set_value(io::on_loop_thread(nt.loop()));
  });
  CHECK(on_loop.get_future().get());
  CHECK_FALSE(io::on_loop_thread(nt.loop()));
  {
    uv_loop_t other;
    io::LoopThreadScope scope(&other);  // scopes nest and restore
    CHECK(io::on_loop_thread(&other));
    CHECK_FALSE(io::on_loop_thread(nt.loop()));
  }
  CHECK_FALSE(io::on_loop_thread(nullptr));
#ifndef NDEBUG
  // The check itself, from a thread that does not run the loop: the child
  // process must die of SIGABRT (a fork keeps this binary alive).
  fflush(nullptr);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The plain abort: not doctest's crash handler (it would report this
    // child's "crash" as a failure of the run), and no message in the log.
    std::signal(SIGABRT, SIG_DFL);
    if (std::freopen("/dev/null", "w", stderr) == nullptr) _exit(2);
    KFK_DCHECK_ON_LOOP(nt.loop());
    _exit(0);  // not reached when the check works
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
#endif
  nt.stop();
}

TEST_CASE("Timer fires once after the delay") {
  NetworkThread nt;
  nt.start();
  std::promise<int64_t> fired;
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Timer> t;
  nt.post([&] {
    t = std::make_unique<Timer>(nt.loop(), [&] {
      fired.set_value(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
                          .count());
    });
    t->start(50);
    nt.add_stop_hook([&] { t.reset(); });
  });
  auto f = fired.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(f.get() >= 45);
  nt.stop();
}
