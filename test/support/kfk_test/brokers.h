// broker-ref for tests, two ways:
//  - start_broker(): embedded (kfk::testing::BrokerRef, in this process, on
//    its own thread), the usual choice;
//  - BrokerProcess: the broker-ref executable as a child process, for tests
//    that need a process boundary (a descriptor limit of its own, a crash).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kfk-broker-ref/broker_ref.h"

namespace kfk::test {

// Starts broker-ref (embedded) with the given configuration, on a fresh
// temporary directory unless `data_dir` is given, on `port` (0: any free
// one); fails the test if it cannot.
std::unique_ptr<kfk::testing::BrokerRef> start_broker(std::map<std::string, std::string> config = {},
                                                      std::string data_dir = {}, int port = 0);

// The broker-ref executable (the build's, or $KFK_BROKER_REF) run on
// `data_dir` and a free loopback port with RLIMIT_NOFILE soft = hard =
// `nofile` (0: inherited), as `ulimit -n` would, and `sets` as --set
// key=value. Its stderr goes to /dev/null unless KFK_TEST_BROKER_STDERR is
// set. Fails the test when it does not start.
class BrokerProcess {
 public:
  BrokerProcess(const std::string& data_dir, uint64_t nofile, std::vector<std::string> sets = {});
  ~BrokerProcess() { stop(); }
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  pid_t pid() const { return pid_; }
  bool alive() const;

  // Descriptors the process holds now (/proc/PID/fd).
  int open_fds() const;

  // SIGTERM and wait: the exit status (-1 when it died of a signal).
  int stop();

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string bootstrap_;
};

}  // namespace kfk::test
