// broker-ref server: CreateTopics, DeleteTopics, CreatePartitions,
// DeleteRecords, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs,
// DescribeCluster, OffsetForLeaderEpoch.
#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

proto::CreateTopicsRequest::CreatableTopic creatable(const std::string& name, int32_t partitions, int16_t rf = -1,
                                                     std::map<std::string, std::string> configs = {}) {
  proto::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = rf;
  for (const auto& [k, v] : configs) {
    proto::CreateTopicsRequest::CreatableTopicConfig c;
    c.name = k;
    c.value = v;
    t.configs.push_back(c);
  }
  return t;
}

proto::CreateTopicsResponse create(RawConn& c, std::vector<proto::CreateTopicsRequest::CreatableTopic> topics,
                                   bool validate_only = false, int16_t v = 7) {
  proto::CreateTopicsRequest req;
  req.topics = std::move(topics);
  req.validate_only = validate_only;
  return c.call<proto::CreateTopicsResponse>(req, v);
}

std::map<std::string, proto::DescribeConfigsResponse::DescribeConfigsResourceResult> describe(
    RawConn& c, int8_t type, const std::string& name, std::optional<std::vector<std::string>> keys = std::nullopt,
    int16_t* error = nullptr) {
  proto::DescribeConfigsRequest req;
  proto::DescribeConfigsRequest::DescribeConfigsResource r;
  r.resource_type = type;
  r.resource_name = name;
  r.configuration_keys = keys;
  req.resources.push_back(r);
  req.include_synonyms = true;
  req.include_documentation = true;
  auto resp = c.call<proto::DescribeConfigsResponse>(req, 4);
  REQUIRE(resp.results.size() == 1);
  if (error) *error = resp.results[0].error_code;
  std::map<std::string, proto::DescribeConfigsResponse::DescribeConfigsResourceResult> out;
  for (auto& e : resp.results[0].configs) out[e.name] = e;
  return out;
}

int16_t incremental(RawConn& c, int8_t type, const std::string& name,
                    std::vector<std::tuple<std::string, int8_t, std::optional<std::string>>> ops,
                    bool validate_only = false) {
  proto::IncrementalAlterConfigsRequest req;
  proto::IncrementalAlterConfigsRequest::AlterConfigsResource r;
  r.resource_type = type;
  r.resource_name = name;
  for (auto& [k, op, v] : ops) {
    proto::IncrementalAlterConfigsRequest::AlterableConfig a;
    a.name = k;
    a.config_operation = op;
    a.value = v;
    r.configs.push_back(a);
  }
  req.resources.push_back(r);
  req.validate_only = validate_only;
  auto resp = c.call<proto::IncrementalAlterConfigsResponse>(req, 1);
  REQUIRE(resp.responses.size() == 1);
  return resp.responses[0].error_code;
}

}  // namespace

