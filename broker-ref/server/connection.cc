#include "server/connection.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include "io/loop_thread.h"
#include "protocol/frame.h"
#include "server/broker.h"
#include "server/handler_table.h"
#include "server/server_log.h"

namespace kfk::broker {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Requests at least this large keep their read buffer (see parse_frames).
constexpr size_t kAdoptMin = 32 * 1024;
constexpr size_t kMaxPresize = 4u << 20;
constexpr size_t kMaxQueuedRequests = 256;
constexpr size_t kMaxQueuedRequestBytes = 32u << 20;
constexpr size_t kMaxQueuedOutputBytes = 32u << 20;
constexpr int16_t kApiVersionsKey = 18;

const char* api_name(int16_t key) {
  const proto::ApiInfo* a = proto::find_api(key);
  return a ? a->name : "?";
}

}  // namespace

// A deferred response bound to its connection by a weak reference.
class ConnectionDeferred : public DeferredResponse {
 public:
  ConnectionDeferred(std::weak_ptr<Connection> conn, int16_t key, int16_t version, int32_t correlation_id)
      : conn_(std::move(conn)) {
    at_ = proto::begin_response(w_, key, version, correlation_id);
  }
  proto::Writer& body() override { return w_; }
  void complete() override {
    if (done_) return;
    done_ = true;
    if (auto c = conn_.lock()) c->finish_deferred(std::move(w_), at_);
  }
  bool connection_open() const override {
    auto c = conn_.lock();
    return c && !c->closing();
  }

 private:
  std::weak_ptr<Connection> conn_;
  proto::Writer w_;
  size_t at_ = 0;
  bool done_ = false;
};

Connection::Connection(Broker& broker, uint64_t id, std::unique_ptr<io::Stream> stream, size_t max_request_bytes,
                       std::function<void(uint64_t)> on_closed)
    : broker_(broker),
      id_(id),
      on_closed_(std::move(on_closed)),
      stream_(std::move(stream)),
      sender_(
          stream_.get(), [this](int err) { close(err == UV_EPIPE || err == UV_ECONNRESET ? "" : std::string("write failed: ") + uv_strerror(err)); },
          [this] {
            last_active_ = uv_now(broker_.loop());
            process();
          }) {
  limits_.min_size = 1;
  limits_.max_size = max_request_bytes;
  limits_.what = "request";
  limits_.limit_name = "socket.request.max.bytes";
  last_active_ = uv_now(broker_.loop());
}

bool Connection::idle_since(uint64_t idle_since) const {
  return !closing_ && !busy_ && requests_.empty() && sender_.idle() && last_active_ <= idle_since;
}

Connection::~Connection() = default;

void Connection::start() {
  peer_ = stream_->peer();
  update_reading();
}

void Connection::update_reading() {
  bool want = !closing_ && !draining_ && requests_.size() < kMaxQueuedRequests &&
              requests_bytes_ < kMaxQueuedRequestBytes;
  if (want == reading_) return;
  if (want) {
    if (stream_->start_reading(this) == 0) reading_ = true;
  } else {
    stream_->stop_reading();
    reading_ = false;
  }
}

// Runs on the loop thread. A large frame (kAdoptMin and up) is read up to
// its last byte and no further, into a buffer that holds all of it, so
// parse_frames hands the buffer to the frame instead of copying it (the
// next frame's bytes would otherwise share the buffer); else a read chunk.
std::span<uint8_t> Connection::read_buffer() {
  size_t want = kReadChunk;
  if (in_len_ >= io::kSizePrefixBytes) {
    const int32_t size = io::load_frame_size(in_.get());
    if (io::frame_size_ok(size, limits_) && 4 + static_cast<size_t>(size) > in_len_) {
      size_t rest = 4 + static_cast<size_t>(size) - in_len_;
      want = static_cast<size_t>(size) >= kAdoptMin ? rest : std::max(want, rest);
    }
  }
  if (in_cap_ - in_len_ < want) {
    size_t cap = in_len_ + want;
    // A new frame starts: room for one as large as the last large one
    // (bounded), so a stream of large requests (Produce) reads each into
    // place instead of growing the buffer, a copy, once its size is known.
    if (in_len_ == 0) cap = std::max(cap, large_capacity());
    std::unique_ptr<uint8_t[]> grown(new uint8_t[cap]);
    if (in_len_ > 0) std::memcpy(grown.get(), in_.get(), in_len_);
    in_ = std::move(grown);
    in_cap_ = cap;
  }
  return {in_.get() + in_len_, want};
}

