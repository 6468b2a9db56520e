// BrokerConnection socket work: resolve, connect, ApiVersions handshake,
// framed writes (scatter/gather) and reads. Runs on the network thread.
//
// Handle lifetimes: a Socket is heap-allocated and freed by its uv close
// callback; its `owner` is cleared when the connection lets go of it, so a
// late callback (connect, read, write completing with UV_ECANCELED) sees a
// null owner and only frees its request.
#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "client/net/broker_connection.h"
#include "protocol/frame.h"

namespace kfk::net {

struct BrokerConnection::Socket {
  uv_tcp_t tcp;
  BrokerConnection* owner = nullptr;
};

struct BrokerConnection::WriteReq {
  uv_write_t req;
  Socket* sock = nullptr;
  int32_t corr = 0;
  proto::Writer writer;       // owns (or references) the bytes until written
  std::vector<uint8_t> flat;  // only when the frame holds file ranges
};

struct BrokerConnection::ResolveReq {
  uv_getaddrinfo_t req;
  BrokerConnection* owner = nullptr;
};

namespace {
struct ConnectReq {
  uv_connect_t req;
  void* sock;
};
std::string uv_error(int rc) { return std::string(uv_err_name(rc)) + " (" + uv_strerror(rc) + ")"; }
}  // namespace

void BrokerConnection::close_socket() {
  unanswered_.clear();  // a new socket starts a new stream of answers
  if (resolve_ != nullptr) {
    resolve_->owner = nullptr;  // its callback frees it
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_->req));
    resolve_ = nullptr;
  }
  if (sock_ == nullptr) return;
  sock_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&sock_->tcp),
           [](uv_handle_t* h) { delete static_cast<Socket*>(h->data); });
  sock_ = nullptr;
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
  while (addr_index_ < addrs_.size()) {
    const auto* sa = reinterpret_cast<const sockaddr*>(&addrs_[addr_index_++]);
    auto* s = new Socket;
    int rc = uv_tcp_init_ex(loop_, &s->tcp, sa->sa_family);
    if (rc < 0) {
      delete s;  // never registered with the loop
      last_connect_error_ = uv_error(rc);
      continue;
    }
    s->tcp.data = s;
    s->owner = this;
    sock_ = s;
    auto* h = reinterpret_cast<uv_handle_t*>(&s->tcp);
    // Set before connect so the receive window is negotiated with it.
    if (int v = opts_.socket_send_buffer_bytes; v > 0) uv_send_buffer_size(h, &v);
    if (int v = opts_.socket_receive_buffer_bytes; v > 0) uv_recv_buffer_size(h, &v);
    uv_tcp_nodelay(&s->tcp, 1);
    auto* cr = new ConnectReq;
    cr->sock = s;
    cr->req.data = cr;
    rc = uv_tcp_connect(&cr->req, &s->tcp, sa, [](uv_connect_t* req, int status) {
      auto* c = static_cast<ConnectReq*>(req->data);
      auto* sock = static_cast<Socket*>(c->sock);
      delete c;
      if (sock->owner != nullptr && sock->owner->sock_ == sock) sock->owner->on_connected(sock, status);
    });
    if (rc < 0) {
      delete cr;
      last_connect_error_ = uv_error(rc);
      close_socket();
      continue;
    }
    if (state_ != State::kConnecting) {
      state_ = State::kConnecting;
      if (listener_) listener_(*this, state_, Error());
    }
    return;
  }
  fail_connection(setup_error(last_connect_error_.empty() ? std::string("no address") : last_connect_error_), true);
}

