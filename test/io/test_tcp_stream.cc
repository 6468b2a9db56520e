#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io/framing.h"
#include "io/tcp_stream.h"
#include "io_test_util.h"

using kfk::io::FileSender;
using kfk::io::StreamReader;
using kfk::io::TcpStream;
using kfk::io::WriteRequest;
using kfk::io::test::Loop;

namespace {

// Reads into its own buffer in pieces of at most `piece` bytes (owner
// buffers, as FrameReader hands out), appending them to `got`.
class Collector : public StreamReader {
 public:
  explicit Collector(size_t piece) : buf_(piece) {}
  std::span<uint8_t> read_buffer() override {
    ++buffers;
    return {buf_.data(), buf_.size()};
  }
  void on_read(size_t n) override { got.insert(got.end(), buf_.begin(), buf_.begin() + static_cast<long>(n)); }
  void on_read_end(int status) override { end = status; }
  std::vector<uint8_t> got;
  int buffers = 0;
  int end = 0;  // 0 while reading

 private:
  std::vector<uint8_t> buf_;
};

struct Write final : WriteRequest {
  int* status;
  bool* closed;
  int* calls;
  std::vector<uint8_t> bytes;
  Write(int* s, bool* c, int* n) : status(s), closed(c), calls(n) {}
  void on_written(int st, bool stream_closed) override {
    *status = st;
    *closed = stream_closed;
    ++*calls;
    delete this;
  }
};

// A listener on 127.0.0.1 (any port) that adopts each connection.
struct Listener {
  uv_tcp_t tcp{};
  std::unique_ptr<TcpStream> accepted;
  int port = 0;
  explicit Listener(uv_loop_t* loop) {
    uv_tcp_init(loop, &tcp);
    tcp.data = this;
    sockaddr_in a{};
    uv_ip4_addr("127.0.0.1", 0, &a);
    REQUIRE(uv_tcp_bind(&tcp, reinterpret_cast<sockaddr*>(&a), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&tcp), 8, [](uv_stream_t* s, int status) {
              REQUIRE(status == 0);
              auto* self = static_cast<Listener*>(s->data);
              int err = 0;
              self->accepted = TcpStream::accept(s, TcpStream::Options{}, &err);
              REQUIRE(self->accepted != nullptr);
            }) == 0);
    sockaddr_in bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(bound.sin_port);
  }
  ~Listener() { uv_close(reinterpret_cast<uv_handle_t*>(&tcp), nullptr); }
};

// A connected pair: `client` (connected by TcpStream::connect) and the
// listener's accepted stream.
struct Pair {
  Loop loop;
  Listener listener{loop.get()};
  std::unique_ptr<TcpStream> client;
  int connected = 1;
  Pair() {
    sockaddr_in a{};
    uv_ip4_addr("127.0.0.1", listener.port, &a);
    int err = 0;
    client = TcpStream::connect(loop.get(), reinterpret_cast<sockaddr*>(&a), TcpStream::Options{},
                                [this](int status) { connected = status; }, &err);
    REQUIRE(client != nullptr);
    REQUIRE(loop.run_until([&] { return connected != 1 && listener.accepted != nullptr; }));
    REQUIRE(connected == 0);
  }
  TcpStream& server() { return *listener.accepted; }
};

uv_buf_t buf(const std::string& s) { return uv_buf_init(const_cast<char*>(s.data()), static_cast<unsigned>(s.size())); }

}  // namespace

