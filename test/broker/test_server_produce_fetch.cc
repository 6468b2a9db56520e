// broker-ref server: Produce, Fetch (long poll, sessions), ListOffsets,
// InitProducerId and the idempotent producer.
#include <thread>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

const proto::FetchResponse::PartitionData& only_partition(const proto::FetchResponse& f) {
  REQUIRE(f.error_code == 0);
  REQUIRE(f.responses.size() == 1);
  REQUIRE(f.responses[0].partitions.size() == 1);
  return f.responses[0].partitions[0];
}

std::span<const uint8_t> records_of(const proto::FetchResponse::PartitionData& p) {
  return {p.records.data(), p.records.size()};
}

proto::ProduceResponse::PartitionProduceResponse produce_result(RawConn& c, const std::string& topic,
                                                                const std::vector<uint8_t>& batch,
                                                                int16_t version = 9) {
  auto r = c.call<proto::ProduceResponse>(produce_request(topic, 0, batch), version);
  REQUIRE(r.responses.size() == 1);
  REQUIRE(r.responses[0].partition_responses.size() == 1);
  return r.responses[0].partition_responses[0];
}

}  // namespace

TEST_CASE("server: Produce + Fetch round trip, zero-copy bytes equal the produced ones") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "rt");
  auto b1 = make_batch({{"k1", "v1", 1111, {{"h", "x"}}}, {std::nullopt, "v2", 1112}, {"k3", std::nullopt, 1113}});
  auto b2 = simple_batch(4, "two", 2000, {-1, -1, -1, false, proto::Compression::kGzip});
  CHECK(produce_ok(c, "rt", 0, b1) == 0);
  CHECK(produce_ok(c, "rt", 0, b2, 3) == 3);

  for (int16_t v : {4, 11, 12, 13, 17}) {
    CAPTURE(v);
    proto::FetchRequest req = fetch_request("rt", 0, 0);
    if (v >= 13) {
      auto md = c.call<proto::MetadataResponse>(metadata_request({"rt"}), 12);
      req.topics[0].topic_id = md.topics[0].topic_id;
    }
    auto f = c.call<proto::FetchResponse>(req, v);
    const auto& p = only_partition(f);
    CHECK(p.error_code == 0);
    CHECK(p.high_watermark == 7);
    if (v >= 4) CHECK(p.last_stable_offset == 7);
    if (v >= 5) CHECK(p.log_start_offset == 0);
    auto bytes = records_of(p);
    REQUIRE(bytes.size() == b1.size() + b2.size());
    // Everything from the magic byte on is what the producer sent (the
    // broker only sets base offset and partition leader epoch).
    CHECK(std::equal(b1.begin() + 16, b1.end(), bytes.begin() + 16));
    CHECK(std::equal(b2.begin() + 16, b2.end(), bytes.begin() + static_cast<long>(b1.size()) + 16));
    auto recs = decode_records(bytes);
    REQUIRE(recs.size() == 7);
    CHECK(*recs[0].key == "k1");
    CHECK(recs[0].headers == std::vector<std::pair<std::string, std::string>>{{"h", "x"}});
    CHECK_FALSE(recs[1].key.has_value());
    CHECK_FALSE(recs[2].value.has_value());
    CHECK(recs[2].timestamp == 1113);
    for (int i = 0; i < 7; ++i) CHECK(recs[i].offset == i);
  }

  // A fetch from the middle starts at the batch holding the offset.
  auto mid = c.call<proto::FetchResponse>(fetch_request("rt", 0, 4), 12);
  auto recs = decode_records(records_of(only_partition(mid)));
  CHECK(recs.front().offset == 3);

  // Unknown partitions and topics.
  auto unk = c.call<proto::FetchResponse>(fetch_request("rt", 5, 0), 12);
  CHECK(only_partition(unk).error_code == 3);
  auto r = produce_result(c, "nope", simple_batch(1));
  CHECK(r.error_code == 3);  // Produce never creates topics
}

TEST_CASE("server: Fetch limits: partition_max_bytes and KIP-74 first batch") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "lim");
  auto big = simple_batch(10, std::string(300, 'x'));
  for (int i = 0; i < 3; ++i) produce_ok(c, "lim", 0, big);
  // A limit smaller than one batch: v3+ still returns that whole batch.
  auto f = c.call<proto::FetchResponse>(fetch_request("lim", 0, 0, 0, 0, 100), 12);
  CHECK(only_partition(f).records.size() == big.size());
  // Room for two batches and a half: two whole batches.
  f = c.call<proto::FetchResponse>(fetch_request("lim", 0, 0, 0, 0, static_cast<int32_t>(big.size() * 5 / 2)), 12);
  CHECK(only_partition(f).records.size() == 2 * big.size());
  // Request max_bytes caps the total.
  auto req = fetch_request("lim", 0, 0, 0, 0, 1 << 20);
  req.max_bytes = static_cast<int32_t>(big.size() + 10);
  f = c.call<proto::FetchResponse>(req, 12);
  CHECK(only_partition(f).records.size() == big.size());
}

