// The fetcher against a scripted single broker that speaks just enough
// Kafka (ApiVersions, Metadata, ListOffsets, Fetch with KIP-227 sessions as
// Kafka runs them), so that every Fetch request can be inspected and errors
// injected at exact points: incremental fetch sessions, their resets,
// prefetch after a corrupt batch, end-of-partition reports, and a seek
// racing a ListOffsets answer.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../net/net_test_util.h"
#include "client/consumer/fetcher.h"
#include "consumer_test_util.h"
#include "protocol/error_codes.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/record_batch.h"
#include "kfk_test/wait.h"

using namespace kfk;
using kfk::consumer::FetchSessionHandler;
using kfk::consumer_testing::make_consumer;

namespace {

constexpr int16_t kNotFound = proto::to_int(proto::ErrorCode::FETCH_SESSION_ID_NOT_FOUND);
constexpr int16_t kBadEpoch = proto::to_int(proto::ErrorCode::INVALID_FETCH_SESSION_EPOCH);
const std::string kTopic = "s";

std::string value_of(int32_t p, int64_t offset) { return 'p' + std::to_string(p) + "-o" + std::to_string(offset); }

class FakeBroker {
 public:
  struct Options {
    std::vector<int64_t> ends;        // records per partition (offsets 0..end-1)
    bool topic_ids = true;            // Metadata gives ids (Fetch v13+) or not (names, <= v12)
    bool sessions = true;             // false: never grants a session (session id 0)
    int per_fetch = 7;                // records per partition per response
    int list_offsets_delay_ms = 0;
    std::map<int, int16_t> fail_fetch;  // Fetch request index -> top-level error (NOT_FOUND also drops the session)
    int64_t corrupt_once_at = -1;       // partition 0's batch at this offset fails its CRC the first time
  };
  struct SeenFetch {
    proto::FetchRequest req;
    int16_t version = 0;
    int16_t error = 0;
    int32_t session_id = 0;  // in the response
  };

