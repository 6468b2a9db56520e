// broker-ref's advertised API versions work (issue 21): every (API,
// version) ApiVersions lists answers a minimal valid request without an
// "unsupported" error, under both emulated Kafka generations
// (broker.emulated.kafka.version 3.9 and 4.0); magic 0/1 message sets are
// converted on Produce v0-v2 and served down-converted on Fetch v0-v3
// (3.9), refused as Kafka 4.0 refuses them (4.0); requests for what
// broker-ref does not do (transactions) fail at once, non-retriably.
#include <set>
#include <type_traits>

#include "protocol/api_list.h"
#include "protocol/error_codes.h"
#include "test_server_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

constexpr int16_t kUnsupportedVersion = 35;
constexpr int16_t kUnsupportedForMessageFormat = 43;
constexpr int16_t kCorruptMessage = 2;
constexpr int16_t kTransactionalIdAuthorizationFailed = 53;

// CRC32 (IEEE), bit by bit: the test's own, independent of broker-ref's.
uint32_t crc32_bitwise(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

void put_be(std::vector<uint8_t>& o, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) o.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_legacy_bytes(std::vector<uint8_t>& o, const std::optional<std::string>& s) {
  if (!s) return put_be(o, 0xffffffffu, 4);
  put_be(o, s->size(), 4);
  o.insert(o.end(), s->begin(), s->end());
}

// One legacy message (magic 0 or 1) as a producer writes it.
void put_legacy(std::vector<uint8_t>& o, int64_t offset, int8_t magic, int8_t attributes, int64_t ts,
                const std::optional<std::string>& key, const std::optional<std::string>& value) {
  std::vector<uint8_t> body;
  body.push_back(static_cast<uint8_t>(magic));
  body.push_back(static_cast<uint8_t>(attributes));
  if (magic == 1) put_be(body, static_cast<uint64_t>(ts), 8);
  put_legacy_bytes(body, key);
  put_legacy_bytes(body, value);
  put_be(o, static_cast<uint64_t>(offset), 8);
  put_be(o, body.size() + 4, 4);
  put_be(o, crc32_bitwise(body.data(), body.size()), 4);
  o.insert(o.end(), body.begin(), body.end());
}

std::vector<uint8_t> legacy_set(int8_t magic, const std::vector<TestRecord>& recs) {
  std::vector<uint8_t> o;
  for (const auto& r : recs) put_legacy(o, 0, magic, 0, r.timestamp, r.key, r.value);
  return o;
}

// A gzip wrapper around `recs` (magic 1: relative inner offsets).
std::vector<uint8_t> legacy_gzip_set(int8_t magic, const std::vector<TestRecord>& recs) {
  std::vector<uint8_t> inner;
  for (size_t i = 0; i < recs.size(); ++i)
    put_legacy(inner, static_cast<int64_t>(i), magic, 0, recs[i].timestamp, recs[i].key, recs[i].value);
  std::vector<uint8_t> packed;
  REQUIRE(proto::compress(proto::Compression::kGzip, -1, inner, packed));
  std::vector<uint8_t> o;
  put_legacy(o, static_cast<int64_t>(recs.size()) - 1, magic, 1, recs.back().timestamp, std::nullopt,
             std::string(packed.begin(), packed.end()));
  return o;
}

struct LegacyRead {
  int64_t offset;
  int8_t magic;
  int64_t timestamp;
  std::optional<std::string> key, value;
};

std::optional<std::string> read_legacy_bytes(proto::Reader& r) {
  int32_t n = r.i32();
  if (n < 0) return std::nullopt;
  auto s = r.raw(static_cast<size_t>(n));
  return std::string(s.begin(), s.end());
}

// Parses a Fetch v0-v3 answer (legacy messages, wrappers expanded with
// their absolute offsets), checking every CRC.
void read_legacy(std::span<const uint8_t> bytes, std::vector<LegacyRead>& out) {
  proto::Reader r(bytes);
  while (r.remaining() >= 12) {
    int64_t offset = r.i64();
    int32_t size = r.i32();
    REQUIRE(size >= 14);
    if (static_cast<size_t>(size) > r.remaining()) break;  // a cut message at the end
    auto body = r.raw(static_cast<size_t>(size));
    proto::Reader b(body);
    uint32_t crc = b.u32();
    REQUIRE(crc == crc32_bitwise(body.data() + 4, body.size() - 4));
    LegacyRead m{offset, b.i8(), -1, {}, {}};
    int8_t attributes = b.i8();
    if (m.magic == 1) m.timestamp = b.i64();
    m.key = read_legacy_bytes(b);
    m.value = read_legacy_bytes(b);
    REQUIRE(b.ok());
    if ((attributes & 7) == 0) {
      out.push_back(m);
      continue;
    }
    std::vector<uint8_t> inner;
    REQUIRE(proto::decompress(static_cast<proto::Compression>(attributes & 7),
                              bytes_of(*m.value), inner, 64 << 20));
    std::vector<LegacyRead> in;
    read_legacy(inner, in);
    REQUIRE(!in.empty());
    for (auto& x : in) {
      CHECK(x.magic == m.magic);
      if (m.magic == 1) x.offset = offset - in.back().offset + x.offset;  // relative inner offsets
      out.push_back(x);
    }
  }
}

const std::vector<TestRecord> kSample = {
    {"k0", "v0", 1700000000000}, {std::nullopt, "v1", 1700000000001}, {"k2", std::nullopt, 1700000000002}};

proto::ProduceResponse::PartitionProduceResponse produce_at(RawConn& c, const std::string& topic,
                                                            const std::vector<uint8_t>& records, int16_t version) {
  auto r = c.call<proto::ProduceResponse>(produce_request(topic, 0, records), version);
  REQUIRE(r.responses.size() == 1);
  REQUIRE(r.responses[0].partition_responses.size() == 1);
  return r.responses[0].partition_responses[0];
}

proto::FetchResponse::PartitionData fetch_at(RawConn& c, const std::string& topic, int64_t offset, int16_t version,
                                             const proto::Uuid& topic_id = {}) {
  proto::FetchRequest req = fetch_request(topic, 0, offset);
  if (version >= 13) req.topics[0].topic_id = topic_id;
  auto f = c.call<proto::FetchResponse>(req, version);
  REQUIRE(f.error_code == 0);
  REQUIRE(f.responses.size() == 1);
  REQUIRE(f.responses[0].partitions.size() == 1);
  auto p = f.responses[0].partitions[0];
  // The records view points into the connection's last frame: copy it.
  p.records = proto::Records::copy_of(p.records.data(), p.records.size());
  return p;
}

std::map<int16_t, std::pair<int16_t, int16_t>> advertised(RawConn& c) {
  proto::ApiVersionsRequest req;
  req.client_software_name = "kfk-test";
  req.client_software_version = "1.0";
  auto r = c.call<proto::ApiVersionsResponse>(req, 3);
  REQUIRE(r.error_code == 0);
  std::map<int16_t, std::pair<int16_t, int16_t>> out;
  for (const auto& k : r.api_keys) out[k.api_key] = {k.min_version, k.max_version};
  return out;
}

// The context a minimal request needs: a topic with data, its id.
struct WalkContext {
  std::string topic;
  proto::Uuid topic_id;
  bool kafka4 = false;
};

// A minimal valid request of each API; Produce and Fetch carry a partition
// (Produce v0-v2 a magic 0/1 message set, as the clients of their time).
template <class Req>
Req minimal_request(const WalkContext& w, int16_t v, std::vector<uint8_t>& keep) {
  Req req;
  if constexpr (std::is_same_v<Req, proto::ProduceRequest>) {
    keep = v <= 2 ? legacy_set(v == 2 ? 1 : 0, kSample) : make_batch(kSample);
    req = produce_request(w.topic, 0, keep);
  } else if constexpr (std::is_same_v<Req, proto::FetchRequest>) {
    req = fetch_request(w.topic, 0, 0);
    if (v >= 13) req.topics[0].topic_id = w.topic_id;
  } else if constexpr (std::is_same_v<Req, proto::ApiVersionsRequest>) {
    req.client_software_name = "kfk-test";
    req.client_software_version = "1.0";
  } else if constexpr (std::is_same_v<Req, proto::MetadataRequest>) {
    req = metadata_request({w.topic}, false);
  }
  return req;
}

template <class Resp>
void check_response(const Resp& r, const WalkContext& w, int16_t v) {
  if constexpr (requires { r.error_code; }) {
    CHECK(r.error_code != kUnsupportedVersion);
    CHECK(r.error_code != kUnsupportedForMessageFormat);
  }
  if constexpr (std::is_same_v<Resp, proto::ProduceResponse>) {
    REQUIRE(r.responses.size() == 1);
    const auto& p = r.responses[0].partition_responses.at(0);
    // Kafka 4.0 lists Produce v0-v2 but refuses them (KAFKA-18659): the one
    // advertised range whose lower end answers UNSUPPORTED_VERSION.
    CHECK(p.error_code == (w.kafka4 && v < 3 ? kUnsupportedVersion : 0));
  }
  if constexpr (std::is_same_v<Resp, proto::FetchResponse>) {
    REQUIRE(r.responses.size() == 1);
    const auto& p = r.responses[0].partitions.at(0);
    CHECK(p.error_code == 0);
    CHECK(p.records.size() > 0);
  }
}

template <class Req, class Resp>
void walk_one(RawConn& c, const WalkContext& w, int16_t v) {
  std::vector<uint8_t> keep;
  Req req = minimal_request<Req>(w, v, keep);
  int32_t corr = 1000 + v;
  c.send(req, v, corr);
  Resp resp = c.recv<Resp>(v, corr);
  check_response(resp, w, v);
}

void walk_api(RawConn& c, const WalkContext& w, int16_t key, int16_t v) {
  switch (key) {
#define KFK_WALK_CASE(Name, api_key, lo, hi, flex)                        \
  case api_key:                                                           \
    walk_one<proto::Name##Request, proto::Name##Response>(c, w, v);       \
    return;
    KFK_PROTOCOL_APIS(KFK_WALK_CASE)
#undef KFK_WALK_CASE
  }
  FAIL("ApiVersions lists api key " << key << ", which the codec does not know");
}

WalkContext prepare(RawConn& c, const std::string& topic, bool kafka4) {
  ensure_topic(c, topic);
  CHECK(produce_at(c, topic, make_batch(kSample), 9).error_code == 0);
  auto md = c.call<proto::MetadataResponse>(metadata_request({topic}), 12);
  return {topic, md.topics.at(0).topic_id, kafka4};
}

}  // namespace