void BrokerConnection::on_connected(Socket* s, int status) {
  if (status < 0) {
    last_connect_error_ = uv_error(status);
    close_socket();
    try_next_address();
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&s->tcp), &BrokerConnection::on_alloc, &BrokerConnection::on_read);
  last_activity_ = now();
  state_ = State::kNegotiating;
  if (listener_) listener_(*this, state_, Error());
  if (sock_ == s) send_api_versions();
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
  w->sock = sock_;
  w->corr = corr;
  w->req.data = w;
  size_t at = proto::begin_request(w->writer, p.req.api_key, p.version, corr, client_id_);
  p.req.encode(w->writer, p.version);
  proto::finish_frame(w->writer, at);

  std::vector<uv_buf_t> bufs;
  bool has_file = false;
  w->writer.for_each_chunk(
      [&](const uint8_t* data, size_t n) {
        bufs.push_back(uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(data)), static_cast<unsigned>(n)));
      },
      [&](const proto::FileSlice&, size_t) { has_file = true; });
  if (has_file) {  // clients never send file ranges; stay correct if one does
    w->flat = w->writer.flatten();
    bufs.assign(1, uv_buf_init(reinterpret_cast<char*>(w->flat.data()), static_cast<unsigned>(w->flat.size())));
  }
  p.seq = next_seq_++;
  in_flight_.emplace(corr, std::move(p));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&sock_->tcp), bufs.data(),
                    static_cast<unsigned>(bufs.size()), &BrokerConnection::on_write);
  if (rc < 0) {
    delete w;
    fail_connection(transport_error("write failed: " + uv_error(rc)), true);
    return;
  }
  last_activity_ = now();
}

void BrokerConnection::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  BrokerConnection* c = w->sock->owner;
  int32_t corr = w->corr;
  delete w;  // the bytes are on the wire (or dropped): release them now
  if (c == nullptr) return;
  if (status < 0) {
    c->fail_connection(c->transport_error("write failed: " + uv_error(status)), true);
    return;
  }
  c->last_activity_ = now();
  auto it = c->in_flight_.find(corr);
  if (it == c->in_flight_.end()) return;
  it->second.written = true;
  if (!it->second.req.no_response) return;
  Pending p = std::move(it->second);  // acks=0: done once written
  c->in_flight_.erase(it);
  c->remember_unanswered(corr);
  p.req.on_complete(Error(), ResponseFrame{c->node_id_, p.req.api_key, p.version, nullptr, 0});
  if (c->in_flight_.empty()) c->rearm_timer();
}

void BrokerConnection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* s = static_cast<Socket*>(h->data);
  if (s->owner == nullptr) {
    *buf = uv_buf_init(nullptr, 0);  // read_cb gets UV_ENOBUFS and is ignored
    return;
  }
  uint8_t* data;
  size_t size;
  s->owner->reader_.next_buffer(&data, &size);
  *buf = uv_buf_init(reinterpret_cast<char*>(data), static_cast<unsigned>(std::min<size_t>(size, 1u << 30)));
}

void BrokerConnection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* s = static_cast<Socket*>(stream->data);
  BrokerConnection* c = s->owner;
  if (c == nullptr || c->sock_ != s || nread == 0) return;
  if (nread < 0) {
    c->fail_connection(c->transport_error(nread == UV_EOF ? "connection closed by the broker"
                                                           : "read failed: " + uv_error(static_cast<int>(nread))),
                       true);
    return;
  }
  c->last_activity_ = now();
  bool ok = c->reader_.consume(static_cast<size_t>(nread),
                               [c, s](FramePtr f) { return c->on_frame(std::move(f)) && c->sock_ == s; });
  if (!ok && c->sock_ == s)
    c->fail_connection(c->transport_error("closed after an invalid frame"), true, c->oldest_in_flight(),
                       Error::from_code(errc::kMalformedResponse,
                                        "broker " + std::to_string(c->node_id_) + ": " + c->reader_.error()));
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
  proto::Reader peek(frame->bytes.get(), frame->size);
  int32_t corr = peek.i32();
  auto it = in_flight_.find(corr);
  if (it != in_flight_.end() && it->second.req.no_response) {
    // An answer to an acks=0 request that arrived before its write callback:
    // the request is complete either way.
    Pending p = std::move(it->second);
    in_flight_.erase(it);
    remember_unanswered(corr);
    p.req.on_complete(Error(), ResponseFrame{node_id_, p.req.api_key, p.version, nullptr, 0});
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
    p.req.on_complete(result, ResponseFrame{node_id_, p.req.api_key, p.version, nullptr, 0});
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
