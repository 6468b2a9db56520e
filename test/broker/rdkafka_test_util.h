// Helpers for tests that drive a broker-ref with librdkafka's C API: a
// broker-ref executable in its own process (with a chosen descriptor limit),
// admin calls, a producer to explicit partitions and an assign()ing consumer.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace kfk::broker::rdk_test {

inline rd_kafka_conf_t* conf_for(const std::string& bootstrap, std::map<std::string, std::string> extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  extra.emplace("bootstrap.servers", bootstrap);
  extra.emplace("log_level", "3");
  for (const auto& [k, v] : extra)
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  return conf;
}

// A broker-ref executable (BROKER_REF_EXE, or $KFK_BROKER_REF) run with
// RLIMIT_NOFILE soft = hard = `nofile` (0: inherited), as `ulimit -n` would,
// and `sets` as --set key=value.
class BrokerProcess {
 public:
  BrokerProcess(const std::string& data_dir, uint64_t nofile, std::vector<std::string> sets = {}) {
    const char* env = std::getenv("KFK_BROKER_REF");
    const std::string exe = env != nullptr ? env : BROKER_REF_EXE;
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0 && std::getenv("KFK_TEST_BROKER_STDERR") == nullptr) ::dup2(devnull, STDERR_FILENO);
      if (nofile > 0) {
        struct rlimit rl{nofile, nofile};
        if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(126);
      }
      std::vector<std::string> args = {exe, "--data-dir", data_dir, "--listen", "127.0.0.1:0"};
      for (const auto& kv : sets) args.insert(args.end(), {"--set", kv});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    out_ = out[0];
    const std::string prefix = "broker-ref listening on ";
    REQUIRE_MESSAGE(line.rfind(prefix, 0) == 0, "broker-ref " << exe << " did not start: '" << line << "'");
    bootstrap_ = line.substr(prefix.size());
  }
  ~BrokerProcess() { stop(); }
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

  // Descriptors the process holds now (/proc/PID/fd).
  int open_fds() const {
    std::string path = "/proc/" + std::to_string(pid_) + "/fd";
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return -1;
    int n = 0;
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
    return n;
  }

  // SIGTERM and wait: the exit status (-1 when it died of a signal).
  int stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    if (out_ >= 0) ::close(out_);
    out_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string bootstrap_;
};

// Waits for one admin result event of `type` (nullptr on timeout).
inline rd_kafka_event_t* wait_admin(rd_kafka_queue_t* q, rd_kafka_event_type_t type, int timeout_ms = 60000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 200);
    if (ev == nullptr) continue;
    if (rd_kafka_event_type(ev) == type) return ev;
    rd_kafka_event_destroy(ev);
  }
  return nullptr;
}

// CreateTopics; one error string per topic ("" when created).
inline std::map<std::string, std::string> create_topics(rd_kafka_t* rk, const std::vector<std::string>& names,
                                                        int partitions) {
  char err[512];
  std::vector<rd_kafka_NewTopic_t*> nts;
  for (const auto& n : names) nts.push_back(rd_kafka_NewTopic_new(n.c_str(), partitions, 1, err, sizeof err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof err);
  rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts, q);
  std::map<std::string, std::string> out;
  rd_kafka_event_t* ev = wait_admin(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  REQUIRE_MESSAGE(ev != nullptr, "no CreateTopics result");
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) {
    const char* m = rd_kafka_topic_result_error_string(res[i]);
    out[rd_kafka_topic_result_name(res[i])] =
        rd_kafka_topic_result_error(res[i]) == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : (m != nullptr ? m : "error");
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  for (auto* t : nts) rd_kafka_NewTopic_destroy(t);
  return out;
}

// DeleteTopics; one error code per topic.
inline std::map<std::string, rd_kafka_resp_err_t> delete_topics(rd_kafka_t* rk, const std::vector<std::string>& names) {
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (const auto& n : names) dts.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), nullptr, q);
  std::map<std::string, rd_kafka_resp_err_t> out;
  rd_kafka_event_t* ev = wait_admin(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
  REQUIRE_MESSAGE(ev != nullptr, "no DeleteTopics result");
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) out[rd_kafka_topic_result_name(res[i])] = rd_kafka_topic_result_error(res[i]);
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  for (auto* t : dts) rd_kafka_DeleteTopic_destroy(t);
  return out;
}

}  // namespace kfk::broker::rdk_test