TEST_CASE("server: OFFSET_OUT_OF_RANGE") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "oor");
  produce_ok(c, "oor", 0, simple_batch(5));
  auto f = c.call<proto::FetchResponse>(fetch_request("oor", 0, 100), 12);
  const auto& p = only_partition(f);
  CHECK(p.error_code == 1);
  CHECK(p.records.size() == 0);
  // At the log end: fine, nothing to read.
  auto end = c.call<proto::FetchResponse>(fetch_request("oor", 0, 5), 12);
  CHECK(only_partition(end).error_code == 0);
  CHECK(only_partition(end).records.size() == 0);
}

TEST_CASE("server: long-poll fetch returns early when data arrives, else after max_wait") {
  auto broker = start_broker();
  RawConn a(broker->port());
  RawConn b(broker->port());
  ensure_topic(a, "lp");

  // Nothing arrives: the response comes after max_wait_ms.
  int64_t t0 = now_ms();
  auto f = a.call<proto::FetchResponse>(fetch_request("lp", 0, 0, 400, 1), 12);
  int64_t waited = now_ms() - t0;
  CHECK(only_partition(f).records.size() == 0);
  CHECK(waited >= 350);
  CHECK(waited < 3000);

  // Data arrives 200 ms in: the fetch completes then, not at 10 s.
  a.send(fetch_request("lp", 0, 0, 10000, 1), 12, 900);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  t0 = now_ms();
  produce_ok(b, "lp", 0, simple_batch(3));
  auto early = a.recv<proto::FetchResponse>(12, 900, 5000);
  CHECK(now_ms() - t0 < 2000);
  CHECK(decode_records(records_of(only_partition(early))).size() == 3);

  // A deferred fetch holds back the rest of its connection only.
  a.send(fetch_request("lp", 0, 3, 600, 1), 12, 901);
  a.send(proto::ApiVersionsRequest{}, 2, 902);
  CHECK(b.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 2).error_code == 0);
  CHECK(a.recv<proto::FetchResponse>(12, 901).responses.size() == 1);
  CHECK(a.recv<proto::ApiVersionsResponse>(2, 902).error_code == 0);
}

TEST_CASE("server: fetch sessions") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "fs");
  ensure_topic(c, "fs2");
  produce_ok(c, "fs", 0, simple_batch(2));

  // Full fetch, epoch 0: a new session (fs at its end: nothing to read).
  auto req = fetch_request("fs", 0, 2);
  proto::FetchRequest::FetchTopic t2;
  t2.topic = "fs2";
  t2.partitions.push_back({});
  t2.partitions[0].partition = 0;
  t2.partitions[0].partition_max_bytes = 1 << 20;
  req.topics.push_back(t2);
  req.session_id = 0;
  req.session_epoch = 0;
  auto full = c.call<proto::FetchResponse>(req, 12);
  CHECK(full.error_code == 0);
  int32_t sid = full.session_id;
  CHECK(sid != 0);
  REQUIRE(full.responses.size() == 2);

  // Incremental, nothing changed: no partitions.
  proto::FetchRequest inc;
  inc.max_wait_ms = 0;
  inc.session_id = sid;
  inc.session_epoch = 1;
  auto r1 = c.call<proto::FetchResponse>(inc, 12);
  CHECK(r1.error_code == 0);
  CHECK(r1.session_id == sid);
  CHECK(r1.responses.empty());

  // Wrong epoch, unknown session.
  inc.session_epoch = 5;
  CHECK(c.call<proto::FetchResponse>(inc, 12).error_code == 71);
  proto::FetchRequest unknown = inc;
  unknown.session_id = sid + 1;
  unknown.session_epoch = 1;
  CHECK(c.call<proto::FetchResponse>(unknown, 12).error_code == 70);

  // New data in fs: the next incremental fetch carries fs only (offset 2
  // updated by naming the partition).
  produce_ok(c, "fs", 0, simple_batch(3));
  inc = fetch_request("fs", 0, 2);
  inc.session_id = sid;
  inc.session_epoch = 2;
  auto r2 = c.call<proto::FetchResponse>(inc, 12);
  REQUIRE(r2.responses.size() == 1);
  CHECK(r2.responses[0].topic == "fs");
  CHECK(r2.responses[0].partitions[0].high_watermark == 5);
  CHECK(decode_records(records_of(r2.responses[0].partitions[0])).size() == 3);

  // Forget fs: data there no longer shows; fs2 still does.
  proto::FetchRequest forget;
  forget.session_id = sid;
  forget.session_epoch = 3;
  proto::FetchRequest::ForgottenTopic ft;
  ft.topic = "fs";
  ft.partitions = {0};
  forget.forgotten_topics_data.push_back(ft);
  CHECK(c.call<proto::FetchResponse>(forget, 12).responses.empty());
  produce_ok(c, "fs", 0, simple_batch(1));
  produce_ok(c, "fs2", 0, simple_batch(1));
  proto::FetchRequest after;
  after.session_id = sid;
  after.session_epoch = 4;
  auto r3 = c.call<proto::FetchResponse>(after, 12);
  REQUIRE(r3.responses.size() == 1);
  CHECK(r3.responses[0].topic == "fs2");

  // Epoch -1 closes the session (a sessionless full fetch).
  auto close = fetch_request("fs", 0, 0);
  close.session_id = sid;
  close.session_epoch = -1;
  auto r4 = c.call<proto::FetchResponse>(close, 12);
  CHECK(r4.session_id == 0);
  CHECK(r4.responses.size() == 1);
  after.session_epoch = 5;
  CHECK(c.call<proto::FetchResponse>(after, 12).error_code == 70);
}

