// Turning values into record bytes and back.
//
// kfk::Serializer<T> and kfk::Deserializer<T> are specialized for the types
// the Java client ships serializers for, producing the same bytes:
//
//   T                          bytes (as Java's ...Serializer)
//   std::string                the string's bytes, as is (StringSerializer with UTF-8 text)
//   std::string_view           the same, copied
//   std::vector<uint8_t>       the bytes (ByteArraySerializer); moved, not copied, from an rvalue
//   std::vector<std::byte>     the same
//   kfk::Bytes                 passed through
//   int16_t / int32_t / int64_t  big-endian two's complement (Short/Integer/LongSerializer)
//   float / double             big-endian IEEE 754 bits (Float/DoubleSerializer; DoubleSerializer
//                              writes every NaN as the canonical 0x7ff8000000000000, like Java's
//                              doubleToLongBits; FloatSerializer keeps the raw bits)
//
//   kfk::Bytes b = kfk::serialize("topic", int64_t{42});   // 8 bytes, 00 .. 00 2a
//   int64_t v;
//   kfk::Error err = kfk::deserialize("topic", b.span(), v);
//
// Null keys and values are not the serializers' business: a record's key or
// value is std::optional<Bytes>, and a consumer hands a null as an empty
// optional without calling the deserializer.
//
// Plugging in your own type, either way:
//
//   1. Specialize the templates (found by kfk::serialize / kfk::deserialize
//      and by ConsumerRecord::key_as / value_as; a ProducerRecord takes
//      bytes, so serialize a key or value with kfk::serialize(topic, x)):
//
//        template <> struct kfk::Serializer<Point> {
//          kfk::Bytes serialize(std::string_view topic, const Point& p) const;
//        };
//        template <> struct kfk::Deserializer<Point> {
//          kfk::Error deserialize(std::string_view topic, std::span<const std::byte> data, Point& out) const;
//        };
//
//   2. Or pass a callable where a serializer is accepted:
//
//        auto ser = kfk::make_serializer<Point>([](std::string_view topic, const Point& p) {
//          return kfk::Bytes(to_json(p));
//        });
//        kfk::Bytes b = kfk::serialize("points", Point{1, 2}, ser);
//
// Any type with a matching serialize() / deserialize() member satisfies the
// SerializerFor / DeserializerFor concepts. Serializers must be callable
// from several application threads at once (the built-in ones are stateless).
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "kfk/error.h"
#include "kfk/record.h"