TEST_CASE("server versions: every advertised (API, version) serves a minimal request") {
  for (std::string gen : {"default (3.9)", "4.0"}) {
    CAPTURE(gen);
    std::map<std::string, std::string> config = {{"num.partitions", "1"}};
    if (gen == "4.0") config["broker.emulated.kafka.version"] = "4.0";
    auto broker = start_broker(config);
    RawConn setup(broker->port());
    const WalkContext w = prepare(setup, "walk", gen == "4.0");
    auto apis = advertised(setup);
    REQUIRE(apis.size() > 20);
    for (const auto& api : apis) {  // no structured binding: clang 14 cannot capture one (CAPTURE)
      const auto key = api.first;
      const auto& range = api.second;
      for (int16_t v = range.first; v <= range.second; ++v) {
        CAPTURE(key);
        CAPTURE(v);
        RawConn c(broker->port());  // a fresh connection: a close is one failure, not many
        walk_api(c, w, key, v);
      }
    }
  }
}

TEST_CASE("server versions: Kafka 4.0 emulation serves what Kafka 4.0 serves") {
  auto broker = start_broker({{"broker.emulated.kafka.version", "4.0"}, {"num.partitions", "1"}});
  RawConn c(broker->port());
  ensure_topic(c, "k4");
  auto apis = advertised(c);
  CHECK(apis.at(1).first == 4);   // Fetch
  CHECK(apis.at(3).first == 4);   // Metadata
  CHECK(apis.at(2).first == 1);   // ListOffsets
  CHECK(apis.at(8).first == 2);   // OffsetCommit
  CHECK(apis.at(10).first == 1);  // FindCoordinator
  CHECK(apis.at(11).first == 2);  // JoinGroup
  CHECK(apis.at(19).first == 2);  // CreateTopics
  CHECK(apis.at(0).first == 0);   // Produce: still listed from v0, as Kafka 4.0 (KAFKA-18659)

  // Produce v2 with a magic 1 set: UNSUPPORTED_VERSION, connection kept.
  auto p = produce_at(c, "k4", legacy_set(1, kSample), 2);
  CHECK(p.error_code == kUnsupportedVersion);
  CHECK(produce_at(c, "k4", make_batch(kSample), 3).error_code == 0);

  // Below Kafka 4.0's minimum: the connection is closed, as Kafka's.
  RawConn old(broker->port());
  old.send(fetch_request("k4", 0, 0), 3, 7);
  CHECK(old.wait_closed());

  // An unsupported ApiVersions version gets v0 with 4.0's table.
  RawConn av(broker->port());
  av.send(proto::ApiVersionsRequest{}, 99, 9);
  auto f = av.read_frame();
  REQUIRE(f.has_value());
  proto::Reader r(f->data(), f->size());
  CHECK(r.i32() == 9);
  proto::ApiVersionsResponse resp;
  resp.decode(r, 0);
  REQUIRE(r.ok());
  CHECK(resp.error_code == kUnsupportedVersion);
  bool fetch_seen = false;
  for (const auto& k : resp.api_keys)
    if (k.api_key == 1) fetch_seen = k.min_version == 4;
  CHECK(fetch_seen);
}

