// broker-ref's cluster seam in process, on real storage: the controller
// publishes images, the ReplicaManager follows them (leader, follower,
// not hosted), the partition layer gives Kafka's errors, and the group
// coordinator's state is rebuilt through the coordinator runtime when a
// __consumer_offsets partition is loaded again or the broker restarts.
#include <uv.h>

#include "cluster/local_controller.h"
#include "cluster/metadata_image.h"
#include "group/group_coordinator.h"
#include "replication/replica_manager.h"
#include "storage/log_manager.h"
#include "storage_test_util.h"

using namespace kfk;
using namespace kfk::broker;
using kfk::broker::test::TempDir;
using proto::ErrorCode;

namespace {

std::unique_ptr<LogManager> open_logs(const std::string& dir) {
  LogManagerOptions o;
  o.data_dir = dir;
  o.start_maintenance_thread = false;
  o.log = [](const std::string&) {};
  std::unique_ptr<LogManager> m;
  Status s = LogManager::open(o, &m);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return m;
}

// One node's seam as Broker wires it: image, partitions, controller.
struct Node {
  explicit Node(LogManager& logs, int32_t id = 1) : replicas(id, logs, cache), controller(id, "cluster", logs, cache) {
    controller.set_listener([this](const MetadataImage& image, const std::vector<std::string>& changed) {
      replicas.apply(image, changed);
    });
    controller.start(BrokerEndpoint{id, "localhost", 9092, std::nullopt});
  }
  MetadataCache cache;
  ReplicaManager replicas;
  LocalController controller;
};

std::vector<uint8_t> one_batch() {
  return broker::test::make_batch({broker::test::Rec{"k", "v", 1000}});
}

}  // namespace

