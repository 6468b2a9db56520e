// broker-ref server: ApiVersions, Metadata, pipelining, acks=0, restart.
#include <algorithm>
#include <filesystem>
#include <random>
#include <thread>

#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

TEST_CASE("server: ApiVersions v0, v3 and an unsupported version") {
  auto broker = start_broker();
  RawConn c(broker->port());

  auto v0 = c.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 0);
  CHECK(v0.error_code == 0);
  bool has_fetch = false;
  for (const auto& k : v0.api_keys)
    if (k.api_key == 1) {
      has_fetch = true;
      CHECK(k.min_version == 0);
      CHECK(k.max_version == 17);
    }
  CHECK(has_fetch);
  // Every advertised range lies within the codec's.
  for (const auto& k : v0.api_keys) {
    const proto::ApiInfo* a = proto::find_api(k.api_key);
    REQUIRE(a != nullptr);
    CHECK(k.min_version >= a->min_version);
    CHECK(k.max_version <= a->max_version);
  }

  proto::ApiVersionsRequest r3;
  r3.client_software_name = "kfk-test";
  r3.client_software_version = "1.0";
  auto v3 = c.call<proto::ApiVersionsResponse>(r3, 3);
  CHECK(v3.error_code == 0);
  CHECK(v3.api_keys == v0.api_keys);
  CHECK(v3.finalized_features_epoch == -1);
  // v3+ clients must name themselves properly (Kafka: INVALID_REQUEST).
  auto unnamed = c.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 3);
  CHECK(unnamed.error_code == 42);

  // v99: the header is the v1 prefix every version shares; the answer is v0.
  proto::Writer w;
  size_t at = w.reserve_i32();
  w.i16(18);
  w.i16(99);
  w.i32(77);
  w.nullable_string(std::string("future-client"), false);
  w.i8(0);  // a flexible header's empty tagged fields: ignored
  proto::finish_frame(w, at);
  REQUIRE(c.send_bytes(w.flatten()));
  auto resp = c.recv<proto::ApiVersionsResponse>(0, 77);
  CHECK(resp.error_code == 35);
  CHECK(resp.api_keys == v0.api_keys);
  // The connection stays usable.
  CHECK(c.call<proto::ApiVersionsResponse>(proto::ApiVersionsRequest{}, 2).error_code == 0);
}

TEST_CASE("server: Metadata auto-creates topics and lists all topics") {
  auto broker = start_broker({{"num.partitions", "3"}});
  RawConn c(broker->port());
  auto md = c.call<proto::MetadataResponse>(metadata_request({"auto-a"}), 12);
  REQUIRE(md.brokers.size() == 1);
  CHECK(md.brokers[0].node_id == 1);
  CHECK(md.brokers[0].host == "127.0.0.1");
  CHECK(md.brokers[0].port == broker->port());
  CHECK(md.controller_id == 1);
  REQUIRE(md.cluster_id.has_value());
  CHECK(md.cluster_id->size() == 22);
  REQUIRE(md.topics.size() == 1);
  const auto& t = md.topics[0];
  CHECK(t.error_code == 0);
  CHECK(t.name == "auto-a");
  CHECK_FALSE(t.topic_id.is_zero());
  CHECK_FALSE(t.is_internal);
  REQUIRE(t.partitions.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(t.partitions[i].partition_index == i);
    CHECK(t.partitions[i].leader_id == 1);
    CHECK(t.partitions[i].leader_epoch == 0);
    CHECK(t.partitions[i].replica_nodes == std::vector<int32_t>{1});
    CHECK(t.partitions[i].isr_nodes == std::vector<int32_t>{1});
    CHECK(t.partitions[i].offline_replicas.empty());
  }

  // Not allowed to create: unknown.
  auto no = c.call<proto::MetadataResponse>(metadata_request({"auto-b"}, false), 12);
  REQUIRE(no.topics.size() == 1);
  CHECK(no.topics[0].error_code == 3);
  // Invalid names.
  auto bad = c.call<proto::MetadataResponse>(metadata_request({"bad name!"}), 12);
  CHECK(bad.topics[0].error_code == 17);

  // v0 empty list and v1+ null: all topics. Same cluster id every time.
  c.call<proto::MetadataResponse>(metadata_request({"auto-c"}), 4);
  auto all0 = c.call<proto::MetadataResponse>(metadata_request({}), 0);
  CHECK(all0.topics.size() == 2);
  proto::MetadataRequest all;
  all.topics = std::nullopt;
  auto all9 = c.call<proto::MetadataResponse>(all, 9);
  CHECK(all9.topics.size() == 2);
  CHECK(all9.cluster_id == md.cluster_id);
  // v1+ empty list: no topics.
  CHECK(c.call<proto::MetadataResponse>(metadata_request({}), 5).topics.empty());
  // By topic id (v10+, null name).
  proto::MetadataRequest by_id;
  by_id.topics = std::vector<proto::MetadataRequest::MetadataRequestTopic>(1);
  (*by_id.topics)[0].name = std::nullopt;
  (*by_id.topics)[0].topic_id = t.topic_id;
  auto found = c.call<proto::MetadataResponse>(by_id, 12);
  REQUIRE(found.topics.size() == 1);
  CHECK(found.topics[0].name == "auto-a");
}

