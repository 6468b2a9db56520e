// validate(): parse every key against the registry, then apply the
// cross-key rules of the Java client. Runs on the thread creating a client.
#include <algorithm>
#include <atomic>
#include <string>

#include "client/consumer/assignors/registry.h"
#include "client/core/config_parse.h"
#include "client/core/resolved_config.h"
#include "kfk/partitioner.h"

namespace kfk::core {

class ConfigResolver {
 public:
  ConfigResolver(ClientKind kind, ResolvedConfig* out) : kind_(kind), rc_(*out) {}

  Error run(const Config& config) {
    rc_ = ResolvedConfig();
    rc_.kind_ = kind_;
    auto keys = config_registry();
    rc_.values_.resize(keys.size());
    for (const auto& k : keys) {
      Error e = parse(k, k.default_value, rc_.values_[config_key_index(&k)]);
      if (!e.ok()) return e;  // a broken default is a bug in the table; tests catch it
    }
    for (const auto& [key, text] : config.properties()) {
      const ConfigKeyInfo* k = find_config_key(key);
      if (k == nullptr) return unknown_key(key);
      if (!k->applies_to(kind_)) {
        rc_.unused_.push_back(key);  // another client's key: accepted, not read, not checked
        continue;
      }
      ResolvedConfig::Value& v = rc_.values_[config_key_index(k)];
      if (Error e = parse(*k, text, v); !e.ok()) return e;
      v.is_explicit = true;
    }
    for (Error e : {common(), producer(), consumer()})
      if (!e.ok()) return e;
    return Error();
  }

 private:
  static Error invalid(std::string message) { return Error(errc::kInvalidClientConfig, std::move(message)); }

  ResolvedConfig::Value& val(const char* key) {
    return rc_.values_[config_key_index(find_config_key(key))];
  }

  Error unknown_key(const std::string& key) {
    std::string msg = "Unknown configuration property '" + key + "'";
    const ConfigKeyInfo* best = nullptr;
    size_t best_d = 4;  // suggest only close matches
    for (const auto& k : config_registry()) {
      size_t d = edit_distance(key, k.name);
      if (d < best_d) best_d = d, best = &k;
    }
    if (best != nullptr) msg += std::string(" (did you mean '") + best->name + "'?)";
    return invalid(std::move(msg));
  }

  static Error parse(const ConfigKeyInfo& k, std::string_view text, ResolvedConfig::Value& v) {
    auto bad = [&](const std::string& accepted) {
      return invalid("Invalid value '" + std::string(text) + "' for configuration property '" + k.name +
                     "': expected " + accepted);
    };
    switch (k.type) {
      case ConfigType::kInt:
      case ConfigType::kLong: {
        int64_t n = 0;
        std::string range = std::string(k.type == ConfigType::kInt ? "an int" : "a long") + " in [" +
                            std::to_string(k.min) + ", " + std::to_string(k.max) + "]";
        if (!parse_int64(text, n) || n < k.min || n > k.max) return bad(range);
        v.number = n;
        return Error();
      }
      case ConfigType::kBool:
        if (!parse_bool(text, v.flag)) return bad("true or false");
        return Error();
      case ConfigType::kString:
        v.text = std::string(text);
        return Error();
      case ConfigType::kEnum: {
        std::string_view t = trim(text);
        for (std::string_view c : split_choices(k.choices))
          if (t == c) {
            v.text = std::string(c);
            return Error();
          }
        return bad("one of " + join_choices(k.choices));
      }
      case ConfigType::kList:
        v.list = split_list(text);  // items are checked by the rules below
        return Error();
    }
    return Error();
  }