  explicit FakeBroker(Options o) : o_(std::move(o)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    for (int i = 0; i < 16; ++i) topic_id_.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i + 1);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeBroker() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();  // no new connections from here on
    for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int c : conns_) ::close(c);
    ::close(fd_);
  }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<SeenFetch> fetches() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  int list_offsets_seen() const { return list_offsets_seen_; }

 private:
  struct SessionPart {
    int64_t fetch_offset = 0;
    int64_t hw = -1;  // as last sent
  };
  struct Session {
    int32_t epoch = 1;
    std::map<int32_t, SessionPart> parts;
  };

  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(c);
      threads_.emplace_back([this, c] { serve(c); });
    }
  }
  static bool read_full(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::recv(fd, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  void serve(int c) {
    for (;;) {
      uint8_t sz[4];
      if (!read_full(c, sz, 4)) break;
      uint32_t n = (uint32_t{sz[0]} << 24) | (uint32_t{sz[1]} << 16) | (uint32_t{sz[2]} << 8) | sz[3];
      std::vector<uint8_t> req(n);
      if (!read_full(c, req.data(), n)) break;
      std::vector<uint8_t> out = handle(req);
      if (out.empty()) break;
      size_t off = 0;
      while (off < out.size()) {
        ssize_t w = ::send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
    }
    ::shutdown(c, SHUT_RDWR);  // closed by the destructor (the number stays ours until then)
  }

  std::vector<uint8_t> handle(const std::vector<uint8_t>& frame) {
    proto::Reader r(frame.data(), frame.size());
    proto::ParsedRequestHeader h;
    if (!proto::parse_request_header(r, h)) return {};
    const int16_t v = h.header.request_api_version;
    proto::Writer w;
    switch (h.header.request_api_key) {
      case 18: return net::testing::api_versions_answer(frame);
      case 3: {
        proto::MetadataRequest req;
        req.decode(r, v);
        proto::MetadataResponse resp;
        resp.brokers.push_back({1, "127.0.0.1", port_, std::nullopt, {}});
        resp.cluster_id = "fake";
        resp.controller_id = 1;
        proto::MetadataResponse::MetadataResponseTopic t;
        t.name = kTopic;
        if (o_.topic_ids) t.topic_id = topic_id_;
        for (int32_t p = 0; p < static_cast<int32_t>(o_.ends.size()); ++p) {
          proto::MetadataResponse::MetadataResponsePartition mp;
          mp.partition_index = p;
          mp.leader_id = 1;
          mp.leader_epoch = 0;
          mp.replica_nodes = {1};
          mp.isr_nodes = {1};
          t.partitions.push_back(mp);
        }
        resp.topics.push_back(t);
        proto::encode_response_frame(w, resp, v, h.header.correlation_id);
        return w.flatten();
      }
      case 2: {
        list_offsets_seen_++;
        if (o_.list_offsets_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o_.list_offsets_delay_ms));
        proto::ListOffsetsRequest req;
        req.decode(r, v);
        proto::ListOffsetsResponse resp;
        for (auto& t : req.topics) {
          proto::ListOffsetsResponse::ListOffsetsTopicResponse rt;
          rt.name = t.name;
          for (auto& p : t.partitions) {
            proto::ListOffsetsResponse::ListOffsetsPartitionResponse rp;
            rp.partition_index = p.partition_index;
            rp.offset = p.timestamp == -2 ? 0 : o_.ends.at(static_cast<size_t>(p.partition_index));
            rp.old_style_offsets = {rp.offset};
            rt.partitions.push_back(rp);
          }
          resp.topics.push_back(rt);
        }
        proto::encode_response_frame(w, resp, v, h.header.correlation_id);
        return w.flatten();
      }
      case 1: return fetch(r, v, h.header.correlation_id);
      default: return {};  // close
    }
  }

  std::vector<uint8_t> fetch(proto::Reader& r, int16_t v, int32_t correlation_id) {
    proto::FetchRequest req;
    req.decode(r, v);
    proto::FetchResponse resp;
    std::vector<std::pair<int32_t, int64_t>> targets;  // partition, fetch offset
    bool incremental = false;
    Session* s = nullptr;
    std::unique_lock<std::mutex> lock(mu_);
    const int index = static_cast<int>(seen_.size());
    seen_.push_back({req, v, 0, 0});
    auto fail = o_.fail_fetch.find(index);
    if (fail != o_.fail_fetch.end()) {
      if (fail->second == kNotFound) sessions_.erase(req.session_id);
      resp.error_code = fail->second;
    } else if (v >= 7 && req.session_epoch > 0) {
      auto it = sessions_.find(req.session_id);
      if (it == sessions_.end()) {
        resp.error_code = kNotFound;
      } else if (it->second.epoch != req.session_epoch) {
        resp.error_code = kBadEpoch;
      } else {
        s = &it->second;
        incremental = true;
        for (auto& t : req.topics)
          for (auto& p : t.partitions) s->parts[p.partition].fetch_offset = p.fetch_offset;
        for (auto& f : req.forgotten_topics_data)
          for (int32_t p : f.partitions) s->parts.erase(p);
        s->epoch++;
        resp.session_id = req.session_id;
        for (auto& [p, sp] : s->parts) targets.emplace_back(p, sp.fetch_offset);
      }
    } else {
      if (req.session_id != 0) sessions_.erase(req.session_id);
      for (auto& t : req.topics)
        for (auto& p : t.partitions) targets.emplace_back(p.partition, p.fetch_offset);
      if (v >= 7 && req.session_epoch == 0 && o_.sessions) {
        resp.session_id = next_session_id_++;
        s = &sessions_[resp.session_id];
        for (auto& [p, off] : targets) s->parts[p].fetch_offset = off;
      }
    }
    seen_.back().error = resp.error_code;
    seen_.back().session_id = resp.session_id;
    bool any_records = false;
    if (resp.error_code == 0) {
      proto::FetchResponse::FetchableTopicResponse topic;
      topic.topic = kTopic;
      topic.topic_id = topic_id_;
      for (auto [p, off] : targets) {
        proto::FetchResponse::PartitionData pd;
        pd.partition_index = p;
        int64_t end = o_.ends.at(static_cast<size_t>(p));
        pd.high_watermark = end;
        pd.last_stable_offset = end;
        pd.log_start_offset = 0;
        if (off > end) {
          pd.error_code = proto::to_int(proto::ErrorCode::OFFSET_OUT_OF_RANGE);
        } else if (off < end) {
          proto::BatchBuilder::Options bo;
          bo.base_offset = off;
          proto::BatchBuilder b(bo);
          for (int64_t o = off; o < std::min(end, off + o_.per_fetch); ++o) {
            std::string val = value_of(p, o);
            b.append(1700000000000 + o, std::nullopt,
                     std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(val.data()), val.size()));
          }
          auto bytes = std::make_shared<std::vector<uint8_t>>(b.release());
          if (p == 0 && off == o_.corrupt_once_at) {
            (*bytes)[bytes->size() - 1] ^= 0x5a;  // the CRC no longer matches
            o_.corrupt_once_at = -1;
          }
          pd.records = proto::Records::view(bytes->data(), bytes->size(), bytes);
          any_records = true;
        }
        // Kafka's rule for incremental responses: only partitions with
        // records, errors or a changed high watermark.
        if (s != nullptr) {
          SessionPart& sp = s->parts[p];
          bool must = !incremental || pd.records.size() > 0 || pd.error_code != 0 || sp.hw != end;
          sp.hw = pd.error_code != 0 ? -1 : end;
          if (!must) continue;
        }
        topic.partitions.push_back(std::move(pd));
      }
      if (!topic.partitions.empty()) resp.responses.push_back(std::move(topic));
    }
    lock.unlock();
    // A short long poll when there is nothing to send.
    if (resp.error_code == 0 && !any_records && req.max_wait_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(req.max_wait_ms, 30)));
    proto::Writer w;
    proto::encode_response_frame(w, resp, v, correlation_id);
    return w.flatten();
  }

  Options o_;
  int fd_ = -1;
  int32_t port_ = 0;
  proto::Uuid topic_id_;
  std::atomic<bool> stop_{false};
  std::atomic<int> list_offsets_seen_{0};
  std::mutex mu_;
  std::thread acceptor_;
  std::vector<int> conns_;           // guarded by mu_ while the acceptor runs
  std::vector<std::thread> threads_;  // likewise
  std::vector<SeenFetch> seen_;
  std::map<int32_t, Session> sessions_;
  int32_t next_session_id_ = 1000;
};

