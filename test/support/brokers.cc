#include "kfk_test/brokers.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace kfk::test {

std::unique_ptr<kfk::testing::BrokerRef> start_broker(std::map<std::string, std::string> config, std::string data_dir,
                                                      int port) {
  kfk::testing::BrokerRef::Options o;
  o.config = std::move(config);
  o.data_dir = std::move(data_dir);
  o.port = port;
  std::string error;
  auto b = kfk::testing::BrokerRef::start(o, &error);
  REQUIRE_MESSAGE(b != nullptr, error);
  return b;
}

namespace {

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_broker(const std::string& exe, int out_fd, uint64_t nofile, std::vector<char*>& argv) {
  ::dup2(out_fd, STDOUT_FILENO);
  int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0 && std::getenv("KFK_TEST_BROKER_STDERR") == nullptr) ::dup2(devnull, STDERR_FILENO);
  if (nofile > 0) {
    struct rlimit rl{nofile, nofile};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(126);
  }
  ::execv(exe.c_str(), argv.data());
  ::_exit(127);
}

}  // namespace

BrokerProcess::BrokerProcess(const std::string& data_dir, uint64_t nofile, std::vector<std::string> sets) {
  const char* env = std::getenv("KFK_BROKER_REF");
  const std::string exe = env != nullptr ? env : KFK_TEST_BROKER_REF_EXE;
  std::vector<std::string> args = {exe, "--data-dir", data_dir, "--listen", "127.0.0.1:0"};
  for (const auto& kv : sets) args.insert(args.end(), {"--set", kv});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) exec_broker(exe, out[1], nofile, argv);
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  out_ = out[0];
  const std::string prefix = "broker-ref listening on ";
  REQUIRE_MESSAGE(line.rfind(prefix, 0) == 0, "broker-ref " << exe << " did not start: '" << line << "'");
  bootstrap_ = line.substr(prefix.size());
}

bool BrokerProcess::alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

int BrokerProcess::open_fds() const {
  std::string path = "/proc/" + std::to_string(pid_) + "/fd";
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

int BrokerProcess::stop() {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  if (out_ >= 0) ::close(out_);
  out_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace kfk::test