TEST_CASE("TcpStream: connect, scatter/gather write, read into the owner's buffers") {
  Pair p;
  CHECK(p.client->peer() == "127.0.0.1:" + std::to_string(p.listener.port));
  CHECK(p.server().peer().rfind("127.0.0.1:", 0) == 0);
  Collector c(7);  // smaller than the message: several reads
  REQUIRE(p.server().start_reading(&c) == 0);
  const std::string a = "hello, ", b = "scatter/gather ", d = "world";
  uv_buf_t bufs[3] = {buf(a), buf(b), buf(d)};
  int status = 1, calls = 0;
  bool closed = true;
  REQUIRE(p.client->write(bufs, 3, new Write(&status, &closed, &calls)) == 0);
  const std::string want = a + b + d;
  REQUIRE(p.loop.run_until([&] { return c.got.size() == want.size() && calls == 1; }));
  CHECK(std::string(c.got.begin(), c.got.end()) == want);
  CHECK(c.buffers >= 4);
  CHECK(status == 0);
  CHECK_FALSE(closed);

  // try_write, then the other direction.
  Collector back(1024);
  REQUIRE(p.client->start_reading(&back) == 0);
  const std::string e = "answer";
  uv_buf_t one = buf(e);
  CHECK(p.server().try_write(&one, 1) == static_cast<int64_t>(e.size()));
  REQUIRE(p.loop.run_until([&] { return back.got.size() == e.size(); }));
  CHECK(std::string(back.got.begin(), back.got.end()) == e);
}

TEST_CASE("TcpStream: the peer closing ends reading with EOF; shutdown sends EOF") {
  Pair p;
  Collector c(64);
  REQUIRE(p.server().start_reading(&c) == 0);
  int shut = 1;
  REQUIRE(p.client->shutdown([&](int status) { shut = status; }) == 0);
  REQUIRE(p.loop.run_until([&] { return c.end != 0 && shut != 1; }));
  CHECK(c.end == UV_EOF);
  CHECK(shut == 0);

  Collector d(64);
  REQUIRE(p.client->start_reading(&d) == 0);
  bool closed_cb = false;
  p.server().close([&] { closed_cb = true; });
  CHECK(p.server().closing());
  REQUIRE(p.loop.run_until([&] { return d.end != 0 && closed_cb; }));
  CHECK(d.end == UV_EOF);
}

TEST_CASE("TcpStream: closing with writes pending completes them as closed; nothing reaches a destroyed owner") {
  Pair p;
  // More than the socket buffers hold while nobody reads.
  std::vector<uint8_t> big(64u << 20, 0x5a);
  int status = 1, calls = 0;
  bool closed = false;
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(big.data()), static_cast<unsigned>(big.size()));
  REQUIRE(p.client->write(&b, 1, new Write(&status, &closed, &calls)) == 0);
  p.loop.settle();
  CHECK(calls == 0);  // still queued
  Collector c(1024);
  REQUIRE(p.client->start_reading(&c) == 0);
  p.client.reset();  // destroys (closes) the stream with the write pending
  REQUIRE(p.loop.run_until([&] { return calls == 1; }));
  CHECK(closed);
  CHECK(status == UV_ECANCELED);
  CHECK(c.end == 0);  // the reader of a destroyed stream hears nothing
}

TEST_CASE("TcpStream: sendfile of a file range, and the staging-free wait for writability") {
  Pair p;
  char path[] = "/tmp/kfk_io_sendfileXXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  unlink(path);
  std::string content;
  // More than loopback's socket buffers hold, so sendfile meets a full
  // socket and has to wait for writability at least once.
  content.reserve(32u << 20);
  for (size_t i = 0; i < (32u << 20); ++i) content += static_cast<char>('a' + i % 26);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));

  FileSender* fs = p.server().file_sender();
  REQUIRE(fs != nullptr);
  Collector c(64 * 1024);
  REQUIRE(p.client->start_reading(&c) == 0);
  size_t sent = 0;
  const size_t from = 10, len = content.size() - 20;
  bool waiting = false;
  int waits = 0;
  REQUIRE(p.loop.run_until([&] {
    if (!waiting && sent < len) {
      int64_t r = fs->send_file(fd, static_cast<int64_t>(from + sent), len - sent);
      if (r == UV_EAGAIN) {
        waiting = fs->wait_writable([&](int status) {
          CHECK(status == 0);
          waiting = false;
        });
        REQUIRE(waiting);
        ++waits;
      } else {
        REQUIRE(r > 0);
        sent += static_cast<size_t>(r);
      }
    }
    return c.got.size() == len;
  }));
  CHECK(std::string(c.got.begin(), c.got.end()) == content.substr(from, len));
  CHECK(waits > 0);
  // Past the end of the file: EOF, never garbage.
  CHECK(fs->send_file(fd, static_cast<int64_t>(content.size()), 10) == UV_EOF);
  close(fd);
}

