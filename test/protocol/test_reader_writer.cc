#include <doctest/doctest.h>

#include <cstring>
#include <limits>

#include "protocol/reader.h"
#include "protocol/writer.h"

using namespace kfk::proto;

TEST_CASE("integers are big-endian and round-trip") {
  Writer w;
  w.i8(-2);
  w.i16(0x1234);
  w.i32(-5);
  w.i64(0x0102030405060708LL);
  w.u16(65535);
  w.u32(0xdeadbeef);
  w.f64(3.25);
  w.boolean(true);
  auto b = w.flatten();
  CHECK(b[1] == 0x12);
  CHECK(b[2] == 0x34);
  Reader r(b.data(), b.size());
  CHECK(r.i8() == -2);
  CHECK(r.i16() == 0x1234);
  CHECK(r.i32() == -5);
  CHECK(r.i64() == 0x0102030405060708LL);
  CHECK(r.u16() == 65535);
  CHECK(r.u32() == 0xdeadbeef);
  CHECK(r.f64() == 3.25);
  CHECK(r.boolean());
  CHECK(r.ok());
  CHECK(r.empty());
}

TEST_CASE("varints: zigzag and unsigned, known encodings") {
  struct Case {
    int64_t value;
    std::vector<uint8_t> bytes;
  };
  // Zigzag encodings from the protobuf documentation.
  Case cases[] = {{0, {0x00}}, {-1, {0x01}}, {1, {0x02}}, {-2, {0x03}}, {63, {0x7e}},
                  {-64, {0x7f}}, {64, {0x80, 0x01}}, {2147483647, {0xfe, 0xff, 0xff, 0xff, 0x0f}},
                  {-2147483648LL, {0xff, 0xff, 0xff, 0xff, 0x0f}}};
  for (const auto& c : cases) {
    Writer w;
    w.varint(c.value);
    CHECK(w.flatten() == c.bytes);
    Reader r(c.bytes.data(), c.bytes.size());
    CHECK(r.varlong() == c.value);
    Reader r32(c.bytes.data(), c.bytes.size());
    CHECK(r32.varint() == static_cast<int32_t>(c.value));
  }
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{-300}}) {
    Writer w;
    w.varint(v);
    auto b = w.flatten();
    Reader r(b.data(), b.size());
    CHECK(r.varlong() == v);
    CHECK(r.empty());
  }
  Writer w;
  w.uvarint(300);
  CHECK(w.flatten() == std::vector<uint8_t>{0xac, 0x02});
}

TEST_CASE("overlong and overflowing varints are errors") {
  std::vector<uint8_t> eleven(11, 0x80);
  Reader r(eleven.data(), eleven.size());
  r.uvarlong();
  CHECK_FALSE(r.ok());
  std::vector<uint8_t> big = {0xff, 0xff, 0xff, 0xff, 0x7f};  // > 32 bits
  Reader r2(big.data(), big.size());
  r2.uvarint();
  CHECK_FALSE(r2.ok());
}

TEST_CASE("strings, bytes and arrays in classic and compact forms") {
  for (bool compact : {false, true}) {
    Writer w;
    w.string("hello", compact);
    w.nullable_string(std::nullopt, compact);
    w.nullable_string(std::string(), compact);
    w.bytes(std::vector<uint8_t>{1, 2, 3}, compact);
    w.nullable_bytes(std::nullopt, compact);
    w.array_length(-1, compact);
    w.array_length(2, compact);
    w.i8(1);
    w.i8(2);
    auto b = w.flatten();
    Reader r(b.data(), b.size());
    CHECK(r.string(compact) == "hello");
    CHECK(r.nullable_string(compact) == std::nullopt);
    CHECK(r.nullable_string(compact) == std::optional<std::string>(""));
    CHECK(r.bytes(compact) == Bytes{1, 2, 3});
    CHECK(r.nullable_bytes(compact) == std::nullopt);
    CHECK(r.array_length(compact) == -1);
    CHECK(r.array_length(compact) == 2);
    CHECK(r.i8() == 1);
    CHECK(r.i8() == 2);
    CHECK(r.ok());
    CHECK(r.empty());
  }
}

