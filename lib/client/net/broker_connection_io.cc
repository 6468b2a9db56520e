// BrokerConnection socket work: resolve, connect, ApiVersions handshake,
// framed writes (scatter/gather) and reads. Runs on the network thread.
//
// The socket is an io::Stream owned by the connection: closing it (or
// replacing it) cuts every callback of the old one off, and writes still in
// flight on it complete with `stream_closed` and only free their request.
#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "client/net/broker_connection.h"
#include "io/tcp_stream.h"
#include "io/loop_thread.h"
#include "protocol/frame.h"

namespace kfk::net {

// One request on the wire; owns the frame's bytes until they are written.
struct BrokerConnection::WriteReq final : io::WriteRequest {
  BrokerConnection* conn = nullptr;
  int32_t corr = 0;
  proto::Writer writer;
  void on_written(int status, bool stream_closed) override {
    BrokerConnection* c = conn;
    const int32_t id = corr;
    delete this;  // the bytes are on the wire (or dropped): release them now
    if (!stream_closed) c->on_written(id, status);
  }
};

struct BrokerConnection::ResolveReq {
  uv_getaddrinfo_t req;
  BrokerConnection* owner = nullptr;
};

namespace {
std::string uv_error(int rc) { return std::string(uv_err_name(rc)) + " (" + uv_strerror(rc) + ")"; }
}  // namespace

void BrokerConnection::close_socket() {
  unanswered_.clear();  // a new socket starts a new stream of answers
  if (resolve_ != nullptr) {
    resolve_->owner = nullptr;  // its callback frees it
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_->req));
    resolve_ = nullptr;
  }
  if (!stream_) return;
  ++stream_gen_;
  stream_.reset();  // closes it
}

void BrokerConnection::start_resolve() {
  addrs_.clear();
  addr_index_ = 0;
  last_connect_error_.clear();
  sockaddr_storage ss{};
  // Numeric addresses need no lookup.
  if (uv_ip4_addr(address_.host.c_str(), address_.port, reinterpret_cast<sockaddr_in*>(&ss)) == 0 ||
      uv_ip6_addr(address_.host.c_str(), address_.port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) {
    addrs_.push_back(ss);
    try_next_address();
    return;
  }
  state_ = State::kResolving;
  if (listener_) listener_(*this, state_, Error());
  auto* rr = new ResolveReq;
  rr->owner = this;
  rr->req.data = rr;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(address_.port);
  int rc = uv_getaddrinfo(
      loop_, &rr->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* r = static_cast<ResolveReq*>(req->data);
        if (r->owner != nullptr) {
          r->owner->resolve_ = nullptr;
          r->owner->on_resolved(status, res);
        }
        uv_freeaddrinfo(res);
        delete r;
      },
      address_.host.c_str(), port.c_str(), &hints);
  if (rc < 0) {
    delete rr;
    fail_connection(setup_error("host lookup failed: " + uv_error(rc), errc::kResolve), true);
    return;
  }
  resolve_ = rr;
}

void BrokerConnection::on_resolved(int status, addrinfo* res) {
  if (status < 0) {
    fail_connection(setup_error("host lookup failed: " + uv_error(status), errc::kResolve), true);
    return;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    bool dup = false;
    for (const auto& a : addrs_) dup = dup || std::memcmp(&a, &ss, sizeof ss) == 0;
    if (!dup) addrs_.push_back(ss);
  }
  try_next_address();
}

// Tries the resolved addresses in order (as client.dns.lookup=use_all_dns_ips).
void BrokerConnection::try_next_address() {
  io::TcpStream::Options so;
  so.send_buffer_bytes = opts_.socket_send_buffer_bytes;
  so.receive_buffer_bytes = opts_.socket_receive_buffer_bytes;
  while (addr_index_ < addrs_.size()) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&addrs_[addr_index_++]);
    int rc = 0;
    // The callback only comes while this stream is open, so `this` lives.
    stream_ = io::TcpStream::connect(loop_, sa, so, [this](int status) { on_connected(status); }, &rc);
    if (!stream_) {
      last_connect_error_ = uv_error(rc);
      continue;
    }
    ++stream_gen_;
    if (state_ != State::kConnecting) {
      state_ = State::kConnecting;
      if (listener_) listener_(*this, state_, Error());
    }
    return;
  }
  fail_connection(setup_error(last_connect_error_.empty() ? std::string("no address") : last_connect_error_), true);
}

