// kfk -L: cluster metadata in kcat's layout (text, or JSON with -J).
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.h"
#include "kfk/admin.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk -L -b BROKERS [-t TOPIC] [-J] [-m SECONDS] [-X key=value]... (kfk -L --help)";

constexpr const char* kHelp = R"(kfk -L: list brokers, topics, partitions, leaders, replicas and ISR.

  -b BROKERS      bootstrap servers, host:port[,host:port...]
  -t TOPIC        only this topic (default: every topic, internal ones included)
  -J              JSON output (kcat's -J layout)
  -m SECONDS      give up after this long (default: 5, as kcat; or
                  -X default.api.timeout.ms when that is given)
  -X key=value    client configuration (repeatable), e.g. -X request.timeout.ms=5000
  --help          this help

The layout is kcat's:
  Metadata for all topics (from broker 1: 127.0.0.1:9092/1):
   1 brokers:
    broker 1 at 127.0.0.1:9092 (controller)
   1 topics:
    topic "orders" with 1 partitions:
      partition 0, leader 1, replicas: 1, isrs: 1
)";

std::string id_list(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

std::string json_ids(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += std::string(i ? "," : "") + "{\"id\":" + std::to_string(ids[i]) + "}";
  return s + "]";
}

// librdkafka's "Broker: ..." wording for broker errors, as kcat prints them.
std::string error_text(const Error& e) { return std::string("Broker: ") + e.message(); }

}  // namespace

int run_metadata(int argc, char** argv, int first) {
  ParsedArgs args;
  if (!parse_args(argc, argv, first,
                  {{'L', nullptr}, {'J', nullptr}, {'b', "brokers", true}, {'t', "topic", true},
                   {'m', nullptr, true}, {'X', nullptr, true, true}, {'h', "help"}},
                  kUsage, &args))
    return kExitUsage;
  if (args.has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (!args.positional.empty()) return usage_error("unexpected argument '" + args.positional[0] + "'", kUsage);
  Config config;
  if (!build_config(args, kUsage, &config)) return kExitUsage;
  if (!config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", kUsage);

  int64_t wait_s = 5;
  if (auto m = args.get("m")) {
    if (!parse_int(*m, 1, 86400, &wait_s)) return usage_error("-m expects seconds, got '" + *m + "'", kUsage);
  }
  if (args.get("m") || !config.contains("default.api.timeout.ms"))
    config.set("default.api.timeout.ms", std::to_string(wait_s * 1000));

  std::unique_ptr<Admin> admin;
  Error err = Admin::create(config, &admin);
  if (!err.ok()) return creation_error(err);

  ClusterDescription cluster;
  err = admin->describe_cluster(&cluster);
  if (!err.ok()) {
    std::cerr << "kfk: failed to get metadata: " << err.to_string() << "\n";
    return kExitFailed;
  }
  std::vector<std::string> names;
  std::optional<std::string> topic = args.get("topic");
  if (topic) {
    names.push_back(*topic);
  } else {
    ListTopicsOptions lo;
    lo.include_internal = true;
    ListTopicsResult listed;
    err = admin->list_topics(&listed, lo);
    if (!err.ok()) {
      std::cerr << "kfk: failed to list topics: " << err.to_string() << "\n";
      return kExitFailed;
    }
    for (const auto& t : listed.topics) names.push_back(t.name);
  }
  DescribeTopicsResult described;
  err = admin->describe_topics(names, &described);
  if (!err.ok()) {
    std::cerr << "kfk: failed to describe topics: " << err.to_string() << "\n";
    return kExitFailed;
  }

  // The broker that answered is not exposed; name the controller (or the
  // first broker) as the origin, as kcat names the broker it asked.
  const BrokerNode* origin = nullptr;
  for (const auto& b : cluster.brokers)
    if (b.id == cluster.controller_id || origin == nullptr) origin = &b;
  std::string origin_name = origin ? origin->host + ":" + std::to_string(origin->port) + "/" + std::to_string(origin->id)
                                   : std::string("-");
  int32_t origin_id = origin ? origin->id : -1;

  std::ostringstream out;
  if (args.has("J")) {
    out << "{\"originating_broker\":{\"id\":" << origin_id << ",\"name\":\"" << json_escape(origin_name)
        << "\"},\"query\":{\"topic\":\"" << json_escape(topic ? *topic : "*") << "\"},\"controllerid\":"
        << cluster.controller_id << ",\"brokers\":[";
    for (size_t i = 0; i < cluster.brokers.size(); ++i) {
      const auto& b = cluster.brokers[i];
      out << (i ? "," : "") << "{\"id\":" << b.id << ",\"name\":\"" << json_escape(b.host) << ":" << b.port << "\"}";
    }
    out << "],\"topics\":[";
    bool first_topic = true;
    for (const auto& name : names) {
      const TopicDescription& t = described.topics[name];
      out << (first_topic ? "" : ",") << "{\"topic\":\"" << json_escape(name) << "\"";
      first_topic = false;
      if (!t.error.ok()) out << ",\"error\":\"" << json_escape(error_text(t.error)) << "\"";
      out << ",\"partitions\":[";
      for (size_t i = 0; i < t.partitions.size(); ++i) {
        const auto& p = t.partitions[i];
        out << (i ? "," : "") << "{\"partition\":" << p.partition << ",\"leader\":" << p.leader;
        if (!p.error.ok()) out << ",\"error\":\"" << json_escape(error_text(p.error)) << "\"";
        out << ",\"replicas\":" << json_ids(p.replicas) << ",\"isrs\":" << json_ids(p.isr) << "}";
      }
      out << "]}";
    }
    out << "]}\n";
  } else {
    out << "Metadata for " << (topic ? *topic : "all topics") << " (from broker " << origin_id << ": " << origin_name
        << "):\n";
    out << " " << cluster.brokers.size() << " brokers:\n";
    for (const auto& b : cluster.brokers)
      out << "  broker " << b.id << " at " << b.host << ":" << b.port
          << (b.id == cluster.controller_id ? " (controller)" : "") << "\n";
    out << " " << names.size() << " topics:\n";
    for (const auto& name : names) {
      const TopicDescription& t = described.topics[name];
      out << "  topic \"" << name << "\" with " << t.partitions.size() << " partitions:";
      if (!t.error.ok()) {
        out << " " << error_text(t.error);
        if (t.error.code() == errc::kLeaderNotAvailable) out << " (try again)";
      }
      out << "\n";
      for (const auto& p : t.partitions) {
        out << "    partition " << p.partition << ", leader " << p.leader << ", replicas: " << id_list(p.replicas)
            << ", isrs: " << id_list(p.isr);
        if (!p.error.ok()) out << ", " << error_text(p.error);
        out << "\n";
      }
    }
  }
  std::cout << out.str() << std::flush;
  return std::cout ? kExitOk : kExitFailed;
}

}  // namespace kfk::tool
