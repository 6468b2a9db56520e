// kfk topics create|delete|list|describe: topic management through
// kfk::Admin (output in kafka-topics.sh's wording).
#include <iostream>
#include <memory>

#include "cli.h"
#include "kfk/admin.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage = "usage: kfk topics create|delete|list|describe -b BROKERS [TOPIC...] (kfk topics --help)";

constexpr const char* kHelp = R"(kfk topics: manage topics through the admin client.

  kfk topics create TOPIC... -b BROKERS [--partitions N] [--replication-factor N]
                    [--config key=value]... [--validate-only]
      Defaults: the broker's num.partitions and default.replication.factor.
  kfk topics delete TOPIC... -b BROKERS
  kfk topics list -b BROKERS [--internal]
      One topic name per line (internal topics only with --internal).
  kfk topics describe TOPIC... -b BROKERS
      Partitions, leaders, replicas and ISR of each topic.

Common options:
  -b, --brokers BROKERS   bootstrap servers, host:port[,host:port...]
  -X key=value            client configuration (repeatable)
  --timeout MS            the call's timeout (default: default.api.timeout.ms)
  --help                  this help

A topic that fails (already exists, unknown, ...) is reported on stderr
and makes the exit status 1; the other topics are still handled.
)";

std::string ids(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}

}  // namespace

int run_topics(int argc, char** argv, int first) {
  if (first >= argc) return usage_error("topics needs a command", kUsage);
  std::string command = argv[first];
  if (command == "--help" || command == "-h") {
    std::cout << kHelp;
    return kExitOk;
  }
  if (command != "create" && command != "delete" && command != "list" && command != "describe")
    return usage_error("unknown topics command '" + command + "'", kUsage);

  std::vector<OptionSpec> specs = {{'b', "brokers", true}, {'X', nullptr, true, true}, {0, "timeout", true},
                                   {'h', "help"}};
  if (command == "create") {
    specs.push_back({0, "partitions", true});
    specs.push_back({0, "replication-factor", true});
    specs.push_back({0, "config", true, true});
    specs.push_back({0, "validate-only"});
  }
  if (command == "list") specs.push_back({0, "internal"});
  ParsedArgs args;
  if (!parse_args(argc, argv, first + 1, specs, kUsage, &args)) return kExitUsage;
  if (args.has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (command == "list" && !args.positional.empty())
    return usage_error("topics list takes no topic names", kUsage);
  if (command != "list" && args.positional.empty()) return usage_error("topics " + command + " needs a topic", kUsage);

  AdminCallOptions call;
  if (auto t = args.get("timeout")) {
    int64_t ms = 0;
    if (!parse_int(*t, 0, INT32_MAX, &ms)) return usage_error("--timeout expects milliseconds, got '" + *t + "'", kUsage);
    call.timeout = std::chrono::milliseconds(ms);
  }
  NewTopic spec;
  if (command == "create") {
    int64_t v = 0;
    if (auto p = args.get("partitions")) {
      if (!parse_int(*p, 1, INT32_MAX, &v)) return usage_error("--partitions expects a positive number", kUsage);
      spec.partitions = static_cast<int32_t>(v);
    }
    if (auto r = args.get("replication-factor")) {
      if (!parse_int(*r, 1, INT16_MAX, &v))
        return usage_error("--replication-factor expects a positive number", kUsage);
      spec.replication_factor = static_cast<int16_t>(v);
    }
    for (const auto& kv : args.all("config")) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return usage_error("--config expects key=value, got '" + kv + "'", kUsage);
      spec.configs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }

  Config config;
  if (!build_config(args, kUsage, &config)) return kExitUsage;
  if (!config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", kUsage);
  std::unique_ptr<Admin> admin;
  Error err = Admin::create(config, &admin);
  if (!err.ok()) return creation_error(err);

  int status = kExitOk;
  auto report = [&](const std::string& topic, const Error& e) {
    std::cerr << "kfk: " << topic << ": " << e.to_string() << "\n";
    status = kExitFailed;
  };
  auto overall = [&](const Error& e) {
    if (e.ok()) return false;
    std::cerr << "kfk: topics " << command << ": " << e.to_string() << "\n";
    status = kExitFailed;
    return true;
  };

  if (command == "create") {
    std::vector<NewTopic> topics;
    for (const auto& name : args.positional) {
      NewTopic t = spec;
      t.name = name;
      topics.push_back(std::move(t));
    }
    CreateTopicsOptions o;
    o.timeout = call.timeout;
    o.validate_only = args.has("validate-only");
    CreateTopicsResult r;
    if (overall(admin->create_topics(topics, &r, o)) && r.topics.empty()) return status;
    for (const auto& name : args.positional) {
      const CreatedTopic& c = r.topics[name];
      if (!c.error.ok())
        report(name, c.error);
      else
        std::cout << (o.validate_only ? "Topic " + name + " could be created." : "Created topic " + name + ".")
                  << "\n";
    }
  } else if (command == "delete") {
    DeleteTopicsOptions o;
    o.timeout = call.timeout;
    DeleteTopicsResult r;
    if (overall(admin->delete_topics(args.positional, &r, o)) && r.topics.empty()) return status;
    for (const auto& name : args.positional) {
      if (!r.topics[name].ok())
        report(name, r.topics[name]);
      else
        std::cout << "Deleted topic " << name << ".\n";
    }
  } else if (command == "list") {
    ListTopicsOptions o;
    o.timeout = call.timeout;
    o.include_internal = args.has("internal");
    ListTopicsResult r;
    if (overall(admin->list_topics(&r, o))) return status;
    for (const auto& t : r.topics) std::cout << t.name << "\n";
  } else {
    DescribeTopicsOptions o;
    o.timeout = call.timeout;
    DescribeTopicsResult r;
    if (overall(admin->describe_topics(args.positional, &r, o)) && r.topics.empty()) return status;
    for (const auto& name : args.positional) {
      const TopicDescription& t = r.topics[name];
      if (!t.error.ok()) {
        report(name, t.error);
        continue;
      }
      size_t rf = t.partitions.empty() ? 0 : t.partitions[0].replicas.size();
      std::cout << "Topic: " << name << "\tTopicId: " << t.topic_id.to_string()
                << "\tPartitionCount: " << t.partitions.size() << "\tReplicationFactor: " << rf
                << (t.internal ? "\tInternal: true" : "") << "\n";
      for (const auto& p : t.partitions) {
        std::cout << "\tTopic: " << name << "\tPartition: " << p.partition << "\tLeader: "
                  << (p.leader >= 0 ? std::to_string(p.leader) : "none") << "\tReplicas: " << ids(p.replicas)
                  << "\tIsr: " << ids(p.isr);
        if (!p.offline_replicas.empty()) std::cout << "\tOffline: " << ids(p.offline_replicas);
        std::cout << "\n";
      }
    }
  }
  std::cout << std::flush;
  return status;
}

}  // namespace kfk::tool
