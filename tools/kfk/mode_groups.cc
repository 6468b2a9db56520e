// kfk groups list|describe|reset-offsets|delete: consumer group management
// through kfk::Admin (the output follows kafka-consumer-groups.sh).
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli.h"
#include "kfk/admin.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk groups list|describe|reset-offsets|delete -b BROKERS [GROUP...] (kfk groups --help)";

constexpr const char* kHelp = R"(kfk groups: manage consumer groups through the admin client.

  kfk groups list -b BROKERS [--state STATE]...
      One group per line: id, state, protocol type. --state keeps only
      groups in that state (Stable, Empty, PreparingRebalance,
      CompletingRebalance, Dead; repeatable).
  kfk groups describe -b BROKERS GROUP... | --group GROUP...
      State, assignor and members, then per partition the committed offset,
      the log end offset (high watermark), the lag and the member that
      owns the partition. A group that does not exist (no members, no
      committed offsets: state Dead) is reported as such (exit status 1).
  kfk groups reset-offsets -b BROKERS --group GROUP --topic TOPIC [--partition P]
                    --to-earliest|--to-latest|--to-offset N|--to-datetime MS [--dry-run]
      Commits new offsets for the group (every partition of TOPIC unless
      --partition). The group must have no active members. --to-offset is
      clamped to each partition's [earliest, latest]; --to-datetime takes
      the first offset whose timestamp is >= MS (ms since the epoch), the
      log end when there is none. --dry-run only prints the new offsets.
  kfk groups delete GROUP... -b BROKERS
      Deletes groups (with their committed offsets); they must be empty.

Common options:
  -b, --brokers BROKERS   bootstrap servers, host:port[,host:port...]
  -X key=value            client configuration (repeatable)
  --timeout MS            each call's timeout (default: default.api.timeout.ms)
  --help                  this help

Exit status: 0 success, 1 a group or partition failed (reported on
stderr; the others are still handled), 2 bad usage or configuration.
)";

std::string or_dash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

void print_row(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  for (size_t i = 0; i < cells.size(); ++i) {
    std::cout << cells[i];
    if (i + 1 < cells.size()) std::cout << std::string(widths[i] - cells[i].size() + 2, ' ');
  }
  std::cout << "\n";
}

void print_table(std::vector<std::vector<std::string>> rows) {
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  for (const auto& r : rows) print_row(r, widths);
}

class GroupsCommand {
 public:
  GroupsCommand(Admin& admin, std::chrono::milliseconds timeout) : admin_(admin), timeout_(timeout) {}
  int status = kExitOk;

  void fail(const std::string& what, const Error& e) {
    std::cerr << "kfk: " << what << ": " << e.to_string() << "\n";
    status = kExitFailed;
  }

  void list(const std::vector<std::string>& states) {
    ListConsumerGroupsOptions o;
    o.timeout = timeout_;
    o.states = states;
    ListConsumerGroupsResult r;
    Error e = admin_.list_consumer_groups(&r, o);
    // A broker that could not answer leaves its groups out; the others are still listed.
    if (!e.ok()) fail("groups list", e);
    for (const auto& [broker, be] : r.broker_errors) fail("groups list: broker " + std::to_string(broker), be);
    for (const auto& g : r.groups)
      std::cout << g.group_id << "\t" << g.state.value_or("-") << "\t"
                << (g.protocol_type.empty() ? "-" : g.protocol_type) << "\n";
  }

  void describe(const std::vector<std::string>& groups) {
    DescribeConsumerGroupsOptions o;
    o.timeout = timeout_;
    DescribeConsumerGroupsResult r;
    Error e = admin_.describe_consumer_groups(groups, &r, o);
    if (!e.ok() && r.groups.empty()) return fail("groups describe", e);
    bool first = true;
    for (const auto& id : groups) {
      if (r.groups.count(id) == 0) continue;  // asked twice
      const ConsumerGroupDescription& g = r.groups[id];
      if (!g.error.ok()) {
        fail(id, g.error);
        continue;
      }
      if (g.state == "Dead") {  // as kafka-consumer-groups.sh
        std::cerr << "kfk: Consumer group '" << id << "' does not exist.\n";
        status = kExitFailed;
        continue;
      }
      if (!first) std::cout << "\n";
      first = false;
      describe_one(g);
      r.groups.erase(id);
    }
  }