TEST_CASE("server versions: magic 0/1 produce is converted; old fetches are down-converted") {
  auto broker = start_broker({{"num.partitions", "1"}});  // the default: Kafka 3.9
  RawConn c(broker->port());
  ensure_topic(c, "legacy");
  // v0: magic 0 (no timestamps); v2: magic 1, plain and a gzip wrapper.
  auto p0 = produce_at(c, "legacy", legacy_set(0, kSample), 0);
  REQUIRE(p0.error_code == 0);
  CHECK(p0.base_offset == 0);
  auto p1 = produce_at(c, "legacy", legacy_set(1, kSample), 2);
  REQUIRE(p1.error_code == 0);
  CHECK(p1.base_offset == 3);
  auto p2 = produce_at(c, "legacy", legacy_gzip_set(1, kSample), 2);
  REQUIRE(p2.error_code == 0);
  CHECK(p2.base_offset == 6);

  // A modern fetch reads record batches: offsets assigned, keys and values
  // kept, magic 0's timestamps -1 (NO_TIMESTAMP), magic 1's kept.
  auto modern = fetch_at(c, "legacy", 0, 11);
  auto recs = decode_records({modern.records.data(), modern.records.size()});
  REQUIRE(recs.size() == 9);
  for (int i = 0; i < 9; ++i) {
    CAPTURE(i);
    CHECK(recs[i].offset == i);
    CHECK(recs[i].key == kSample[i % 3].key);
    CHECK(recs[i].value == kSample[i % 3].value);
    CHECK(recs[i].timestamp == (i < 3 ? -1 : kSample[i % 3].timestamp));
  }
  std::vector<proto::BatchSpan> spans;
  REQUIRE(proto::split_batches({modern.records.data(), modern.records.size()}, spans));
  REQUIRE(spans.size() == 3);  // one batch per produced set
  CHECK(spans[2].header.compression() == proto::Compression::kGzip);

  // Fetch v0/v1: magic 0; v2/v3: magic 1 (timestamps back).
  for (int16_t v : {0, 1, 2, 3}) {
    CAPTURE(v);
    auto old = fetch_at(c, "legacy", 0, v);
    std::vector<LegacyRead> msgs;
    read_legacy({old.records.data(), old.records.size()}, msgs);
    REQUIRE(msgs.size() == 9);
    for (int i = 0; i < 9; ++i) {
      CAPTURE(i);
      CHECK(msgs[i].offset == i);
      CHECK(msgs[i].magic == (v <= 1 ? 0 : 1));
      CHECK(msgs[i].key == kSample[i % 3].key);
      CHECK(msgs[i].value == kSample[i % 3].value);
      if (v >= 2) CHECK(msgs[i].timestamp == (i < 3 ? -1 : kSample[i % 3].timestamp));
    }
  }

  // A bad CRC32 is refused, and nothing is appended.
  auto bad = legacy_set(1, kSample);
  bad[20] ^= 0x40;
  CHECK(produce_at(c, "legacy", bad, 2).error_code == kCorruptMessage);
  // Magic 0/1 on Produce v3+ stays refused, as Kafka's.
  CHECK(produce_at(c, "legacy", legacy_set(1, kSample), 3).error_code == 87);  // INVALID_RECORD
  CHECK(fetch_at(c, "legacy", 0, 11).high_watermark == 9);
}

