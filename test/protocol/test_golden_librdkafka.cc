// Golden bytes from a real client: librdkafka (Debian's librdkafka-dev)
// produces with every codec (idempotently) and consumes as a group member
// against a small capturing broker in this test, which answers with kfk's
// codec. Every request librdkafka sent must decode with kfk's codec and
// re-encode to the identical bytes; every RecordBatch it produced must pass
// the CRC check and decode to exactly the records sent. That librdkafka
// accepts the capture broker's answers (and reads back what it produced)
// checks kfk's response encoding too.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "protocol/api_list.h"
#include "protocol/frame.h"
#include "protocol/record_batch.h"

using namespace kfk::proto;

namespace {

constexpr const char* kTopic = "golden";

struct Captured {
  int16_t key;
  int16_t version;
  std::vector<uint8_t> frame;  // header + body (size prefix stripped)
};

bool read_full(int fd, void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const std::vector<uint8_t>& b) {
  size_t off = 0;
  while (off < b.size()) {
    ssize_t r = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (r <= 0) return false;
    off += static_cast<size_t>(r);
  }
  return true;
}

// A one-partition broker that records every request and answers enough of
// the protocol for a producer and a group consumer.
class CaptureBroker {
 public:
  CaptureBroker() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~CaptureBroker() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> g(mu_);
      for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<Captured> captured() {
    std::lock_guard<std::mutex> g(mu_);
    return captured_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard<std::mutex> g(mu_);
      conns_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    for (;;) {
      uint8_t sz[4];
      if (!read_full(fd, sz, 4)) break;
      int32_t n = static_cast<int32_t>((uint32_t(sz[0]) << 24) | (uint32_t(sz[1]) << 16) | (uint32_t(sz[2]) << 8) | sz[3]);
      if (n <= 0 || n > (64 << 20)) break;
      std::vector<uint8_t> frame(static_cast<size_t>(n));
      if (!read_full(fd, frame.data(), frame.size())) break;
      Reader r(frame.data(), frame.size());
      ParsedRequestHeader h;
      if (!parse_request_header(r, h) || !h.known) break;
      {
        std::lock_guard<std::mutex> g(mu_);
        captured_.push_back(Captured{h.header.request_api_key, h.header.request_api_version, frame});
      }
      Writer w;
      if (!answer(h.header, r, w)) continue;  // acks=0 produce: no answer
      if (!write_full(fd, w.flatten())) break;
    }
    ::close(fd);
  }

  template <class Req>
  Req decode_body(Reader& r, int16_t v) {
    Req req;
    req.decode(r, v);
    return req;
  }

