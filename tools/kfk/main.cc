// kfk: a command-line Kafka client built on kfk, kcat-compatible where kcat
// has the flag. See `kfk --help`.
#include <csignal>
#include <cstring>
#include <iostream>
#include <string_view>

#include "cli.h"
#include "interrupt.h"
#include "kfk/version.h"
#include "modes.h"

namespace {

constexpr const char* kUsage =
    "usage: kfk -L|-P|-C|-G [options]   |   kfk topics|groups <command> ...   |   kfk perf produce|consume ...   (kfk --help, kfk --version)";

constexpr const char* kHelp = R"(kfk: a Kafka command-line client (kcat-compatible where kcat has the flag).

Modes:
  kfk -L -b BROKERS [-t TOPIC] [-J]
      Cluster metadata: brokers, topics, partitions, leaders, replicas, ISR.
  kfk -P -b BROKERS -t TOPIC [-p PARTITION] [-K DELIM] [-k KEY] [-H name=value]... [-z CODEC]
      Produce one record per line of standard input.
  kfk -C -b BROKERS -t TOPIC [-p PARTITION] [-o OFFSET] [-c COUNT] [-e] [-q] [-f FORMAT]
      Consume records to standard output (kcat's -o and -f).
  kfk -G GROUP -b BROKERS TOPIC... [-o beginning|end] [-c COUNT] [-e] [-q] [-f FORMAT]
      Consume as a member of a consumer group, committing offsets.
  kfk topics create|delete|list|describe ...
      Manage topics through the admin client.
  kfk groups list|describe|reset-offsets|delete ...
      Consumer groups: members, assignments, committed offsets and lag;
      reset a stopped group's offsets; delete groups.
  kfk perf produce -b BROKERS -t TOPIC --num-records N --record-size BYTES [--throughput N] [--json]
      Producer throughput and latency.
  kfk perf consume -b BROKERS -t TOPIC --num-records N [-g GROUP] [--json]
      Consumer throughput.

kfk --version prints "kfk VERSION" (the libkfk it runs with).

Every mode takes -X key=value (repeatable) for client configuration (see
kfk/config.h for every key) and --help for its own options.

Exit status: 0 success, 1 the operation failed, 2 bad usage or configuration.

SIGINT or SIGTERM (Ctrl-C) stops any mode within a second, whatever the
broker does: consumers commit what they printed, producers deliver what they
read, and the exit status is the mode's own (0 when that worked). When that
cannot finish within the second (e.g. a broker that does not answer), or at
a second signal, kfk exits at once with 128+signal (130 SIGINT, 143 SIGTERM).
)";

bool is_mode_flag(std::string_view a, char mode) {
  // "-P", or a group of short flags starting with it ("-LJ").
  return a.size() >= 2 && a[0] == '-' && a[1] == mode;
}

int run_mode(int argc, char** argv) {
  using namespace kfk::tool;
  if (argc < 2) return usage_error("no mode given", kUsage);
  std::string_view first = argv[1];
  if (first == "--help" || first == "-h") {
    std::cout << kHelp;
    return kExitOk;
  }
  if (first == "--version" || first == "-V") {
    std::cout << "kfk " << kfk::version() << "\n";
    return kExitOk;
  }
  if (first == "topics") return run_topics(argc, argv, 2);
  if (first == "groups") return run_groups(argc, argv, 2);
  if (first == "perf") {
    if (argc >= 3 && std::strcmp(argv[2], "produce") == 0) return run_perf_produce(argc, argv, 3);
    if (argc >= 3 && std::strcmp(argv[2], "consume") == 0) return run_perf_consume(argc, argv, 3);
    return usage_error(argc >= 3 ? "unknown perf command '" + std::string(argv[2]) + "'" : "perf needs a command",
                       "usage: kfk perf produce|consume ... (kfk perf produce --help)");
  }
  // kcat style: the mode flag may appear anywhere among the options.
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      if (is_mode_flag(a, 'L')) return run_metadata(argc, argv, 1);
      if (is_mode_flag(a, 'P')) return run_produce(argc, argv, 1);
      if (is_mode_flag(a, 'C') || is_mode_flag(a, 'G')) return run_consume(argc, argv, 1);
    }
  }
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << kHelp;
      return kExitOk;
    }
  if (first.size() > 1 && first[0] == '-') return usage_error("unknown option " + std::string(first), kUsage);
  return usage_error("unknown mode '" + std::string(first) + "'", kUsage);
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout pipe must give EPIPE, not kill us mid-flush
  kfk::tool::install_interrupt_handling();
  int status = run_mode(argc, argv);
  kfk::tool::finish_interrupt_handling();
  return status;
}