Config fake_config(const FakeBroker& b, std::map<std::string, std::string> extra = {}) {
  Config c{{"bootstrap.servers", b.bootstrap()},
           {"auto.offset.reset", "earliest"},
           {"fetch.max.wait.ms", "50"},
           {"retry.backoff.ms", "20"},
           {"request.timeout.ms", "5000"}};
  for (auto& [k, v] : extra) c.set(k, v);
  return c;
}

std::vector<TopicPartition> all_partitions(size_t n) {
  std::vector<TopicPartition> out;
  for (int32_t p = 0; p < static_cast<int32_t>(n); ++p) out.emplace_back(kTopic, p);
  return out;
}

// Polls until every partition delivered offsets 0..end-1 (or 15 s), failing
// on a gap, a repeat or a wrong value; returns the errors poll() reported.
std::vector<Error> consume_all(Consumer& c, const std::vector<int64_t>& ends) {
  std::map<int32_t, int64_t> next;
  int64_t total = 0, want = 0;
  for (int64_t e : ends) want += e;
  std::vector<Error> errors;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (total < want && std::chrono::steady_clock::now() < deadline) {
    ConsumerRecords recs = c.poll(std::chrono::milliseconds(100));
    if (!recs.error().ok()) errors.push_back(recs.error());
    for (auto& r : recs) {
      REQUIRE_MESSAGE(r.offset == next[r.partition], "partition ", r.partition, " offset ", r.offset, " expected ",
                      next[r.partition]);
      CHECK(r.value_view() == value_of(r.partition, r.offset));
      next[r.partition]++;
      total++;
    }
  }
  CHECK(total == want);
  return errors;
}

// The session as the broker holds it, replayed from the requests: checks
// that each incremental request names only partitions that are new to the
// session or changed, with the right id and epoch.
struct SessionReplay {
  int32_t id = 0;
  int32_t epoch = 0;
  std::map<int32_t, int64_t> parts;
  int incremental = 0;      // incremental requests seen
  int omitted = 0;          // partitions left out of them because unchanged
  std::set<int32_t> listed_incrementally;
  int full = 0;

