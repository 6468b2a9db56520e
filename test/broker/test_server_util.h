// Helpers for the broker-ref server tests: a BrokerRef per test (from the
// test-support library) and a raw blocking Kafka connection speaking the codec's message structs.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kfk_test/brokers.h"
#include "kfk_test/wait.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/record_batch.h"

namespace kfk::broker::server_test {

// From the test-support library (kfk_test/).
using kfk::test::now_ms;
using kfk::test::start_broker;

// One blocking TCP connection to the broker.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  int fd() const { return fd_; }

  // False when the peer closed (EPIPE / ECONNRESET).
  bool send_bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    while (n > 0) {
      ssize_t w = ::send(fd_, b, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      b += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool send_bytes(const std::vector<uint8_t>& v) { return send_bytes(v.data(), v.size()); }

  template <class Request>
  static std::vector<uint8_t> frame(const Request& req, int16_t version, int32_t correlation_id) {
    proto::Writer w;
    proto::encode_request_frame(w, req, version, correlation_id, std::string("kfk-server-test"));
    return w.flatten();
  }

  template <class Request>
  void send(const Request& req, int16_t version, int32_t correlation_id) {
    REQUIRE(send_bytes(frame(req, version, correlation_id)));
  }

  // The next frame's bytes after the size prefix; nullopt on close or timeout.
  std::optional<std::vector<uint8_t>> read_frame(int timeout_ms = 10000) {
    uint8_t hdr[4];
    if (!read_exact(hdr, 4, timeout_ms)) return std::nullopt;
    int32_t size = static_cast<int32_t>((uint32_t{hdr[0]} << 24) | (uint32_t{hdr[1]} << 16) | (uint32_t{hdr[2]} << 8) | hdr[3]);
    REQUIRE(size >= 4);
    std::vector<uint8_t> out(static_cast<size_t>(size));
    if (!read_exact(out.data(), out.size(), timeout_ms)) return std::nullopt;
    return out;
  }

  // Decodes the next response; its Records stay valid until the next recv.
  template <class Response>
  Response recv(int16_t version, int32_t correlation_id, int timeout_ms = 10000) {
    auto f = read_frame(timeout_ms);
    REQUIRE_MESSAGE(f.has_value(), "no response for correlation id " << correlation_id);
    last_frame_ = std::move(*f);
    proto::Reader r(last_frame_.data(), last_frame_.size());
    proto::ResponseHeader h;
    REQUIRE(proto::parse_response_header(r, Response::kApiKey, version, h));
    REQUIRE(h.correlation_id == correlation_id);
    Response resp;
    resp.decode(r, version);
    REQUIRE_MESSAGE(r.ok(), "undecodable " << Response::kName << ": " << (r.error() ? r.error() : "?"));
    return resp;
  }

  template <class Response, class Request>
  Response call(const Request& req, int16_t version) {
    int32_t corr = next_corr_++;
    send(req, version, corr);
    return recv<Response>(version, corr);
  }

  // True when the broker closes the connection within timeout_ms (any
  // bytes it sends first are skipped).
  bool wait_closed(int timeout_ms = 5000) {
    int64_t deadline = now_ms() + timeout_ms;
    uint8_t buf[4096];
    while (now_ms() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(deadline - now_ms()));
      if (r <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
  }

  // True when nothing arrives within timeout_ms.
  bool silent_for(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 0;
  }

 private:
  bool read_exact(uint8_t* p, size_t n, int timeout_ms) {
    int64_t deadline = now_ms() + timeout_ms;
    while (n > 0) {
      int64_t left = deadline - now_ms();
      if (left <= 0) return false;
      pollfd pf{fd_, POLLIN, 0};
      if (::poll(&pf, 1, static_cast<int>(left)) <= 0) continue;
      ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }

  int fd_ = -1;
  int32_t next_corr_ = 1;
  std::vector<uint8_t> last_frame_;
};

// ---------------------------------------------------------------- records

struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t offset = -1;  // filled when decoding
};

struct BatchOptions {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  proto::Compression compression = proto::Compression::kNone;
};

inline std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::vector<uint8_t> make_batch(const std::vector<TestRecord>& recs, const BatchOptions& bo = {}) {
  proto::BatchBuilder::Options o;
  o.producer_id = bo.producer_id;
  o.producer_epoch = bo.producer_epoch;
  o.base_sequence = bo.base_sequence;
  o.transactional = bo.transactional;
  o.compression = bo.compression;
  proto::BatchBuilder b(o);
  for (const auto& r : recs) {
    std::optional<std::span<const uint8_t>> k, v;
    if (r.key) k = bytes_of(*r.key);
    if (r.value) v = bytes_of(*r.value);
    std::vector<proto::RecordHeader> hs;
    for (const auto& [hk, hv] : r.headers) hs.push_back({hk, std::string_view(hv)});
    b.append(r.timestamp, k, v, hs);
  }
  return b.release();
}

// n records "k<i>" -> "value-<tag>-<i>".
inline std::vector<uint8_t> simple_batch(int n, const std::string& tag = "v", int64_t ts = 1000,
                                         const BatchOptions& bo = {}) {
  std::vector<TestRecord> recs;
  for (int i = 0; i < n; ++i) recs.push_back({'k' + std::to_string(i), "value-" + tag + "-" + std::to_string(i), ts + i});
  return make_batch(recs, bo);
}

inline std::vector<TestRecord> decode_records(std::span<const uint8_t> bytes) {
  std::vector<proto::BatchSpan> spans;
  size_t tail = 0;
  REQUIRE(proto::split_batches(bytes, spans, nullptr, &tail));
  std::vector<TestRecord> out;
  for (const auto& sp : spans) {
    REQUIRE(proto::verify_batch_crc(sp.bytes));
    std::vector<proto::Record> recs;
    std::vector<uint8_t> scratch;
    REQUIRE(proto::decode_records(sp, recs, scratch, 64 << 20));
    for (const auto& r : recs) {
      TestRecord t;
      if (r.key) t.key = std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size());
      if (r.value) t.value = std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size());
      t.timestamp = r.timestamp;
      t.offset = r.offset;
      for (const auto& h : r.headers) t.headers.emplace_back(std::string(h.key), std::string(h.value.value_or("")));
      out.push_back(std::move(t));
    }
  }
  return out;
}

// ------------------------------------------------------- request builders

inline proto::ProduceRequest produce_request(const std::string& topic, int32_t partition,
                                             const std::vector<uint8_t>& batch, int16_t acks = -1) {
  proto::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  proto::ProduceRequest::TopicProduceData t;
  t.name = topic;
  proto::ProduceRequest::PartitionProduceData p;
  p.index = partition;
  p.records = proto::Records::view(batch.data(), batch.size());
  t.partition_data.push_back(p);
  req.topic_data.push_back(t);
  return req;
}

inline proto::MetadataRequest metadata_request(const std::vector<std::string>& topics, bool auto_create = true) {
  proto::MetadataRequest req;
  req.topics = std::vector<proto::MetadataRequest::MetadataRequestTopic>();
  for (const auto& t : topics) {
    proto::MetadataRequest::MetadataRequestTopic rt;
    rt.name = t;
    req.topics->push_back(rt);
  }
  req.allow_auto_topic_creation = auto_create;
  return req;
}

inline proto::FetchRequest fetch_request(const std::string& topic, int32_t partition, int64_t offset,
                                         int32_t max_wait_ms = 0, int32_t min_bytes = 0,
                                         int32_t partition_max_bytes = 1 << 20) {
  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = max_wait_ms;
  req.min_bytes = min_bytes;
  req.max_bytes = 50 << 20;
  proto::FetchRequest::FetchTopic t;
  t.topic = topic;
  proto::FetchRequest::FetchPartition p;
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = partition_max_bytes;
  t.partitions.push_back(p);
  req.topics.push_back(t);
  return req;
}

// Produces and requires success; returns the base offset.
inline int64_t produce_ok(RawConn& c, const std::string& topic, int32_t partition, const std::vector<uint8_t>& batch,
                          int16_t version = 9) {
  auto resp = c.call<proto::ProduceResponse>(produce_request(topic, partition, batch), version);
  REQUIRE(resp.responses.size() == 1);
  REQUIRE(resp.responses[0].partition_responses.size() == 1);
  const auto& pr = resp.responses[0].partition_responses[0];
  REQUIRE_MESSAGE(pr.error_code == 0, "produce error " << pr.error_code << " " << pr.error_message.value_or(""));
  return pr.base_offset;
}

// Creates a topic through Metadata auto-creation.
inline void ensure_topic(RawConn& c, const std::string& topic) {
  auto md = c.call<proto::MetadataResponse>(metadata_request({topic}), 12);
  REQUIRE(md.topics.size() == 1);
  REQUIRE(md.topics[0].error_code == 0);
}

}  // namespace kfk::broker::server_test