TEST_CASE("server versions: transactional ids fail at once, non-retriably, with a message") {
  auto broker = start_broker();
  RawConn c(broker->port());
  CHECK_FALSE(proto::is_retriable(kTransactionalIdAuthorizationFailed));
  for (int16_t v = 1; v <= 6; ++v) {
    CAPTURE(v);
    proto::FindCoordinatorRequest req;
    req.key_type = 1;
    req.key = "txn-1";
    req.coordinator_keys = {"txn-1"};
    auto r = c.call<proto::FindCoordinatorResponse>(req, v);
    if (v < 4) {
      CHECK(r.error_code == kTransactionalIdAuthorizationFailed);
      if (v >= 1) CHECK(r.error_message.value_or("").find("transactions") != std::string::npos);
    } else {
      REQUIRE(r.coordinators.size() == 1);
      CHECK(r.coordinators[0].error_code == kTransactionalIdAuthorizationFailed);
      CHECK(r.coordinators[0].error_message.value_or("").find("transactions") != std::string::npos);
    }
  }
  proto::InitProducerIdRequest ip;
  ip.transactional_id = "txn-1";
  ip.transaction_timeout_ms = 60000;
  auto r = c.call<proto::InitProducerIdResponse>(ip, 4);
  CHECK(r.error_code == kTransactionalIdAuthorizationFailed);
  // Group coordinators are still found.
  proto::FindCoordinatorRequest g;
  g.key = "group-1";
  g.coordinator_keys = {"group-1"};
  CHECK(c.call<proto::FindCoordinatorResponse>(g, 3).error_code == 0);
}

