#include "io/tcp_stream.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kfk::io {
namespace {

constexpr size_t kMaxSendfile = 1u << 30;
constexpr size_t kMaxRead = 1u << 30;  // uv_buf_t lengths are unsigned int on some platforms

template <class H>
uv_handle_t* as_handle(H* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}

}  // namespace

struct TcpStream::Handle {
  uv_tcp_t tcp;
  TcpStream* owner = nullptr;
  std::function<void()> on_closed;
  std::function<void(int)> on_connected;
  std::function<void(int)> on_shutdown;
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }
};

// Watches a dup() of the socket for writability while sendfile waits:
// libuv allows one watcher per fd and the uv_tcp_t has it (epoll keys its
// interest by fd and file, so the two do not collide).
struct TcpStream::Writable {
  uv_poll_t poll;
  TcpStream* owner = nullptr;
  int fd = -1;
};

namespace {
struct ConnectReq {
  uv_connect_t req;
};
struct ShutdownReq {
  uv_shutdown_t req;
};
}  // namespace

TcpStream::TcpStream(Handle* h) : handle_(h) {
  h->owner = this;
  h->tcp.data = h;
}

std::unique_ptr<TcpStream> TcpStream::init(uv_loop_t* loop, int family, int* error) {
  auto* h = new Handle;
  int rc = uv_tcp_init_ex(loop, &h->tcp, static_cast<unsigned>(family));
  if (rc < 0) {
    delete h;  // never registered with the loop
    *error = rc;
    return nullptr;
  }
  return std::unique_ptr<TcpStream>(new TcpStream(h));
}

void TcpStream::apply(const Options& opts) {
  auto* h = as_handle(&handle_->tcp);
  if (int v = opts.send_buffer_bytes; v > 0) uv_send_buffer_size(h, &v);
  if (int v = opts.receive_buffer_bytes; v > 0) uv_recv_buffer_size(h, &v);
  if (opts.nodelay) uv_tcp_nodelay(&handle_->tcp, 1);
}

std::unique_ptr<TcpStream> TcpStream::connect(uv_loop_t* loop, const sockaddr* addr, const Options& opts,
                                              std::function<void(int)> on_connected, int* error) {
  auto s = init(loop, addr->sa_family, error);
  if (!s) return nullptr;
  s->apply(opts);
  s->handle_->on_connected = std::move(on_connected);
  auto* cr = new ConnectReq;
  int rc = uv_tcp_connect(&cr->req, &s->handle_->tcp, addr, [](uv_connect_t* req, int status) {
    auto* h = static_cast<Handle*>(req->handle->data);
    delete reinterpret_cast<ConnectReq*>(req);
    if (h->owner == nullptr || h->owner->closing_ || !h->on_connected) return;
    auto cb = std::move(h->on_connected);
    cb(status);  // may destroy the stream
  });
  if (rc < 0) {
    delete cr;
    *error = rc;
    return nullptr;  // the destructor closes the handle
  }
  return s;
}

std::unique_ptr<TcpStream> TcpStream::accept(uv_stream_t* listener, const Options& opts, int* error) {
  auto s = init(listener->loop, AF_UNSPEC, error);
  if (!s) return nullptr;
  if (int rc = uv_accept(listener, s->handle_->stream()); rc < 0) {
    *error = rc;
    return nullptr;
  }
  s->apply(opts);
  return s;
}

TcpStream::~TcpStream() {
  close();
  if (handle_ != nullptr) handle_->owner = nullptr;  // late callbacks find no owner
}

void TcpStream::close(std::function<void()> on_closed) {
  if (closing_ || handle_ == nullptr) return;
  closing_ = true;
  reader_ = nullptr;
  release_writable();  // before the socket: the dup would keep it open
  handle_->on_closed = std::move(on_closed);
  uv_close(as_handle(&handle_->tcp), [](uv_handle_t* uh) {
    auto* h = static_cast<Handle*>(uh->data);
    auto cb = std::move(h->on_closed);
    if (h->owner != nullptr) h->owner->handle_ = nullptr;
    delete h;
    if (cb) cb();  // may destroy the stream
  });
}

int TcpStream::start_reading(StreamReader* reader) {
  if (closing_) return UV_EPIPE;
  reader_ = reader;
  int rc = uv_read_start(handle_->stream(), &TcpStream::on_alloc, &TcpStream::on_read);
  return rc == UV_EALREADY ? 0 : rc;
}

void TcpStream::stop_reading() {
  if (closing_) return;
  uv_read_stop(handle_->stream());
}

void TcpStream::on_alloc(uv_handle_t* uh, size_t, uv_buf_t* buf) {
  TcpStream* s = static_cast<Handle*>(uh->data)->owner;
  if (s == nullptr || s->reader_ == nullptr) {
    *buf = uv_buf_init(nullptr, 0);  // read_cb gets UV_ENOBUFS and ignores it
    return;
  }
  std::span<uint8_t> b = s->reader_->read_buffer();
  *buf = uv_buf_init(reinterpret_cast<char*>(b.data()), static_cast<unsigned>(std::min(b.size(), kMaxRead)));
}