void BrokerConnection::on_connected(int status) {
  KFK_DCHECK_ON_LOOP(loop_);
  if (status < 0) {
    last_connect_error_ = uv_error(status);
    close_socket();
    try_next_address();
    return;
  }
  if (int rc = stream_->start_reading(this); rc < 0) {
    last_connect_error_ = uv_error(rc);
    close_socket();
    try_next_address();
    return;
  }
  last_activity_ = now();
  const uint64_t gen = stream_gen_;
  state_ = State::kNegotiating;
  if (listener_) listener_(*this, state_, Error());
  if (stream_ && stream_gen_ == gen) send_api_versions();
}

void BrokerConnection::send_api_versions() {
  proto::ApiVersionsRequest req;
  req.client_software_name = opts_.software_name;
  req.client_software_version = opts_.software_version.empty() ? kfk_version() : opts_.software_version;
  OutboundRequest out;
  out.api_key = proto::ApiVersionsRequest::kApiKey;
  out.min_version = out.max_version = api_versions_version_;
  out.encode = [req](proto::Writer& w, int16_t v) { req.encode(w, v); };
  out.deadline = setup_deadline_;
  out.on_complete = [this](const Error& err, const ResponseFrame& f) { return on_api_versions(err, f); };
  write_request(Pending{std::move(out), api_versions_version_, false});
}

Error BrokerConnection::on_api_versions(const Error& err, const ResponseFrame& f) {
  if (!err.ok()) return Error();  // the connection failed; fail_connection reports it
  proto::ApiVersionsResponse resp;
  if (!decode_api_versions(f.body(), f.version, resp))
    return Error::from_code(errc::kMalformedResponse, "ApiVersions response from broker " + std::to_string(node_id_));
  if (resp.error_code == errc::kUnsupportedVersion && api_versions_version_ > 0) {
    // The broker is older than our request: retry on the same connection
    // with the highest version it listed (Kafka answers this in v0 layout).
    api_versions_version_ = api_versions_fallback(resp, api_versions_version_);
    send_api_versions();
    return Error();
  }
  if (resp.error_code != 0) {
    fail_connection(transport_error(std::string("ApiVersions failed: ") + Error::from_code(resp.error_code).name()),
                    true);
    return Error();
  }
  versions_ = ApiVersionTable(resp);
  has_versions_ = true;
  become_ready();
  return Error();
}

void BrokerConnection::become_ready() {
  state_ = State::kReady;
  failed_attempts_ = 0;
  failed_connect_attempts_ = 0;
  setup_deadline_ = kNever;
  last_activity_ = now();
  if (listener_) listener_(*this, state_, Error());
  flush_queue();
  rearm_timer();
}

void BrokerConnection::write_request(Pending p) {
  int32_t corr = next_corr_id_;
  next_corr_id_ = next_corr_id_ == INT32_MAX ? 0 : next_corr_id_ + 1;
  auto* w = new WriteReq;
  w->conn = this;
  w->corr = corr;
  size_t at = proto::begin_request(w->writer, p.req.api_key, p.version, corr, client_id_);
  p.req.encode(w->writer, p.version);
  proto::finish_frame(w->writer, at);

  std::vector<uv_buf_t> bufs;
  w->writer.for_each_chunk([&](const uint8_t* data, size_t n) {
    bufs.push_back(uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(data)), static_cast<unsigned>(n)));
  });
  p.seq = next_seq_++;
  in_flight_.emplace(corr, std::move(p));
  int rc = stream_->write(bufs.data(), bufs.size(), w);
  if (rc < 0) {
    delete w;
    fail_connection(transport_error("write failed: " + uv_error(rc)), true);
    return;
  }
  last_activity_ = now();
}

void BrokerConnection::on_written(int32_t corr, int status) {
  if (status < 0) {
    fail_connection(transport_error("write failed: " + uv_error(status)), true);
    return;
  }
  last_activity_ = now();
  auto it = in_flight_.find(corr);
  if (it == in_flight_.end()) return;
  it->second.written = true;
  if (!it->second.req.no_response) return;
  Pending p = std::move(it->second);  // acks=0: done once written
  in_flight_.erase(it);
  remember_unanswered(corr);
  (void)p.req.on_complete(Error(), ResponseFrame{node_id_, p.req.api_key, p.version, nullptr, 0});
  if (in_flight_.empty()) rearm_timer();
}

