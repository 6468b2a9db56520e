// broker-ref's cluster seam: handlers answer leaders, leader epochs,
// replicas, ISR and the controller from the metadata image, and the
// partition layer checks a request's current leader epoch as Kafka does
// (older: FENCED_LEADER_EPOCH, newer: UNKNOWN_LEADER_EPOCH). A single node
// never changes its epochs, so the data directory is seeded as one a
// Kafka node leaves behind after leadership changes: a partition whose
// log was written under leader epoch 3.
#include <filesystem>

#include "storage/log_manager.h"
#include "storage_test_util.h"
#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;
using kfk::broker::test::TempDir;
using proto::ErrorCode;

namespace {

constexpr int32_t kSeededEpoch = 3;

int16_t ec(ErrorCode e) { return proto::to_int(e); }

// Writes topic "t" (2 partitions) into `dir`: partition 0 has 2 records
// appended under leader epoch kSeededEpoch, partition 1 is empty.
void seed_data_dir(const std::string& dir) {
  broker::LogManagerOptions o;
  o.data_dir = dir;
  o.start_maintenance_thread = false;
  o.log = [](const std::string&) {};
  std::unique_ptr<broker::LogManager> m;
  REQUIRE(broker::LogManager::open(o, &m).ok());
  REQUIRE(m->create_topic("t", 2).ok());
  std::vector<uint8_t> batch = simple_batch(2, "seed");
  broker::AppendInfo info;
  REQUIRE(m->log("t", 0)->append(batch, kSeededEpoch, 1000, &info).ok());
  REQUIRE(m->close().ok());
}

proto::FetchResponse::PartitionData fetch(RawConn& c, int32_t partition, int64_t offset, int32_t current_epoch) {
  proto::FetchRequest req = fetch_request("t", partition, offset);
  req.topics[0].partitions[0].current_leader_epoch = current_epoch;
  auto f = c.call<proto::FetchResponse>(req, 12);
  REQUIRE(f.responses.size() == 1);
  REQUIRE(f.responses[0].partitions.size() == 1);
  return f.responses[0].partitions[0];
}

proto::ListOffsetsResponse::ListOffsetsPartitionResponse list_latest(RawConn& c, int32_t current_epoch) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  req.topics.resize(1);
  req.topics[0].name = "t";
  req.topics[0].partitions.resize(1);
  req.topics[0].partitions[0].partition_index = 0;
  req.topics[0].partitions[0].current_leader_epoch = current_epoch;
  req.topics[0].partitions[0].timestamp = -1;
  auto r = c.call<proto::ListOffsetsResponse>(req, 7);
  REQUIRE(r.topics.size() == 1);
  REQUIRE(r.topics[0].partitions.size() == 1);
  return r.topics[0].partitions[0];
}

proto::OffsetForLeaderEpochResponse::EpochEndOffset epoch_end(RawConn& c, int32_t current_epoch, int32_t epoch) {
  proto::OffsetForLeaderEpochRequest req;
  req.replica_id = -1;  // a consumer: this node must lead the partition
  req.topics.resize(1);
  req.topics[0].topic = "t";
  req.topics[0].partitions.resize(1);
  req.topics[0].partitions[0].partition = 0;
  req.topics[0].partitions[0].current_leader_epoch = current_epoch;
  req.topics[0].partitions[0].leader_epoch = epoch;
  auto r = c.call<proto::OffsetForLeaderEpochResponse>(req, 4);
  REQUIRE(r.topics.size() == 1);
  REQUIRE(r.topics[0].partitions.size() == 1);
  return r.topics[0].partitions[0];
}

// The partition leader epoch stamped in the batch at `offset`.
int32_t stamped_epoch(RawConn& c, int32_t partition, int64_t offset) {
  auto p = fetch(c, partition, offset, -1);
  REQUIRE(p.error_code == 0);
  std::vector<proto::BatchSpan> spans;
  size_t tail = 0;
  REQUIRE(proto::split_batches({p.records.data(), p.records.size()}, spans, nullptr, &tail));
  REQUIRE(!spans.empty());
  return spans[0].header.partition_leader_epoch;
}

}  // namespace

TEST_CASE("leader epoch: Metadata answers each partition's epoch from the image, not a constant") {
  TempDir tmp;
  seed_data_dir(tmp.sub("data"));
  auto broker = start_broker({}, tmp.sub("data"));
  RawConn c(broker->port());
  auto md = c.call<proto::MetadataResponse>(metadata_request({"t"}, false), 12);
  CHECK(md.controller_id == 1);
  REQUIRE(md.brokers.size() == 1);
  CHECK(md.brokers[0].node_id == 1);
  CHECK(md.brokers[0].port == broker->port());
  REQUIRE(md.topics.size() == 1);
  REQUIRE(md.topics[0].error_code == 0);
  REQUIRE(md.topics[0].partitions.size() == 2);
  const auto& p0 = md.topics[0].partitions[0];
  CHECK(p0.leader_id == 1);
  CHECK(p0.leader_epoch == kSeededEpoch);
  CHECK(p0.replica_nodes == std::vector<int32_t>{1});
  CHECK(p0.isr_nodes == std::vector<int32_t>{1});
  CHECK(md.topics[0].partitions[1].leader_epoch == 0);  // empty log: KRaft's first epoch

  // A topic created while running starts at epoch 0 and is in the next
  // image at once (Metadata, then Fetch by its id).
  ensure_topic(c, "fresh");
  md = c.call<proto::MetadataResponse>(metadata_request({"fresh"}, false), 12);
  REQUIRE(md.topics.size() == 1);
  CHECK(md.topics[0].partitions[0].leader_epoch == 0);
  CHECK(!md.topics[0].topic_id.is_zero());
}

