#include "server/server.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "io/tcp_stream.h"
#include "io/loop_thread.h"
#include "server/broker.h"
#include "server/connection.h"
#include "server/handler_table.h"
#include "server/node_state.h"
#include "server/server_log.h"

namespace kfk::broker {
namespace {

constexpr int kBacklog = 1024;
constexpr uint64_t kForceCloseMs = 5000;

template <class H>
uv_handle_t* as_handle(H* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}

// Resolves host (numeric or a name) for binding.
bool resolve(const std::string& host, int port, sockaddr_storage* out, std::string* error) {
  std::memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0) return true;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int r = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); r != 0 || res == nullptr) {
    *error = "cannot resolve listener host " + host + ": " + gai_strerror(r);
    return false;
  }
  std::memcpy(out, res->ai_addr, res->ai_addrlen);
  if (out->ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(out)->sin_port = htons(static_cast<uint16_t>(port));
  else reinterpret_cast<sockaddr_in6*>(out)->sin6_port = htons(static_cast<uint16_t>(port));
  ::freeaddrinfo(res);
  return true;
}

}  // namespace

std::unique_ptr<Server> Server::create(const Options& options, std::string* error) {
  if (std::string why = check_handler_table(); !why.empty()) {
    *error = "internal error: " + why;
    return nullptr;
  }
  if (options.data_dir.empty()) {
    *error = "no data directory given (--data-dir)";
    return nullptr;
  }
  std::unique_ptr<Server> s(new Server());
  s->data_dir_ = options.data_dir;
  s->handle_signals_ = options.handle_signals;

  LogManagerOptions lo;
  lo.data_dir = options.data_dir;
  lo.broker_config = options.config.storage_config();
  lo.log = [](const std::string& m) { server_log("storage: " + m); };
  std::unique_ptr<LogManager> logs;
  if (Status st = LogManager::open(lo, &logs); !st.ok()) {
    *error = st.message;
    return nullptr;
  }
  MetaProperties meta;
  if (Status st = load_or_create_meta_properties(options.data_dir, options.config.node_id(), &meta); !st.ok()) {
    *error = st.message;
    return nullptr;
  }
  std::unique_ptr<ProducerIdManager> pids;
  if (Status st = ProducerIdManager::open(options.data_dir, &pids); !st.ok()) {
    *error = st.message;
    return nullptr;
  }

  uv_loop_init(&s->loop_);
  s->loop_ready_ = true;
  s->broker_ = std::make_unique<Broker>(&s->loop_, options.config, std::move(logs), meta, std::move(pids));
  // Groups and committed offsets come back from __consumer_offsets.
  if (Status st = s->broker_->groups().load(); !st.ok()) {
    *error = "loading __consumer_offsets failed: " + st.to_string();
    return nullptr;
  }
  s->max_request_bytes_ = static_cast<size_t>(options.config.get_long("socket.request.max.bytes"));
  if (!s->bind(options.config.listener(), error)) return nullptr;
  io::HostPort adv = options.config.advertised();
  if (!options.config.is_set("advertised.listeners")) adv.port = s->port_;
  s->broker_->set_advertised(adv);

  uv_async_init(&s->loop_, &s->stop_async_, [](uv_async_t* a) { static_cast<Server*>(a->data)->begin_shutdown(); });
  s->stop_async_.data = s.get();
  {
    MutexLock lk(s->stop_mu_);
    s->async_open_ = true;
  }
  Server* self = s.get();
  // Runs on the loop thread: stragglers are cut when shutdown takes too long.
  s->force_close_timer_ = std::make_unique<io::Timer>(&s->loop_, [self] {
    for (auto& [id, c] : std::map(self->connections_)) c->close("shutdown: connection still busy");
  });
  // connections.max.idle.ms: a sweep every quarter of it (at most 1 s), so
  // an idle connection closes within 1.25x the setting.
  s->max_idle_ms_ = static_cast<uint64_t>(options.config.get_long("connections.max.idle.ms"));
  s->idle_timer_ = std::make_unique<io::Timer>(&s->loop_, [self] { self->close_idle_connections(); });
  s->idle_sweep_ms_ = std::clamp<uint64_t>(s->max_idle_ms_ / 4, 1, 1000);
  s->last_idle_sweep_ = uv_now(&s->loop_);
  s->idle_timer_->start_repeating(static_cast<int64_t>(s->idle_sweep_ms_), static_cast<int64_t>(s->idle_sweep_ms_));
  if (s->handle_signals_) {
    auto on_signal = [](uv_signal_t* sig, int signum) {
      auto* self = static_cast<Server*>(sig->data);
      if (self->shutting_down_) {
        server_log(std::string("second ") + (signum == SIGINT ? "SIGINT" : "SIGTERM") + ": closing connections now");
        for (auto& [id, c] : std::map(self->connections_)) c->close("");
        return;
      }
      server_log(std::string(signum == SIGINT ? "SIGINT" : "SIGTERM") + ": shutting down");
      self->begin_shutdown();
    };
    for (auto [sig, num] : {std::pair{&s->sigterm_, SIGTERM}, std::pair{&s->sigint_, SIGINT}}) {
      uv_signal_init(&s->loop_, sig);
      sig->data = s.get();
      uv_signal_start(sig, on_signal, num);
    }
  }
  return s;
}

