// Shared by the benchmarks: broker-ref as a child process, and resident
// memory of a process.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

struct BrokerProcess {
  pid_t pid = -1;
  std::string bootstrap;
  std::string data_dir;
};

// Starts broker-ref on a temporary directory under `root` and a free port,
// with 1 GB segments and each of `sets` ("key=value") passed as --set. With
// `log_to_file` its stderr goes to <data dir>/broker.log (a group's
// log lines would bury the tables).
inline BrokerProcess start_broker_ref(const std::string& exe, const std::vector<std::string>& sets = {},
                                      bool log_to_file = false, const std::string& root = "/tmp") {
  BrokerProcess b;
  std::string tmpl = root + "/kfk-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    perror("mkdtemp");
    exit(1);
  }
  b.data_dir = tmpl;
  std::vector<std::string> args = {exe, "--data-dir", b.data_dir, "--listen", "127.0.0.1:0",
                                   "--set", "log.segment.bytes=1073741824"};
  for (const auto& kv : sets) {
    args.push_back("--set");
    args.push_back(kv);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) abort();
  b.pid = fork();
  if (b.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    if (log_to_file) {
      int log = open((b.data_dir + "/broker.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) dup2(log, 2);
    }
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  close(fds[0]);
  const std::string prefix = "broker-ref listening on ";
  if (line.rfind(prefix, 0) != 0) {
    fprintf(stderr, "broker-ref did not start (got '%s')\n", line.c_str());
    exit(1);
  }
  b.bootstrap = line.substr(prefix.size());
  return b;
}

inline void stop_broker(BrokerProcess& b) {
  if (b.pid > 0) {
    kill(b.pid, SIGTERM);
    waitpid(b.pid, nullptr, 0);
  }
  std::string cmd = "rm -rf '" + b.data_dir + "'";
  if (system(cmd.c_str()) != 0) fprintf(stderr, "could not remove %s\n", b.data_dir.c_str());
}

inline long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string k;
  while (f >> k) {
    if (k == "VmRSS:") {
      long v;
      f >> v;
      return v;
    }
  }
  return -1;
}

}  // namespace bench
