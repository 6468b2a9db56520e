// kfk::Admin: manages topics, partitions, offsets, configs and consumer
// group offsets of a Kafka cluster (the Java AdminClient's role).
//
//   kfk::Config config{{"bootstrap.servers", "localhost:9092"}};
//   std::unique_ptr<kfk::Admin> admin;
//   kfk::Error err = kfk::Admin::create(config, &admin);
//   if (!err.ok()) { std::cerr << err.to_string() << "\n"; return 1; }  // names the bad key
//
//   kfk::CreateTopicsResult created;
//   err = admin->create_topics({kfk::NewTopic{"orders", 6, 3, {{"retention.ms", "86400000"}}}}, &created);
//   if (!err.ok()) ...                       // transport failure or timeout
//   for (const auto& [topic, r] : created.topics)
//     if (!r.error.ok()) std::cerr << topic << ": " << r.error.to_string() << "\n";  // e.g. TOPIC_ALREADY_EXISTS
//
// Every call:
//   - is synchronous: the work runs on the admin client's network thread and
//     the caller blocks until every item has an answer or the timeout passes.
//     Any number of threads may call at once;
//   - takes an options struct whose `timeout` defaults to
//     default.api.timeout.ms (see kfk/config.h);
//   - returns an overall kfk::Error that is not ok() only when the call as a
//     whole failed: errc::kTimedOut (the timeout passed before every item was
//     answered; items answered before keep their results, the others carry
//     errc::kTimedOut too), errc::kInvalidArgument (the request itself is
//     malformed, e.g. a duplicate name), errc::kDestroyed (the client was
//     closed), errc::kUnsupportedFeature / errc::kNoCommonApiVersion (the
//     brokers lack the API, or every version of it kfk speaks);
//   - fills a result with one Error per topic, partition or resource, as the
//     broker answered (TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC_OR_PARTITION,
//     INVALID_PARTITIONS, ...).
// Retriable failures (a connection lost, NOT_CONTROLLER,
// NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT, ...) are
// retried with exponential backoff (retry.backoff.ms up to
// retry.backoff.max.ms) after refreshing the metadata, until the timeout
// (or `retries` retries: the call then ends with the last error, overall
// and for the items still unanswered), as the Java AdminClient does. CreateTopics, DeleteTopics and
// CreatePartitions go to the controller (any broker when the metadata names
// none: brokers forward them, KIP-590); ListOffsets and DeleteRecords to each
// partition's leader; broker configs to that broker; group calls to the
// group's coordinator (list_consumer_groups asks every broker).
//
// Closing: close() (or the destructor) fails calls in progress with
// errc::kDestroyed and stops the network thread; later calls fail with
// errc::kDestroyed.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kfk/config.h"
#include "kfk/error.h"
#include "kfk/topic_partition.h"