  void reset(const std::string& group, const std::string& topic, std::optional<int32_t> partition,
             const std::string& to, int64_t value, bool dry_run) {
    DescribeConsumerGroupsOptions dopt;
    dopt.timeout = timeout_;
    DescribeConsumerGroupsResult d;
    Error e = admin_.describe_consumer_groups({group}, &d, dopt);
    if (!e.ok()) return fail("groups reset-offsets", e);
    const ConsumerGroupDescription& g = d.groups[group];
    if (!g.error.ok()) return fail(group, g.error);
    if (g.state != "Empty" && g.state != "Dead")
      return fail(group, Error::from_code(errc::kNonEmptyGroup,
                                          "the group is " + g.state + " with " + std::to_string(g.members.size()) +
                                              " member(s): stop its consumers before resetting offsets"));
    std::vector<TopicPartition> tps;
    if (partition) {
      tps.emplace_back(topic, *partition);
    } else {
      DescribeTopicsOptions to_opt;
      to_opt.timeout = timeout_;
      DescribeTopicsResult t;
      if (Error te = admin_.describe_topics({topic}, &t, to_opt); !te.ok()) return fail("groups reset-offsets", te);
      if (!t.topics[topic].error.ok()) return fail(topic, t.topics[topic].error);
      for (const auto& p : t.topics[topic].partitions) tps.emplace_back(topic, p.partition);
    }
    std::map<TopicPartition, int64_t> earliest = offsets(tps, OffsetSpec::earliest());
    std::map<TopicPartition, int64_t> latest = offsets(tps, OffsetSpec::latest());
    std::map<TopicPartition, int64_t> at_time;
    if (to == "datetime") at_time = offsets(tps, OffsetSpec::for_timestamp(value));
    std::map<TopicPartition, OffsetAndMetadata> target;
    for (const auto& tp : tps) {
      if (!earliest.count(tp) || !latest.count(tp)) continue;  // reported by offsets()
      int64_t o = 0;
      if (to == "earliest") o = earliest[tp];
      else if (to == "latest") o = latest[tp];
      else if (to == "offset") o = std::clamp(value, earliest[tp], latest[tp]);
      else if (!at_time.count(tp)) continue;
      else o = at_time[tp] < 0 ? latest[tp] : at_time[tp];
      target[tp].offset = o;
    }
    std::map<TopicPartition, Error> results;
    if (!dry_run && !target.empty()) {
      AlterConsumerGroupOffsetsOptions aopt;
      aopt.timeout = timeout_;
      AlterConsumerGroupOffsetsResult a;
      Error ae = admin_.alter_consumer_group_offsets(group, target, &a, aopt);
      if (!ae.ok() && a.partitions.empty()) return fail("groups reset-offsets", ae);
      results = a.partitions;
    }
    std::vector<std::vector<std::string>> rows{{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}};
    for (const auto& [tp, o] : target) {
      auto it = results.find(tp);
      if (it != results.end() && !it->second.ok()) {
        fail(tp.to_string(), it->second);
        continue;
      }
      rows.push_back({group, tp.topic, std::to_string(tp.partition), std::to_string(o.offset)});
    }
    print_table(std::move(rows));
  }

  void remove(const std::vector<std::string>& groups) {
    DeleteConsumerGroupsOptions o;
    o.timeout = timeout_;
    DeleteConsumerGroupsResult r;
    Error e = admin_.delete_consumer_groups(groups, &r, o);
    if (!e.ok() && r.groups.empty()) return fail("groups delete", e);
    std::set<std::string> done;
    for (const auto& id : groups) {
      if (!done.insert(id).second) continue;
      if (!r.groups[id].ok())
        fail(id, r.groups[id]);
      else
        std::cout << "Deleted group " << id << ".\n";
    }
  }

 private:
  // ListOffsets for `tps`; failures are reported and left out.
  std::map<TopicPartition, int64_t> offsets(const std::vector<TopicPartition>& tps, OffsetSpec spec) {
    std::map<TopicPartition, OffsetSpec> ask;
    for (const auto& tp : tps) ask[tp] = spec;
    ListOffsetsOptions o;
    o.timeout = timeout_;
    ListOffsetsResult r;
    std::map<TopicPartition, int64_t> out;
    Error e = admin_.list_offsets(ask, &r, o);
    if (!e.ok() && r.partitions.empty()) {
      fail("list offsets", e);
      return out;
    }
    for (const auto& [tp, l] : r.partitions) {
      if (!l.error.ok())
        fail(tp.to_string(), l.error);
      else
        out[tp] = l.offset;
    }
    return out;
  }

  void describe_one(const ConsumerGroupDescription& g) {
    std::cout << "Group " << g.group_id << ": state " << g.state << ", protocol type "
              << (g.protocol_type.empty() ? "-" : g.protocol_type) << ", assignor "
              << (g.assignor.empty() ? "-" : g.assignor) << ", coordinator " << g.coordinator << ", "
              << g.members.size() << " member(s)\n";
    std::map<TopicPartition, const MemberDescription*> owner;
    for (const auto& m : g.members)
      for (const auto& tp : m.assignment) owner[tp] = &m;

    ListConsumerGroupOffsetsOptions lo;
    lo.timeout = timeout_;
    ListConsumerGroupOffsetsResult committed;
    if (Error e = admin_.list_consumer_group_offsets(g.group_id, {}, &committed, lo); !e.ok())
      return fail(g.group_id + ": committed offsets", e);
    if (!committed.error.ok()) return fail(g.group_id + ": committed offsets", committed.error);

    std::set<TopicPartition> tps;
    for (const auto& [tp, c] : committed.partitions) tps.insert(tp);
    for (const auto& [tp, m] : owner) tps.insert(tp);
    std::map<TopicPartition, int64_t> end = offsets({tps.begin(), tps.end()}, OffsetSpec::latest());

    std::vector<std::vector<std::string>> rows{
        {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}};
    for (const auto& tp : tps) {
      auto c = committed.partitions.find(tp);
      int64_t cur = c != committed.partitions.end() ? c->second.offset : -1;
      auto eo = end.find(tp);
      int64_t leo = eo != end.end() ? eo->second : -1;
      std::string lag = cur >= 0 && leo >= 0 ? std::to_string(std::max<int64_t>(0, leo - cur)) : "-";
      auto o = owner.find(tp);
      const MemberDescription* m = o != owner.end() ? o->second : nullptr;
      rows.push_back({g.group_id, tp.topic, std::to_string(tp.partition), or_dash(cur), or_dash(leo), lag,
                      m ? m->member_id : "-", m ? m->host : "-", m ? m->client_id : "-"});
    }
    std::cout << "\n";
    print_table(std::move(rows));
    for (const auto& m : g.members)
      if (m.assignment.empty())
        std::cout << "Member " << m.member_id << " (" << m.client_id << ", " << m.host << ") has no partitions\n";
  }