TEST_CASE("server: auto.create.topics.enable=false") {
  auto broker = start_broker({{"auto.create.topics.enable", "false"}});
  RawConn c(broker->port());
  auto md = c.call<proto::MetadataResponse>(metadata_request({"nope"}), 12);
  CHECK(md.topics[0].error_code == 3);
}

TEST_CASE("server: pipelined requests are answered in order") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "pipe");
  auto batch = simple_batch(2);
  std::vector<uint8_t> all;
  std::vector<int16_t> kinds;
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> f;
    int32_t corr = 1000 + i;
    switch (i % 3) {
      case 0: f = RawConn::frame(proto::ApiVersionsRequest{}, 2, corr); break;
      case 1: f = RawConn::frame(metadata_request({"pipe"}), 9, corr); break;
      default: f = RawConn::frame(produce_request("pipe", 0, batch), 8, corr); break;
    }
    kinds.push_back(static_cast<int16_t>(i % 3));
    all.insert(all.end(), f.begin(), f.end());
  }
  REQUIRE(c.send_bytes(all));  // one write: the broker sees them pipelined
  int64_t expect_offset = 0;
  for (int i = 0; i < 50; ++i) {
    int32_t corr = 1000 + i;
    switch (kinds[i]) {
      case 0: CHECK(c.recv<proto::ApiVersionsResponse>(2, corr).error_code == 0); break;
      case 1: CHECK(c.recv<proto::MetadataResponse>(9, corr).topics.size() == 1); break;
      default: {
        auto r = c.recv<proto::ProduceResponse>(8, corr);
        CHECK(r.responses[0].partition_responses[0].base_offset == expect_offset);
        expect_offset += 2;
      }
    }
  }
}

TEST_CASE("server: pipelined large and small requests arrive intact, whatever the write sizes") {
  // Large requests are read up to their own end into a buffer sized for
  // them (or for the last large one) and keep it; small ones are copied
  // out of the read chunk. Sizes around those bounds, growing and
  // shrinking, a stream of nearly equal large ones (each read into a
  // buffer sized by the one before), with small requests in between,
  // written in odd pieces.
  auto broker = start_broker({{"message.max.bytes", "4000000"}});
  RawConn c(broker->port());
  ensure_topic(c, "mixed");
  const size_t values[] = {20000,  40000,  1200000, 10,     70000,   600000, 2500000, 30000,
                           65000,  1000000, 10,     999000, 1000500, 1001000, 998000, 1000000,
                           40000,  3900000, 3800000, 50,    1000000, 1000001};
  std::vector<std::vector<uint8_t>> batches;
  std::vector<uint8_t> all;
  int32_t corr = 500;
  for (size_t i = 0; i < std::size(values); ++i) {
    batches.push_back(make_batch({{"k", std::string(values[i], static_cast<char>('a' + i)), 1000}}));
    auto f = RawConn::frame(produce_request("mixed", 0, batches.back()), 8, corr++);
    all.insert(all.end(), f.begin(), f.end());
    if (i % 3 == 2) {
      f = RawConn::frame(proto::ApiVersionsRequest{}, 2, corr++);
      all.insert(all.end(), f.begin(), f.end());
    }
  }
  bool sent = true;
  std::thread writer([&] {
    std::mt19937 rng(7);
    for (size_t at = 0; at < all.size() && sent;) {
      size_t n = std::min<size_t>(all.size() - at, 1 + rng() % 150000);
      sent = c.send_bytes(all.data() + at, n);
      at += n;
    }
  });
  corr = 500;
  for (size_t i = 0; i < std::size(values); ++i) {
    auto r = c.recv<proto::ProduceResponse>(8, corr++, 20000);
    CHECK(r.responses[0].partition_responses[0].error_code == 0);
    CHECK(r.responses[0].partition_responses[0].base_offset == static_cast<int64_t>(i));
    if (i % 3 == 2) CHECK(c.recv<proto::ApiVersionsResponse>(2, corr++).error_code == 0);
  }
  writer.join();
  CHECK(sent);
  for (size_t i = 0; i < batches.size(); ++i) {
    auto f = c.call<proto::FetchResponse>(fetch_request("mixed", 0, static_cast<int64_t>(i), 0, 0, 4 << 20), 12);
    const auto& p = f.responses[0].partitions[0];
    REQUIRE(p.records.size() >= batches[i].size());
    // From the magic byte on (the broker set base offset and leader epoch).
    CHECK(std::equal(batches[i].begin() + 16, batches[i].end(), p.records.data() + 16));
  }
}