namespace kfk {

// A topic id (KIP-516): 16 bytes, zero when the broker does not say.
struct KFK_EXPORT TopicId {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const;
  // As Kafka prints it: URL-safe base64 without padding (22 characters);
  // "AAAAAAAAAAAAAAAAAAAAAA" for zero.
  std::string to_string() const;
  friend bool operator==(const TopicId&, const TopicId&) = default;
};

// The options every call takes.
struct AdminCallOptions {
  // How long the call may take in all (retries included). Negative: the
  // client's default.api.timeout.ms (default 60000).
  std::chrono::milliseconds timeout{-1};
};

// --- Topics -------------------------------------------------------------------

// Every member has a default, so the documented aggregate form
// NewTopic{"orders", 6, 3, {...}} compiles cleanly under -Wextra.
struct NewTopic {
  std::string name = {};
  // -1: the broker's num.partitions.
  int32_t partitions = -1;
  // -1: the broker's default.replication.factor.
  int16_t replication_factor = -1;
  // Topic configs, e.g. {"cleanup.policy", "compact"}.
  std::map<std::string, std::string> configs = {};
  // Explicit replica assignment, partition -> broker ids (the first is the
  // preferred leader). When not empty, partitions and replication_factor
  // must stay -1 (the broker rejects the mix with INVALID_REQUEST).
  std::map<int32_t, std::vector<int32_t>> replica_assignment = {};
};

struct CreateTopicsOptions : AdminCallOptions {
  // Only check that the topics could be created (the broker validates names,
  // counts and configs) without creating them.
  bool validate_only = false;
};

struct CreatedTopic {
  Error error;  // TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, ...
  TopicId topic_id;                // zero before CreateTopics v7
  int32_t partitions = -1;         // as created; -1 before CreateTopics v5
  int16_t replication_factor = -1; // as created; -1 before CreateTopics v5
};

struct CreateTopicsResult {
  std::map<std::string, CreatedTopic> topics;  // one entry per requested topic
};

struct DeleteTopicsOptions : AdminCallOptions {};

struct DeleteTopicsResult {
  std::map<std::string, Error> topics;  // UNKNOWN_TOPIC_OR_PARTITION, ...
};

struct CreatePartitionsOptions : AdminCallOptions {
  bool validate_only = false;
};

struct NewPartitions {
  // The new total number of partitions (must exceed the current count).
  int32_t total_count = 0;
  // Optional broker ids of each new partition (total_count - current
  // entries); empty: the broker places them.
  std::vector<std::vector<int32_t>> assignments;
};

struct CreatePartitionsResult {
  std::map<std::string, Error> topics;  // INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, ...
};

struct DescribeTopicsOptions : AdminCallOptions {};

struct PartitionDescription {
  int32_t partition = -1;
  int32_t leader = -1;  // broker id; -1 when the partition has no leader now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  Error error;  // e.g. LEADER_NOT_AVAILABLE
};

struct TopicDescription {
  std::string name;
  Error error;  // UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, ...
  TopicId topic_id;
  bool internal = false;  // __consumer_offsets, __transaction_state
  std::vector<PartitionDescription> partitions;  // sorted by partition
};

struct DescribeTopicsResult {
  std::map<std::string, TopicDescription> topics;  // one entry per requested topic
};

struct ListTopicsOptions : AdminCallOptions {
  // Include internal topics (__consumer_offsets, ...).
  bool include_internal = false;
};

struct TopicListing {
  std::string name;
  TopicId topic_id;
  bool internal = false;
  int32_t partitions = 0;
};

struct ListTopicsResult {
  std::vector<TopicListing> topics;  // sorted by name
};

// --- Cluster ------------------------------------------------------------------

struct DescribeClusterOptions : AdminCallOptions {};

struct BrokerNode {
  int32_t id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct ClusterDescription {
  std::optional<std::string> cluster_id;  // nullopt when the broker does not say
  int32_t controller_id = -1;             // -1 when unknown
  std::vector<BrokerNode> brokers;        // sorted by id
};

// --- Offsets and records -------------------------------------------------------

// Which offset list_offsets() looks up.
struct OffsetSpec {
  // Kafka's special timestamps (ListOffsets).
  static constexpr int64_t kLatest = -1;
  static constexpr int64_t kEarliest = -2;
  static constexpr int64_t kMaxTimestamp = -3;  // KIP-734, ListOffsets v7+

  static OffsetSpec earliest() { return OffsetSpec{kEarliest}; }
  static OffsetSpec latest() { return OffsetSpec{kLatest}; }
  // The offset and timestamp of the record with the highest timestamp.
  static OffsetSpec max_timestamp() { return OffsetSpec{kMaxTimestamp}; }
  // The earliest offset whose timestamp is >= `timestamp_ms` (offset -1 when
  // there is none).
  static OffsetSpec for_timestamp(int64_t timestamp_ms) { return OffsetSpec{timestamp_ms}; }