TEST_CASE("null where the schema requires a string or bytes: an error, unless accepted as empty") {
  for (bool compact : {false, true}) {
    Writer w;
    w.nullable_string(std::nullopt, compact);
    w.nullable_bytes(std::nullopt, compact);
    w.i8(7);
    auto b = w.flatten();
    Reader strict(b.data(), b.size());
    CHECK(strict.string(compact).empty());
    CHECK_FALSE(strict.ok());
    CHECK(std::string(strict.error()) == "null where a string is required");

    Reader lenient(b.data(), b.size());
    lenient.accept_null_as_empty();
    CHECK(lenient.string(compact).empty());
    // A sub-reader keeps the mode (nested messages, e.g. a record).
    Reader rest = lenient.sub(lenient.remaining());
    CHECK(rest.bytes(compact).empty());
    CHECK(rest.i8() == 7);
    CHECK(rest.ok());
    CHECK(lenient.ok());
  }
}

TEST_CASE("the reader's error is sticky and nothing is read past the end") {
  std::vector<uint8_t> b = {0x00, 0x01};
  Reader r(b.data(), b.size());
  CHECK(r.i32() == 0);
  CHECK_FALSE(r.ok());
  CHECK(r.i8() == 0);  // still failed, still zero
  CHECK(r.error() != nullptr);
}

TEST_CASE("length prefixes larger than the buffer fail before allocating") {
  Writer w;
  w.i32(0x7fffffff);  // bytes length
  w.i8(1);
  auto b = w.flatten();
  Reader r(b.data(), b.size());
  CHECK(r.bytes(false).empty());
  CHECK_FALSE(r.ok());

  Writer w2;
  w2.i32(1 << 30);  // array count
  auto b2 = w2.flatten();
  Reader r2(b2.data(), b2.size());
  CHECK(r2.array_length(false, 4) == -1);
  CHECK_FALSE(r2.ok());

  Writer w3;
  w3.uvarint(0xffffffffu);  // compact string length
  auto b3 = w3.flatten();
  Reader r3(b3.data(), b3.size());
  r3.string(true);
  CHECK_FALSE(r3.ok());
}

TEST_CASE("placeholders are patched and splices are not copied") {
  std::vector<uint8_t> payload(4096, 0xab);
  Writer w;
  size_t at = w.reserve_i32();
  w.i16(7);
  w.splice(payload.data(), payload.size());
  w.i16(8);
  w.patch_i32(at, static_cast<int32_t>(w.size() - 4));
  CHECK(w.position() == 8);  // the payload is referenced, not copied
  CHECK(w.size() == 8 + payload.size());
  REQUIRE(w.splices().size() == 1);
  CHECK(w.splices()[0].data == payload.data());
  auto flat = w.flatten();
  Reader r(flat.data(), flat.size());
  CHECK(r.i32() == static_cast<int32_t>(flat.size() - 4));
  CHECK(r.i16() == 7);
  auto mid = r.raw(payload.size());
  CHECK(std::memcmp(mid.data(), payload.data(), payload.size()) == 0);
  CHECK(r.i16() == 8);
  size_t chunks = 0;
  w.for_each_chunk([&](const uint8_t*, size_t) { ++chunks; }, [&](const ExternalBytes&, size_t) { ++chunks; });
  CHECK(chunks == 3);
}

TEST_CASE("small splices are copied") {
  uint8_t small[10] = {};
  Writer w;
  w.splice(small, sizeof small);
  CHECK(w.splices().empty());
  CHECK(w.position() == sizeof small);
}

TEST_CASE("uuid base64 form") {
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  CHECK(u.to_string() == "AAECAwQFBgcICQoLDA0ODw");
  CHECK_FALSE(Uuid::random().is_zero());
}