TEST_CASE("leader epoch: Fetch, ListOffsets and OffsetForLeaderEpoch fence an older epoch and refuse a newer one") {
  TempDir tmp;
  seed_data_dir(tmp.sub("data"));
  auto broker = start_broker({}, tmp.sub("data"));
  RawConn c(broker->port());

  CHECK(fetch(c, 0, 0, kSeededEpoch - 1).error_code == ec(ErrorCode::FENCED_LEADER_EPOCH));
  CHECK(fetch(c, 0, 0, kSeededEpoch + 1).error_code == ec(ErrorCode::UNKNOWN_LEADER_EPOCH));
  auto ok = fetch(c, 0, 0, kSeededEpoch);
  CHECK(ok.error_code == 0);
  CHECK(decode_records({ok.records.data(), ok.records.size()}).size() == 2);
  CHECK(fetch(c, 0, 0, -1).error_code == 0);  // no epoch given: unchecked
  // Partition 1 is at epoch 0: the same epoch is fenced there only if older.
  CHECK(fetch(c, 1, 0, 0).error_code == 0);
  CHECK(fetch(c, 1, 0, 1).error_code == ec(ErrorCode::UNKNOWN_LEADER_EPOCH));

  CHECK(list_latest(c, kSeededEpoch - 1).error_code == ec(ErrorCode::FENCED_LEADER_EPOCH));
  CHECK(list_latest(c, kSeededEpoch + 1).error_code == ec(ErrorCode::UNKNOWN_LEADER_EPOCH));
  auto lo = list_latest(c, kSeededEpoch);
  CHECK(lo.error_code == 0);
  CHECK(lo.offset == 2);
  CHECK(lo.leader_epoch == kSeededEpoch);

  CHECK(epoch_end(c, kSeededEpoch - 1, kSeededEpoch).error_code == ec(ErrorCode::FENCED_LEADER_EPOCH));
  CHECK(epoch_end(c, kSeededEpoch + 1, kSeededEpoch).error_code == ec(ErrorCode::UNKNOWN_LEADER_EPOCH));
  auto ee = epoch_end(c, kSeededEpoch, kSeededEpoch);
  CHECK(ee.error_code == 0);
  CHECK(ee.leader_epoch == kSeededEpoch);
  CHECK(ee.end_offset == 2);
}

TEST_CASE("leader epoch: Produce stamps the partition's epoch from the image, which survives a restart") {
  TempDir tmp;
  seed_data_dir(tmp.sub("data"));
  {
    auto broker = start_broker({}, tmp.sub("data"));
    RawConn c(broker->port());
    // Produce carries no current leader epoch (Kafka's has none): the
    // leader stamps its own.
    CHECK(produce_ok(c, "t", 0, simple_batch(3, "p0")) == 2);
    CHECK(stamped_epoch(c, 0, 2) == kSeededEpoch);
    CHECK(produce_ok(c, "t", 1, simple_batch(1, "p1")) == 0);
    CHECK(stamped_epoch(c, 1, 0) == 0);
    broker->stop();
  }
  auto broker = start_broker({}, tmp.sub("data"));
  RawConn c(broker->port());
  auto md = c.call<proto::MetadataResponse>(metadata_request({"t"}, false), 12);
  REQUIRE(md.topics.size() == 1);
  REQUIRE(md.topics[0].partitions.size() == 2);
  CHECK(md.topics[0].partitions[0].leader_epoch == kSeededEpoch);
  CHECK(fetch(c, 0, 0, kSeededEpoch - 1).error_code == ec(ErrorCode::FENCED_LEADER_EPOCH));
  auto all = fetch(c, 0, 0, kSeededEpoch);
  REQUIRE(all.error_code == 0);
  CHECK(decode_records({all.records.data(), all.records.size()}).size() == 5);
}

TEST_CASE("leader epoch: DescribeCluster and FindCoordinator answer from the image") {
  testing::BrokerRef::Options o;
  o.node_id = 7;
  std::string error;
  auto broker = testing::BrokerRef::start(o, &error);
  REQUIRE_MESSAGE(broker != nullptr, error);
  RawConn c(broker->port());
  auto dc = c.call<proto::DescribeClusterResponse>(proto::DescribeClusterRequest{}, 1);
  CHECK(dc.controller_id == 7);
  REQUIRE(dc.brokers.size() == 1);
  CHECK(dc.brokers[0].broker_id == 7);
  CHECK(dc.brokers[0].port == broker->port());

  proto::FindCoordinatorRequest fc;
  fc.key_type = 0;
  fc.coordinator_keys = {"g1", "g2"};
  auto r = c.call<proto::FindCoordinatorResponse>(fc, 4);
  REQUIRE(r.coordinators.size() == 2);
  for (const auto& co : r.coordinators) {
    CHECK(co.error_code == 0);
    CHECK(co.node_id == 7);
    CHECK(co.port == broker->port());
  }
  // The group's __consumer_offsets partition is led by node 7 in the image.
  auto md = c.call<proto::MetadataResponse>(metadata_request({"__consumer_offsets"}, false), 12);
  REQUIRE(md.topics.size() == 1);
  REQUIRE(!md.topics[0].partitions.empty());
  CHECK(md.topics[0].partitions[0].leader_id == 7);
  CHECK(md.controller_id == 7);
}