  int64_t timestamp = kLatest;
};

struct ListOffsetsOptions : AdminCallOptions {
  // read_committed: "latest" is the last stable offset, not the high
  // watermark.
  bool read_committed = false;
};

struct ListedOffset {
  Error error;             // UNKNOWN_TOPIC_OR_PARTITION, NO_COMMON_API_VERSION (max_timestamp on an old broker), ...
  int64_t offset = -1;     // -1: no such offset (a timestamp after the last record)
  int64_t timestamp = -1;  // the record's timestamp (timestamp lookups); -1 otherwise
  int32_t leader_epoch = -1;
};

struct ListOffsetsResult {
  std::map<TopicPartition, ListedOffset> partitions;  // one entry per requested partition
};

struct DeleteRecordsOptions : AdminCallOptions {};

struct DeletedRecords {
  Error error;                 // OFFSET_OUT_OF_RANGE, UNKNOWN_TOPIC_OR_PARTITION, ...
  int64_t low_watermark = -1;  // the partition's new log start offset
};

struct DeleteRecordsResult {
  std::map<TopicPartition, DeletedRecords> partitions;
};

// For delete_records(): delete up to the high watermark, i.e. every record
// written so far (Kafka's -1).
inline constexpr int64_t kDeleteAllRecords = -1;

// --- Configs ------------------------------------------------------------------

struct KFK_EXPORT ConfigResource {
  // Kafka's resource type codes.
  enum class Type : int8_t { kTopic = 2, kBroker = 4, kBrokerLogger = 8 };
  Type type = Type::kTopic;
  // A topic name, or a broker id in decimal ("1"); "" for the cluster-wide
  // default broker config.
  std::string name;

  friend auto operator<=>(const ConfigResource&, const ConfigResource&) = default;
  friend bool operator==(const ConfigResource&, const ConfigResource&) = default;
  std::string to_string() const;  // "topic:orders", "broker:1"
};

// Where a config value comes from (Kafka's ConfigSource).
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
  kDynamicBrokerLogger = 6,
};

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::kUnknown;
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt for sensitive or unset values
  ConfigSource source = ConfigSource::kUnknown;
  bool read_only = false;
  bool sensitive = false;
  bool is_default() const { return source == ConfigSource::kDefault; }
  std::vector<ConfigSynonym> synonyms;  // with DescribeConfigsOptions::include_synonyms
  // Kafka's ConfigType (1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG,
  // 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD); 0 when unknown.
  int8_t type = 0;
  std::optional<std::string> documentation;  // with include_documentation
};

struct DescribeConfigsOptions : AdminCallOptions {
  bool include_synonyms = false;
  bool include_documentation = false;
};

struct KFK_EXPORT ResourceConfig {
  Error error;  // UNKNOWN_TOPIC_OR_PARTITION, ...
  std::vector<ConfigEntry> entries;  // sorted by name
  const ConfigEntry* find(const std::string& name) const;
};

struct DescribeConfigsResult {
  std::map<ConfigResource, ResourceConfig> resources;
};

// One change of IncrementalAlterConfigs (KIP-339).
struct AlterConfigOp {
  enum class Type : int8_t {
    kSet = 0,       // set `value`
    kDelete = 1,    // revert to the default (value ignored)
    kAppend = 2,    // add `value`'s items to a list config
    kSubtract = 3,  // remove `value`'s items from a list config
  };
  Type op = Type::kSet;
  std::string name;
  std::string value;
};

struct AlterConfigsOptions : AdminCallOptions {
  bool validate_only = false;
};

struct AlterConfigsResult {
  std::map<ConfigResource, Error> resources;  // INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION, ...
};

// --- Consumer groups ------------------------------------------------------------
// Sent to the group's coordinator (found with FindCoordinator; a coordinator
// that moved or is loading, NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE /
// COORDINATOR_LOAD_IN_PROGRESS, is looked up again and retried).

// OffsetAndMetadata (offset, metadata, leader epoch): kfk/topic_partition.h.

struct ListConsumerGroupOffsetsOptions : AdminCallOptions {
  // Wait for pending transactional offset commits to settle (KIP-447,
  // OffsetFetch v7+) instead of answering UNSTABLE_OFFSET_COMMIT.
  bool require_stable = false;
};

