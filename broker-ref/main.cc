// broker-ref: a small single-node Kafka broker for integration tests.
//
//   broker-ref --data-dir DIR [--listen HOST:PORT] [--node-id N]
//              [--config FILE] [--set key=value ...] [--help] [--version]
//
// Prints exactly one line, "broker-ref listening on HOST:PORT", once it
// accepts connections. SIGTERM / SIGINT: clean shutdown, exit 0. Bad
// options, config or data directory: a message on stderr, exit 2.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kfk/version.h"
#include "server/broker_config.h"
#include "server/server.h"
#include "server/server_log.h"
#include "storage/fd_cache.h"

namespace {

constexpr const char* kUsage =
    "usage: broker-ref --data-dir DIR [--listen HOST:PORT] [--node-id N]\n"
    "                  [--config FILE] [--set key=value ...] [--help] [--version]\n"
    "\n"
    "A single-node Kafka broker for integration tests (PLAINTEXT only).\n"
    "\n"
    "Options:\n"
    "  --data-dir DIR       Data directory: logs, topic metadata, meta.properties\n"
    "                       (created if missing; default: the log.dirs config key).\n"
    "  --listen HOST:PORT   Listener address (default 127.0.0.1:9092; port 0: any\n"
    "                       free port). Same as --set listeners=HOST:PORT.\n"
    "  --node-id N          Broker id (default 1). Same as --set node.id=N.\n"
    "  --config FILE        Java properties file of config keys (applied first).\n"
    "  --set key=value      One config key (repeatable; after --config).\n"
    "  --help               This text.\n"
    "  --version            Print \"broker-ref VERSION\" (kfk's version) and exit.\n"
    "\n"
    "Once listening, prints \"broker-ref listening on HOST:PORT\" on stdout.\n"
    "SIGTERM/SIGINT shut down cleanly. Exit codes: 0 clean shutdown, 1 error at\n"
    "shutdown, 2 bad usage, configuration or data directory.\n"
    "\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "broker-ref: %s\n(see broker-ref --help)\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using kfk::broker::BrokerConfig;
  std::string data_dir;
  std::vector<std::string> config_files;
  std::vector<std::pair<std::string, std::string>> sets;  // in command-line order
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(BrokerConfig::keys_help().c_str(), stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("broker-ref %s\n", KFK_VERSION_STRING);
      return 0;
    }
    auto take = [&](std::string* out) {
      if (has_inline) {
        *out = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--data-dir" || arg == "--listen" || arg == "--node-id" || arg == "--config" || arg == "--set") {
      if (!take(&v)) return usage_error("option " + arg + " needs a value");
      if (arg == "--data-dir") data_dir = v;
      else if (arg == "--listen") sets.emplace_back("listeners", v);
      else if (arg == "--node-id") sets.emplace_back("node.id", v);
      else if (arg == "--config") config_files.push_back(v);
      else {
        auto eq = v.find('=');
        if (eq == std::string::npos) return usage_error("--set expects key=value, got '" + v + "'");
        sets.emplace_back(v.substr(0, eq), v.substr(eq + 1));
      }
    } else {
      return usage_error("unknown option '" + std::string(argv[i]) + "'");
    }
  }

  kfk::broker::Server::Options options;
  std::string error;
  for (const auto& f : config_files)
    if (!options.config.load_properties_file(f, &error)) return usage_error(error);
  for (const auto& [k, v] : sets)
    if (!options.config.set(k, v, &error)) return usage_error(error);
  if (data_dir.empty() && options.config.is_set("log.dirs")) {
    std::string dirs = options.config.get("log.dirs");
    data_dir = dirs.substr(0, dirs.find(','));
  }
  if (data_dir.empty()) return usage_error("no data directory: give --data-dir DIR");
  options.data_dir = data_dir;
  options.handle_signals = true;

  // Peers that vanish mid-write must not kill the broker.
  ::signal(SIGPIPE, SIG_IGN);
  // Every partition needs descriptors: take the whole hard limit, as
  // Kafka's packaging asks (segment files beyond the cache's share are
  // closed while idle and reopened on use).
  uint64_t hard = 0;
  const uint64_t soft = kfk::broker::raise_fd_limit(&hard);
  kfk::broker::server_log("file descriptor limit RLIMIT_NOFILE " + std::to_string(soft) + " (hard " +
                          (hard == 0 ? std::string("unlimited") : std::to_string(hard)) + "); up to " +
                          std::to_string(kfk::broker::FdCache::instance().capacity()) +
                          " segment files kept open");
  auto server = kfk::broker::Server::create(options, &error);
  if (!server) {
    std::fprintf(stderr, "broker-ref: %s\n", error.c_str());
    return 2;
  }
  const std::string& host = server->host();
  std::printf("broker-ref listening on %s:%d\n",
              host.find(':') != std::string::npos ? ("[" + host + "]").c_str() : host.c_str(), server->port());
  std::fflush(stdout);
  bool ok = server->run();
  server.reset();
  return ok ? 0 : 1;
}
