#include "server/response_sender.h"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kfk::broker {
namespace {

constexpr size_t kMaxIovecs = 64;
constexpr size_t kStagingBytes = 256 * 1024;
constexpr size_t kMaxSendfile = 1u << 30;

}  // namespace

ResponseSender::ResponseSender(uv_tcp_t* tcp, std::function<void(int)> on_error, std::function<void()> on_progress)
    : tcp_(tcp), on_error_(std::move(on_error)), on_progress_(std::move(on_progress)) {}

ResponseSender::~ResponseSender() {
  if (pending_ != nullptr) pending_->self = nullptr;
  release_writable();
}

void ResponseSender::abandon() {
  failed_ = true;
  release_writable();  // before the socket closes: the dup keeps it open
}

void ResponseSender::release_writable() {
  if (writable_ == nullptr) return;
  writable_->self = nullptr;
  auto* h = reinterpret_cast<uv_handle_t*>(&writable_->poll);
  if (!uv_is_closing(h)) {
    uv_close(h, [](uv_handle_t* closed) {
      auto* w = static_cast<Writable*>(closed->data);
      ::close(w->fd);
      delete w;
    });
  }
  writable_ = nullptr;
}

bool ResponseSender::wait_writable() {
  if (poll_failed_) return false;
  if (writable_ == nullptr) {
    int fd = ::dup(fd_);
    if (fd < 0) {
      poll_failed_ = true;
      return false;
    }
    auto* w = new Writable;
    w->self = this;
    w->fd = fd;
    w->poll.data = w;
    if (uv_poll_init_socket(tcp_->loop, &w->poll, fd) < 0) {
      ::close(fd);
      delete w;
      poll_failed_ = true;
      return false;
    }
    writable_ = w;
  }
  if (uv_poll_start(&writable_->poll, UV_WRITABLE, on_writable) < 0) {
    release_writable();
    poll_failed_ = true;
    return false;
  }
  in_flight_ = true;
  return true;
}

// Runs on the loop thread.
void ResponseSender::on_writable(uv_poll_t* p, int status, int) {
  auto* w = static_cast<Writable*>(p->data);
  ResponseSender* self = w->self;
  if (self == nullptr) return;
  uv_poll_stop(p);
  self->in_flight_ = false;
  if (status < 0) {
    self->fail(status);
    return;
  }
  if (self->failed_) return;
  size_t before = self->queued_bytes_;
  self->pump();
  if (!self->failed_ && self->queued_bytes_ != before && self->on_progress_) self->on_progress_();
}

void ResponseSender::send(proto::Writer&& frame) {
  if (failed_) return;
  frames_.emplace_back();
  Frame& f = frames_.back();
  f.writer = std::move(frame);
  f.writer.for_each_chunk(
      [&](const uint8_t* p, size_t n) {
        if (n > 0) f.chunks.push_back(Chunk{p, -1, 0, n});
      },
      [&](proto::FileSlice s, size_t n) {
        if (n > 0) f.chunks.push_back(Chunk{nullptr, s.fd, s.offset, n});
      });
  queued_bytes_ += f.writer.size();
  if (f.chunks.empty()) {
    queued_bytes_ -= f.writer.size();
    frames_.pop_back();
    return;
  }
  pump();
}

void ResponseSender::pump() {
  while (!failed_ && !in_flight_ && !frames_.empty()) {
    const Frame& f = frames_.front();
    bool go = f.chunks[f.index].fd < 0 ? write_memory() : write_file();
    if (!go) break;
  }
}

// Marks n bytes written, releasing finished frames (and their owners).
void ResponseSender::advance(size_t n) {
  queued_bytes_ -= std::min(n, queued_bytes_);
  while (n > 0 && !frames_.empty()) {
    Frame& f = frames_.front();
    const Chunk& c = f.chunks[f.index];
    size_t take = std::min(n, c.size - f.done);
    f.done += take;
    n -= take;
    if (f.done == c.size) {
      ++f.index;
      f.done = 0;
      if (f.index == f.chunks.size()) frames_.pop_front();
    }
  }
}

