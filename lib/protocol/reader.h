// Bounds-checked big-endian reader with a sticky error (after franz-go's
// kbin.Reader): read on, check ok() once. A failed read returns a zero value
// and never advances; nothing is read past the end of the span, and no length
// prefix larger than the remaining bytes ever causes an allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/types.h"

namespace kfk::proto {

class Reader {
 public:
  Reader() = default;
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}
  explicit Reader(std::span<const uint8_t> s) : Reader(s.data(), s.size()) {}

  bool ok() const { return error_ == nullptr; }
  // The first failure, or nullptr.
  const char* error() const { return error_; }
  // Marks the reader failed (first reason wins) and empties it.
  void fail(const char* why);

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* current() const { return p_; }
  bool empty() const { return p_ == end_; }

  int8_t i8();
  int16_t i16();
  int32_t i32();
  int64_t i64();
  uint16_t u16();
  uint32_t u32();
  double f64();
  bool boolean();
  Uuid uuid();

  // Unsigned varints (at most 5 / 10 bytes) and zigzag varints.
  uint32_t uvarint();
  uint64_t uvarlong();
  int32_t varint();
  int64_t varlong();

  // Kafka strings and bytes. `compact` selects the flexible-version form
  // (unsigned varint length + 1) over the classic int16 / int32 prefix.
  std::string string(bool compact);
  std::optional<std::string> nullable_string(bool compact);
  Bytes bytes(bool compact);
  std::optional<Bytes> nullable_bytes(bool compact);
  Records records(bool compact);  // a view into this reader's buffer

  // Responses from brokers that write null where the schema says string or
  // bytes (librdkafka's mock cluster does in error answers, e.g. a
  // SyncGroup assignment or a FindCoordinator host) read as empty instead
  // of failing the whole message, as librdkafka and franz-go read them.
  // Off by default: broker-ref stays strict about requests.
  void accept_null_as_empty() { null_as_empty_ = true; }

  // An array length; -1 means null. Fails when `count * min_element_size`
  // exceeds the remaining bytes, so that callers may reserve() safely.
  int32_t array_length(bool compact, size_t min_element_size = 1);

  // The next n bytes as a view (advances), or an empty span on failure.
  std::span<const uint8_t> raw(size_t n);
  // A reader over the next n bytes (advances this one past them).
  Reader sub(size_t n);
  void skip(size_t n) { (void)raw(n); }

 private:
  bool need(size_t n);
  int32_t length_prefix(bool compact, bool wide);  // -1 null

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* begin_ = nullptr;
  const char* error_ = nullptr;
  bool null_as_empty_ = false;
};

}  // namespace kfk::proto