TEST_CASE("server: CreateTopics") {
  auto broker = start_broker({{"num.partitions", "2"}});
  RawConn c(broker->port());
  auto r = create(c, {creatable("ct-a", 3, 1, {{"retention.ms", "1000"}}), creatable("ct-b", -1)});
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].error_code == 0);
  CHECK_FALSE(r.topics[0].topic_id.is_zero());
  CHECK(r.topics[0].num_partitions == 3);
  CHECK(r.topics[0].replication_factor == 1);
  REQUIRE(r.topics[0].configs.has_value());
  bool saw_retention = false;
  for (const auto& cfg : *r.topics[0].configs)
    if (cfg.name == "retention.ms") {
      saw_retention = true;
      CHECK(cfg.value == "1000");
      CHECK(cfg.config_source == 1);
    }
  CHECK(saw_retention);
  CHECK(r.topics[1].num_partitions == 2);

  auto again = create(c, {creatable("ct-a", 1)});
  CHECK(again.topics[0].error_code == 36);
  CHECK(again.topics[0].error_message.value_or("").find("already exists") != std::string::npos);
  CHECK(create(c, {creatable("ct-rf", 1, 3)}).topics[0].error_code == 38);
  CHECK(create(c, {creatable("ct-zero", 0)}).topics[0].error_code == 37);
  CHECK(create(c, {creatable("ct-cfg", 1, -1, {{"no.such.config", "1"}})}).topics[0].error_code == 40);
  CHECK(create(c, {creatable("ct-cfg", 1, -1, {{"retention.ms", "soon"}})}).topics[0].error_code == 40);
  CHECK(create(c, {creatable("bad/name", 1)}).topics[0].error_code == 17);
  CHECK(create(c, {creatable("dup", 1), creatable("dup", 1)}).topics[1].error_code == 42);
  // validate_only creates nothing.
  CHECK(create(c, {creatable("ct-v", 4)}, true).topics[0].error_code == 0);
  auto md = c.call<proto::MetadataResponse>(metadata_request({"ct-v"}, false), 12);
  CHECK(md.topics[0].error_code == 3);
  // Manual assignment: only [self].
  auto manual = creatable("ct-m", -1, -1);
  manual.assignments.resize(2);
  manual.assignments[0].partition_index = 0;
  manual.assignments[0].broker_ids = {1};
  manual.assignments[1].partition_index = 1;
  manual.assignments[1].broker_ids = {1};
  auto m = create(c, {manual});
  CHECK(m.topics[0].error_code == 0);
  CHECK(m.topics[0].num_partitions == 2);
  manual.name = "ct-m2";
  manual.assignments[1].broker_ids = {2};
  CHECK(create(c, {manual}).topics[0].error_code == 42);
  // Old versions.
  CHECK(create(c, {creatable("ct-old", 1, 1)}, false, 0).topics[0].error_code == 0);
}

TEST_CASE("server: DeleteTopics, CreatePartitions, DeleteRecords") {
  auto broker = start_broker();
  RawConn c(broker->port());
  create(c, {creatable("del-a", 1), creatable("del-b", 1), creatable("grow", 1)});
  auto md = c.call<proto::MetadataResponse>(metadata_request({"del-b"}), 12);
  proto::Uuid id_b = md.topics[0].topic_id;

  proto::DeleteTopicsRequest d;
  d.topic_names = {"del-a", "missing"};
  auto dr = c.call<proto::DeleteTopicsResponse>(d, 5);
  REQUIRE(dr.responses.size() == 2);
  CHECK(dr.responses[0].error_code == 0);
  CHECK(dr.responses[1].error_code == 3);
  proto::DeleteTopicsRequest d6;
  d6.topics.resize(2);
  d6.topics[0].name = std::nullopt;
  d6.topics[0].topic_id = id_b;
  d6.topics[1].name = std::nullopt;
  d6.topics[1].topic_id = proto::Uuid::random();
  auto dr6 = c.call<proto::DeleteTopicsResponse>(d6, 6);
  CHECK(dr6.responses[0].error_code == 0);
  CHECK(dr6.responses[0].name == "del-b");
  CHECK(dr6.responses[1].error_code == 100);
  auto after = c.call<proto::MetadataResponse>(metadata_request({"del-a", "del-b"}, false), 12);
  CHECK(after.topics[0].error_code == 3);
  CHECK(after.topics[1].error_code == 3);

  proto::CreatePartitionsRequest cp;
  cp.topics.resize(1);
  cp.topics[0].name = "grow";
  cp.topics[0].count = 4;
  cp.topics[0].assignments = std::nullopt;
  auto cr = c.call<proto::CreatePartitionsResponse>(cp, 3);
  CHECK(cr.results[0].error_code == 0);
  CHECK(c.call<proto::MetadataResponse>(metadata_request({"grow"}), 12).topics[0].partitions.size() == 4);
  cp.topics[0].count = 2;
  cr = c.call<proto::CreatePartitionsResponse>(cp, 3);
  CHECK(cr.results[0].error_code == 37);
  CHECK(cr.results[0].error_message.value_or("").find("4") != std::string::npos);
  produce_ok(c, "grow", 3, simple_batch(5));

  proto::DeleteRecordsRequest dl;
  dl.topics.resize(1);
  dl.topics[0].name = "grow";
  dl.topics[0].partitions.resize(2);
  dl.topics[0].partitions[0].partition_index = 3;
  dl.topics[0].partitions[0].offset = 3;
  dl.topics[0].partitions[1].partition_index = 2;
  dl.topics[0].partitions[1].offset = 10;  // beyond the high watermark
  auto del = c.call<proto::DeleteRecordsResponse>(dl, 2);
  CHECK(del.topics[0].partitions[0].error_code == 0);
  CHECK(del.topics[0].partitions[0].low_watermark == 3);
  CHECK(del.topics[0].partitions[1].error_code == 1);
  auto f = c.call<proto::FetchResponse>(fetch_request("grow", 3, 0), 12);
  CHECK(f.responses[0].partitions[0].error_code == 1);
  f = c.call<proto::FetchResponse>(fetch_request("grow", 3, 3), 12);
  CHECK(f.responses[0].partitions[0].log_start_offset == 3);
}

