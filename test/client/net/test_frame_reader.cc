// FrameReader: framing across arbitrary read boundaries, direct reads for
// large frames, and bad size prefixes.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "client/net/frame_reader.h"

using kfk::net::FramePtr;
using kfk::net::FrameReader;

namespace {

std::vector<uint8_t> frame(size_t body, uint8_t fill) {
  std::vector<uint8_t> f(4 + body, fill);
  f[0] = static_cast<uint8_t>(body >> 24);
  f[1] = static_cast<uint8_t>(body >> 16);
  f[2] = static_cast<uint8_t>(body >> 8);
  f[3] = static_cast<uint8_t>(body);
  return f;
}

// Feeds `stream` to the reader in chunks of at most `chunk` bytes, the way a
// socket would (never more than next_buffer() offers).
bool feed(FrameReader& r, const std::vector<uint8_t>& stream, size_t chunk, std::vector<FramePtr>& out) {
  size_t pos = 0;
  while (pos < stream.size()) {
    uint8_t* buf;
    size_t cap;
    r.next_buffer(&buf, &cap);
    size_t n = std::min({cap, chunk, stream.size() - pos});
    std::memcpy(buf, stream.data() + pos, n);
    pos += n;
    if (!r.consume(n, [&](FramePtr f) {
          out.push_back(std::move(f));
          return true;
        }))
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("FrameReader: frames split across any read boundary") {
  std::vector<uint8_t> stream;
  std::vector<size_t> sizes = {4, 5, 100, 70000, 4, 200000, 13};
  for (size_t i = 0; i < sizes.size(); ++i) {
    auto f = frame(sizes[i], static_cast<uint8_t>(i + 1));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
    FrameReader r(1 << 20);
    std::vector<FramePtr> out;
    REQUIRE(feed(r, stream, chunk, out));
    REQUIRE(out.size() == sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      CHECK(out[i]->size == sizes[i]);
      CHECK(out[i]->bytes[0] == i + 1);
      CHECK(out[i]->bytes[sizes[i] - 1] == i + 1);
    }
    CHECK(r.pending_bytes() == 0);
  }
}

TEST_CASE("FrameReader: a large frame body is read in place") {
  FrameReader r(1 << 20);
  auto f = frame(300000, 9);
  uint8_t* buf;
  size_t cap;
  r.next_buffer(&buf, &cap);
  std::memcpy(buf, f.data(), 100);  // prefix + start of body via scratch
  std::vector<FramePtr> out;
  auto sink = [&](FramePtr p) {
    out.push_back(std::move(p));
    return true;
  };
  REQUIRE(r.consume(100, sink));
  r.next_buffer(&buf, &cap);
  CHECK(cap == 300000 - 96);  // exactly the rest of the frame
  std::memcpy(buf, f.data() + 100, cap);
  REQUIRE(r.consume(cap, sink));
  REQUIRE(out.size() == 1);
  CHECK(out[0]->size == 300000);
}

TEST_CASE("FrameReader: bad size prefixes are errors") {
  for (auto prefix : {std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff}, std::vector<uint8_t>{0, 0, 0, 3},
                      std::vector<uint8_t>{0x7f, 0, 0, 0}}) {
    FrameReader r(1 << 20);
    std::vector<FramePtr> out;
    CHECK_FALSE(feed(r, prefix, 4, out));
    CHECK_FALSE(r.error().empty());
  }
}

TEST_CASE("FrameReader: large frame buffers are recycled, never while a frame is held") {
  const size_t body = 2 << 20;  // above FramePool::kMinPooled
  FrameReader r(64 << 20);
  std::vector<FramePtr> out;
  REQUIRE(feed(r, frame(body, 1), 1 << 20, out));
  REQUIRE(feed(r, frame(body, 2), 1 << 20, out));
  REQUIRE(out.size() == 2);
  // Both held: two distinct buffers, each with its own bytes.
  CHECK(out[0]->bytes.get() != out[1]->bytes.get());
  CHECK(r.pool().reused() == 0);
  const uint8_t* first = out[0]->bytes.get();
  // A third frame while both are held gets a new buffer; the held ones keep
  // their bytes.
  REQUIRE(feed(r, frame(body, 3), 1 << 20, out));
  CHECK(r.pool().reused() == 0);
  CHECK(out[2]->bytes.get() != first);
  CHECK(out[2]->bytes.get() != out[1]->bytes.get());
  for (size_t i = 0; i < 3; ++i) {
    CHECK(out[i]->bytes[0] == i + 1);
    CHECK(out[i]->bytes[body - 1] == i + 1);
  }
  // Released: the next frame (of any size that fits) reuses the buffer.
  out[0].reset();
  CHECK(r.pool().free_buffers() == 1);
  REQUIRE(feed(r, frame(body - 1000, 4), 1 << 20, out));
  CHECK(r.pool().reused() == 1);
  CHECK(out[3]->bytes.get() == first);
  CHECK(out[3]->size == body - 1000);
  CHECK(out[3]->bytes[body - 1001] == 4);
  CHECK(out[1]->bytes[body - 1] == 2);
  CHECK(out[2]->bytes[body - 1] == 3);
  // Bounded: only FramePool::kMaxFree buffers wait for reuse.
  out.clear();
  CHECK(r.pool().free_buffers() == kfk::net::FramePool::kMaxFree);
  // Small frames do not go through the pool.
  REQUIRE(feed(r, frame(1000, 5), 1 << 20, out));
  CHECK(r.pool().reused() == 1);
}

TEST_CASE("FrameReader: frames outlive their reader") {
  std::vector<FramePtr> out;
  {
    FrameReader r(64 << 20);
    REQUIRE(feed(r, frame(1 << 20, 7), 1 << 20, out));
  }
  REQUIRE(out.size() == 1);
  CHECK(out[0]->bytes[(1 << 20) - 1] == 7);
  out.clear();  // the pool is gone: the buffer is freed
}

TEST_CASE("FramePool: buffers left unused for kIdleRelease are freed") {
  using kfk::net::FramePool;
  auto pool = std::make_shared<FramePool>();
  const auto t0 = std::chrono::steady_clock::now();
  auto a = pool->get(1 << 20);
  auto b = pool->get(2 << 20);
  a.reset();
  b.reset();
  const auto t1 = std::chrono::steady_clock::now();
  REQUIRE(pool->free_buffers() == 2);
  pool->release_idle(t0 + FramePool::kIdleRelease - std::chrono::milliseconds(100));
  CHECK(pool->free_buffers() == 2);  // not idle long enough
  // One is used again (and comes back later), the other stays idle.
  auto c = pool->get(2 << 20);
  CHECK(pool->reused() == 1);
  CHECK(pool->free_buffers() == 1);
  pool->release_idle(t1 + FramePool::kIdleRelease);
  CHECK(pool->free_buffers() == 0);
  c.reset();
  CHECK(pool->free_buffers() == 1);
  pool->release_idle(std::chrono::steady_clock::now() + FramePool::kIdleRelease);
  CHECK(pool->free_buffers() == 0);
  // A pool emptied this way still hands out buffers.
  auto d = pool->get(1 << 20);
  CHECK(d->size == (1u << 20));
}