TEST_CASE("server: fetch sessions by topic id (v13+) and the LRU bound") {
  auto broker = start_broker({{"max.incremental.fetch.session.cache.slots", "2"}});
  RawConn c(broker->port());
  ensure_topic(c, "fsid");
  auto md = c.call<proto::MetadataResponse>(metadata_request({"fsid"}), 12);
  proto::Uuid id = md.topics[0].topic_id;
  produce_ok(c, "fsid", 0, simple_batch(2));
  auto req = fetch_request("", 0, 0);
  req.topics[0].topic_id = id;
  req.session_epoch = 0;
  auto full = c.call<proto::FetchResponse>(req, 17);
  REQUIRE(full.responses.size() == 1);
  CHECK(full.responses[0].topic_id == id);
  int32_t s1 = full.session_id;
  CHECK(s1 != 0);
  // Unknown topic ids.
  auto bad = fetch_request("", 0, 0);
  bad.topics[0].topic_id = proto::Uuid::random();
  auto r = c.call<proto::FetchResponse>(bad, 13);
  CHECK(only_partition(r).error_code == 100);
  // Two more sessions evict the least recently used (s1).
  int32_t s2 = c.call<proto::FetchResponse>(req, 17).session_id;
  int32_t s3 = c.call<proto::FetchResponse>(req, 17).session_id;
  CHECK(s2 != 0);
  CHECK(s3 != 0);
  proto::FetchRequest inc;
  inc.session_id = s1;
  inc.session_epoch = 1;
  CHECK(c.call<proto::FetchResponse>(inc, 17).error_code == 70);
  inc.session_id = s3;
  CHECK(c.call<proto::FetchResponse>(inc, 17).error_code == 0);
}

TEST_CASE("server: ListOffsets by timestamp, earliest, latest, max timestamp") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "lo");
  produce_ok(c, "lo", 0, simple_batch(2, "a", 1000));  // offsets 0-1, ts 1000-1001
  produce_ok(c, "lo", 0, simple_batch(2, "b", 5000));  // offsets 2-3, ts 5000-5001
  produce_ok(c, "lo", 0, simple_batch(2, "c", 3000));  // offsets 4-5, ts 3000-3001
  auto query = [&](int64_t ts, int16_t v) {
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    proto::ListOffsetsRequest::ListOffsetsTopic t;
    t.name = "lo";
    proto::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = 0;
    p.timestamp = ts;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    auto resp = c.call<proto::ListOffsetsResponse>(req, v);
    REQUIRE(resp.topics.size() == 1);
    REQUIRE(resp.topics[0].partitions.size() == 1);
    return resp.topics[0].partitions[0];
  };
  CHECK(query(-1, 7).offset == 6);
  CHECK(query(-2, 7).offset == 0);
  auto mx = query(-3, 7);
  CHECK(mx.offset == 3);
  CHECK(mx.timestamp == 5001);
  auto t = query(2000, 7);
  CHECK(t.offset == 2);
  CHECK(t.timestamp == 5000);
  CHECK(t.leader_epoch == 0);
  CHECK(query(1001, 5).offset == 1);
  CHECK(query(9999, 7).offset == -1);
  auto v0 = query(-1, 0);
  CHECK(v0.old_style_offsets == std::vector<int64_t>{6});
  CHECK(query(-1, 10).offset == 6);
}

