// kfk -C and kfk -G: consume records to standard output as kcat does.
// -C reads partitions directly (assign + seek); -G joins a consumer group
// (subscribe), reading from the committed offsets. Whenever a group id is
// set (-G, or -C -X group.id=G) the tool commits exactly what it printed:
// per partition the offset after the last printed record, never the poll
// position (records fetched but not printed stay uncommitted).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli.h"
#include "interrupt.h"
#include "kfk/admin.h"
#include "kfk/consumer.h"
#include "modes.h"

namespace kfk::tool {
namespace {

constexpr const char* kUsage =
    "usage: kfk -C -b BROKERS -t TOPIC [-p PARTITION] [-o OFFSET] [-c COUNT] [-e] [-q] [-f FORMAT] [-X key=value]...\n"
    "       kfk -G GROUP -b BROKERS TOPIC... [-o beginning|end] [-c COUNT] [-e] [-q] [-f FORMAT] [-X key=value]...";

constexpr const char* kHelp = R"(kfk -C / kfk -G: consume records to standard output.

  -C              read partitions directly (no group; -X group.id=G with
                  -o stored reads from G's committed offsets)
  -G GROUP        read as a member of consumer group GROUP the topics named
                  after the options. With a group (-G, or -C -X group.id=G)
                  the offsets of the records printed (and only those) are
                  committed every auto.commit.interval.ms (default 5000),
                  when partitions are revoked, and before exit (also on
                  SIGINT/SIGTERM); enable.auto.commit is not used
  -b BROKERS      bootstrap servers, host:port[,host:port...]
  -t TOPIC        the topic (-C)
  -p PARTITION    one partition (-C; default: every partition of the topic)
  -o OFFSET       where to start (-C): beginning, end, stored, an absolute
                  offset N, -N (N records before the end), s@MS (the first
                  record with a timestamp >= MS ms since the epoch).
                  With -G: beginning or end, for partitions with no
                  committed offset (auto.offset.reset). Default: beginning
                  for -C, the group's committed offsets for -G (else end).
  -c COUNT        exit after COUNT records
  -e              exit when every partition has been read to its end
  -q              quiet: no informational messages on stderr
  -f FORMAT       output format: %t topic, %p partition, %o offset, %k key,
                  %s value, %S value size, %K key size, %h headers
                  (name=value,...), %T timestamp (ms), %% a percent sign;
                  \n \t \r \\ escapes. Default: "%s\n"
  -X key=value    consumer configuration (repeatable)
  --help          this help
)";

// What a group member has printed and not yet handed to a commit: per
// partition, the offset after the last printed record (what the group must
// read next). Application thread only.
class PrintedOffsets {
 public:
  void printed(const ConsumerRecord& r) {
    // Records come in runs per partition: one map lookup per run.
    if (last_ == nullptr || last_->first.partition != r.partition || last_->first.topic != r.topic)
      last_ = &*pending_.try_emplace(TopicPartition(std::string(r.topic), r.partition)).first;
    last_->second.offset = r.offset + 1;
    last_->second.leader_epoch = r.leader_epoch;
  }
  bool empty() const { return pending_.empty(); }
  // Takes the offsets to commit (of `only` when given).
  std::map<TopicPartition, OffsetAndMetadata> take(const std::vector<TopicPartition>* only = nullptr) {
    last_ = nullptr;
    std::map<TopicPartition, OffsetAndMetadata> out;
    if (only == nullptr) {
      out.swap(pending_);
      return out;
    }
    for (const auto& tp : *only)
      if (auto it = pending_.find(tp); it != pending_.end()) out.insert(pending_.extract(it));
    return out;
  }
  // A commit of `offsets` failed: commit those of partitions still `owned`
  // again later, unless more was printed since.
  void put_back(const std::map<TopicPartition, OffsetAndMetadata>& offsets, const std::vector<TopicPartition>& owned) {
    for (const auto& tp : owned)
      if (auto it = offsets.find(tp); it != offsets.end()) pending_.try_emplace(tp, it->second);
  }
  // Partitions this member no longer owns: their offsets are not ours to commit.
  void forget(const std::vector<TopicPartition>& tps) {
    last_ = nullptr;
    for (const auto& tp : tps) pending_.erase(tp);
  }