  void apply(const FakeBroker::SeenFetch& f) {
    const auto& req = f.req;
    if (req.session_epoch <= 0) {
      full++;
      parts.clear();
      for (auto& t : req.topics)
        for (auto& p : t.partitions) parts[p.partition] = p.fetch_offset;
    } else {
      incremental++;
      CHECK(req.session_id == id);
      CHECK(req.session_epoch == epoch);
      size_t listed = 0;
      for (auto& t : req.topics)
        for (auto& p : t.partitions) {
          auto it = parts.find(p.partition);
          CHECK_MESSAGE((it == parts.end() || it->second != p.fetch_offset), "partition ", p.partition,
                        " listed unchanged at ", p.fetch_offset);
          parts[p.partition] = p.fetch_offset;
          listed_incrementally.insert(p.partition);
          listed++;
        }
      for (auto& fo : req.forgotten_topics_data)
        for (int32_t p : fo.partitions) {
          CHECK(parts.count(p) == 1);  // only what the session holds is forgotten
          parts.erase(p);
        }
      omitted += static_cast<int>(parts.size() - listed);
    }
    if (f.error != 0) {
      parts.clear();
      return;
    }
    if (req.session_epoch <= 0) {
      id = f.session_id;
      epoch = 1;
    } else {
      epoch++;
    }
  }
};

void check_incremental_session(bool topic_ids) {
  FakeBroker::Options o;
  o.ends = {60, 25, 3, 0};
  o.topic_ids = topic_ids;
  FakeBroker broker(o);
  auto c = make_consumer(fake_config(broker, {{"enable.partition.eof", "true"}}));
  REQUIRE(c->assign(all_partitions(o.ends.size())).ok());
  CHECK(consume_all(*c, o.ends).empty());
  auto seen = broker.fetches();
  REQUIRE(seen.size() >= 3);
  // The first request asks for a session with every partition.
  CHECK(seen[0].req.session_id == 0);
  CHECK(seen[0].req.session_epoch == 0);
  size_t first_listed = 0;
  for (auto& t : seen[0].req.topics) first_listed += t.partitions.size();
  CHECK(first_listed == o.ends.size());
  SessionReplay replay;
  for (auto& f : seen) {
    CHECK(f.error == 0);
    CHECK((f.version >= 13) == topic_ids);
    replay.apply(f);
  }
  CHECK(replay.full == 1);  // nothing made the client start over
  CHECK(replay.incremental == static_cast<int>(seen.size()) - 1);
  CHECK(replay.omitted > 0);
  // Partition 3 is empty: its fetch offset never changes, so only the full
  // request names it.
  CHECK(replay.listed_incrementally.count(3) == 0);
  CHECK(c->close(std::chrono::seconds(5)).ok());
}

}  // namespace