TEST_CASE("server versions: Fetch v0-v3 down-convert record batches from a modern producer") {
  auto broker = start_broker({{"num.partitions", "1"}});
  RawConn c(broker->port());
  ensure_topic(c, "down");
  // Timestamps of now: older ones would roll a segment per batch
  // (segment.ms), and a fetch reads one segment.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<TestRecord> with_headers = {{"a", "1", now, {{"h", "x"}}}, {"b", "2", now + 1}};
  std::vector<TestRecord> sample = kSample;
  for (auto& r : sample) r.timestamp += now - kSample[0].timestamp;
  CHECK(produce_at(c, "down", make_batch(with_headers), 9).error_code == 0);
  CHECK(produce_at(c, "down", make_batch(sample, {-1, -1, -1, false, proto::Compression::kLz4}), 9).error_code == 0);
  for (int16_t v : {0, 1, 2, 3}) {
    CAPTURE(v);
    auto old = fetch_at(c, "down", 0, v);
    CHECK(old.high_watermark == 5);
    std::vector<LegacyRead> msgs;
    read_legacy({old.records.data(), old.records.size()}, msgs);
    REQUIRE(msgs.size() == 5);
    for (int i = 0; i < 5; ++i) {
      CAPTURE(i);
      CHECK(msgs[i].offset == i);
      CHECK(msgs[i].magic == (v <= 1 ? 0 : 1));
      const TestRecord& want = i < 2 ? with_headers[i] : sample[i - 2];
      CHECK(msgs[i].key == want.key);
      CHECK(msgs[i].value == want.value);
      CHECK(msgs[i].timestamp == (v <= 1 ? -1 : want.timestamp));
    }
    // From the middle of the compressed batch: the whole batch, as Kafka.
    std::vector<LegacyRead> mid;
    auto m = fetch_at(c, "down", 3, v);
    read_legacy({m.records.data(), m.records.size()}, mid);
    REQUIRE(mid.size() == 3);
    CHECK(mid.front().offset == 2);
  }
  // zstd cannot be carried by magic 0/1: UNSUPPORTED_COMPRESSION_TYPE, as
  // Kafka answers a Fetch older than v10.
  ensure_topic(c, "down-zstd");
  CHECK(produce_at(c, "down-zstd", make_batch(kSample, {-1, -1, -1, false, proto::Compression::kZstd}), 9).error_code ==
        0);
  auto f = c.call<proto::FetchResponse>(fetch_request("down-zstd", 0, 0), 3);
  CHECK(f.responses.at(0).partitions.at(0).error_code == 76);
}