namespace kfk {

template <class T>
struct Serializer;  // specialized below; specialize it for your own types

template <class T>
struct Deserializer;

template <class S, class T>
concept SerializerFor = requires(const S& s, std::string_view topic, const T& v) {
  { s.serialize(topic, v) } -> std::convertible_to<Bytes>;
};

template <class D, class T>
concept DeserializerFor = requires(const D& d, std::string_view topic, std::span<const std::byte> data, T& out) {
  { d.deserialize(topic, data, out) } -> std::same_as<Error>;
};

namespace detail {

template <class U>
Bytes big_endian(U bits) {
  static_assert(std::is_unsigned_v<U>);
  char out[sizeof(U)];
  for (size_t i = 0; i < sizeof(U); ++i) out[i] = static_cast<char>(bits >> (8 * (sizeof(U) - 1 - i)));
  return Bytes(std::string(out, sizeof(U)));  // fits the string's inline buffer: no allocation
}

template <class U>
Error read_big_endian(std::span<const std::byte> data, U& bits, const char* java_name) {
  if (data.size() != sizeof(U))
    return Error(errc::kInvalidArgument, std::string("Size of data received by ") + java_name + " is not " +
                                             std::to_string(sizeof(U)));
  bits = 0;
  for (std::byte b : data) bits = static_cast<U>((bits << 8) | static_cast<U>(b));
  return Error();
}

template <class T, class U>
struct IntegralSerde {
  Bytes serialize(std::string_view, T v) const { return big_endian(static_cast<U>(v)); }
};

}  // namespace detail

// --- strings and bytes --------------------------------------------------------

template <>
struct Serializer<std::string> {
  Bytes serialize(std::string_view, const std::string& v) const { return Bytes(std::string_view(v)); }
  Bytes serialize(std::string_view, std::string&& v) const { return Bytes(std::move(v)); }
};
template <>
struct Serializer<std::string_view> {
  Bytes serialize(std::string_view, std::string_view v) const { return Bytes(v); }
};
template <>
struct Serializer<std::vector<uint8_t>> {
  Bytes serialize(std::string_view, const std::vector<uint8_t>& v) const { return Bytes(std::span<const uint8_t>(v)); }
  Bytes serialize(std::string_view, std::vector<uint8_t>&& v) const { return Bytes(std::move(v)); }
};
template <>
struct Serializer<std::vector<std::byte>> {
  Bytes serialize(std::string_view, const std::vector<std::byte>& v) const {
    return Bytes(std::span<const std::byte>(v));
  }
  Bytes serialize(std::string_view, std::vector<std::byte>&& v) const { return Bytes(std::move(v)); }
};
template <>
struct Serializer<Bytes> {
  Bytes serialize(std::string_view, const Bytes& v) const { return Bytes(v.view()); }
  Bytes serialize(std::string_view, Bytes&& v) const { return std::move(v); }
};

template <>
struct Deserializer<std::string> {
  Error deserialize(std::string_view, std::span<const std::byte> data, std::string& out) const {
    out.assign(reinterpret_cast<const char*>(data.data()), data.size());
    return Error();
  }
};
template <>
struct Deserializer<std::vector<uint8_t>> {
  Error deserialize(std::string_view, std::span<const std::byte> data, std::vector<uint8_t>& out) const {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    out.assign(p, p + data.size());
    return Error();
  }
};
template <>
struct Deserializer<std::vector<std::byte>> {
  Error deserialize(std::string_view, std::span<const std::byte> data, std::vector<std::byte>& out) const {
    out.assign(data.begin(), data.end());
    return Error();
  }
};

// --- numbers (big-endian, as the Java serializers) ----------------------------

template <>
struct Serializer<int16_t> : detail::IntegralSerde<int16_t, uint16_t> {};
template <>
struct Serializer<int32_t> : detail::IntegralSerde<int32_t, uint32_t> {};
template <>
struct Serializer<int64_t> : detail::IntegralSerde<int64_t, uint64_t> {};
template <>
struct Serializer<float> {
  Bytes serialize(std::string_view, float v) const { return detail::big_endian(std::bit_cast<uint32_t>(v)); }
};
template <>
struct Serializer<double> {
  Bytes serialize(std::string_view, double v) const {
    // Java's doubleToLongBits: every NaN becomes the canonical quiet NaN.
    uint64_t bits = v != v ? uint64_t{0x7ff8000000000000} : std::bit_cast<uint64_t>(v);
    return detail::big_endian(bits);
  }
};

template <>
struct Deserializer<int16_t> {
  Error deserialize(std::string_view, std::span<const std::byte> data, int16_t& out) const {
    uint16_t bits;
    Error err = detail::read_big_endian(data, bits, "ShortDeserializer");
    if (err.ok()) out = static_cast<int16_t>(bits);
    return err;
  }
};
template <>
struct Deserializer<int32_t> {
  Error deserialize(std::string_view, std::span<const std::byte> data, int32_t& out) const {
    uint32_t bits;
    Error err = detail::read_big_endian(data, bits, "IntegerDeserializer");
    if (err.ok()) out = static_cast<int32_t>(bits);
    return err;
  }
};
template <>
struct Deserializer<int64_t> {
  Error deserialize(std::string_view, std::span<const std::byte> data, int64_t& out) const {
    uint64_t bits;
    Error err = detail::read_big_endian(data, bits, "LongDeserializer");
    if (err.ok()) out = static_cast<int64_t>(bits);
    return err;
  }
};
template <>
struct Deserializer<float> {
  Error deserialize(std::string_view, std::span<const std::byte> data, float& out) const {
    uint32_t bits;
    Error err = detail::read_big_endian(data, bits, "FloatDeserializer");
    if (err.ok()) out = std::bit_cast<float>(bits);
    return err;
  }
};
template <>
struct Deserializer<double> {
  Error deserialize(std::string_view, std::span<const std::byte> data, double& out) const {
    uint64_t bits;
    Error err = detail::read_big_endian(data, bits, "DoubleDeserializer");
    if (err.ok()) out = std::bit_cast<double>(bits);
    return err;
  }
};

// --- callables -----------------------------------------------------------------

// Adapts a callable Bytes(std::string_view topic, const T&) into a serializer.
template <class T, class F>
struct FunctionSerializer {
  F fn;
  Bytes serialize(std::string_view topic, const T& v) const { return Bytes(fn(topic, v)); }
};
template <class T, class F>
FunctionSerializer<T, std::decay_t<F>> make_serializer(F&& fn) {
  return {std::forward<F>(fn)};
}

// Adapts a callable Error(std::string_view topic, std::span<const std::byte>, T&) into a deserializer.
template <class T, class F>
struct FunctionDeserializer {
  F fn;
  Error deserialize(std::string_view topic, std::span<const std::byte> data, T& out) const {
    return fn(topic, data, out);
  }
};
template <class T, class F>
FunctionDeserializer<T, std::decay_t<F>> make_deserializer(F&& fn) {
  return {std::forward<F>(fn)};
}

// Type-erased forms, for storing a serializer chosen at run time.
template <class T>
using SerializerFn = std::function<Bytes(std::string_view topic, const T&)>;
template <class T>
using DeserializerFn = std::function<Error(std::string_view topic, std::span<const std::byte>, T&)>;

// --- entry points --------------------------------------------------------------

// serialize(topic, value) with Serializer<T>; serialize(topic, value, s) with s.
template <class T, class S = Serializer<std::remove_cvref_t<T>>>
Bytes serialize(std::string_view topic, T&& value, const S& s = S{}) {
  return Bytes(s.serialize(topic, std::forward<T>(value)));
}
// A string literal serializes as its characters (without the terminating NUL).
inline Bytes serialize(std::string_view topic, const char* value) {
  return Serializer<std::string_view>{}.serialize(topic, value);
}

template <class T, class D = Deserializer<T>>
Error deserialize(std::string_view topic, std::span<const std::byte> data, T& out, const D& d = D{}) {
  return d.deserialize(topic, data, out);
}
template <class T, class D = Deserializer<T>>
Error deserialize(std::string_view topic, std::span<const uint8_t> data, T& out, const D& d = D{}) {
  return d.deserialize(topic, std::as_bytes(data), out);
}

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