struct CommittedOffset {
  Error error;  // UNSTABLE_OFFSET_COMMIT, UNKNOWN_TOPIC_OR_PARTITION, ...
  int64_t offset = -1;  // -1: nothing committed
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct ListConsumerGroupOffsetsResult {
  Error error;  // group-level: GROUP_AUTHORIZATION_FAILED, GROUP_ID_NOT_FOUND, ...
  std::map<TopicPartition, CommittedOffset> partitions;
};

struct AlterConsumerGroupOffsetsOptions : AdminCallOptions {};

struct AlterConsumerGroupOffsetsResult {
  Error error;  // group-level: GROUP_AUTHORIZATION_FAILED, ...
  // Per partition: UNKNOWN_MEMBER_ID (the group has active members: stop
  // them first), OFFSET_METADATA_TOO_LARGE, ...
  std::map<TopicPartition, Error> partitions;
};

struct ListConsumerGroupsOptions : AdminCallOptions {
  // Only groups in these states (Kafka's names: "Stable", "Empty",
  // "PreparingRebalance", "CompletingRebalance", "Dead"); empty: all.
  // Sent to brokers that know ListGroups v4; older brokers' groups are
  // filtered here by the state they report (none before v4: kept out).
  std::vector<std::string> states;
};

struct ConsumerGroupListing {
  std::string group_id;
  std::string protocol_type;         // "consumer" for consumer groups; "" for groups that only commit offsets
  std::optional<std::string> state;  // nullopt before ListGroups v4
  int32_t coordinator = -1;          // the broker that answered for it
};

struct ListConsumerGroupsResult {
  std::vector<ConsumerGroupListing> groups;  // sorted by group id
  // Brokers that could not be asked (COORDINATOR_LOAD_IN_PROGRESS for the
  // whole timeout, a lost connection, ...): their groups are missing.
  std::map<int32_t, Error> broker_errors;
};

struct DescribeConsumerGroupsOptions : AdminCallOptions {};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static members (KIP-345)
  std::string client_id;
  std::string host;                              // as the broker saw it, e.g. "/127.0.0.1"
  std::vector<TopicPartition> assignment;        // decoded ConsumerProtocolAssignment, sorted
};

struct ConsumerGroupDescription {
  Error error;  // GROUP_AUTHORIZATION_FAILED, ...; a group that does not exist is ok() with state "Dead"
  std::string group_id;
  std::string state;          // "Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead"
  std::string protocol_type;  // "consumer"
  std::string assignor;       // the protocol chosen, e.g. "range", "cooperative-sticky"
  int32_t coordinator = -1;
  std::vector<MemberDescription> members;  // sorted by member id
};

struct DescribeConsumerGroupsResult {
  std::map<std::string, ConsumerGroupDescription> groups;  // one entry per requested group
};

struct DeleteConsumerGroupsOptions : AdminCallOptions {};

struct DeleteConsumerGroupsResult {
  // Per group: NON_EMPTY_GROUP (it has active members), GROUP_ID_NOT_FOUND, ...
  std::map<std::string, Error> groups;
};

struct DeleteConsumerGroupOffsetsOptions : AdminCallOptions {};

struct DeleteConsumerGroupOffsetsResult {
  Error error;  // group-level: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP (subscribed to a topic asked for), ...
  // Per partition: GROUP_SUBSCRIBED_TO_TOPIC (a member consumes it), ...
  std::map<TopicPartition, Error> partitions;
};

// -----------------------------------------------------------------------------

class KFK_EXPORT Admin {
 public:
  // Validates `config` (errc::kInvalidClientConfig naming the key, see
  // kfk/config.h; producer- and consumer-only keys are accepted and
  // ignored), starts the network thread and begins bootstrapping. Does not
  // wait for the cluster.
  static Error create(const Config& config, std::unique_ptr<Admin>* out);

  virtual ~Admin() = default;  // close()

  // Creates topics (sent to the controller). Per topic: TOPIC_ALREADY_EXISTS,
  // INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG,
  // INVALID_TOPIC_EXCEPTION, POLICY_VIOLATION, ...
  // Overall errc::kInvalidArgument for an empty list entry name or a name
  // given twice.
  virtual Error create_topics(const std::vector<NewTopic>& topics, CreateTopicsResult* out,
                              const CreateTopicsOptions& options = {}) = 0;

  // Deletes topics by name (sent to the controller). Per topic:
  // UNKNOWN_TOPIC_OR_PARTITION, TOPIC_DELETION_DISABLED, ...
  virtual Error delete_topics(const std::vector<std::string>& topics, DeleteTopicsResult* out,
                              const DeleteTopicsOptions& options = {}) = 0;

  // Raises topics' partition counts (sent to the controller). Per topic:
  // INVALID_PARTITIONS (not more than now), UNKNOWN_TOPIC_OR_PARTITION, ...
  virtual Error create_partitions(const std::map<std::string, NewPartitions>& topics, CreatePartitionsResult* out,
                                  const CreatePartitionsOptions& options = {}) = 0;

