#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "io/framing.h"

using namespace kfk::io;

namespace {
FrameLimits request_limits() {
  FrameLimits l;
  l.min_size = 1;
  l.max_size = 1000;
  l.what = "request";
  l.limit_name = "socket.request.max.bytes";
  return l;
}
}  // namespace

TEST_CASE("framing: negative, empty, too small and over-limit sizes are refused") {
  FrameLimits l = request_limits();
  CHECK_FALSE(frame_size_ok(-1, l));
  CHECK_FALSE(frame_size_ok(INT32_MIN, l));
  CHECK_FALSE(frame_size_ok(0, l));
  CHECK(frame_size_ok(1, l));
  CHECK(frame_size_ok(1000, l));
  CHECK_FALSE(frame_size_ok(1001, l));
  CHECK(frame_size_error(-5, l) == "invalid request size -5 (socket.request.max.bytes is 1000)");
  l.min_size = 4;  // a response: room for its correlation id
  CHECK_FALSE(frame_size_ok(3, l));
  CHECK(frame_size_ok(4, l));
}

TEST_CASE("framing: the size prefix is big-endian and round-trips") {
  uint8_t b[4];
  for (int32_t v : {0, 1, 255, 256, 0x01020304, INT32_MAX, -1, INT32_MIN}) {
    store_frame_size(b, v);
    CHECK(load_frame_size(b) == v);
  }
  store_frame_size(b, 0x01020304);
  CHECK(b[0] == 1);
  CHECK(b[3] == 4);
}

TEST_CASE("framing: a size prefix split across reads") {
  const std::vector<uint8_t> stream = {0x00, 0x00, 0x01, 0x02, 0xaa};
  for (size_t first = 0; first <= 4; ++first) {
    SizePrefix p;
    size_t used = p.feed(stream.data(), first);
    CHECK(used == first);
    CHECK(p.complete() == (first == 4));
    used += p.feed(stream.data() + used, stream.size() - used);
    CHECK(used == 4);  // takes the prefix only, never the body's first byte
    REQUIRE(p.complete());
    CHECK(p.value() == 0x0102);
    p.reset();
    CHECK(p.have() == 0);
  }
  SizePrefix one_by_one;
  const uint8_t neg[4] = {0xff, 0xff, 0xff, 0xfe};
  for (uint8_t byte : neg) CHECK(one_by_one.feed(&byte, 1) == 1);
  REQUIRE(one_by_one.complete());
  CHECK(one_by_one.value() == -2);
  CHECK(one_by_one.feed(neg, 4) == 0);
}