TEST_CASE("fetch session handler: full, then incremental naming only changes, forgetting what is not fetched") {
  using Want = FetchSessionHandler::Want;
  auto want = [](int32_t p, int64_t off) {
    Want w;
    w.tp = TopicPartition("t", p);
    w.fetch_offset = off;
    w.max_bytes = 100;
    return w;
  };
  auto listed = [](const proto::FetchRequest& r) {
    std::vector<std::pair<int32_t, int64_t>> out;
    for (auto& t : r.topics)
      for (auto& p : t.partitions) out.emplace_back(p.partition, p.fetch_offset);
    return out;
  };
  using L = std::vector<std::pair<int32_t, int64_t>>;
  FetchSessionHandler s;
  proto::FetchRequest r1;
  s.build({want(0, 5), want(1, 7), want(2, 0)}, true, r1);
  CHECK(r1.session_id == 0);
  CHECK(r1.session_epoch == 0);
  CHECK(listed(r1) == L{{0, 5}, {1, 7}, {2, 0}});
  CHECK(s.full_in_flight());
  s.on_response(0, 77);
  CHECK(s.session_id() == 77);
  CHECK(s.next_epoch() == 1);
  CHECK(s.size() == 3);

  proto::FetchRequest r2;  // 0 moved, 1 not fetched (buffered), 2 unchanged
  s.build({want(0, 9), want(2, 0)}, true, r2);
  CHECK(r2.session_id == 77);
  CHECK(r2.session_epoch == 1);
  CHECK(listed(r2) == L{{0, 9}});
  REQUIRE(r2.forgotten_topics_data.size() == 1);
  CHECK(r2.forgotten_topics_data[0].topic == "t");
  CHECK(r2.forgotten_topics_data[0].partitions == std::vector<int32_t>{1});
  s.on_response(0, 77);
  CHECK(s.next_epoch() == 2);
  CHECK(s.size() == 2);

  proto::FetchRequest r3;  // 1 comes back: named again
  s.build({want(0, 9), want(1, 7), want(2, 0)}, true, r3);
  CHECK(r3.session_epoch == 2);
  CHECK(listed(r3) == L{{1, 7}});
  CHECK(r3.forgotten_topics_data.empty());
  s.on_response(kBadEpoch, 0);  // close it and open a new one
  CHECK(s.session_id() == 77);
  CHECK(s.next_epoch() == 0);
  proto::FetchRequest r4;
  s.build({want(0, 9), want(1, 7)}, true, r4);
  CHECK(r4.session_id == 77);
  CHECK(r4.session_epoch == 0);
  CHECK(listed(r4) == L{{0, 9}, {1, 7}});
  s.on_response(0, 78);
  CHECK(s.session_id() == 78);

  proto::FetchRequest r5;
  s.build({want(0, 9), want(1, 7)}, true, r5);
  CHECK(r5.session_epoch == 1);
  CHECK(listed(r5).empty());  // nothing changed: the broker fetches the session as it is
  s.on_response(kNotFound, 0);  // unknown session: start from scratch
  CHECK(s.session_id() == 0);
  CHECK(s.next_epoch() == 0);

  proto::FetchRequest r6;
  s.build({want(0, 9)}, true, r6);
  s.on_response(0, 90);
  proto::FetchRequest r7;
  s.build({want(0, 9)}, false, r7);  // topics by name now (ids gone): a new session
  CHECK(r7.session_id == 90);
  CHECK(r7.session_epoch == 0);
  s.on_failure();  // no answer: start over, closing the old one
  CHECK(s.next_epoch() == 0);
  proto::FetchRequest r8;
  s.build({want(0, 9)}, false, r8);
  s.on_response(0, 0);  // a broker without sessions
  CHECK(s.session_id() == 0);
  CHECK(s.next_epoch() == 0);
}

TEST_CASE("fetch session: incremental requests name only changed partitions (topic ids, Fetch v13+)") {
  check_incremental_session(true);
}

TEST_CASE("fetch session: incremental requests name only changed partitions (topic names, Fetch < v13)") {
  check_incremental_session(false);
}

TEST_CASE("fetch session: FETCH_SESSION_ID_NOT_FOUND and INVALID_FETCH_SESSION_EPOCH restart with a full fetch") {
  FakeBroker::Options o;
  o.ends = {300, 300};
  o.per_fetch = 5;
  o.fail_fetch = {{4, kNotFound}, {10, kBadEpoch}};
  FakeBroker broker(o);
  auto c = make_consumer(fake_config(broker, {{"max.poll.records", "17"}}));
  REQUIRE(c->assign(all_partitions(o.ends.size())).ok());
  CHECK(consume_all(*c, o.ends).empty());  // recovered silently, nothing lost or repeated
  auto seen = broker.fetches();
  REQUIRE(seen.size() > 12);
  for (int i : {4, 10}) {
    CAPTURE(i);
    CHECK(seen[static_cast<size_t>(i)].req.session_epoch > 0);  // the failed ones were incremental
  }
  // Unknown session: a new one from scratch.
  CHECK(seen[5].req.session_id == 0);
  CHECK(seen[5].req.session_epoch == 0);
  // Wrong epoch: the old session is closed as the new one opens.
  CHECK(seen[11].req.session_id == seen[10].req.session_id);
  CHECK(seen[11].req.session_epoch == 0);
  CHECK(seen[11].session_id != 0);
  CHECK(seen[12].req.session_id == seen[11].session_id);
  CHECK(seen[12].req.session_epoch == 1);
  SessionReplay replay;
  for (auto& f : seen) replay.apply(f);
  CHECK(replay.full == 3);
}

TEST_CASE("fetch session: a broker that grants none gets full requests") {
  FakeBroker::Options o;
  o.ends = {40, 40};
  o.sessions = false;
  FakeBroker broker(o);
  auto c = make_consumer(fake_config(broker));
  REQUIRE(c->assign(all_partitions(o.ends.size())).ok());
  CHECK(consume_all(*c, o.ends).empty());
  for (auto& f : broker.fetches()) {
    CHECK(f.req.session_id == 0);
    CHECK(f.req.session_epoch == 0);
  }
}

