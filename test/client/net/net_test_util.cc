#include "net_test_util.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "client/core/config_parse.h"
#include "protocol/frame.h"
#include "protocol/record_batch.h"

namespace kfk::net::testing {

std::vector<io::HostPort> mock_servers(const MockCluster& mc) {
  std::vector<io::HostPort> out;
  for (const auto& s : core::split_list(mc.bootstraps())) {
    io::HostPort hp;
    if (core::parse_host_port(s, hp)) out.push_back(hp);
  }
  return out;
}

NetOptions test_options(std::vector<io::HostPort> bootstrap) {
  NetOptions o;
  o.client_id = "kfk-test";
  o.bootstrap_servers = std::move(bootstrap);
  o.shuffle_bootstrap = false;
  o.request_timeout_ms = 5000;
  o.reconnect_backoff_ms = 20;
  o.reconnect_backoff_max_ms = 200;
  o.retry_backoff_ms = 20;
  o.retry_backoff_max_ms = 200;
  o.connection_setup_timeout_ms = 3000;
  o.connection_setup_timeout_max_ms = 6000;
  return o;
}

RawServer::RawServer(Responder respond) : respond_(std::move(respond)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 8) != 0)
    throw std::runtime_error("RawServer: bind/listen failed");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

RawServer::~RawServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

namespace {
// Reads exactly n bytes, polling so that stop_ is noticed. False on EOF/stop.
bool read_full(int fd, uint8_t* p, size_t n, const std::atomic<bool>& stop) {
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, 50);
    if (stop) return false;
    if (pr <= 0) continue;
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}
}  // namespace

void RawServer::run() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    int index = 0;
    while (!stop_) {
      uint8_t size_buf[4];
      if (!read_full(fd, size_buf, 4, stop_)) break;
      uint32_t size = (uint32_t{size_buf[0]} << 24) | (uint32_t{size_buf[1]} << 16) | (uint32_t{size_buf[2]} << 8) |
                      uint32_t{size_buf[3]};
      if (size > (64u << 20)) break;
      std::vector<uint8_t> req(size);
      if (!read_full(fd, req.data(), size, stop_)) break;
      std::vector<uint8_t> out = respond_(req, index++);
      if (out == close_marker()) break;
      size_t off = 0;
      while (off < out.size()) {
        ssize_t w = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
    }
    ::close(fd);
  }
}

proto::ProduceRequest make_produce(const std::string& topic, int16_t acks, size_t value_bytes) {
  proto::BatchBuilder b(proto::BatchBuilder::Options{});
  std::vector<uint8_t> value(value_bytes, 'x');
  b.append(1700000000000, std::nullopt, std::span<const uint8_t>(value));
  auto bytes = std::make_shared<std::vector<uint8_t>>(b.release());
  proto::ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = 5000;
  proto::ProduceRequest::TopicProduceData t;
  t.name = topic;
  proto::ProduceRequest::PartitionProduceData pd;
  pd.index = 0;
  pd.records = proto::Records::view(bytes->data(), bytes->size(), bytes);
  t.partition_data.push_back(pd);
  req.topic_data.push_back(t);
  return req;
}

int32_t correlation_id(const std::vector<uint8_t>& request) {
  proto::Reader r(request.data(), request.size());
  proto::ParsedRequestHeader h;
  proto::parse_request_header(r, h);
  return h.header.correlation_id;
}

std::pair<int16_t, int16_t> api_of(const std::vector<uint8_t>& request) {
  proto::Reader r(request.data(), request.size());
  return {r.i16(), r.i16()};
}

std::vector<uint8_t> api_versions_answer(const std::vector<uint8_t>& request,
                                         std::vector<std::tuple<int16_t, int16_t, int16_t>> overrides) {
  proto::Reader r(request.data(), request.size());
  proto::ParsedRequestHeader h;
  proto::parse_request_header(r, h);
  proto::ApiVersionsResponse resp;
  for (const auto& a : proto::all_apis()) {
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = a.key;
    v.min_version = a.min_version;
    v.max_version = a.max_version;
    for (auto [k, lo, hi] : overrides)
      if (k == a.key) v.min_version = lo, v.max_version = hi;
    resp.api_keys.push_back(v);
  }
  proto::Writer w;
  proto::encode_response_frame(w, resp, h.header.request_api_version, h.header.correlation_id);
  return w.flatten();
}

}  // namespace kfk::net::testing
