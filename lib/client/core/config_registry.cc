// The one table of configuration keys. Keep include/kfk/config.h in step:
// test/client/core/test_config_doc.cc checks that it documents exactly
// these keys with these defaults.
#include "client/core/config_registry.h"

#include <climits>

namespace kfk::core {
namespace {

constexpr int64_t kI32Max = INT32_MAX;
constexpr int64_t kI64Max = INT64_MAX;
constexpr uint8_t P = kProducerOnly, C = kConsumerOnly, A = kAdminOnly, ALL = kAllClients;
using T = ConfigType;

// name, type, default, min, max, choices, clients, doc
constexpr ConfigKeyInfo kKeys[] = {
    // --- common -------------------------------------------------------------
    {"bootstrap.servers", T::kList, "", 0, 0, nullptr, ALL, "host:port list to discover the cluster"},
    {"client.id", T::kString, "", 0, 0, nullptr, ALL, "client id sent with every request"},
    {"request.timeout.ms", T::kInt, "30000", 0, kI32Max, nullptr, ALL, "time to wait for a response"},
    {"metadata.max.age.ms", T::kLong, "300000", 0, kI64Max, nullptr, ALL, "periodic metadata refresh"},
    {"reconnect.backoff.ms", T::kLong, "50", 0, kI64Max, nullptr, ALL, "initial reconnect backoff"},
    {"reconnect.backoff.max.ms", T::kLong, "1000", 0, kI64Max, nullptr, ALL, "maximum reconnect backoff"},
    {"retry.backoff.ms", T::kLong, "100", 0, kI64Max, nullptr, ALL, "initial retry backoff"},
    {"retry.backoff.max.ms", T::kLong, "1000", 0, kI64Max, nullptr, ALL, "maximum retry backoff"},
    {"connections.max.idle.ms", T::kLong, "540000", 0, kI64Max, nullptr, ALL, "close idle connections"},
    {"socket.connection.setup.timeout.ms", T::kLong, "10000", 0, kI64Max, nullptr, ALL,
     "initial connection setup timeout"},
    {"socket.connection.setup.timeout.max.ms", T::kLong, "30000", 0, kI64Max, nullptr, ALL,
     "maximum connection setup timeout"},
    {"socket.send.buffer.bytes", T::kInt, "-1", -1, kI32Max, nullptr, ALL, "SO_SNDBUF, -1 = OS default"},
    {"socket.receive.buffer.bytes", T::kInt, "-1", -1, kI32Max, nullptr, ALL, "SO_RCVBUF, -1 = OS default"},
    {"security.protocol", T::kEnum, "PLAINTEXT", 0, 0, "PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL", ALL,
     "transport security (PLAINTEXT only for now)"},
    {"retries", T::kInt, "2147483647", 0, kI32Max, nullptr, P | A, "retries of retriable failures"},
    {"default.api.timeout.ms", T::kInt, "60000", 0, kI32Max, nullptr, C | A, "timeout of blocking calls"},
    // --- producer -----------------------------------------------------------
    {"acks", T::kEnum, "all", 0, 0, "all|-1|0|1", P, "acknowledgements required"},
    {"enable.idempotence", T::kBool, "true", 0, 0, nullptr, P, "idempotent producer"},
    {"batch.size", T::kInt, "16384", 0, kI32Max, nullptr, P, "max batch bytes per partition"},
    {"linger.ms", T::kLong, "5", 0, kI64Max, nullptr, P, "batching delay"},
    {"buffer.memory", T::kLong, "33554432", 0, kI64Max, nullptr, P, "max buffered record bytes"},
    {"max.block.ms", T::kLong, "60000", 0, kI64Max, nullptr, P, "max time send() blocks"},
    {"max.request.size", T::kInt, "1048576", 0, kI32Max, nullptr, P, "max produce request bytes"},
    {"compression.type", T::kEnum, "none", 0, 0, "none|gzip|snappy|lz4|zstd", P, "batch codec"},
    {"compression.level", T::kInt, "-1", -1, 22, nullptr, P, "level of the chosen codec, -1 = per-codec key"},
    {"compression.gzip.level", T::kInt, "-1", -1, 9, nullptr, P, "gzip level (-1 or 1..9)"},
    {"compression.lz4.level", T::kInt, "9", 1, 17, nullptr, P, "lz4 level"},
    {"compression.zstd.level", T::kInt, "3", -131072, 22, nullptr, P, "zstd level"},
    {"max.in.flight.requests.per.connection", T::kInt, "5", 1, kI32Max, nullptr, P,
     "unanswered requests per connection"},
    {"delivery.timeout.ms", T::kInt, "120000", 0, kI32Max, nullptr, P, "bound on send-to-report time"},
    // A string, not an enum: names registered with kfk::register_partitioner
    // are valid too (checked in config_validate.cc).
    {"partitioner", T::kString, "default", 0, 0, nullptr, P, "partitioner for records without a partition"},
    {"partitioner.class", T::kString, "", 0, 0, nullptr, P, "Java partitioner class name (compatibility)"},
    {"partitioner.ignore.keys", T::kBool, "false", 0, 0, nullptr, P, "default partitioner ignores keys"},
    {"partitioner.adaptive.partitioning.enable", T::kBool, "true", 0, 0, nullptr, P,
     "favour faster brokers for keyless records"},
    {"partitioner.availability.timeout.ms", T::kLong, "0", 0, kI64Max, nullptr, P,
     "exclude brokers idle this long (0: off)"},
    {"metadata.max.idle.ms", T::kLong, "300000", 5000, kI64Max, nullptr, P, "drop unused topics after"},
    {"transactional.id", T::kString, "", 0, 0, nullptr, P, "enables transactions"},
    {"transaction.timeout.ms", T::kInt, "60000", 1, kI32Max, nullptr, P, "transaction timeout"},
    // --- consumer -----------------------------------------------------------
    {"group.id", T::kString, "", 0, 0, nullptr, C, "consumer group"},
    {"group.instance.id", T::kString, "", 0, 0, nullptr, C, "static membership id"},
    {"group.protocol", T::kEnum, "classic", 0, 0, "classic|consumer", C, "rebalance protocol"},
    {"enable.auto.commit", T::kBool, "true", 0, 0, nullptr, C, "background offset commits"},
    {"auto.commit.interval.ms", T::kInt, "5000", 0, kI32Max, nullptr, C, "auto commit interval"},
    {"auto.offset.reset", T::kEnum, "latest", 0, 0, "latest|earliest|none", C, "start without committed offset"},
    {"fetch.min.bytes", T::kInt, "1", 0, kI32Max, nullptr, C, "min bytes per fetch answer"},
    {"fetch.max.bytes", T::kInt, "52428800", 0, kI32Max, nullptr, C, "max bytes per fetch"},
    {"fetch.max.wait.ms", T::kInt, "500", 0, kI32Max, nullptr, C, "max broker wait per fetch"},
    {"max.partition.fetch.bytes", T::kInt, "1048576", 0, kI32Max, nullptr, C, "max bytes per partition"},
    {"max.poll.records", T::kInt, "500", 1, kI32Max, nullptr, C, "max records per poll"},
    {"max.poll.interval.ms", T::kInt, "300000", 1, kI32Max, nullptr, C, "max time between polls"},
    {"session.timeout.ms", T::kInt, "45000", 1, kI32Max, nullptr, C, "group session timeout"},
    {"heartbeat.interval.ms", T::kInt, "500", 1, kI32Max, nullptr, C, "heartbeat period"},
    {"partition.assignment.strategy", T::kList, "range,cooperative-sticky", 0, 0,
     "range|roundrobin|sticky|cooperative-sticky", C, "assignors in preference order"},
    {"isolation.level", T::kEnum, "read_uncommitted", 0, 0, "read_uncommitted|read_committed", C,
     "transactional visibility"},
    {"check.crcs", T::kBool, "true", 0, 0, nullptr, C, "verify batch CRCs"},
    {"client.rack", T::kString, "", 0, 0, nullptr, C, "rack for follower fetching"},
    {"allow.auto.create.topics", T::kBool, "true", 0, 0, nullptr, C, "metadata may create topics"},
    {"exclude.internal.topics", T::kBool, "true", 0, 0, nullptr, C, "patterns skip internal topics"},
    {"enable.partition.eof", T::kBool, "false", 0, 0, nullptr, C, "report partition EOF"},
};

}  // namespace

const char* client_kind_name(ClientKind k) {
  switch (k) {
    case ClientKind::kProducer: return "producer";
    case ClientKind::kConsumer: return "consumer";
    case ClientKind::kAdmin: return "admin";
  }
  return "client";
}

const char* config_type_name(ConfigType t) {
  switch (t) {
    case ConfigType::kInt: return "int";
    case ConfigType::kLong: return "long";
    case ConfigType::kBool: return "bool";
    case ConfigType::kString: return "string";
    case ConfigType::kList: return "list";
    case ConfigType::kEnum: return "enum";
  }
  return "?";
}

std::span<const ConfigKeyInfo> config_registry() { return kKeys; }

const ConfigKeyInfo* find_config_key(std::string_view name) {
  for (const auto& k : kKeys)
    if (name == k.name) return &k;
  return nullptr;
}

size_t config_key_index(const ConfigKeyInfo* info) { return static_cast<size_t>(info - kKeys); }

}  // namespace kfk::core