  // Builds the answer to one request with kfk's codec.
  bool answer(const RequestHeader& h, Reader& r, Writer& w) {
    const int16_t v = h.request_api_version;
    const int32_t corr = h.correlation_id;
    switch (h.request_api_key) {
      case ApiVersionsRequest::kApiKey: {
        ApiVersionsResponse resp;
        for (const auto& a : all_apis()) {
          auto& k = resp.api_keys.emplace_back();
          k.api_key = a.key;
          k.min_version = a.min_version;
          k.max_version = a.max_version;
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case MetadataRequest::kApiKey: {
        auto req = decode_body<MetadataRequest>(r, v);
        MetadataResponse resp;
        auto& b = resp.brokers.emplace_back();
        b.node_id = 1;
        b.host = "127.0.0.1";
        b.port = port_;
        resp.cluster_id = "golden-cluster";
        resp.controller_id = 1;
        auto& t = resp.topics.emplace_back();
        t.name = kTopic;
        t.topic_id.bytes[15] = 7;
        auto& p = t.partitions.emplace_back();
        p.partition_index = 0;
        p.leader_id = 1;
        p.leader_epoch = 0;
        p.replica_nodes = {1};
        p.isr_nodes = {1};
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case InitProducerIdRequest::kApiKey: {
        InitProducerIdResponse resp;
        resp.producer_id = 4000;
        resp.producer_epoch = 0;
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case ProduceRequest::kApiKey: {
        auto req = decode_body<ProduceRequest>(r, v);
        ProduceResponse resp;
        std::lock_guard<std::mutex> g(mu_);
        for (const auto& td : req.topic_data) {
          auto& tr = resp.responses.emplace_back();
          tr.name = td.name;
          for (const auto& pd : td.partition_data) {
            auto& pr = tr.partition_responses.emplace_back();
            pr.index = pd.index;
            pr.base_offset = next_offset_;
            // Keep the batches with broker-assigned offsets for fetching.
            std::vector<BatchSpan> batches;
            if (!pd.records.is_null() && split_batches({pd.records.data(), pd.records.size()}, batches)) {
              for (const auto& bs : batches) {
                std::vector<uint8_t> copy(bs.bytes.begin(), bs.bytes.end());
                set_batch_base_offset(copy, next_offset_);
                next_offset_ += bs.header.last_offset_delta + 1;
                log_.insert(log_.end(), copy.begin(), copy.end());
              }
            }
          }
        }
        if (req.acks == 0) return false;
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case ListOffsetsRequest::kApiKey: {
        auto req = decode_body<ListOffsetsRequest>(r, v);
        ListOffsetsResponse resp;
        std::lock_guard<std::mutex> g(mu_);
        for (const auto& t : req.topics) {
          auto& tr = resp.topics.emplace_back();
          tr.name = t.name;
          for (const auto& p : t.partitions) {
            auto& pr = tr.partitions.emplace_back();
            pr.partition_index = p.partition_index;
            pr.offset = p.timestamp == -2 ? 0 : next_offset_;
            pr.old_style_offsets = {pr.offset};
          }
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case FetchRequest::kApiKey: {
        auto req = decode_body<FetchRequest>(r, v);
        bool any = false;
        {
          std::lock_guard<std::mutex> g(mu_);
          for (const auto& t : req.topics)
            for (const auto& p : t.partitions) any |= p.fetch_offset < next_offset_;
        }
        if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(std::min(req.max_wait_ms, 100)));
        FetchResponse resp;
        std::lock_guard<std::mutex> g(mu_);
        for (const auto& t : req.topics) {
          auto& tr = resp.responses.emplace_back();
          tr.topic = t.topic;
          tr.topic_id = t.topic_id;
          for (const auto& p : t.partitions) {
            auto& pr = tr.partitions.emplace_back();
            pr.partition_index = p.partition;
            pr.high_watermark = next_offset_;
            pr.last_stable_offset = next_offset_;
            pr.log_start_offset = 0;
            // Whole log each time: simple, and the client skips what it has.
            pr.records = p.fetch_offset < next_offset_ ? Records::copy_of(log_.data(), log_.size())
                                                       : Records::view(nullptr, 0);
          }
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case FindCoordinatorRequest::kApiKey: {
        auto req = decode_body<FindCoordinatorRequest>(r, v);
        FindCoordinatorResponse resp;
        resp.node_id = 1;
        resp.host = "127.0.0.1";
        resp.port = port_;
        for (const auto& k : req.coordinator_keys) {
          auto& c = resp.coordinators.emplace_back();
          c.key = k;
          c.node_id = 1;
          c.host = "127.0.0.1";
          c.port = port_;
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case JoinGroupRequest::kApiKey: {
        auto req = decode_body<JoinGroupRequest>(r, v);
        JoinGroupResponse resp;
        resp.generation_id = 1;
        resp.protocol_type = req.protocol_type;
        resp.protocol_name = req.protocols.empty() ? std::string() : req.protocols[0].name;
        resp.member_id = req.member_id.empty() ? "member-1" : req.member_id;
        resp.leader = resp.member_id;
        auto& m = resp.members.emplace_back();
        m.member_id = resp.member_id;
        if (!req.protocols.empty()) m.metadata = req.protocols[0].metadata;
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case SyncGroupRequest::kApiKey: {
        auto req = decode_body<SyncGroupRequest>(r, v);
        SyncGroupResponse resp;
        resp.protocol_type = req.protocol_type;
        resp.protocol_name = req.protocol_name;
        for (const auto& a : req.assignments)
          if (a.member_id == req.member_id) resp.assignment = a.assignment;
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case HeartbeatRequest::kApiKey:
        encode_response_frame(w, HeartbeatResponse{}, v, corr);
        return true;
      case LeaveGroupRequest::kApiKey:
        encode_response_frame(w, LeaveGroupResponse{}, v, corr);
        return true;
      case OffsetFetchRequest::kApiKey: {
        auto req = decode_body<OffsetFetchRequest>(r, v);
        OffsetFetchResponse resp;
        if (req.topics) {
          for (const auto& t : *req.topics) {
            auto& tr = resp.topics.emplace_back();
            tr.name = t.name;
            for (int32_t p : t.partition_indexes) {
              auto& pr = tr.partitions.emplace_back();
              pr.partition_index = p;
              pr.committed_offset = -1;
            }
          }
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      case OffsetCommitRequest::kApiKey: {
        auto req = decode_body<OffsetCommitRequest>(r, v);
        OffsetCommitResponse resp;
        for (const auto& t : req.topics) {
          auto& tr = resp.topics.emplace_back();
          tr.name = t.name;
          for (const auto& p : t.partitions) tr.partitions.emplace_back().partition_index = p.partition_index;
        }
        encode_response_frame(w, resp, v, corr);
        return true;
      }
      default:
        return false;
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
  std::vector<Captured> captured_;
  std::vector<uint8_t> log_;
  int64_t next_offset_ = 0;
};

struct Sent {
  std::string key, value, header_value;
  int64_t timestamp;
};

rd_kafka_conf_t* conf_for(const std::string& bootstrap, std::map<std::string, std::string> extra) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char err[512];
  extra["bootstrap.servers"] = bootstrap;
  extra["log_level"] = "3";
  for (const auto& [k, v] : extra) REQUIRE_MESSAGE(rd_kafka_conf_set(c, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  return c;
}

void produce_with(const std::string& bootstrap, const std::string& codec, int first, int count,
                  std::vector<Sent>& sent) {
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER,
                               conf_for(bootstrap, {{"compression.codec", codec},
                                                    {"enable.idempotence", "true"},
                                                    {"linger.ms", "5"}}),
                               err, sizeof err);
  REQUIRE_MESSAGE(p != nullptr, err);
  for (int i = first; i < first + count; ++i) {
    Sent s{"key-" + std::to_string(i), std::string(50 + i % 30, char('a' + i % 26)), "trace-" + std::to_string(i),
           1700000000000LL + i};
    sent.push_back(s);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(s.key.data(), s.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(s.value.data()), s.value.size()),
        RD_KAFKA_V_HEADER("h", s.header_value.data(), static_cast<ssize_t>(s.header_value.size())),
        RD_KAFKA_V_TIMESTAMP(s.timestamp), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  CHECK(rd_kafka_flush(p, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
}

}  // namespace

TEST_CASE("librdkafka's requests and record batches decode and re-encode byte-identically") {
  CaptureBroker broker;
  std::vector<Sent> sent;
  const std::vector<std::pair<std::string, Compression>> codecs = {{"none", Compression::kNone},
                                                                   {"gzip", Compression::kGzip},
                                                                   {"snappy", Compression::kSnappy},
                                                                   {"lz4", Compression::kLz4},
                                                                   {"zstd", Compression::kZstd}};
  int next = 0;
  for (const auto& c : codecs) {
    produce_with(broker.bootstrap(), c.first, next, 40, sent);
    next += 40;
  }

  // A group consumer reads everything back through kfk-encoded responses.
  char err[512];
  rd_kafka_t* consumer = rd_kafka_new(
      RD_KAFKA_CONSUMER,
      conf_for(broker.bootstrap(), {{"group.id", "golden-group"}, {"auto.offset.reset", "earliest"},
                                    {"enable.auto.commit", "true"}, {"auto.commit.interval.ms", "100"}}),
      err, sizeof err);
  REQUIRE_MESSAGE(consumer != nullptr, err);
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, kTopic, RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(consumer, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  std::vector<Sent> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.size() < sent.size() && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Sent s;
      s.key.assign(static_cast<const char*>(m->key), m->key_len);
      s.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      const void* hv = nullptr;
      size_t hs = 0;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(hdrs, "h", &hv, &hs) == RD_KAFKA_RESP_ERR_NO_ERROR)
        s.header_value.assign(static_cast<const char*>(hv), hs);
      s.timestamp = rd_kafka_message_timestamp(m, nullptr);
      got.push_back(s);
    }
    rd_kafka_message_destroy(m);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let an offset commit go out
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);

  REQUIRE(got.size() == sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    CHECK(got[i].key == sent[i].key);
    CHECK(got[i].value == sent[i].value);
    CHECK(got[i].header_value == sent[i].header_value);
    CHECK(got[i].timestamp == sent[i].timestamp);
  }

  // Every captured request: decode, then re-encode to the same bytes.
  std::set<int16_t> keys_seen;
  std::set<Compression> codecs_seen;
  size_t records_seen = 0;
  for (const auto& c : broker.captured()) {
    CAPTURE(c.key);
    CAPTURE(c.version);
    keys_seen.insert(c.key);
    Reader r(c.frame.data(), c.frame.size());
    ParsedRequestHeader h;
    REQUIRE(parse_request_header(r, h));
    Writer w;
    h.header.encode(w, request_header_version(c.key, c.version));
    bool matched = false;
    switch (c.key) {
#define KFK_GOLDEN_CASE(Name, key, lo, hi, flex)   \
  case key: {                                      \
    Name##Request req;                             \
    req.decode(r, c.version);                      \
    REQUIRE_MESSAGE(r.ok(), r.error());            \
    CHECK(r.empty());                              \
    req.encode(w, c.version);                      \
    matched = true;                                \
    break;                                         \
  }
      KFK_PROTOCOL_APIS(KFK_GOLDEN_CASE)
#undef KFK_GOLDEN_CASE
    }
    REQUIRE(matched);
    CHECK(w.flatten() == c.frame);

    if (c.key == ProduceRequest::kApiKey) {
      Reader pr(c.frame.data(), c.frame.size());
      ParsedRequestHeader ph;
      parse_request_header(pr, ph);
      ProduceRequest req;
      req.decode(pr, c.version);
      for (const auto& td : req.topic_data) {
        for (const auto& pd : td.partition_data) {
          std::vector<BatchSpan> batches;
          REQUIRE(split_batches({pd.records.data(), pd.records.size()}, batches));
          for (const auto& b : batches) {
            CHECK(verify_batch_crc(b.bytes));
            CHECK(b.header.producer_id == 4000);  // idempotent: our InitProducerId answer
            codecs_seen.insert(b.header.compression());
            std::vector<Record> recs;
            std::vector<uint8_t> scratch;
            REQUIRE(decode_records(b, recs, scratch, 64 << 20));
            for (const auto& rec : recs) {
              REQUIRE(records_seen < sent.size());
              const Sent& s = sent[records_seen++];
              REQUIRE(rec.key.has_value());
              CHECK(std::string(rec.key->begin(), rec.key->end()) == s.key);
              CHECK(std::string(rec.value->begin(), rec.value->end()) == s.value);
              CHECK(rec.timestamp == s.timestamp);
              REQUIRE(rec.headers.size() == 1);
              CHECK(rec.headers[0].key == "h");
              CHECK(rec.headers[0].value == std::optional<std::string_view>(s.header_value));
            }
          }
        }
      }
    }
  }
  CHECK(records_seen == sent.size());
  CHECK(codecs_seen.size() == codecs.size());
  for (int16_t k : {ApiVersionsRequest::kApiKey, MetadataRequest::kApiKey, InitProducerIdRequest::kApiKey,
                    ProduceRequest::kApiKey, FindCoordinatorRequest::kApiKey, JoinGroupRequest::kApiKey,
                    SyncGroupRequest::kApiKey, OffsetFetchRequest::kApiKey, FetchRequest::kApiKey,
                    LeaveGroupRequest::kApiKey}) {
    CAPTURE(k);
    CHECK(keys_seen.count(k) == 1);
  }
}
