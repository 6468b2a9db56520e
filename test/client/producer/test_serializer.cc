// Serializers produce the Java serializers' bytes and round-trip.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kfk/serializer.h"

namespace {

std::vector<uint8_t> bytes_of(const kfk::Bytes& b) {
  auto s = b.u8();
  return {s.begin(), s.end()};
}

struct Point {
  int32_t x = 0;
  int32_t y = 0;
};

}  // namespace

// A user type plugged in by specialization.
template <>
struct kfk::Serializer<Point> {
  kfk::Bytes serialize(std::string_view topic, const Point& p) const {
    return kfk::Bytes(std::string(topic) + ":" + std::to_string(p.x) + "," + std::to_string(p.y));
  }
};
template <>
struct kfk::Deserializer<Point> {
  kfk::Error deserialize(std::string_view, std::span<const std::byte> data, Point& out) const {
    std::string s(reinterpret_cast<const char*>(data.data()), data.size());
    auto colon = s.find(':');
    auto comma = s.find(',');
    if (colon == std::string::npos || comma == std::string::npos)
      return kfk::Error(kfk::errc::kInvalidArgument, "not a point");
    out.x = std::stoi(s.substr(colon + 1, comma - colon - 1));
    out.y = std::stoi(s.substr(comma + 1));
    return kfk::Error();
  }
};

static_assert(kfk::SerializerFor<kfk::Serializer<int32_t>, int32_t>);
static_assert(kfk::SerializerFor<kfk::Serializer<Point>, Point>);
static_assert(kfk::DeserializerFor<kfk::Deserializer<double>, double>);

TEST_CASE("integer serializers are big-endian like Java's") {
  CHECK(bytes_of(kfk::serialize("t", int32_t{0x01020304})) == std::vector<uint8_t>{1, 2, 3, 4});
  CHECK(bytes_of(kfk::serialize("t", int32_t{-1})) == std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff});
  CHECK(bytes_of(kfk::serialize("t", int16_t{0x0102})) == std::vector<uint8_t>{1, 2});
  CHECK(bytes_of(kfk::serialize("t", int64_t{0x0102030405060708})) ==
        std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(bytes_of(kfk::serialize("t", std::numeric_limits<int64_t>::min())) ==
        std::vector<uint8_t>{0x80, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("floating-point serializers match Float/DoubleSerializer") {
  CHECK(bytes_of(kfk::serialize("t", 1.0)) == std::vector<uint8_t>{0x3f, 0xf0, 0, 0, 0, 0, 0, 0});
  CHECK(bytes_of(kfk::serialize("t", -2.5f)) == std::vector<uint8_t>{0xc0, 0x20, 0, 0});
  // DoubleSerializer uses doubleToLongBits: any NaN is written canonically.
  double odd_nan;
  uint64_t bits = 0x7ff8000000000123ull;
  std::memcpy(&odd_nan, &bits, 8);
  CHECK(bytes_of(kfk::serialize("t", odd_nan)) == std::vector<uint8_t>{0x7f, 0xf8, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("serializers round-trip through the deserializers") {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1} << 40, std::numeric_limits<int64_t>::max()}) {
    int64_t out = 7;
    CHECK(kfk::deserialize("t", kfk::serialize("t", v).span(), out).ok());
    CHECK(out == v);
  }
  for (int32_t v : {0, 42, -42, std::numeric_limits<int32_t>::min()}) {
    int32_t out = 7;
    CHECK(kfk::deserialize("t", kfk::serialize("t", v).span(), out).ok());
    CHECK(out == v);
  }
  int16_t s = 0;
  CHECK(kfk::deserialize("t", kfk::serialize("t", int16_t{-300}).span(), s).ok());
  CHECK(s == -300);
  double d = 0;
  CHECK(kfk::deserialize("t", kfk::serialize("t", 3.25).span(), d).ok());
  CHECK(d == 3.25);
  float f = 0;
  CHECK(kfk::deserialize("t", kfk::serialize("t", 1.5f).span(), f).ok());
  CHECK(f == 1.5f);

  std::string str;
  CHECK(kfk::deserialize("t", kfk::serialize("t", std::string("h\0llo", 5)).span(), str).ok());
  CHECK(str == std::string("h\0llo", 5));
  std::vector<uint8_t> raw;
  CHECK(kfk::deserialize("t", kfk::serialize("t", std::vector<uint8_t>{0, 1, 255}).span(), raw).ok());
  CHECK(raw == std::vector<uint8_t>{0, 1, 255});
  std::vector<std::byte> raw_b;
  CHECK(kfk::deserialize("t", kfk::serialize("t", std::vector<std::byte>{std::byte{9}}).span(), raw_b).ok());
  CHECK(raw_b.size() == 1);
  CHECK(kfk::serialize("t", "lit").view() == "lit");
  CHECK(kfk::serialize("t", std::string_view("sv")).view() == "sv");
}

TEST_CASE("deserializers reject the wrong size with Java's message") {
  int32_t out = 0;
  std::vector<uint8_t> three{1, 2, 3};
  kfk::Error err = kfk::deserialize("t", std::span<const uint8_t>(three), out);
  CHECK(err.code() == kfk::errc::kInvalidArgument);
  CHECK(err.message().find("Size of data received by IntegerDeserializer is not 4") != std::string::npos);
  int64_t l = 0;
  CHECK(!kfk::deserialize("t", std::span<const uint8_t>(three), l).ok());
}

TEST_CASE("rvalue containers are moved into Bytes, not copied") {
  std::string big(1000, 'z');
  const char* p = big.data();
  kfk::Bytes b = kfk::serialize("t", std::move(big));
  CHECK(reinterpret_cast<const char*>(b.data()) == p);
  std::vector<uint8_t> v(1000, 1);
  const uint8_t* vp = v.data();
  kfk::Bytes bv = kfk::serialize("t", std::move(v));
  CHECK(reinterpret_cast<const uint8_t*>(bv.data()) == vp);
}

TEST_CASE("custom serializers: specialization and callables") {
  kfk::Bytes b = kfk::serialize("pts", Point{3, -4});
  CHECK(b.view() == "pts:3,-4");
  Point p;
  CHECK(kfk::deserialize("pts", b.span(), p).ok());
  CHECK(p.x == 3);
  CHECK(p.y == -4);

  auto upper = kfk::make_serializer<std::string>([](std::string_view, const std::string& s) {
    std::string u = s;
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  });
  CHECK(kfk::serialize("t", std::string("abc"), upper).view() == "ABC");

  auto length_only = kfk::make_deserializer<size_t>([](std::string_view, std::span<const std::byte> d, size_t& out) {
    out = d.size();
    return kfk::Error();
  });
  size_t n = 0;
  CHECK(kfk::deserialize("t", kfk::Bytes("four").span(), n, length_only).ok());
  CHECK(n == 4);

  kfk::SerializerFn<int32_t> erased = [](std::string_view topic, const int32_t& v) {
    return kfk::Serializer<int32_t>{}.serialize(topic, v);
  };
  CHECK(erased("t", 1).size() == 4);
}