TEST_CASE("TcpStream: connecting to a closed port reports the error") {
  Loop loop;
  int port = 0;
  {
    Listener l(loop.get());
    port = l.port;
  }
  loop.settle();
  sockaddr_in a{};
  uv_ip4_addr("127.0.0.1", port, &a);
  int status = 1, err = 0;
  auto s = TcpStream::connect(loop.get(), reinterpret_cast<sockaddr*>(&a), TcpStream::Options{},
                              [&](int st) { status = st; }, &err);
  REQUIRE(s != nullptr);
  REQUIRE(loop.run_until([&] { return status != 1; }));
  CHECK(status == UV_ECONNREFUSED);
}

namespace {

// Kafka frames off a stream read in pieces of `piece` bytes: the size
// prefix through io::SizePrefix, checked against `limits`, as the client's
// FrameReader and broker-ref's Connection do.
class FrameCollector : public StreamReader {
 public:
  FrameCollector(size_t piece, kfk::io::FrameLimits limits) : buf_(piece), limits_(limits) {}
  std::span<uint8_t> read_buffer() override { return {buf_.data(), buf_.size()}; }
  void on_read(size_t n) override {
    const uint8_t* p = buf_.data();
    const uint8_t* end = p + n;
    while (p < end && error.empty()) {
      if (!in_frame_) {
        p += prefix_.feed(p, static_cast<size_t>(end - p));
        if (!prefix_.complete()) break;
        const int32_t size = prefix_.value();
        prefix_.reset();
        if (!kfk::io::frame_size_ok(size, limits_)) {
          error = kfk::io::frame_size_error(size, limits_);
          break;
        }
        frames.emplace_back();
        want_ = static_cast<size_t>(size);
        in_frame_ = true;
      }
      size_t take = std::min(want_ - frames.back().size(), static_cast<size_t>(end - p));
      frames.back().append(reinterpret_cast<const char*>(p), take);
      p += take;
      if (frames.back().size() == want_) in_frame_ = false;
    }
  }
  void on_read_end(int) override {}
  std::vector<std::string> frames;
  std::string error;

 private:
  std::vector<uint8_t> buf_;
  kfk::io::FrameLimits limits_;
  kfk::io::SizePrefix prefix_;
  bool in_frame_ = false;
  size_t want_ = 0;
};

std::string framed(const std::string& body) {
  std::string out(4, '\0');
  kfk::io::store_frame_size(reinterpret_cast<uint8_t*>(out.data()), static_cast<int32_t>(body.size()));
  return out + body;
}

}  // namespace

TEST_CASE("framing over a real socket: frames split across 3-byte reads, then an oversize prefix") {
  Pair p;
  kfk::io::FrameLimits limits;
  limits.min_size = 4;
  limits.max_size = 64;
  limits.what = "response";
  FrameCollector c(3, limits);  // every prefix and body is split across reads
  REQUIRE(p.server().start_reading(&c) == 0);
  const std::string a = framed("first frame"), b = framed("the second, a little longer"),
                    big = framed(std::string(65, 'x'));
  const std::string all = a + b + big;
  uv_buf_t one = buf(all);
  int status = 1, calls = 0;
  bool closed = true;
  REQUIRE(p.client->write(&one, 1, new Write(&status, &closed, &calls)) == 0);
  REQUIRE(p.loop.run_until([&] { return !c.error.empty() && calls == 1; }));
  REQUIRE(c.frames.size() == 2);
  CHECK(c.frames[0] == "first frame");
  CHECK(c.frames[1] == "the second, a little longer");
  CHECK(c.error == "invalid response size 65 (limit is 64)");
}