void TcpStream::on_read(uv_stream_t* us, ssize_t nread, const uv_buf_t*) {
  TcpStream* s = static_cast<Handle*>(us->data)->owner;
  if (s == nullptr || s->reader_ == nullptr || nread == 0 || nread == UV_ENOBUFS) return;
  if (nread < 0) {
    uv_read_stop(us);
    StreamReader* r = s->reader_;
    s->reader_ = nullptr;
    r->on_read_end(static_cast<int>(nread));
    return;
  }
  s->reader_->on_read(static_cast<size_t>(nread));
}

int TcpStream::write(const uv_buf_t* bufs, size_t n, WriteRequest* req) {
  if (closing_) return UV_EPIPE;
  req->uv_req_.data = req;
  return uv_write(&req->uv_req_, handle_->stream(), bufs, static_cast<unsigned>(n), &TcpStream::on_write);
}

void TcpStream::on_write(uv_write_t* uvreq, int status) {
  auto* req = static_cast<WriteRequest*>(uvreq->data);
  TcpStream* s = static_cast<Handle*>(uvreq->handle->data)->owner;
  const bool closed = s == nullptr || s->closing_;
  req->on_written(status, closed);
}

int64_t TcpStream::try_write(const uv_buf_t* bufs, size_t n) {
  if (closing_) return UV_EPIPE;
  int rc = uv_try_write(handle_->stream(), bufs, static_cast<unsigned>(n));
  if (rc == UV_EAGAIN || rc == UV_ENOSYS) return 0;
  return rc;
}

int TcpStream::shutdown(std::function<void(int)> on_done) {
  if (closing_) return UV_EPIPE;
  handle_->on_shutdown = std::move(on_done);
  auto* sr = new ShutdownReq;
  int rc = uv_shutdown(&sr->req, handle_->stream(), [](uv_shutdown_t* req, int status) {
    auto* h = static_cast<Handle*>(req->handle->data);
    delete reinterpret_cast<ShutdownReq*>(req);
    if (h->owner == nullptr || h->owner->closing_ || !h->on_shutdown) return;
    auto cb = std::move(h->on_shutdown);
    cb(status);
  });
  if (rc < 0) delete sr;
  return rc;
}

std::string TcpStream::peer() const {
  if (handle_ == nullptr) return "?";
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(&handle_->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char ip[64] = {};
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    uv_ip6_name(a, ip, sizeof ip);
    return '[' + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  uv_ip4_name(a, ip, sizeof ip);
  return std::string(ip) + ":" + std::to_string(ntohs(a->sin_port));
}

int64_t TcpStream::send_file(int fd, int64_t offset, size_t n) {
  if (closing_) return UV_EPIPE;
  if (fd_ < 0) {
    uv_os_fd_t sock;
    if (int r = uv_fileno(as_handle(&handle_->tcp), &sock); r < 0) return r;
    fd_ = sock;
  }
  for (;;) {
    off_t off = static_cast<off_t>(offset);
    ssize_t r = ::sendfile(fd_, fd, &off, std::min(n, kMaxSendfile));
    if (r > 0) return r;
    if (r == 0) return UV_EOF;  // the file is shorter than the range
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return UV_EAGAIN;
    return -errno;
  }
}

bool TcpStream::wait_writable(std::function<void(int)> on_writable) {
  if (closing_ || poll_failed_) return false;
  if (fd_ < 0) {
    uv_os_fd_t sock;
    if (uv_fileno(as_handle(&handle_->tcp), &sock) < 0) return false;
    fd_ = sock;
  }
  if (writable_ == nullptr) {
    int fd = ::dup(fd_);
    if (fd < 0) {
      poll_failed_ = true;
      return false;
    }
    auto* w = new Writable;
    w->owner = this;
    w->fd = fd;
    w->poll.data = w;
    if (uv_poll_init_socket(handle_->tcp.loop, &w->poll, fd) < 0) {
      ::close(fd);
      delete w;
      poll_failed_ = true;
      return false;
    }
    writable_ = w;
  }
  if (uv_poll_start(&writable_->poll, UV_WRITABLE, &TcpStream::on_poll) < 0) {
    release_writable();
    poll_failed_ = true;
    return false;
  }
  on_writable_ = std::move(on_writable);
  return true;
}

void TcpStream::on_poll(uv_poll_t* p, int status, int) {
  auto* w = static_cast<Writable*>(p->data);
  TcpStream* s = w->owner;
  if (s == nullptr) return;
  uv_poll_stop(p);
  auto cb = std::move(s->on_writable_);
  s->on_writable_ = nullptr;
  if (cb) cb(status);  // may destroy the stream
}

void TcpStream::release_writable() {
  on_writable_ = nullptr;
  if (writable_ == nullptr) return;
  writable_->owner = nullptr;
  auto* h = as_handle(&writable_->poll);
  if (!uv_is_closing(h)) {
    uv_close(h, [](uv_handle_t* closed) {
      auto* w = static_cast<Writable*>(closed->data);
      ::close(w->fd);
      delete w;
    });
  }
  writable_ = nullptr;
}

}  // namespace kfk::io