TEST_CASE("server: InitProducerId and the idempotent producer") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "idem");
  proto::InitProducerIdRequest init;
  init.transactional_id = std::nullopt;
  auto ip = c.call<proto::InitProducerIdResponse>(init, 4);
  REQUIRE(ip.error_code == 0);
  int64_t pid = ip.producer_id;
  CHECK(ip.producer_epoch == 0);
  auto other = c.call<proto::InitProducerIdResponse>(init, 0);
  CHECK(other.producer_id != pid);

  auto batch0 = simple_batch(3, "s0", 1000, {pid, 0, 0});
  CHECK(produce_result(c, "idem", batch0).base_offset == 0);
  // The same batch again (a retry): success with the original offset.
  auto dup = produce_result(c, "idem", batch0);
  CHECK(dup.error_code == 0);
  CHECK(dup.base_offset == 0);
  CHECK(produce_result(c, "idem", simple_batch(2, "s3", 1000, {pid, 0, 3})).base_offset == 3);
  // A gap in the sequence.
  CHECK(produce_result(c, "idem", simple_batch(1, "gap", 1000, {pid, 0, 9})).error_code == 45);
  // An unknown producer that does not start at 0.
  CHECK(produce_result(c, "idem", simple_batch(1, "u", 1000, {pid + 1000, 0, 7})).error_code == 59);
  // KIP-360 epoch bump keeps the id.
  proto::InitProducerIdRequest bump;
  bump.transactional_id = std::nullopt;
  bump.producer_id = pid;
  bump.producer_epoch = 0;
  auto bumped = c.call<proto::InitProducerIdResponse>(bump, 4);
  CHECK(bumped.producer_id == pid);
  CHECK(bumped.producer_epoch == 1);
  CHECK(produce_result(c, "idem", simple_batch(1, "e1", 1000, {pid, 1, 0})).error_code == 0);
  // The old epoch is fenced.
  CHECK(produce_result(c, "idem", simple_batch(1, "e0", 1000, {pid, 0, 5})).error_code == 47);
  // Nothing of the failures was written.
  auto f = c.call<proto::FetchResponse>(fetch_request("idem", 0, 0), 12);
  CHECK(only_partition(f).high_watermark == 6);

  // Transactional: not supported yet, which fails for good at once
  // (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, issue 21).
  proto::InitProducerIdRequest txn;
  txn.transactional_id = "tx-1";
  CHECK(c.call<proto::InitProducerIdResponse>(txn, 4).error_code == 53);
  auto txb = simple_batch(1, "t", 1000, {pid, 1, 1, true});
  auto txr = produce_result(c, "idem", txb);
  CHECK(txr.error_code == 42);
  CHECK(txr.error_message.value_or("").find("transactions") != std::string::npos);
}

TEST_CASE("server: Produce validation") {
  auto broker = start_broker({{"message.max.bytes", "2000"}});
  RawConn c(broker->port());
  ensure_topic(c, "val");
  // Bad CRC: CORRUPT_MESSAGE, nothing written.
  auto batch = simple_batch(3);
  batch.back() ^= 0x5a;
  auto r = produce_result(c, "val", batch);
  CHECK(r.error_code == 2);
  CHECK(r.base_offset == -1);
  // Too large.
  CHECK(produce_result(c, "val", simple_batch(10, std::string(400, 'y'))).error_code == 10);
  // Two batches in one partition (v3+).
  auto two = simple_batch(1);
  auto second = simple_batch(1);
  two.insert(two.end(), second.begin(), second.end());
  CHECK(produce_result(c, "val", two).error_code == 87);
  // acks=2.
  auto one = simple_batch(1);
  auto req = produce_request("val", 0, one, 2);
  CHECK(c.call<proto::ProduceResponse>(req, 9).responses[0].partition_responses[0].error_code == 21);
  // zstd before v7.
  auto z = simple_batch(2, "z", 1000, {-1, -1, -1, false, proto::Compression::kZstd});
  CHECK(produce_result(c, "val", z, 6).error_code == 76);
  CHECK(produce_result(c, "val", z, 7).error_code == 0);
  auto f = c.call<proto::FetchResponse>(fetch_request("val", 0, 0), 12);
  CHECK(only_partition(f).high_watermark == 2);
}