// Runs on the loop thread.
void Connection::on_read_end(int status) {
  reading_ = false;
  // EOF or reset: the client is gone; nothing to report.
  close(status == UV_EOF || status == UV_ECONNRESET ? "" : std::string("read failed: ") + uv_strerror(status));
}

// Runs on the loop thread.
void Connection::on_read(size_t n) {
  if (closing_) return;
  last_active_ = uv_now(broker_.loop());
  in_len_ += n;
  if (!parse_frames()) return;
  process();
}

// Room for a request as large as the last large one and a quarter more:
// the next request of a stream is seldom exactly as large, and one byte
// more would mean a second allocation and a copy. Bounded.
size_t Connection::large_capacity() const { return std::min(last_large_ + last_large_ / 4, kMaxPresize); }

bool Connection::parse_frames() {
  size_t pos = 0;
  while (in_len_ - pos >= 4) {
    const int32_t size = io::load_frame_size(in_.get() + pos);
    if (!io::frame_size_ok(size, limits_)) {
      close(io::frame_size_error(size, limits_));
      return false;
    }
    const auto n = static_cast<size_t>(size);
    if (in_len_ - pos - 4 < n) break;
    auto f = std::make_shared<FrameBuf>();
    // Sizes the next read buffer (on_alloc), whether or not this one
    // could keep its buffer: after one much larger request the stream's
    // own size wins again.
    if (n >= kAdoptMin) last_large_ = 4 + n;
    if (pos == 0 && in_len_ == 4 + n && n >= kAdoptMin && in_cap_ <= 2 * (4 + n)) {
      // A large request read on its own (on_alloc sized the buffer to it
      // and stopped reading at its end): the frame takes the buffer
      // instead of a copy.
      f->buf = std::move(in_);
      f->off = 4;
      in_cap_ = 0;
    } else {
      f->buf.reset(new uint8_t[n]);
      std::memcpy(f->buf.get(), in_.get() + pos + 4, n);
    }
    f->len = n;
    requests_.push_back(std::move(f));
    requests_bytes_ += n;
    pos += 4 + n;
  }
  // Each byte moves at most once: only after a whole frame was taken.
  if (pos > 0) {
    if (in_len_ > pos) std::memmove(in_.get(), in_.get() + pos, in_len_ - pos);
    in_len_ -= pos;
  }
  if (in_len_ == 0 && in_cap_ > (1u << 20)) {
    in_.reset();
    in_cap_ = 0;
  }
  return true;
}

void Connection::process() {
  if (processing_ || closing_) return;
  processing_ = true;
  auto self = shared_from_this();
  while (!closing_ && !busy_ && !requests_.empty() && sender_.queued_bytes() < kMaxQueuedOutputBytes) {
    Frame f = std::move(requests_.front());
    requests_.pop_front();
    requests_bytes_ -= f->size();
    dispatch(f);
  }
  processing_ = false;
  if (closing_) return;
  update_reading();
  maybe_finish_drain();
}