TEST_CASE("cluster seam: the controller publishes every topic change and the ReplicaManager follows") {
  TempDir tmp;
  auto logs = open_logs(tmp.sub("data"));
  Node node(*logs);
  const uint64_t v0 = node.cache.image().version();
  REQUIRE(node.controller.create_topic("t", 2, {}, false, nullptr).ok());
  const MetadataImage& img = node.cache.image();
  CHECK(img.version() > v0);
  CHECK(img.controller_id() == 1);
  REQUIRE(img.topic("t") != nullptr);
  CHECK(img.topic_by_id(img.topic("t")->id) == img.topic("t"));
  REQUIRE(img.topic("t")->partitions.size() == 2);
  CHECK(img.partition("t", 1)->leader == 1);
  CHECK(img.partition("t", 1)->isr == std::vector<int32_t>{1});
  CHECK(node.replicas.hosted_count() == 2);

  // validate_only publishes nothing.
  const uint64_t before = node.cache.image().version();
  REQUIRE(node.controller.create_topic("v", 1, {}, true, nullptr).ok());
  CHECK(node.cache.image().version() == before);
  CHECK(node.cache.image().topic("v") == nullptr);

  REQUIRE(node.controller.create_partitions("t", 3, false).ok());
  CHECK(node.cache.image().topic("t")->partitions.size() == 3);
  CHECK(node.replicas.hosted_count() == 3);

  // A snapshot taken before a change keeps answering as it was.
  std::shared_ptr<const MetadataImage> old = node.cache.snapshot();
  REQUIRE(node.controller.delete_topic("t").ok());
  CHECK(old->topic("t") != nullptr);
  CHECK(node.cache.image().topic("t") == nullptr);
  ErrorCode e = ErrorCode::NONE;
  CHECK(node.replicas.hosted("t", 0, &e) == nullptr);
  CHECK(e == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  CHECK(node.replicas.hosted_count() == 0);
  REQUIRE(logs->close().ok());
}

TEST_CASE("cluster seam: leader elsewhere, follower here, not hosted, epoch checks and a new leadership") {
  TempDir tmp;
  auto logs = open_logs(tmp.sub("data"));
  REQUIRE(logs->create_topic("t", 2).ok());
  MetadataCache cache;
  ReplicaManager rm(1, *logs, cache);
  auto publish = [&](uint64_t version, int32_t leader0, int32_t epoch0) {
    auto t = std::make_shared<TopicImage>();
    t->name = std::string("t");  // not = "t": GCC 12 PR 105329 (-Wrestrict)
    t->id = logs->topic("t")->id;
    t->partitions.resize(2);
    t->partitions[0] = PartitionImage{leader0, epoch0, {1, 2}, {1, 2}};
    t->partitions[1] = PartitionImage{2, 5, {2}, {2}};  // not a replica here
    MetadataImage::TopicMap topics{{"t", t}};
    std::vector<BrokerEndpoint> brokers{{1, "h1", 1, std::nullopt}, {2, "h2", 2, std::nullopt}};
    auto image = std::make_shared<const MetadataImage>(version, "c", 2, brokers, topics);
    cache.publish(image);
    rm.apply(*image, {"t"});
  };
  publish(1, 2, 5);

  ErrorCode e = ErrorCode::NONE;
  // Partition 0: a follower here.
  CHECK(rm.leader("t", 0, &e) == nullptr);
  CHECK(e == ErrorCode::NOT_LEADER_OR_FOLLOWER);
  Partition* follower = rm.local("t", 0, 5, false, &e);
  REQUIRE(follower != nullptr);
  CHECK(!follower->is_leader());
  CHECK(follower->leader_id() == 2);
  CHECK(rm.local("t", 0, 4, false, &e) == nullptr);
  CHECK(e == ErrorCode::FENCED_LEADER_EPOCH);
  CHECK(rm.local("t", 0, 6, false, &e) == nullptr);
  CHECK(e == ErrorCode::UNKNOWN_LEADER_EPOCH);
  std::vector<uint8_t> batch = one_batch();
  AppendInfo info;
  CHECK(follower->append_as_leader(batch, 1000, &info).code == ErrorCode::NOT_LEADER_OR_FOLLOWER);
  // Partition 1: in the image, not a replica here.
  CHECK(rm.hosted("t", 1, &e) == nullptr);
  CHECK(e == ErrorCode::NOT_LEADER_OR_FOLLOWER);
  CHECK(rm.hosted("t", 2, &e) == nullptr);
  CHECK(e == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  CHECK(rm.hosted("nope", 0, &e) == nullptr);
  CHECK(e == ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
  int64_t low = 0;
  CHECK(rm.delete_records("t", 0, 0, &low).code == ErrorCode::NOT_LEADER_OR_FOLLOWER);

  // This node becomes the leader in epoch 6: appends are stamped with it.
  publish(2, 1, 6);
  Partition* leader = rm.leader("t", 0, &e);
  REQUIRE(leader != nullptr);
  CHECK(leader == follower);  // the same partition, made leader
  CHECK(rm.local("t", 0, 5, true, &e) == nullptr);
  CHECK(e == ErrorCode::FENCED_LEADER_EPOCH);
  batch = one_batch();
  REQUIRE(leader->append_as_leader(batch, 1000, &info).ok());
  CHECK(leader->log().latest_epoch() == std::optional<int32_t>(6));
  CHECK(leader->high_watermark() == 1);
  auto [epoch, end] = leader->end_offset_for_epoch(6);
  CHECK(epoch == 6);
  CHECK(end == 1);
  REQUIRE(logs->close().ok());
}

namespace {

// A group coordinator on its own loop and storage, as Broker builds it.
struct GroupNode {
  explicit GroupNode(const std::string& dir) : logs(open_logs(dir)), node(*logs) {
    REQUIRE(uv_loop_init(&loop) == 0);
    groups = std::make_unique<GroupCoordinator>(&loop, config, node.controller, node.replicas, node.cache,
                                                [](int32_t, size_t) {});
    Status s = groups->load();
    REQUIRE_MESSAGE(s.ok(), s.to_string());
  }
  ~GroupNode() {
    groups->shutdown();
    groups.reset();
    uv_run(&loop, UV_RUN_NOWAIT);  // the runtime's timer handles close
    CHECK(uv_loop_close(&loop) == 0);
    CHECK(logs->close().ok());
  }
  int64_t committed(const std::string& group, int16_t* error) {
    std::vector<OffsetFetchEntry> out;
    *error = groups->fetch_offsets(group, std::nullopt, &out);
    for (const auto& e : out)
      if (e.topic == "t" && e.partition == 0) return e.offset;
    return -1;
  }

  uv_loop_t loop{};
  BrokerConfig config;
  std::unique_ptr<LogManager> logs;
  Node node;
  std::unique_ptr<GroupCoordinator> groups;
};

}  // namespace

TEST_CASE("coordinator runtime: a group's offsets come back when its partition is loaded again and after a restart") {
  TempDir tmp;
  const std::string dir = tmp.sub("data");
  int16_t err = 0;
  {
    GroupNode n(dir);
    REQUIRE(n.node.controller.create_topic("t", 1, {}, false, nullptr).ok());
    std::vector<OffsetCommitEntry> entries{{"t", 0, 42, -1, std::nullopt, 0}};
    n.groups->commit_offsets("g", -1, "", std::nullopt, &entries);
    REQUIRE(entries[0].error == 0);
    CHECK(n.committed("g", &err) == 42);
    CHECK(err == 0);

    // The offsets topic was created through the controller, led here.
    const PartitionImage* p = n.node.cache.image().partition("__consumer_offsets", n.groups->partition_for("g"));
    REQUIRE(p != nullptr);
    CHECK(p->leader == 1);

    CoordinatorRuntime& rt = n.groups->runtime();
    const int32_t partition = n.groups->partition_for("g");
    rt.unload(partition);
    CHECK(rt.state(partition) == CoordinatorRuntime::PartitionState::kUnloaded);
    n.committed("g", &err);
    CHECK(err == proto::to_int(ErrorCode::NOT_COORDINATOR));
    REQUIRE(rt.load(partition).ok());
    CHECK(rt.state(partition) == CoordinatorRuntime::PartitionState::kLoaded);
    CHECK(n.committed("g", &err) == 42);
    CHECK(err == 0);

    entries = {{"t", 0, 43, -1, std::nullopt, 0}};
    n.groups->commit_offsets("g", -1, "", std::nullopt, &entries);
    REQUIRE(entries[0].error == 0);
  }
  GroupNode again(dir);
  CHECK(again.committed("g", &err) == 43);
  CHECK(err == 0);
  CHECK(again.groups->runtime().check(again.groups->partition_for("g")) == ErrorCode::NONE);
}