  Admin& admin_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

int run_groups(int argc, char** argv, int first) {
  if (first >= argc) return usage_error("groups needs a command", kUsage);
  std::string command = argv[first];
  if (command == "--help" || command == "-h") {
    std::cout << kHelp;
    return kExitOk;
  }
  if (command != "list" && command != "describe" && command != "reset-offsets" && command != "delete")
    return usage_error("unknown groups command '" + command + "'", kUsage);

  std::vector<OptionSpec> specs = {{'b', "brokers", true}, {'X', nullptr, true, true}, {0, "timeout", true},
                                   {'h', "help"}};
  if (command == "list") specs.push_back({0, "state", true, true});
  if (command == "describe") specs.push_back({0, "group", true, true});
  if (command == "reset-offsets") {
    for (const char* o : {"group", "topic", "partition", "to-offset", "to-datetime"}) specs.push_back({0, o, true});
    for (const char* o : {"to-earliest", "to-latest", "dry-run"}) specs.push_back({0, o});
  }
  ParsedArgs args;
  if (!parse_args(argc, argv, first + 1, specs, kUsage, &args)) return kExitUsage;
  if (args.has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  bool takes_groups = command == "describe" || command == "delete";
  if (!takes_groups && !args.positional.empty())
    return usage_error("groups " + command + " takes no positional arguments", kUsage);
  std::vector<std::string> groups = args.positional;
  if (command == "describe")
    for (const auto& g : args.all("group")) groups.push_back(g);  // --group, as reset-offsets and Kafka's tool
  for (const auto& g : groups)
    if (g.empty()) return usage_error("groups " + command + ": empty group id", kUsage);
  if (takes_groups && groups.empty()) return usage_error("groups " + command + " needs a group", kUsage);

  std::chrono::milliseconds timeout{-1};
  if (auto t = args.get("timeout")) {
    int64_t ms = 0;
    if (!parse_int(*t, 0, INT32_MAX, &ms)) return usage_error("--timeout expects milliseconds, got '" + *t + "'", kUsage);
    timeout = std::chrono::milliseconds(ms);
  }

  std::string to;
  int64_t to_value = 0;
  std::optional<int32_t> partition;
  if (command == "reset-offsets") {
    if (!args.get("group") || args.get("group")->empty()) return usage_error("reset-offsets needs --group", kUsage);
    if (!args.get("topic") || args.get("topic")->empty()) return usage_error("reset-offsets needs --topic", kUsage);
    int n = 0;
    for (const char* o : {"to-earliest", "to-latest", "to-offset", "to-datetime"})
      if (args.has(o)) {
        ++n;
        to = std::string(o).substr(3);
      }
    if (n != 1)
      return usage_error("reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime",
                         kUsage);
    if (to == "offset" && !parse_int(*args.get("to-offset"), 0, INT64_MAX, &to_value))
      return usage_error("--to-offset expects an offset >= 0, got '" + *args.get("to-offset") + "'", kUsage);
    if (to == "datetime" && !parse_int(*args.get("to-datetime"), 0, INT64_MAX, &to_value))
      return usage_error("--to-datetime expects milliseconds since the epoch, got '" + *args.get("to-datetime") + "'",
                         kUsage);
    if (auto p = args.get("partition")) {
      int64_t v = 0;
      if (!parse_int(*p, 0, INT32_MAX, &v)) return usage_error("--partition expects a partition >= 0", kUsage);
      partition = static_cast<int32_t>(v);
    }
  }

  Config config;
  if (!build_config(args, kUsage, &config)) return kExitUsage;
  if (!config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", kUsage);
  std::unique_ptr<Admin> admin;
  Error err = Admin::create(config, &admin);
  if (!err.ok()) return creation_error(err);

  GroupsCommand cmd(*admin, timeout);
  if (command == "list")
    cmd.list(args.all("state"));
  else if (command == "describe")
    cmd.describe(groups);
  else if (command == "delete")
    cmd.remove(groups);
  else
    cmd.reset(*args.get("group"), *args.get("topic"), partition, to, to_value, args.has("dry-run"));
  std::cout << std::flush;
  return cmd.status;
}

}  // namespace kfk::tool