TEST_CASE("server: acks=0 gets no response, the data is written") {
  auto broker = start_broker();
  RawConn c(broker->port());
  ensure_topic(c, "acks0");
  auto batch = simple_batch(3);
  c.send(produce_request("acks0", 0, batch, 0), 9, 500);
  c.send(proto::ApiVersionsRequest{}, 2, 501);
  // The first response is ApiVersions' (the produce had none).
  CHECK(c.recv<proto::ApiVersionsResponse>(2, 501).error_code == 0);
  auto f = c.call<proto::FetchResponse>(fetch_request("acks0", 0, 0), 11);
  REQUIRE(f.responses.size() == 1);
  CHECK(f.responses[0].partitions[0].high_watermark == 3);

  // A failing acks=0 produce closes the connection (as Kafka), so the
  // producer notices.
  c.send(produce_request("no-such-topic", 0, batch, 0), 9, 502);
  CHECK(c.wait_closed());
}

TEST_CASE("server: restart on the same data dir continues offsets") {
  std::string dir = std::filesystem::temp_directory_path().string() + "/kfk-server-restart-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::optional<std::string> cluster_id;
  int64_t pid1 = -1;
  {
    auto broker = start_broker({}, dir);
    RawConn c(broker->port());
    ensure_topic(c, "durable");
    CHECK(produce_ok(c, "durable", 0, simple_batch(5, "a")) == 0);
    cluster_id = c.call<proto::MetadataResponse>(metadata_request({}), 12).cluster_id;
    pid1 = c.call<proto::InitProducerIdResponse>(proto::InitProducerIdRequest{std::nullopt}, 4).producer_id;
    CHECK(pid1 >= 0);
    broker->stop();
    CHECK(std::filesystem::exists(dir + "/.kafka_cleanshutdown"));
  }
  {
    auto broker = start_broker({}, dir);
    RawConn c(broker->port());
    CHECK(produce_ok(c, "durable", 0, simple_batch(5, "b")) == 5);
    auto f = c.call<proto::FetchResponse>(fetch_request("durable", 0, 0), 12);
    const auto& p = f.responses[0].partitions[0];
    auto recs = decode_records(std::span(p.records.data(), p.records.size()));
    REQUIRE(recs.size() == 10);
    CHECK(*recs[0].value == "value-a-0");
    CHECK(*recs[9].value == "value-b-4");
    CHECK(recs[9].offset == 9);
    CHECK(c.call<proto::MetadataResponse>(metadata_request({}), 12).cluster_id == cluster_id);
    // Producer ids are never reused.
    auto pid2 = c.call<proto::InitProducerIdResponse>(proto::InitProducerIdRequest{std::nullopt}, 4).producer_id;
    CHECK(pid2 > pid1);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("server: BrokerRef rejects bad config and cleans its temp dir") {
  testing::BrokerRef::Options o;
  o.config["no.such.key"] = "1";
  std::string error;
  CHECK(testing::BrokerRef::start(o, &error) == nullptr);
  CHECK(error.find("no.such.key") != std::string::npos);
  o.config = {{"num.partitions", "zero"}};
  CHECK(testing::BrokerRef::start(o, &error) == nullptr);
  CHECK(error.find("num.partitions") != std::string::npos);
  o.config = {{"log.retention.ms", "abc"}};
  CHECK(testing::BrokerRef::start(o, &error) == nullptr);
  CHECK(error.find("log.retention.ms") != std::string::npos);

  // A taken port.
  auto first = start_broker();
  testing::BrokerRef::Options same;
  same.port = first->port();
  CHECK(testing::BrokerRef::start(same, &error) == nullptr);
  CHECK(error.find("address already in use") != std::string::npos);
  // A data dir in use by another broker.
  testing::BrokerRef::Options shared;
  shared.data_dir = first->data_dir();
  CHECK(testing::BrokerRef::start(shared, &error) == nullptr);
  CHECK(error.find("in use") != std::string::npos);
  first.reset();

  auto b = start_broker();
  std::string dir = b->data_dir();
  CHECK(std::filesystem::exists(dir));
  CHECK(b->bootstrap_servers() == "127.0.0.1:" + std::to_string(b->port()));
  b->stop();
  b->stop();  // idempotent
  CHECK_FALSE(std::filesystem::exists(dir));
}