  // --- rules for every client -----------------------------------------------
  Error common() {
    const auto& servers = val("bootstrap.servers");
    if (servers.list.empty())
      return invalid("Configuration property 'bootstrap.servers' is required (host:port[,host:port...])");
    for (const auto& s : servers.list) {
      io::HostPort hp;
      if (!parse_host_port(s, hp))
        return invalid("Invalid value '" + s +
                       "' in configuration property 'bootstrap.servers': expected host:port or [ipv6]:port");
      rc_.bootstrap_.push_back(std::move(hp));
    }
    if (const auto& sp = val("security.protocol").text; sp != "PLAINTEXT")
      return Error(errc::kUnsupportedFeature,
                   "security.protocol=" + sp + " is not supported yet: only PLAINTEXT is implemented");
    rc_.client_id_ = val("client.id").text;
    if (rc_.client_id_.empty()) {
      static std::atomic<int> counters[3];
      int slot = kind_ == ClientKind::kProducer ? 0 : kind_ == ClientKind::kConsumer ? 1 : 2;
      rc_.client_id_ = std::string("kfk-") + client_kind_name(kind_) + "-" + std::to_string(++counters[slot]);
    }
    return Error();
  }

  // --- producer -------------------------------------------------------------
  Error producer() {
    const std::string& acks = val("acks").text;
    rc_.acks_ = (acks == "all" || acks == "-1") ? -1 : static_cast<int16_t>(acks == "1" ? 1 : 0);
    if (Error e = partitioner(); !e.ok()) return e;
    if (Error e = compression(); !e.ok()) return e;
    if (kind_ != ClientKind::kProducer) return Error();
    if (Error e = idempotence(); !e.ok()) return e;
    return delivery_timeout();
  }

  Error idempotence() {
    auto& idem = val("enable.idempotence");
    std::string conflict;
    if (rc_.acks_ != -1)
      conflict = "acks=" + val("acks").text + " (idempotence requires acks=all)";
    else if (val("max.in.flight.requests.per.connection").number > 5)
      conflict = "max.in.flight.requests.per.connection=" +
                 std::to_string(val("max.in.flight.requests.per.connection").number) +
                 " (idempotence requires at most 5)";
    else if (val("retries").number == 0)
      conflict = "retries=0 (idempotence requires retries > 0)";
    if (idem.flag && !conflict.empty()) {
      if (idem.is_explicit)
        return invalid("Configuration property 'enable.idempotence'=true conflicts with " + conflict);
      idem.flag = false;  // Java: a default idempotence yields silently to explicit settings
      rc_.adjustments_.push_back("enable.idempotence disabled: " + conflict +
                                 "; enable.idempotence was not set explicitly");
    }
    if (!val("transactional.id").text.empty() && !idem.flag) {
      std::string why = idem.is_explicit ? "enable.idempotence=false" : conflict;
      return invalid("Configuration property 'transactional.id' requires idempotence, which is off: " + why);
    }
    return Error();
  }

  Error delivery_timeout() {
    auto& dt = val("delivery.timeout.ms");
    int64_t floor = val("linger.ms").number + val("request.timeout.ms").number;
    if (dt.number >= floor) return Error();
    if (dt.is_explicit)
      return invalid("Configuration property 'delivery.timeout.ms'=" + std::to_string(dt.number) +
                     " must be at least 'linger.ms' + 'request.timeout.ms' (" + std::to_string(floor) + ")");
    int64_t raised = std::min<int64_t>(floor, INT32_MAX);
    rc_.adjustments_.push_back("delivery.timeout.ms raised to linger.ms + request.timeout.ms = " +
                               std::to_string(raised));
    dt.number = raised;
    return Error();
  }