 private:
  std::map<TopicPartition, OffsetAndMetadata> pending_;
  std::pair<const TopicPartition, OffsetAndMetadata>* last_ = nullptr;
};

// -G: commits what was printed of partitions being revoked (they are still
// ours here), and drops what was printed of lost ones (another member may
// own them already).
class CommitPrintedOnRevoke : public RebalanceListener {
 public:
  CommitPrintedOnRevoke(PrintedOffsets& printed, Consumer& consumer) : printed_(printed), consumer_(consumer) {}
  void on_partitions_revoked(const std::vector<TopicPartition>& partitions) override {
    auto offsets = printed_.take(&partitions);
    if (offsets.empty()) return;
    if (Error e = consumer_.commit_sync(offsets, stop_budget(std::chrono::seconds(30))); !e.ok())
      std::cerr << "kfk: commit of revoked partitions: " << e.to_string() << "\n";
  }
  void on_partitions_lost(const std::vector<TopicPartition>& partitions) override { printed_.forget(partitions); }

 private:
  PrintedOffsets& printed_;
  Consumer& consumer_;
};

// Appends `r` formatted by `fmt` (escapes already applied) to `out`.
void format_record(const std::string& fmt, const ConsumerRecord& r, std::string& out) {
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 == fmt.size()) {
      out += fmt[i];
      continue;
    }
    switch (fmt[++i]) {
      case 't': out += r.topic; break;
      case 'p': out += std::to_string(r.partition); break;
      case 'o': out += std::to_string(r.offset); break;
      case 'k': out += r.key_view(); break;
      case 's': out += r.value_view(); break;
      case 'K': out += std::to_string(r.key ? static_cast<int64_t>(r.key->size()) : -1); break;
      case 'S': out += std::to_string(r.value ? static_cast<int64_t>(r.value->size()) : -1); break;
      case 'T': out += std::to_string(r.timestamp); break;
      case 'h':
        for (size_t h = 0; h < r.headers.size(); ++h) {
          if (h) out += ',';
          out += r.headers[h].key;
          out += '=';
          if (r.headers[h].value) out += *r.headers[h].value;
        }
        break;
      case '%': out += '%'; break;
      default:
        out += '%';
        out += fmt[i];
    }
  }
}

bool valid_format(const std::string& fmt, std::string* bad) {
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    if (i + 1 == fmt.size() || std::string_view("tpokKsShT%").find(fmt[i + 1]) == std::string_view::npos) {
      *bad = fmt.substr(i, 2);
      return false;
    }
    ++i;
  }
  return true;
}

}  // namespace

