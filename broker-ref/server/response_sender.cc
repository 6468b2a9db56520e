#include "server/response_sender.h"

#include <algorithm>
#include <cerrno>

#include "storage/file_records.h"

namespace kfk::broker {
namespace {

constexpr size_t kMaxIovecs = 64;
constexpr size_t kStagingBytes = 256 * 1024;

}  // namespace

// One uv write in flight; owns the staging copy of file bytes, if any.
struct ResponseSender::WriteReq final : io::WriteRequest {
  ResponseSender* self = nullptr;
  size_t bytes = 0;
  std::vector<uint8_t> staging;
  void on_written(int status, bool stream_closed) override {
    ResponseSender* s = self;
    const size_t n = bytes;
    delete this;
    if (!stream_closed) s->on_written(n, status);
  }
};

ResponseSender::ResponseSender(io::Stream* stream, std::function<void(int)> on_error, std::function<void()> on_progress)
    : stream_(stream), on_error_(std::move(on_error)), on_progress_(std::move(on_progress)) {}

// Runs on the loop thread.
void ResponseSender::on_writable(int status) {
  in_flight_ = false;
  if (status < 0) {
    fail(status);
    return;
  }
  if (failed_) return;
  size_t before = queued_bytes_;
  pump();
  if (!failed_ && queued_bytes_ != before && on_progress_) on_progress_();
}

void ResponseSender::send(proto::Writer&& frame) {
  if (failed_) return;
  frames_.emplace_back();
  Frame& f = frames_.back();
  f.writer = std::move(frame);
  bool unknown = false;
  f.writer.for_each_chunk(
      [&](const uint8_t* p, size_t n) {
        if (n > 0) f.chunks.push_back(Chunk{p, nullptr, n});
      },
      [&](const proto::ExternalBytes& e, size_t n) {
        const FileRecords* file = FileRecords::of(&e);
        unknown = unknown || file == nullptr;
        if (n > 0) f.chunks.push_back(Chunk{nullptr, file, n});
      });
  if (unknown) {  // only log ranges are spliced in externally
    frames_.pop_back();
    fail(UV_EINVAL);
    return;
  }
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
    bool go = f.chunks[f.index].file == nullptr ? write_memory() : write_file();
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
      if (c.file != nullptr) break;
      size_t skip = first ? f.done : 0;
      first = false;
      bufs.push_back(uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(c.data + skip)),
                                 static_cast<unsigned>(c.size - skip)));
      total += c.size - skip;
    }
    first = false;
    if (i < f.chunks.size() || bufs.size() >= kMaxIovecs) break;
  }
  int64_t n = stream_->try_write(bufs.data(), bufs.size());
  if (n < 0) {
    fail(static_cast<int>(n));
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
  const Frame& f = frames_.front();
  const Chunk& c = f.chunks[f.index];
  io::FileSender* sf = stream_->file_sender();
  if (sf == nullptr) return stage_file(c, f.done);
  const size_t left = c.size - f.done;
  int64_t r = sf->send_file(c.file->fd(), c.file->position() + static_cast<int64_t>(f.done), left);
  if (r > 0) {
    advance(static_cast<size_t>(r));
    return true;
  }
  if (r != UV_EAGAIN) {  // UV_EOF: the file is shorter than the range; never send garbage
    fail(static_cast<int>(r));
    return false;
  }
  if (sf->wait_writable([this](int status) { on_writable(status); })) {
    in_flight_ = true;
    return false;
  }
  return stage_file(c, f.done);
}

// The next piece of a file range through memory: read, then a queued write.
bool ResponseSender::stage_file(const Chunk& c, size_t done) {
  const size_t len = std::min(c.size - done, kStagingBytes);
  std::vector<uint8_t> staging(len);
  int64_t got = c.file->read(staging.data(), len, done);
  if (got != static_cast<int64_t>(len)) {
    fail(got < 0 ? -errno : UV_EOF);
    return false;
  }
  std::vector<uv_buf_t> none;
  submit(none, len, std::move(staging));
  return false;
}

void ResponseSender::submit(std::vector<uv_buf_t>& bufs, size_t bytes, std::vector<uint8_t> staging) {
  auto* w = new WriteReq;
  w->self = this;
  w->bytes = bytes;
  w->staging = std::move(staging);
  if (!w->staging.empty())
    bufs.assign(1, uv_buf_init(reinterpret_cast<char*>(w->staging.data()), static_cast<unsigned>(w->staging.size())));
  int r = stream_->write(bufs.data(), bufs.size(), w);
  if (r < 0) {
    delete w;
    fail(r);
    return;
  }
  in_flight_ = true;
}

// Runs on the loop thread.
void ResponseSender::on_written(size_t bytes, int status) {
  in_flight_ = false;
  if (status < 0) {
    fail(status);
    return;
  }
  if (failed_) return;
  advance(bytes);
  pump();
  if (!failed_ && on_progress_) on_progress_();
}

void ResponseSender::fail(int err) {
  if (failed_) return;
  failed_ = true;
  if (on_error_) on_error_(err);
}

}  // namespace kfk::broker