  Error partitioner() {
    static constexpr struct {
      const char* word;
      Partitioner p;
    } kWords[] = {
        {"default", Partitioner::kDefault},
        {"murmur2", Partitioner::kMurmur2},
        {"murmur2_random", Partitioner::kMurmur2Random},
        {"consistent", Partitioner::kConsistent},
        {"consistent_random", Partitioner::kConsistentRandom},
        {"fnv1a", Partitioner::kFnv1a},
        {"fnv1a_random", Partitioner::kFnv1aRandom},
        {"random", Partitioner::kRandom},
        {"round_robin", Partitioner::kRoundRobin},
        {"uniform_sticky", Partitioner::kUniformSticky},
    };
    const std::string& name_set = val("partitioner").text;
    bool builtin = false;
    for (const auto& w : kWords) {
      if (name_set == w.word) {
        rc_.partitioner_ = w.p;
        builtin = true;
      }
    }
    if (!builtin) {
      // A partitioner registered by the application (kfk::register_partitioner).
      std::vector<std::string> names = kfk::partitioner_names();
      if (std::find(names.begin(), names.end(), name_set) == names.end()) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        return invalid("Invalid value '" + name_set + "' for configuration property 'partitioner': expected one of " +
                       list + " (or a name registered with kfk::register_partitioner)");
      }
      rc_.partitioner_ = Partitioner::kCustom;
    }
    const auto& cls = val("partitioner.class");
    if (cls.text.empty()) return Error();
    if (val("partitioner").is_explicit)
      return invalid("Configuration properties 'partitioner' and 'partitioner.class' are both set; set one");
    static constexpr struct {
      const char* name;
      Partitioner p;
    } kClasses[] = {
        {"org.apache.kafka.clients.producer.RoundRobinPartitioner", Partitioner::kRoundRobin},
        {"org.apache.kafka.clients.producer.UniformStickyPartitioner", Partitioner::kUniformSticky},
        {"org.apache.kafka.clients.producer.internals.DefaultPartitioner", Partitioner::kDefault},
    };
    std::string_view name = trim(cls.text);
    for (const auto& c : kClasses) {
      std::string_view full(c.name);
      std::string_view simple = full.substr(full.rfind('.') + 1);
      if (name == full || name == simple) {
        rc_.partitioner_ = c.p;
        return Error();
      }
    }
    return invalid("Invalid value '" + cls.text +
                   "' for configuration property 'partitioner.class': expected "
                   "org.apache.kafka.clients.producer.RoundRobinPartitioner, "
                   "org.apache.kafka.clients.producer.UniformStickyPartitioner or "
                   "org.apache.kafka.clients.producer.internals.DefaultPartitioner "
                   "(or use 'partitioner')");
  }

