// ResolvedConfig: a kfk::Config checked against the registry for one kind of
// client, with every value parsed and every default filled in. Immutable
// after validate(); safe to read from any thread.
//
//   core::ResolvedConfig rc;
//   kfk::Error err = core::validate(config, core::ClientKind::kProducer, &rc);
//   if (!err.ok()) return err;               // names the offending key(s)
//   int64_t linger = rc.get_long("linger.ms");
//   int16_t acks = rc.acks();
//
// Values are the *effective* ones: where a rule adjusts a default (the Java
// client's silent fallbacks), the accessor returns the adjusted value and
// adjustments() says what changed, for the client to log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/core/config_registry.h"
#include "io/host_port.h"
#include "kfk/config.h"
#include "kfk/error.h"
#include "protocol/compression.h"

namespace kfk::core {

// A bootstrap server: "host:port", "[v6addr]:port", "host" (port 9092) and
// an optional "SCHEME://" prefix (io::parse_host_port does the rest). False
// for anything else.
bool parse_host_port(std::string_view text, io::HostPort& out);

enum class Partitioner : uint8_t {
  kDefault,
  kMurmur2,
  kMurmur2Random,
  kConsistent,
  kConsistentRandom,
  kFnv1a,
  kFnv1aRandom,
  kRandom,
  kRoundRobin,
  kUniformSticky,
  kCustom,  // registered with kfk::register_partitioner; see get_string("partitioner")
};
enum class AutoOffsetReset : uint8_t { kLatest, kEarliest, kNone };
enum class IsolationLevel : int8_t { kReadUncommitted = 0, kReadCommitted = 1 };  // wire values
enum class GroupProtocol : uint8_t { kClassic, kConsumer };

class ResolvedConfig {
 public:
  ClientKind kind() const { return kind_; }

  // Typed access by key name. Asking for an unknown key, or with the wrong
  // type (get_int on a long key is allowed and range-checked at validation),
  // is a programming error and aborts.
  int32_t get_int(std::string_view key) const;
  int64_t get_long(std::string_view key) const;  // int or long keys
  bool get_bool(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;  // string or enum keys
  const std::vector<std::string>& get_list(std::string_view key) const;
  // True when the user set the key (rather than it taking its default).
  bool is_explicit(std::string_view key) const;

  // Keys that were set but belong to other kinds of client (accepted and
  // ignored, as the Java client does after a warning).
  const std::vector<std::string>& unused_keys() const { return unused_; }
  // Human-readable notes on defaults the rules changed, e.g.
  // "enable.idempotence disabled: acks=1 (idempotence was not set explicitly)".
  const std::vector<std::string>& adjustments() const { return adjustments_; }

  // --- Derived views --------------------------------------------------------
  const std::vector<io::HostPort>& bootstrap_servers() const { return bootstrap_; }
  // client.id, or a generated "kfk-<kind>-<n>" when empty.
  const std::string& client_id() const { return client_id_; }

  // Producer.
  int16_t acks() const { return acks_; }  // -1, 0 or 1
  bool idempotence() const { return get_bool("enable.idempotence"); }
  proto::Compression compression() const { return compression_; }
  // The level for compression(): compression.level if set, else the
  // per-codec key; -1 for the codec's default.
  int compression_level() const { return compression_level_; }
  Partitioner partitioner() const { return partitioner_; }

  // Consumer.
  AutoOffsetReset auto_offset_reset() const { return auto_offset_reset_; }
  IsolationLevel isolation_level() const { return isolation_level_; }
  GroupProtocol group_protocol() const { return group_protocol_; }
  // Canonical assignor names in preference order: "range", "roundrobin",
  // "sticky", "cooperative-sticky", or a name registered with
  // kfk::register_assignor (checked when the client is created).
  const std::vector<std::string>& assignors() const { return assignors_; }

  // Whether Metadata requests may create topics: always for the producer,
  // allow.auto.create.topics for the consumer, never for the admin client.
  bool allow_auto_topic_creation() const;

 private:
  friend Error validate(const Config&, ClientKind, ResolvedConfig*);
  friend class ConfigResolver;

  struct Value {
    int64_t number = 0;
    bool flag = false;
    std::string text;
    std::vector<std::string> list;
    bool is_explicit = false;
  };
  const Value& value(std::string_view key, const ConfigKeyInfo** info) const;

  ClientKind kind_ = ClientKind::kProducer;
  std::vector<Value> values_;  // indexed like config_registry()
  std::vector<std::string> unused_;
  std::vector<std::string> adjustments_;
  std::vector<io::HostPort> bootstrap_;
  std::string client_id_;
  int16_t acks_ = -1;
  proto::Compression compression_ = proto::Compression::kNone;
  int compression_level_ = -1;
  Partitioner partitioner_ = Partitioner::kDefault;
  AutoOffsetReset auto_offset_reset_ = AutoOffsetReset::kLatest;
  IsolationLevel isolation_level_ = IsolationLevel::kReadUncommitted;
  GroupProtocol group_protocol_ = GroupProtocol::kClassic;
  std::vector<std::string> assignors_;
};

// Checks `config` for a client of kind `kind` and fills `*out`.
// Errors (errc::kInvalidClientConfig unless noted), each naming the key(s):
//   - unknown key (with a "did you mean" suggestion when one is close);
//   - a value that does not parse, is out of range or is not an accepted
//     word (the message lists the range or the words);
//   - conflicting keys (enable.idempotence=true with acks != all,
//     max.in.flight.requests.per.connection > 5 or retries=0;
//     transactional.id without idempotence; enable.auto.commit=true without
//     group.id; heartbeat.interval.ms >= session.timeout.ms; explicit
//     delivery.timeout.ms < linger.ms + request.timeout.ms; both
//     partitioner and partitioner.class);
//   - errc::kUnsupportedFeature: security.protocol other than PLAINTEXT, a
//     compression.type this build lacks.
Error validate(const Config& config, ClientKind kind, ResolvedConfig* out);

}  // namespace kfk::core