TEST_CASE("server versions: message.downconversion.enable=false answers Fetch v0-v3 with UNSUPPORTED_VERSION") {
  auto broker = start_broker({{"num.partitions", "1"}, {"log.message.downconversion.enable", "false"}});
  RawConn c(broker->port());
  ensure_topic(c, "no-down");
  CHECK(produce_at(c, "no-down", make_batch(kSample), 9).error_code == 0);
  for (int16_t v : {0, 1, 2, 3}) {
    CAPTURE(v);
    auto f = c.call<proto::FetchResponse>(fetch_request("no-down", 0, 0), v);
    CHECK(f.responses.at(0).partitions.at(0).error_code == 35);
    CHECK(f.responses.at(0).partitions.at(0).records.size() == 0);
  }
  // A client that reads record batches is served as usual.
  auto modern = fetch_at(c, "no-down", 0, 4);
  CHECK(modern.error_code == 0);
  CHECK(modern.records.size() > 0);
}

TEST_CASE("server versions: malformed magic 0/1 message sets get an error, never a crash") {
  auto broker = start_broker({{"num.partitions", "1"}});
  RawConn c(broker->port());
  ensure_topic(c, "badlegacy");
  // Every truncation of a gzip wrapper set, and of a plain one (except
  // at a message boundary, which leaves a valid shorter set).
  for (const auto& good : {legacy_gzip_set(1, kSample), legacy_set(0, kSample)}) {
    std::set<size_t> boundaries;
    for (size_t pos = 0; pos + 12 <= good.size();) {
      pos += 12 + ((size_t{good[pos + 8]} << 24) | (size_t{good[pos + 9]} << 16) | (size_t{good[pos + 10]} << 8) |
                   good[pos + 11]);
      boundaries.insert(pos);
    }
    for (size_t n = 17; n < good.size(); ++n) {
      if (boundaries.count(n)) continue;
      CAPTURE(n);
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(n));
      CHECK(produce_at(c, "badlegacy", cut, 2).error_code == kCorruptMessage);
    }
  }
  // A wrapper whose value is not gzip (CRC right), one nesting another
  // wrapper, a zstd wrapper (magic 0/1 cannot carry zstd), a huge size.
  std::vector<uint8_t> not_gzip;
  put_legacy(not_gzip, 0, 1, 1, 0, std::nullopt, std::string("definitely not gzip"));
  CHECK(produce_at(c, "badlegacy", not_gzip, 2).error_code == kCorruptMessage);
  auto inner_wrapper = legacy_gzip_set(1, kSample);
  std::vector<uint8_t> packed, nested;
  REQUIRE(proto::compress(proto::Compression::kGzip, -1, inner_wrapper, packed));
  put_legacy(nested, 0, 1, 1, 0, std::nullopt, std::string(packed.begin(), packed.end()));
  CHECK(produce_at(c, "badlegacy", nested, 2).error_code == kCorruptMessage);
  std::vector<uint8_t> zstd;
  put_legacy(zstd, 0, 1, 4, 0, std::nullopt, std::string("x"));
  CHECK(produce_at(c, "badlegacy", zstd, 2).error_code == 76);  // UNSUPPORTED_COMPRESSION_TYPE
  auto huge = legacy_set(1, kSample);
  huge[8] = 0x7f;  // message_size
  CHECK(produce_at(c, "badlegacy", huge, 2).error_code == kCorruptMessage);
  // Nothing was appended; a good set still is.
  auto ok = produce_at(c, "badlegacy", legacy_set(1, kSample), 2);
  CHECK(ok.error_code == 0);
  CHECK(ok.base_offset == 0);
}