  // Brokers, controller and cluster id.
  virtual Error describe_cluster(ClusterDescription* out, const DescribeClusterOptions& options = {}) = 0;

  // Partitions, leaders, replicas and ISR of the named topics. Per topic:
  // UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, ...
  virtual Error describe_topics(const std::vector<std::string>& topics, DescribeTopicsResult* out,
                                const DescribeTopicsOptions& options = {}) = 0;

  // Every topic of the cluster (the internal ones only when asked).
  virtual Error list_topics(ListTopicsResult* out, const ListTopicsOptions& options = {}) = 0;

  // Offsets by spec, per partition (sent to each partition's leader).
  // Per partition: UNKNOWN_TOPIC_OR_PARTITION (no such topic or partition),
  // NO_COMMON_API_VERSION (max_timestamp needs ListOffsets v7), ...
  virtual Error list_offsets(const std::map<TopicPartition, OffsetSpec>& partitions, ListOffsetsResult* out,
                             const ListOffsetsOptions& options = {}) = 0;

  // Deletes the records before the given offset of each partition (sent to
  // each leader); kDeleteAllRecords for everything up to the high watermark.
  // Per partition: OFFSET_OUT_OF_RANGE (beyond the high watermark),
  // UNKNOWN_TOPIC_OR_PARTITION, ...
  virtual Error delete_records(const std::map<TopicPartition, int64_t>& before_offsets, DeleteRecordsResult* out,
                               const DeleteRecordsOptions& options = {}) = 0;

  // The configs of topics and brokers (a broker's own configs are asked of
  // that broker). Per resource: UNKNOWN_TOPIC_OR_PARTITION, ...
  virtual Error describe_configs(const std::vector<ConfigResource>& resources, DescribeConfigsResult* out,
                                 const DescribeConfigsOptions& options = {}) = 0;

  // Incremental config changes (IncrementalAlterConfigs; broker resources go
  // to that broker). Per resource: INVALID_CONFIG, INVALID_REQUEST,
  // UNKNOWN_TOPIC_OR_PARTITION, ...
  virtual Error incremental_alter_configs(const std::map<ConfigResource, std::vector<AlterConfigOp>>& changes,
                                          AlterConfigsResult* out, const AlterConfigsOptions& options = {}) = 0;

  // The committed offsets of consumer group `group` for `partitions`
  // (empty: every partition the group has offsets for). A partition with
  // no committed offset has offset -1.
  virtual Error list_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                            ListConsumerGroupOffsetsResult* out,
                                            const ListConsumerGroupOffsetsOptions& options = {}) = 0;

  // Commits `offsets` for consumer group `group` (as OffsetCommit from
  // outside the group: it must have no active members).
  virtual Error alter_consumer_group_offsets(const std::string& group,
                                             const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                             AlterConsumerGroupOffsetsResult* out,
                                             const AlterConsumerGroupOffsetsOptions& options = {}) = 0;

  // The groups of every broker (ListGroups to each), optionally only those
  // in some states.
  virtual Error list_consumer_groups(ListConsumerGroupsResult* out, const ListConsumerGroupsOptions& options = {}) = 0;

  // State, assignor and members (with their assignments) of each group,
  // asked of its coordinator. A group unknown to the cluster is described
  // as "Dead" with no members, as Kafka does.
  virtual Error describe_consumer_groups(const std::vector<std::string>& groups, DescribeConsumerGroupsResult* out,
                                         const DescribeConsumerGroupsOptions& options = {}) = 0;

  // Deletes groups and their committed offsets (each at its coordinator).
  // Per group: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, ...
  virtual Error delete_consumer_groups(const std::vector<std::string>& groups, DeleteConsumerGroupsResult* out,
                                       const DeleteConsumerGroupsOptions& options = {}) = 0;

  // Deletes the committed offsets of `group` for `partitions` (OffsetDelete,
  // KIP-496). Per partition: GROUP_SUBSCRIBED_TO_TOPIC, ...
  virtual Error delete_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                              DeleteConsumerGroupOffsetsResult* out,
                                              const DeleteConsumerGroupOffsetsOptions& options = {}) = 0;

  // Fails calls in progress with errc::kDestroyed and stops the network
  // thread. Idempotent; may be called from any thread.
  virtual void close() = 0;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