  Error compression() {
    proto::Compression c = proto::Compression::kNone;
    proto::parse_compression(val("compression.type").text, c);
    rc_.compression_ = c;
    if (kind_ == ClientKind::kProducer && !proto::compression_available(c))
      return Error(errc::kUnsupportedFeature,
                   "compression.type=" + val("compression.type").text + " is not available in this build of kfk");
    const auto& level = val("compression.level");
    int per_codec = -1;
    int lo = 0, hi = 0;
    switch (c) {
      case proto::Compression::kGzip: per_codec = static_cast<int>(val("compression.gzip.level").number), lo = 1, hi = 9; break;
      case proto::Compression::kLz4: per_codec = static_cast<int>(val("compression.lz4.level").number), lo = 1, hi = 17; break;
      case proto::Compression::kZstd: per_codec = static_cast<int>(val("compression.zstd.level").number), lo = 1, hi = 22; break;
      default: break;
    }
    rc_.compression_level_ = per_codec;
    if (level.number == -1) {
      lz4_default_is_fast();
      return Error();
    }
    if (hi > 0 && (level.number < lo || level.number > hi))
      return invalid("Invalid value '" + std::to_string(level.number) +
                     "' for configuration property 'compression.level' with compression.type=" +
                     val("compression.type").text + ": expected -1 or an int in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
    rc_.compression_level_ = static_cast<int>(level.number);
    lz4_default_is_fast();
    return Error();
  }

  // The Java client compresses lz4 at its default level (9) with the fast
  // compressor, not LZ4HC (Lz4BlockOutputStream): level 9 means "fast" here
  // too, which is also what librdkafka's default does. Other levels use HC.
  void lz4_default_is_fast() {
    if (rc_.compression_ == proto::Compression::kLz4 && rc_.compression_level_ == 9) rc_.compression_level_ = -1;
  }

  // --- consumer -------------------------------------------------------------
  Error consumer() {
    const std::string& reset = val("auto.offset.reset").text;
    rc_.auto_offset_reset_ = reset == "earliest" ? AutoOffsetReset::kEarliest
                             : reset == "none"   ? AutoOffsetReset::kNone
                                                 : AutoOffsetReset::kLatest;
    rc_.isolation_level_ = val("isolation.level").text == "read_committed" ? IsolationLevel::kReadCommitted
                                                                           : IsolationLevel::kReadUncommitted;
    rc_.group_protocol_ = val("group.protocol").text == "consumer" ? GroupProtocol::kConsumer
                                                                    : GroupProtocol::kClassic;
    if (Error e = assignors(); !e.ok()) return e;
    if (kind_ != ClientKind::kConsumer) return Error();
    bool has_group = !val("group.id").text.empty();
    auto& auto_commit = val("enable.auto.commit");
    if (!has_group && auto_commit.flag) {
      if (auto_commit.is_explicit)
        return invalid("Configuration property 'enable.auto.commit'=true requires 'group.id'");
      auto_commit.flag = false;
      rc_.adjustments_.push_back("enable.auto.commit disabled: no group.id");
    }
    if (!has_group && !val("group.instance.id").text.empty())
      return invalid("Configuration property 'group.instance.id' requires 'group.id'");
    auto& heartbeat = val("heartbeat.interval.ms");
    const auto session = val("session.timeout.ms").number;
    if (heartbeat.number >= session && !heartbeat.is_explicit && session >= 3) {
      // Only session.timeout.ms was set, below the heartbeat default: follow it.
      heartbeat.number = session / 3;
      rc_.adjustments_.push_back("heartbeat.interval.ms lowered to " + std::to_string(heartbeat.number) +
                                 ": a third of session.timeout.ms");
    }
    if (heartbeat.number >= session)
      return invalid("Configuration property 'heartbeat.interval.ms'=" +
                     std::to_string(val("heartbeat.interval.ms").number) + " must be lower than 'session.timeout.ms'=" +
                     std::to_string(val("session.timeout.ms").number));
    return Error();
  }

  Error assignors() {
    static constexpr struct {
      const char* java;
      const char* name;
    } kJava[] = {
        {"RangeAssignor", "range"},
        {"RoundRobinAssignor", "roundrobin"},
        {"StickyAssignor", "sticky"},
        {"CooperativeStickyAssignor", "cooperative-sticky"},
    };
    const auto& v = val("partition.assignment.strategy");
    const char* choices = find_config_key("partition.assignment.strategy")->choices;
    if (v.list.empty())
      return invalid("Configuration property 'partition.assignment.strategy' must name at least one of " +
                     join_choices(choices));
    for (const auto& item : v.list) {
      std::string name;
      for (std::string_view c : split_choices(choices))
        if (item == c) name = std::string(c);
      std::string_view simple = item;
      if (size_t dot = simple.rfind('.'); dot != std::string_view::npos) {
        if (simple.substr(0, dot) != "org.apache.kafka.clients.consumer") simple = {};
        else simple.remove_prefix(dot + 1);
      }
      for (const auto& j : kJava)
        if (simple == j.java) name = j.name;
      if (name.empty() && kfk::assignors::is_registered(item)) name = item;  // kfk::register_assignor
      if (name.empty())
        return invalid("Invalid value '" + item +
                       "' in configuration property 'partition.assignment.strategy': expected " +
                       join_choices(choices) +
                       " (or the Java assignor class names, or a name registered with kfk::register_assignor)");
      bool dup = false;
      for (const auto& a : rc_.assignors_) dup = dup || a == name;
      if (!dup) rc_.assignors_.push_back(std::move(name));
    }
    return Error();
  }

  ClientKind kind_;
  ResolvedConfig& rc_;
};

Error validate(const Config& config, ClientKind kind, ResolvedConfig* out) {
  ResolvedConfig tmp;
  Error e = ConfigResolver(kind, &tmp).run(config);
  if (e.ok()) *out = std::move(tmp);
  return e;
}

}  // namespace kfk::core
