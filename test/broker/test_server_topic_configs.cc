// broker-ref server: the topic configs that change what Produce stores,
// over real sockets: compression.type (the broker recompresses to the
// topic's codec and level; "producer" keeps the producer's codec) and the
// CreateTime bounds (message.timestamp.before/after/difference.max.ms).
#include <chrono>

#include "protocol/compression.h"
#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

void create_topic(RawConn& c, const std::string& name, std::map<std::string, std::string> configs) {
  proto::CreateTopicsRequest req;
  proto::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = 1;
  t.replication_factor = 1;
  for (const auto& [k, v] : configs) {
    proto::CreateTopicsRequest::CreatableTopicConfig cfg;
    cfg.name = k;
    cfg.value = v;
    t.configs.push_back(cfg);
  }
  req.topics.push_back(t);
  auto resp = c.call<proto::CreateTopicsResponse>(req, 7);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE_MESSAGE(resp.topics[0].error_code == 0, resp.topics[0].error_message.value_or(""));
}

std::vector<uint8_t> fetch_all(RawConn& c, const std::string& topic) {
  auto f = c.call<proto::FetchResponse>(fetch_request(topic, 0, 0), 12);
  REQUIRE(f.responses.size() == 1);
  const auto& p = f.responses[0].partitions[0];
  REQUIRE(p.error_code == 0);
  return std::vector<uint8_t>(p.records.data(), p.records.data() + p.records.size());
}

std::vector<proto::BatchSpan> batches_of(const std::vector<uint8_t>& bytes) {
  std::vector<proto::BatchSpan> spans;
  REQUIRE(proto::split_batches(bytes, spans));
  return spans;
}

std::vector<TestRecord> sample_records(int64_t ts) {
  std::vector<TestRecord> recs;
  for (int i = 0; i < 50; ++i)
    recs.push_back({"key-" + std::to_string(i), "value " + std::to_string(i) + std::string(100, 'a' + i % 26),
                    ts + i, {{"h", "hv" + std::to_string(i)}}});
  return recs;
}

void check_same_records(const std::vector<TestRecord>& got, const std::vector<TestRecord>& want, int64_t base) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].key == want[i].key);
    CHECK(got[i].value == want[i].value);
    CHECK(got[i].timestamp == want[i].timestamp);
    CHECK(got[i].headers == want[i].headers);
    CHECK(got[i].offset == base + static_cast<int64_t>(i));
  }
}

int16_t produce_error(RawConn& c, const std::string& topic, const std::vector<uint8_t>& batch,
                      std::string* message = nullptr, size_t* record_errors = nullptr) {
  auto r = c.call<proto::ProduceResponse>(produce_request(topic, 0, batch), 9);
  const auto& p = r.responses[0].partition_responses[0];
  if (message != nullptr) *message = p.error_message.value_or("");
  if (record_errors != nullptr) *record_errors = p.record_errors.size();
  return p.error_code;
}

}  // namespace

TEST_CASE("server: compression.type recompresses produced batches to the topic's codec") {
  auto broker = start_broker();
  RawConn c(broker->port());
  using proto::Compression;
  const std::pair<const char*, Compression> targets[] = {{"uncompressed", Compression::kNone},
                                                         {"gzip", Compression::kGzip},
                                                         {"snappy", Compression::kSnappy},
                                                         {"lz4", Compression::kLz4},
                                                         {"zstd", Compression::kZstd}};
  const auto want = sample_records(1700000000000);
  for (const auto& target : targets) {  // no structured binding: clang 14 cannot capture one (CAPTURE)
    const char* name = target.first;
    const Compression codec = target.second;
    for (Compression produced : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
      CAPTURE(name);
      CAPTURE(static_cast<int>(produced));
      const std::string topic = std::string("ct-") + name + "-" + proto::compression_name(produced);
      create_topic(c, topic, {{"compression.type", name}});
      BatchOptions bo;
      bo.compression = produced;
      bo.producer_id = 7;  // an idempotent batch keeps its producer fields
      bo.producer_epoch = 0;
      bo.base_sequence = 0;
      REQUIRE(produce_ok(c, topic, 0, make_batch(want, bo)) == 0);
      auto bytes = fetch_all(c, topic);
      auto spans = batches_of(bytes);
      REQUIRE(spans.size() == 1);
      CHECK(spans[0].header.compression() == codec);
      CHECK(spans[0].header.producer_id == 7);
      CHECK(spans[0].header.base_sequence == 0);
      CHECK(spans[0].header.record_count == static_cast<int32_t>(want.size()));
      check_same_records(decode_records(bytes), want, 0);
    }
  }

  // "producer" (the default) keeps each batch's codec.
  create_topic(c, "ct-producer", {});
  for (Compression produced : {Compression::kGzip, Compression::kNone, Compression::kLz4}) {
    BatchOptions bo;
    bo.compression = produced;
    produce_ok(c, "ct-producer", 0, make_batch(want, bo));
  }
  auto spans = batches_of(fetch_all(c, "ct-producer"));
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].header.compression() == Compression::kGzip);
  CHECK(spans[1].header.compression() == Compression::kNone);
  CHECK(spans[2].header.compression() == Compression::kLz4);
}