int run_consume(int argc, char** argv, int first) {
  std::vector<OptionSpec> specs = {{'C', nullptr},       {'G', nullptr, true}, {'b', "brokers", true},
                                   {'t', nullptr, true}, {'p', nullptr, true}, {'o', nullptr, true},
                                   {'c', nullptr, true}, {'e', nullptr},       {'q', nullptr},
                                   {'f', nullptr, true}, {'X', nullptr, true, true}, {'h', "help"}};
  ParsedArgs args;
  if (!parse_args(argc, argv, first, specs, kUsage, &args)) return kExitUsage;
  if (args.has("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  const bool group_mode = args.has("G");
  if (group_mode && args.has("C")) return usage_error("-C and -G are exclusive", kUsage);
  if (group_mode && args.get("G")->empty()) return usage_error("-G needs a group id", kUsage);
  if (group_mode && args.has("t")) return usage_error("-G takes its topics after the options, not -t", kUsage);
  if (group_mode && args.has("p")) return usage_error("-p is for -C (a group assigns partitions itself)", kUsage);
  if (group_mode && args.positional.empty()) return usage_error("-G needs at least one topic", kUsage);
  if (!group_mode && !args.positional.empty())
    return usage_error("unexpected argument '" + args.positional[0] + "'", kUsage);
  if (!group_mode && !args.has("t")) return usage_error("-t TOPIC is required", kUsage);
  const bool quiet = args.has("q");
  const bool exit_at_end = args.has("e");

  int64_t count = -1;
  if (auto c = args.get("c"); c && !parse_int(*c, 1, INT64_MAX, &count))
    return usage_error("-c expects a positive count, got '" + *c + "'", kUsage);
  std::optional<int32_t> partition;
  if (auto p = args.get("p")) {
    int64_t v = 0;
    if (!parse_int(*p, 0, INT32_MAX, &v)) return usage_error("-p expects a partition >= 0, got '" + *p + "'", kUsage);
    partition = static_cast<int32_t>(v);
  }
  std::string fmt = unescape(args.get("f").value_or("%s\\n"));
  if (std::string bad; !valid_format(fmt, &bad)) return usage_error("-f: unknown format token '" + bad + "'", kUsage);

  // -o
  enum class Start { kBeginning, kEnd, kStored, kAbsolute, kFromEnd, kTime } start = Start::kBeginning;
  int64_t start_value = 0;
  std::string o = args.get("o").value_or(group_mode ? "stored" : "beginning");
  if (o == "beginning") start = Start::kBeginning;
  else if (o == "end") start = Start::kEnd;
  else if (o == "stored") start = Start::kStored;
  else if (o.rfind("s@", 0) == 0 && parse_int(o.substr(2), 0, INT64_MAX, &start_value)) start = Start::kTime;
  else if (!o.empty() && o[0] == '-' && parse_int(o.substr(1), 1, INT64_MAX, &start_value)) start = Start::kFromEnd;
  else if (parse_int(o, 0, INT64_MAX, &start_value)) start = Start::kAbsolute;
  else return usage_error("-o expects beginning, end, stored, OFFSET, -N or s@MS, got '" + o + "'", kUsage);
  if (group_mode && start != Start::kBeginning && start != Start::kEnd && start != Start::kStored)
    return usage_error("-G takes -o beginning or end (for partitions without a committed offset)", kUsage);

  Config config;
  if (!build_config(args, kUsage, &config)) return kExitUsage;
  if (!config.contains("bootstrap.servers")) return usage_error("-b BROKERS is required", kUsage);
  if (group_mode) {
    config.set("group.id", *args.get("G"));
    if (start != Start::kStored) config.set("auto.offset.reset", start == Start::kBeginning ? "earliest" : "latest");
  } else if (start == Start::kStored && !config.contains("group.id")) {
    return usage_error("-o stored needs -X group.id=GROUP", kUsage);
  }
  if (exit_at_end) config.set("enable.partition.eof", "true");

  // The tool commits what it printed itself; auto-commit would commit the
  // poll position, records never printed included.
  std::string auto_commit = config.get("enable.auto.commit").value_or("false");
  std::transform(auto_commit.begin(), auto_commit.end(), auto_commit.begin(), [](unsigned char ch) {
    return static_cast<char>(std::tolower(ch));
  });
  if (auto_commit != "false")
    return usage_error("-X enable.auto.commit=true is not supported: kfk commits the records it printed itself",
                       kUsage);
  config.set("enable.auto.commit", "false");
  const bool committing = config.contains("group.id");
  int64_t commit_interval_ms = 5000;
  if (auto v = config.get("auto.commit.interval.ms"); v && !parse_int(*v, 0, INT32_MAX, &commit_interval_ms))
    return usage_error("auto.commit.interval.ms expects milliseconds, got '" + *v + "'", kUsage);
  PrintedOffsets printed_offsets;
  ConsumerOptions copts;
  copts.log = [quiet](std::string_view m) {
    if (!quiet) std::cerr << "% " << m << "\n";
  };
  std::unique_ptr<Consumer> consumer;
  if (Error err = Consumer::create(config, &consumer, copts); !err.ok()) return creation_error(err);
  ScopedStopHook stop_hook([c = consumer.get()] { c->wakeup(); });
  auto info = [&](const std::string& m) {
    if (!quiet) std::cerr << "% " << m << "\n";
  };

  // Partitions still to be read to their end (-e), each done at its first
  // end-of-partition event, as kcat's -e: records that arrive meanwhile are
  // read too. -G learns its partitions only once it has joined.
  std::set<TopicPartition> unfinished;
  if (group_mode) {
    auto listener = std::make_shared<CommitPrintedOnRevoke>(printed_offsets, *consumer);
    if (Error err = consumer->subscribe(args.positional, listener); !err.ok()) {
      std::cerr << "kfk: subscribe: " << err.to_string() << "\n";
      return err.code() == errc::kInvalidArgument ? kExitUsage : kExitFailed;
    }
  } else {
    const std::string topic = *args.get("t");
    std::vector<TopicPartition> tps;
    if (partition) {
      tps.emplace_back(topic, *partition);
    } else {
      std::unique_ptr<Admin> admin;
      if (Error err = Admin::create(config, &admin); !err.ok()) return creation_error(err);
      DescribeTopicsResult d;
      Error err = admin->describe_topics({topic}, &d);
      if (err.ok()) err = d.topics[topic].error;
      if (!err.ok()) {
        std::cerr << "kfk: " << topic << ": " << err.to_string() << "\n";
        return kExitFailed;
      }
      for (const auto& p : d.topics[topic].partitions) tps.emplace_back(topic, p.partition);
    }
    if (Error err = consumer->assign(tps); !err.ok()) {
      std::cerr << "kfk: assign: " << err.to_string() << "\n";
      return kExitFailed;
    }
    Error err;
    if (start == Start::kBeginning) {
      err = consumer->seek_to_beginning(tps);
    } else if (start == Start::kEnd) {
      err = consumer->seek_to_end(tps);
    } else if (start == Start::kAbsolute) {
      for (const auto& tp : tps)
        if (err.ok()) err = consumer->seek(tp, start_value);
    } else if (start == Start::kFromEnd) {
      std::map<TopicPartition, int64_t> lo, hi;
      err = consumer->beginning_offsets(tps, &lo);
      if (err.ok()) err = consumer->end_offsets(tps, &hi);
      for (const auto& tp : tps)
        if (err.ok()) err = consumer->seek(tp, std::max(lo[tp], hi[tp] - start_value));
    } else if (start == Start::kTime) {
      std::map<TopicPartition, int64_t> ask;
      for (const auto& tp : tps) ask[tp] = start_value;
      std::map<TopicPartition, OffsetAndTimestamp> at;
      std::map<TopicPartition, int64_t> hi;
      err = consumer->offsets_for_times(ask, &at);
      if (err.ok()) err = consumer->end_offsets(tps, &hi);
      for (const auto& tp : tps) {
        auto it = at.find(tp);
        int64_t off = it != at.end() && it->second.offset >= 0 ? it->second.offset : hi[tp];
        if (err.ok()) err = consumer->seek(tp, off);
      }
    }
    if (!err.ok()) {
      std::cerr << "kfk: -o " << o << ": " << err.to_string() << "\n";
      return kExitFailed;
    }
    if (exit_at_end) unfinished.insert(tps.begin(), tps.end());
  }

  int status = kExitOk;
  int64_t printed = 0;
  std::string buf;
  bool seen_assignment = false;
  auto last_commit = std::chrono::steady_clock::now();
  while (!interrupted() && (count < 0 || printed < count)) {
    ConsumerRecords recs = consumer->poll(std::chrono::milliseconds(100));
    if (interrupted()) break;
    if (!recs.error().ok()) {
      if (recs.error().code() == errc::kPartitionEof) continue;
      std::cerr << "kfk: " << recs.error().to_string() << "\n";
      if (recs.error().fatal() || !recs.error().retriable()) {
        status = kExitFailed;
        break;
      }
      continue;
    }
    buf.clear();
    size_t n = 0;
    for (; n < recs.size() && (count < 0 || printed + static_cast<int64_t>(n) < count); ++n)
      format_record(fmt, recs[n], buf);
    if (!buf.empty() && (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size() || std::fflush(stdout) != 0)) {
      std::cerr << "kfk: writing standard output failed\n";
      status = kExitFailed;
      break;
    }
    printed += static_cast<int64_t>(n);
    if (committing)
      for (size_t i = 0; i < n; ++i) printed_offsets.printed(recs[i]);
    if (committing && !printed_offsets.empty() &&
        std::chrono::steady_clock::now() - last_commit >= std::chrono::milliseconds(commit_interval_ms)) {
      last_commit = std::chrono::steady_clock::now();
      // The callback runs inside a later poll()/commit on this thread.
      consumer->commit_async(printed_offsets.take(), [&printed_offsets, c = consumer.get()](const auto& offsets,
                                                                                             const Error& e) {
        if (e.ok()) return;
        std::cerr << "kfk: commit: " << e.to_string() << "\n";
        printed_offsets.put_back(offsets, c->assignment());
      });
    }
    if (group_mode && exit_at_end && !seen_assignment) {
      auto a = consumer->assignment();
      if (!a.empty()) {
        seen_assignment = true;
        unfinished.insert(a.begin(), a.end());
      }
    }
    for (const auto& tp : recs.eof_partitions()) {
      if (unfinished.erase(tp) != 0)
        info("Reached end of topic " + tp.topic + " [" + std::to_string(tp.partition) + "]");
    }
    if (exit_at_end && (!group_mode || seen_assignment) && unfinished.empty()) break;
  }
  if (committing && !printed_offsets.empty()) {
    if (Error e = consumer->commit_sync(printed_offsets.take(), stop_budget(std::chrono::seconds(30))); !e.ok()) {
      std::cerr << "kfk: commit: " << e.to_string() << "\n";
      status = kExitFailed;
    }
  }
  if (Error e = consumer->close(stop_budget(std::chrono::seconds(30))); !e.ok() && status == kExitOk) {
    std::cerr << "kfk: close: " << e.to_string() << "\n";
    status = kExitFailed;
  }
  info("Consumed " + std::to_string(printed) + " record(s)");
  return status;
}

}  // namespace kfk::tool
