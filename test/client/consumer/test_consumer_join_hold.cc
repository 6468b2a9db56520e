// A member whose JoinGroup is held by the coordinator sends nothing else to
// it until the answer (as the Java client and librdkafka: no heartbeats
// while a join is in flight).
//
// Found with librdkafka 2.0.2's mock cluster (issue: `kfk -G g t` first,
// `kcat -G g t` two seconds later made the mock abort with
// "rd_kafka_mock_cgrp_member_add: Assertion '!member->resp' failed"). A
// capture showed the sequence: kfk leads and syncs before the librdkafka
// follower, which the mock answers INVALID_REQUEST (its sync completes on the
// leader's SyncGroup), so the follower rejoins; kfk learns of the rebalance
// from a heartbeat and rejoins; the mock holds both JoinGroups for
// session.timeout.ms - 1 s and stops reading the connections they came on.
// kfk then sent a Heartbeat on its coordinator connection while its JoinGroup
// was held; the heartbeat timed out (request.timeout.ms), kfk closed the
// connection as it does after any timed-out request, and sent JoinGroup again
// on a new one before the mock had noticed the close: the mock then saw a
// second JoinGroup from a member whose first was still held, and aborted.
//
// The mock runs in a process of its own (mock_cluster_process.c), so its
// abort fails this test instead of ending the test binary. The mock's sync
// bug itself stays: the librdkafka follower keeps rejoining while kfk leads,
// so this test checks that the mock survives and that kfk's member never
// timed out a request, not that the group settles.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "consumer_test_util.h"

extern char** environ;

using namespace kfk;
using namespace kfk::consumer_testing;

namespace {

// The mock cluster process: started with a pipe on its stdin (closing it ends
// the process) and one on its stdout (the bootstrap line).
class MockProcess {
 public:
  MockProcess(const std::string& topic, int partitions) {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::string parts = std::to_string(partitions);
    const char* argv[] = {KFK_MOCK_CLUSTER_PROCESS, "3", topic.c_str(), parts.c_str(), nullptr};
    REQUIRE(posix_spawn(&pid_, KFK_MOCK_CLUSTER_PROCESS, &fa, nullptr, const_cast<char**>(argv), environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    fcntl(stdin_, F_SETFD, FD_CLOEXEC);
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') bootstraps_ += c;
    close(out[0]);
    REQUIRE_MESSAGE(!bootstraps_.empty(), "the mock cluster process printed no bootstrap list");
  }
  ~MockProcess() {
    close(stdin_);
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& bootstraps() const { return bootstraps_; }
  // True while the process runs; once it ended, `how` says how.
  bool alive(std::string* how) {
    int status = 0;
    if (reaped_ || waitpid(pid_, &status, WNOHANG) == 0) return !reaped_;
    reaped_ = true;
    *how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                               : "exited with status " + std::to_string(WEXITSTATUS(status));
    return false;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool reaped_ = false;
  std::string bootstraps_;
};

// A librdkafka consumer (C API) polling on its own thread.
class RdConsumer {
 public:
  RdConsumer(const std::string& bootstrap, const std::string& group, const std::string& topic) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [k, v] : {std::pair<const char*, std::string>{"bootstrap.servers", bootstrap},
                        {"group.id", group},
                        {"session.timeout.ms", "6000"},
                        {"heartbeat.interval.ms", "300"},
                        {"log_level", "0"}})
      REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    REQUIRE_MESSAGE(rk_ != nullptr, err);
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
    REQUIRE(rd_kafka_subscribe(rk_, sub) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(sub);
    thread_ = std::thread([this] {
      while (!stop_) {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100)) rd_kafka_message_destroy(m);
      }
    });
  }
  ~RdConsumer() {
    stop_ = true;
    thread_.join();
    // The mock may be gone: destroy without the group handshake.
    rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("group member: no heartbeat while its JoinGroup is held (librdkafka 2.0.2's mock survives a kfk leader)") {
  MockProcess mock("held-join", 6);
  // request.timeout.ms well below the mock's hold (session.timeout.ms - 1 s
  // = 5 s): a request sent behind the held JoinGroup times out.
  Config cfg = consumer_config(mock.bootstraps(), {{"group.id", "held-join-group"}, {"request.timeout.ms", "2000"}});
  std::unique_ptr<Consumer> kfk_member;
  REQUIRE(Consumer::create(cfg, &kfk_member).ok());
  REQUIRE(kfk_member->subscribe({"held-join"}).ok());
  std::vector<std::string> errors;
  auto poll_for = [&](int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      ConsumerRecords recs = kfk_member->poll(std::chrono::milliseconds(100));
      if (!recs.error().ok()) errors.push_back(recs.error().to_string());
    }
  };
  // kfk joins first and is elected leader once the mock's initial delay
  // (about 3 s) passed.
  poll_for(4000);
  CHECK_MESSAGE(!kfk_member->assignment().empty(), "kfk's member has no assignment before the second member joins");
  {
    RdConsumer rd(mock.bootstraps(), "held-join-group", "held-join");
    // Long enough for two held-join windows of 5 s each.
    poll_for(14000);
    std::string how;
    CHECK_MESSAGE(mock.alive(&how), "librdkafka's mock cluster process ended (", how,
                  "): a member sent JoinGroup again while its earlier JoinGroup was held");
  }
  for (const auto& e : errors) CHECK_MESSAGE(e.find("timed out") == std::string::npos, "poll reported: ", e);
  (void)kfk_member->close();
}