TEST_CASE("server: DescribeConfigs, IncrementalAlterConfigs, AlterConfigs") {
  auto broker = start_broker({{"log.retention.ms", "5000"}});
  RawConn c(broker->port());
  create(c, {creatable("cfg", 1, -1, {{"cleanup.policy", "delete"}})});

  auto all = describe(c, 2, "cfg");
  REQUIRE(all.count("retention.ms"));
  CHECK(all["retention.ms"].value == "5000");
  CHECK(all["retention.ms"].config_source == 4);  // STATIC_BROKER_CONFIG
  CHECK(all["retention.ms"].config_type == 5);    // LONG
  CHECK(all["retention.ms"].documentation.has_value());
  CHECK(all["cleanup.policy"].config_source == 1);
  CHECK(all["cleanup.policy"].config_type == 7);  // LIST
  REQUIRE(all["cleanup.policy"].synonyms.size() >= 2);
  CHECK(all["cleanup.policy"].synonyms[0].name == "cleanup.policy");
  CHECK(all["cleanup.policy"].synonyms.back().name == "log.cleanup.policy");
  CHECK(all["max.message.bytes"].config_source == 5);
  auto some = describe(c, 2, "cfg", std::vector<std::string>{"segment.bytes"});
  CHECK(some.size() == 1);
  int16_t err = 0;
  describe(c, 2, "nope", std::nullopt, &err);
  CHECK(err == 3);
  auto brk = describe(c, 4, "1");
  CHECK(brk["num.partitions"].value == "1");
  CHECK(brk["log.retention.ms"].value == "5000");
  CHECK(brk["log.retention.ms"].config_source == 4);
  describe(c, 4, "7", std::nullopt, &err);
  CHECK(err == 42);

  // SET, APPEND, SUBTRACT, DELETE.
  CHECK(incremental(c, 2, "cfg", {{"retention.ms", 0, "12345"}}) == 0);
  CHECK(describe(c, 2, "cfg")["retention.ms"].value == "12345");
  CHECK(incremental(c, 2, "cfg", {{"cleanup.policy", 2, "compact"}}) == 0);
  auto both = describe(c, 2, "cfg")["cleanup.policy"].value.value_or("");
  CHECK((both == "delete,compact" || both == "compact,delete"));
  CHECK(incremental(c, 2, "cfg", {{"cleanup.policy", 3, "delete"}}) == 0);
  CHECK(describe(c, 2, "cfg")["cleanup.policy"].value == "compact");
  CHECK(incremental(c, 2, "cfg", {{"retention.ms", 1, std::nullopt}}) == 0);
  CHECK(describe(c, 2, "cfg")["retention.ms"].value == "5000");
  CHECK(incremental(c, 2, "cfg", {{"retention.ms", 2, "1"}}) == 40);  // APPEND on a non-list
  CHECK(incremental(c, 2, "cfg", {{"nope.key", 0, "1"}}) == 40);
  CHECK(incremental(c, 2, "cfg", {{"segment.bytes", 0, "1"}, {"segment.bytes", 0, "2"}}) == 42);
  CHECK(incremental(c, 2, "cfg", {{"retention.ms", 0, "777"}}, true) == 0);
  CHECK(describe(c, 2, "cfg")["retention.ms"].value == "5000");

  // The topic is compacted now: keyless records are refused per record.
  ensure_topic(c, "cfg");
  auto keyless = make_batch({{"k", "v", 1}, {std::nullopt, "v", 2}});
  auto pr = c.call<proto::ProduceResponse>(produce_request("cfg", 0, keyless), 9);
  const auto& p = pr.responses[0].partition_responses[0];
  CHECK(p.error_code == 87);
  REQUIRE(p.record_errors.size() == 1);
  CHECK(p.record_errors[0].batch_index == 1);

  // Broker dynamic config applies to topics without overrides.
  CHECK(incremental(c, 4, "", {{"log.retention.ms", 0, "6000"}}) == 0);
  auto after = describe(c, 2, "cfg");
  CHECK(after["retention.ms"].value == "6000");
  CHECK(after["retention.ms"].config_source == 3);  // DYNAMIC_DEFAULT_BROKER_CONFIG
  CHECK(incremental(c, 4, "", {{"num.partitions", 0, "3"}}) == 40);  // static

  // AlterConfigs replaces the whole override set.
  proto::AlterConfigsRequest ac;
  ac.resources.resize(1);
  ac.resources[0].resource_type = 2;
  ac.resources[0].resource_name = "cfg";
  ac.resources[0].configs.resize(1);
  ac.resources[0].configs[0].name = "segment.ms";
  ac.resources[0].configs[0].value = "100000";
  auto acr = c.call<proto::AlterConfigsResponse>(ac, 2);
  CHECK(acr.responses[0].error_code == 0);
  auto replaced = describe(c, 2, "cfg");
  CHECK(replaced["segment.ms"].value == "100000");
  CHECK(replaced["cleanup.policy"].value == "delete");  // the override is gone
  CHECK(replaced["cleanup.policy"].config_source == 5);
}