bool Server::bind(const io::HostPort& hp, std::string* error) {
  sockaddr_storage addr;
  if (!resolve(hp.host, hp.port, &addr, error)) return false;
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  std::string where = hp.host + ":" + std::to_string(hp.port);
  int r = uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, on_connection);
  if (r != 0) {
    *error = "cannot listen on " + where + ": " + uv_strerror(r);
    return false;
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  host_ = hp.host;
  return true;
}

Server::~Server() {
  if (!loop_ready_) return;
  io::LoopThreadScope on_loop(&loop_);  // the destroying thread runs the loop to its end
  for (auto& [id, c] : std::map(connections_)) c->close("");
  if (broker_) (void)broker_->close();
  // Timers close their own handles (before the walk below closes the rest).
  force_close_timer_.reset();
  idle_timer_.reset();
  // Whatever is still open (run() never ran, or stopped early) closes now.
  uv_walk(
      &loop_, [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  connections_.clear();
  broker_.reset();
}

bool Server::run() {
  io::LoopThreadScope on_loop(&loop_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  return close_ok_;
}

void Server::request_stop() {
  MutexLock lk(stop_mu_);
  if (async_open_) uv_async_send(&stop_async_);
}

// Runs on the loop thread.
void Server::on_connection(uv_stream_t* listener, int status) {
  auto* s = static_cast<Server*>(listener->data);
  KFK_DCHECK_ON_LOOP(&s->loop_);
  if (status < 0) {
    server_log(std::string("accept failed: ") + uv_strerror(status));
    return;
  }
  int err = 0;
  std::unique_ptr<io::TcpStream> stream = io::TcpStream::accept(listener, io::TcpStream::Options{}, &err);
  if (!stream) {
    server_log(std::string("accept failed: ") + uv_strerror(err));
    return;
  }
  if (s->shutting_down_) return;  // destroying the stream closes it
  uint64_t id = s->next_connection_id_++;
  auto c = std::make_shared<Connection>(*s->broker_, id, std::move(stream), s->max_request_bytes_,
                                        [s](uint64_t cid) { s->connection_closed(cid); });
  s->connections_[id] = c;
  c->start();
}

void Server::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  broker_->set_shutting_down();
  uv_close(as_handle(&listener_), nullptr);
  idle_timer_.reset();
  // Waiting fetches answer now; queued requests are answered, then each
  // connection closes. Stragglers are cut after kForceCloseMs.
  broker_->fetch_waiters().complete_all();
  broker_->groups().shutdown();
  for (auto& [id, c] : std::map(connections_)) c->drain();
  force_close_timer_->start(static_cast<int64_t>(kForceCloseMs));
  maybe_finish();
}

void Server::close_idle_connections() {
  uint64_t now = uv_now(&loop_);
  // After a stall of the loop (a long handler, such as creating
  // __consumer_offsets), timers run before the reads that arrived
  // meanwhile: skip this sweep rather than blame the clients.
  const bool stalled = now - last_idle_sweep_ > 2 * idle_sweep_ms_;
  last_idle_sweep_ = now;
  if (stalled || now < max_idle_ms_) return;
  for (auto& [id, c] : std::map(connections_))
    if (c->idle_since(now - max_idle_ms_))
      c->close("idle for more than " + std::to_string(max_idle_ms_) + " ms (connections.max.idle.ms)");
}

void Server::connection_closed(uint64_t id) {
  connections_.erase(id);
  maybe_finish();
}

void Server::maybe_finish() {
  if (!shutting_down_ || finished_ || !connections_.empty()) return;
  finished_ = true;
  if (Status st = broker_->close(); !st.ok()) {
    server_log("closing the logs failed: " + st.to_string());
    close_ok_ = false;
  }
  force_close_timer_.reset();
  {
    MutexLock lk(stop_mu_);
    async_open_ = false;
    uv_close(as_handle(&stop_async_), nullptr);
  }
  if (handle_signals_) {
    uv_close(as_handle(&sigterm_), nullptr);
    uv_close(as_handle(&sigint_), nullptr);
  }
}

}  // namespace kfk::broker