TEST_CASE("fetch: a corrupt batch is reported once; prefetched data after it is fetched again, nothing lost") {
  FakeBroker::Options o;
  o.ends = {200};
  o.per_fetch = 9;
  o.corrupt_once_at = 36;
  FakeBroker broker(o);
  // Small polls, so that data past the corrupt batch is prefetched by the
  // time poll() reaches it.
  auto c = make_consumer(fake_config(broker, {{"max.poll.records", "4"}}));
  REQUIRE(c->assign(all_partitions(1)).ok());
  auto errors = consume_all(*c, o.ends);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code() == errc::kCorruptMessage);
  // The corrupt batch's offset was fetched twice: named in the request,
  // or (unchanged) left in the session.
  int refetched = 0;
  std::map<int32_t, int64_t> session;
  std::string trace;
  for (auto& f : broker.fetches()) {
    if (f.req.session_epoch <= 0) session.clear();
    trace += " [" + std::to_string(f.req.session_epoch) + ":";
    for (auto& t : f.req.topics)
      for (auto& p : t.partitions) {
        trace += ' ' + std::to_string(p.fetch_offset);
        session[p.partition] = p.fetch_offset;
      }
    for (auto& fo : f.req.forgotten_topics_data)
      for (int32_t p : fo.partitions) session.erase(p);
    trace += "]";
    if (session.count(0) != 0 && session[0] == 36) refetched++;
    if (f.error != 0) session.clear();
  }
  CAPTURE(trace);
  CHECK(refetched >= 2);
}

TEST_CASE("fetch: end of partition after the last record, once per arrival, also when a session omits the partition") {
  FakeBroker::Options o;
  o.ends = {30, 0};
  FakeBroker broker(o);
  auto c = make_consumer(fake_config(broker, {{"enable.partition.eof", "true"}}));
  TopicPartition p0(kTopic, 0), p1(kTopic, 1);
  REQUIRE(c->assign({p0, p1}).ok());
  std::map<int32_t, int> eofs;
  int64_t last_before_eof = -1;
  int64_t consumed = 0;
  auto poll_for = [&](int ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      ConsumerRecords recs = c->poll(std::chrono::milliseconds(50));
      for (auto& r : recs) {
        if (r.partition == 0) CHECK(eofs[0] == 0);  // nothing of p0 after its end
        consumed++;
      }
      for (auto& tp : recs.eof_partitions()) {
        if (tp.partition == 0) last_before_eof = consumed;
        eofs[tp.partition]++;
      }
    }
  };
  poll_for(1000);
  CHECK(consumed == 30);
  CHECK(last_before_eof == 30);
  CHECK(eofs[0] == 1);
  CHECK(eofs[1] == 1);
  // At the end already: the session leaves p0 out of its answers (nothing
  // changed), which still means "at the end".
  REQUIRE(c->seek(p0, 30).ok());
  poll_for(600);
  CHECK(eofs[0] == 2);
  CHECK(eofs[1] == 1);
  CHECK(consumed == 30);
  bool omitted = false;  // the broker did leave p0 out after the seek
  auto seen = broker.fetches();
  for (size_t i = 1; i < seen.size(); ++i)
    for (auto& t : seen[i].req.topics)
      for (auto& p : t.partitions)
        if (p.partition == 0 && p.fetch_offset == 30 && seen[i].req.session_epoch > 0) omitted = true;
  CHECK(omitted);
}

TEST_CASE("fetch: seek_to_beginning while the reset's ListOffsets is in flight still finds the beginning") {
  FakeBroker::Options o;
  o.ends = {25};
  o.list_offsets_delay_ms = 400;
  FakeBroker broker(o);
  auto c = make_consumer(fake_config(broker, {{"auto.offset.reset", "latest"}}));
  TopicPartition tp(kTopic, 0);
  REQUIRE(c->assign({tp}).ok());
  REQUIRE(kfk::test::eventually([&] { return broker.list_offsets_seen() >= 1; }, 10000));
  REQUIRE(c->seek_to_beginning({tp}).ok());  // the "latest" answer is still on its way
  int64_t pos = -1;
  REQUIRE(c->position(tp, &pos, std::chrono::seconds(10)).ok());
  CHECK(pos == 0);
  CHECK(consume_all(*c, o.ends).empty());
}