std::span<uint8_t> BrokerConnection::read_buffer() {
  uint8_t* data;
  size_t size;
  reader_.next_buffer(&data, &size);
  return {data, size};
}

void BrokerConnection::on_read_end(int status) {
  fail_connection(transport_error(status == UV_EOF ? "connection closed by the broker" : "read failed: " + uv_error(status)),
                  true);
}

void BrokerConnection::on_read(size_t n) {
  const uint64_t gen = stream_gen_;
  auto same_socket = [this, gen] { return stream_ && stream_gen_ == gen; };
  last_activity_ = now();
  bool ok = reader_.consume(n, [this, &same_socket](FramePtr f) { return on_frame(std::move(f)) && same_socket(); });
  if (!ok && same_socket())
    fail_connection(transport_error("closed after an invalid frame"), true, oldest_in_flight(),
                    Error::from_code(errc::kMalformedResponse,
                                     "broker " + std::to_string(node_id_) + ": " + reader_.error()));
}

void BrokerConnection::remember_unanswered(int32_t corr) {
  if (unanswered_.size() >= kMaxUnanswered) unanswered_.pop_front();
  unanswered_.push_back(corr);
}

bool BrokerConnection::forget_unanswered(int32_t corr) {
  auto it = std::find(unanswered_.begin(), unanswered_.end(), corr);
  if (it == unanswered_.end()) return false;
  // Answers come in order: older unanswered ids will never be answered now.
  unanswered_.erase(unanswered_.begin(), it + 1);
  return true;
}

// A complete response frame. Returns false when the connection was closed.
bool BrokerConnection::on_frame(FramePtr frame) {
  KFK_DCHECK_ON_LOOP(loop_);
  proto::Reader peek(frame->bytes.get(), frame->size);
  int32_t corr = peek.i32();
  auto it = in_flight_.find(corr);
  if (it != in_flight_.end() && it->second.req.no_response) {
    // An answer to an acks=0 request that arrived before its write callback:
    // the request is complete either way.
    Pending p = std::move(it->second);
    in_flight_.erase(it);
    remember_unanswered(corr);
    (void)p.req.on_complete(Error(), ResponseFrame{node_id_, p.req.api_key, p.version, nullptr, 0});
    if (in_flight_.empty()) rearm_timer();
    it = in_flight_.end();
  }
  if (it == in_flight_.end() && forget_unanswered(corr)) return true;  // an answer nobody waits for
  if (it == in_flight_.end()) {
    // Cannot be matched to a request: the stream is out of sync. Kafka
    // answers in order, so blame the oldest request.
    fail_connection(transport_error("closed after a response with unknown correlation id"), true,
                    oldest_in_flight(),
                    Error::from_code(errc::kMalformedResponse, "broker " + std::to_string(node_id_) +
                                                                   ": response with unknown correlation id " +
                                                                   std::to_string(corr)));
    return false;
  }
  Pending p = std::move(it->second);
  in_flight_.erase(it);
  const proto::ApiInfo* api = proto::find_api(p.req.api_key);
  std::string what = std::string(api ? api->name : "unknown") + " v" + std::to_string(p.version) +
                     " response from broker " + std::to_string(node_id_);
  proto::Reader r(frame->bytes.get(), frame->size);
  proto::ResponseHeader header;
  Error result;
  if (!proto::parse_response_header(r, p.req.api_key, p.version, header)) {
    result = Error::from_code(errc::kMalformedResponse, what);
    (void)p.req.on_complete(result, ResponseFrame{node_id_, p.req.api_key, p.version, nullptr, 0});
  } else {
    result = p.req.on_complete(Error(), ResponseFrame{node_id_, p.req.api_key, p.version, frame, r.position()});
  }
  if (result.code() == errc::kMalformedResponse) {
    if (state_ != State::kDisconnected)
      fail_connection(transport_error("closed after a malformed " + what), true);
    return false;
  }
  if (in_flight_.empty()) rearm_timer();
  return state_ != State::kDisconnected;
}

}  // namespace kfk::net