TEST_CASE("server: compression.*.level sets the level the broker recompresses at") {
  auto broker = start_broker();
  RawConn c(broker->port());
  const auto want = sample_records(1700000000000);
  for (const char* level : {"1", "9"}) {
    CAPTURE(level);
    const std::string topic = std::string("gz-") + level;
    create_topic(c, topic, {{"compression.type", "gzip"}, {"compression.gzip.level", level}});
    produce_ok(c, topic, 0, make_batch(want));
    auto bytes = fetch_all(c, topic);
    auto spans = batches_of(bytes);
    REQUIRE(spans.size() == 1);
    REQUIRE(spans[0].header.compression() == proto::Compression::kGzip);
    // The stored payload is the records compressed at exactly this level.
    std::span<const uint8_t> payload = spans[0].bytes.subspan(proto::kBatchHeaderSize);
    std::vector<uint8_t> plain, again;
    REQUIRE(proto::decompress(proto::Compression::kGzip, payload, plain, 64 << 20));
    REQUIRE(proto::compress(proto::Compression::kGzip, std::stoi(level), plain, again));
    CHECK(std::vector<uint8_t>(payload.begin(), payload.end()) == again);
  }
}

TEST_CASE("server: CreateTime bounds refuse records too far from the broker's clock") {
  auto broker = start_broker();
  RawConn c(broker->port());
  const int64_t hour = 3600000;
  create_topic(c, "ts-before", {{"message.timestamp.before.max.ms", std::to_string(hour)}});
  create_topic(c, "ts-after", {{"message.timestamp.after.max.ms", std::to_string(hour)}});
  create_topic(c, "ts-diff", {{"message.timestamp.difference.max.ms", std::to_string(hour)}});
  create_topic(c, "ts-append",
               {{"message.timestamp.before.max.ms", std::to_string(hour)}, {"message.timestamp.type", "LogAppendTime"}});
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto batch_at = [](int64_t ts) { return simple_batch(3, "t", ts); };

  std::string msg;
  size_t record_errors = 0;
  CHECK(produce_error(c, "ts-before", batch_at(now - 2 * hour), &msg, &record_errors) == 32);  // INVALID_TIMESTAMP
  CHECK(msg.find("out of range") != std::string::npos);
  CHECK(record_errors == 1);
  CHECK(produce_error(c, "ts-before", batch_at(now + 2 * hour)) == 0);  // no upper bound set
  CHECK(produce_error(c, "ts-after", batch_at(now + 2 * hour)) == 32);
  CHECK(produce_error(c, "ts-after", batch_at(now - 2 * hour)) == 0);
  CHECK(produce_error(c, "ts-diff", batch_at(now - 2 * hour)) == 32);
  CHECK(produce_error(c, "ts-diff", batch_at(now + 2 * hour)) == 32);
  CHECK(produce_error(c, "ts-diff", batch_at(now)) == 0);
  // LogAppendTime: the broker's clock replaces the timestamp, no bound applies.
  CHECK(produce_error(c, "ts-append", batch_at(now - 2 * hour)) == 0);
  // A refused batch is not stored.
  auto spans = batches_of(fetch_all(c, "ts-before"));
  REQUIRE(spans.size() == 1);
  CHECK(spans[0].header.base_timestamp == now + 2 * hour);
}