bool ResponseSender::write_memory() {
  // Gather consecutive memory chunks, across frames (pipelined responses).
  std::vector<uv_buf_t> bufs;
  size_t total = 0;
  bool first = true;
  for (const Frame& f : frames_) {
    size_t i = first ? f.index : 0;
    for (; i < f.chunks.size() && bufs.size() < kMaxIovecs; ++i) {
      const Chunk& c = f.chunks[i];
      if (c.fd >= 0) break;
      size_t skip = first ? f.done : 0;
      first = false;
      bufs.push_back(uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(c.data + skip)),
                                 static_cast<unsigned>(c.size - skip)));
      total += c.size - skip;
    }
    first = false;
    if (i < f.chunks.size() || bufs.size() >= kMaxIovecs) break;
  }
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(tcp_), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) {
    fail(n);
    return false;
  }
  size_t written = static_cast<size_t>(n);
  if (written == total) {
    advance(written);
    return true;
  }
  // The rest waits for writability inside libuv. The bytes stay put: their
  // frames are only released by advance() after the write completes.
  size_t skip = written;
  std::vector<uv_buf_t> rest;
  for (const uv_buf_t& b : bufs) {
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    rest.push_back(uv_buf_init(b.base + skip, static_cast<unsigned>(b.len - skip)));
    skip = 0;
  }
  advance(written);
  submit(rest, total - written, {});
  return false;
}

bool ResponseSender::write_file() {
  if (fd_ < 0) {
    uv_os_fd_t fd;
    if (int r = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp_), &fd); r < 0) {
      fail(r);
      return false;
    }
    fd_ = fd;
  }
  const Frame& f = frames_.front();
  const Chunk& c = f.chunks[f.index];
  size_t left = c.size - f.done;
  off_t off = static_cast<off_t>(c.offset + static_cast<int64_t>(f.done));
  ssize_t r = ::sendfile(fd_, c.fd, &off, std::min(left, kMaxSendfile));
  if (r > 0) {
    advance(static_cast<size_t>(r));
    return true;
  }
  if (r == 0) {  // the file is shorter than the slice: never send garbage
    fail(UV_EOF);
    return false;
  }
  if (errno == EINTR) return true;
  if (errno != EAGAIN && errno != EWOULDBLOCK) {
    fail(-errno);
    return false;
  }
  if (wait_writable()) return false;
  size_t len = std::min(left, kStagingBytes);
  std::vector<uint8_t> staging(len);
  size_t got = 0;
  while (got < len) {
    ssize_t p = ::pread(c.fd, staging.data() + got, len - got, off + static_cast<off_t>(got));
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) {
      fail(p < 0 ? -errno : UV_EOF);
      return false;
    }
    got += static_cast<size_t>(p);
  }
  std::vector<uv_buf_t> none;
  submit(none, len, std::move(staging));
  return false;
}

void ResponseSender::submit(std::vector<uv_buf_t>& bufs, size_t bytes, std::vector<uint8_t> staging) {
  auto* w = new WriteReq{};
  w->self = this;
  w->bytes = bytes;
  w->staging = std::move(staging);
  if (!w->staging.empty())
    bufs.assign(1, uv_buf_init(reinterpret_cast<char*>(w->staging.data()), static_cast<unsigned>(w->staging.size())));
  w->req.data = w;
  int r = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(tcp_), bufs.data(), static_cast<unsigned>(bufs.size()),
                   on_write);
  if (r < 0) {
    delete w;
    fail(r);
    return;
  }
  in_flight_ = true;
  pending_ = w;
}

// Runs on the loop thread.
void ResponseSender::on_write(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  ResponseSender* self = w->self;
  size_t bytes = w->bytes;
  delete w;
  if (self == nullptr) return;
  self->pending_ = nullptr;
  self->in_flight_ = false;
  if (status < 0) {
    self->fail(status);
    return;
  }
  if (self->failed_) return;
  self->advance(bytes);
  self->pump();
  if (!self->failed_ && self->on_progress_) self->on_progress_();
}

void ResponseSender::fail(int err) {
  if (failed_) return;
  failed_ = true;
  if (on_error_) on_error_(err);
}

}  // namespace kfk::broker