TEST_CASE("server: DescribeCluster and OffsetForLeaderEpoch") {
  auto broker = start_broker();
  RawConn c(broker->port());
  auto dc = c.call<proto::DescribeClusterResponse>(proto::DescribeClusterRequest{}, 1);
  CHECK(dc.error_code == 0);
  CHECK(dc.controller_id == 1);
  REQUIRE(dc.brokers.size() == 1);
  CHECK(dc.brokers[0].port == broker->port());
  CHECK(dc.cluster_id == c.call<proto::MetadataResponse>(metadata_request({}), 12).cluster_id);

  ensure_topic(c, "ep");
  proto::OffsetForLeaderEpochRequest req;
  req.topics.resize(1);
  req.topics[0].topic = "ep";
  req.topics[0].partitions.resize(1);
  req.topics[0].partitions[0].partition = 0;
  req.topics[0].partitions[0].leader_epoch = 0;
  auto r = c.call<proto::OffsetForLeaderEpochResponse>(req, 4);
  CHECK(r.topics[0].partitions[0].error_code == 0);
  CHECK(r.topics[0].partitions[0].end_offset == 0);
  produce_ok(c, "ep", 0, simple_batch(4));
  r = c.call<proto::OffsetForLeaderEpochResponse>(req, 4);
  CHECK(r.topics[0].partitions[0].leader_epoch == 0);
  CHECK(r.topics[0].partitions[0].end_offset == 4);
  req.topics[0].partitions[0].current_leader_epoch = 5;
  r = c.call<proto::OffsetForLeaderEpochResponse>(req, 4);
  CHECK(r.topics[0].partitions[0].error_code == 75);
}

TEST_CASE("server: LogAppendTime topics stamp batches and answer the time") {
  auto broker = start_broker();
  RawConn c(broker->port());
  create(c, {creatable("lat", 1, -1, {{"message.timestamp.type", "LogAppendTime"}})});
  auto batch = simple_batch(3, "t", 1000);
  auto r = c.call<proto::ProduceResponse>(produce_request("lat", 0, batch), 9);
  const auto& p = r.responses[0].partition_responses[0];
  REQUIRE(p.error_code == 0);
  CHECK(p.log_append_time_ms > 1600000000000);
  auto f = c.call<proto::FetchResponse>(fetch_request("lat", 0, 0), 12);
  const auto& fp = f.responses[0].partitions[0];
  auto recs = decode_records(std::span(fp.records.data(), fp.records.size()));
  REQUIRE(recs.size() == 3);
  for (const auto& rec : recs) CHECK(rec.timestamp == p.log_append_time_ms);
}