void Connection::dispatch(const Frame& frame) {
  KFK_DCHECK_ON_LOOP(broker_.loop());
  proto::Reader r(frame->data(), frame->size());
  proto::ParsedRequestHeader ph;
  if (!proto::parse_request_header(r, ph)) {
    close(std::string("malformed request header: ") + (r.error() ? r.error() : "?"));
    return;
  }
  const proto::RequestHeader& h = ph.header;
  if (h.client_id) {
    // For log lines only: short and printable.
    client_id_ = h.client_id->substr(0, 100);
    for (char& ch : client_id_)
      if (ch < 0x20 || ch > 0x7e) ch = '?';
  }
  const int16_t key = h.request_api_key;
  const int16_t version = h.request_api_version;
  const HandlerEntry* e = find_handler(key);
  const int16_t min_version = e == nullptr ? 0 : e->min_version_for(broker_.emulated_kafka());
  if (e == nullptr || version < min_version || version > e->max_version) {
    if (key == kApiVersionsKey) {
      proto::Writer w(512);
      size_t at = proto::begin_response(w, key, 0, h.correlation_id);
      encode_unsupported_api_versions(broker_.emulated_kafka(), w);
      proto::finish_frame(w, at);
      sender_.send(std::move(w));
      return;
    }
    if (e == nullptr)
      close("unknown API key " + std::to_string(key) + " (correlation id " + std::to_string(h.correlation_id) + ")");
    else
      close(std::string("unsupported ") + api_name(key) + " version " + std::to_string(version) + " (supported " +
            std::to_string(min_version) + "-" + std::to_string(e->max_version) + ")");
    return;
  }

  proto::Writer w(256);
  size_t at = proto::begin_response(w, key, version, h.correlation_id);
  RequestContext ctx{broker_};
  ctx.api_key = key;
  ctx.api_version = version;
  ctx.correlation_id = h.correlation_id;
  ctx.client_id = &h.client_id;
  ctx.peer = &peer_;
  ctx.frame = std::span<uint8_t>(frame->data(), frame->size());
  ctx.frame_owner = frame;
  ctx.defer_fn = defer_thunk;
  ctx.conn = this;
  HandlerResult res;
  try {
    res = e->fn(ctx, r, w);
  } catch (const std::exception& ex) {
    // Never let one request take the broker down.
    close(std::string(api_name(key)) + " handler failed: " + ex.what());
    return;
  }
  switch (res) {
    case HandlerResult::kRespond:
      proto::finish_frame(w, at);
      sender_.send(std::move(w));
      break;
    case HandlerResult::kNoResponse:
    case HandlerResult::kDeferred:  // defer_thunk marked us busy
      break;
    case HandlerResult::kMalformed:
      close(ctx.close_reason.empty() ? std::string("malformed ") + api_name(key) + " request" : ctx.close_reason);
      break;
    case HandlerResult::kClose:
      close(ctx.close_reason);
      break;
  }
}

std::shared_ptr<DeferredResponse> Connection::defer_thunk(void* conn, const RequestContext& ctx) {
  auto* c = static_cast<Connection*>(conn);
  c->busy_ = true;
  return std::make_shared<ConnectionDeferred>(c->weak_from_this(), ctx.api_key, ctx.api_version, ctx.correlation_id);
}

void Connection::finish_deferred(proto::Writer&& w, size_t size_at) {
  if (closing_) return;
  proto::finish_frame(w, size_at);
  sender_.send(std::move(w));
  busy_ = false;
  last_active_ = uv_now(broker_.loop());
  process();
}

void Connection::drain() {
  if (closing_) return;
  draining_ = true;
  update_reading();
  process();
}

void Connection::maybe_finish_drain() {
  if (draining_ && !closing_ && requests_.empty() && !busy_ && sender_.idle()) close("");
}

void Connection::close(const std::string& why) {
  if (closing_) return;
  closing_ = true;
  if (!why.empty())
    server_log("closing connection from " + peer_ + (client_id_.empty() ? "" : " (client " + client_id_ + ")") + ": " + why);
  sender_.abandon();
  requests_.clear();
  reading_ = false;
  stream_->close([this] {
    // Copied first: the server drops its reference, destroying *this.
    auto on_closed = on_closed_;
    on_closed(id_);
  });
}

}  // namespace kfk::broker
