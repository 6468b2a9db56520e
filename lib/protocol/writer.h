// Big-endian writer appending into a growable buffer, with placeholders for
// lengths and CRCs patched at the end (after librdkafka's msgset writer) and
// zero-copy splices: large payloads (record batches in memory, and bytes
// external to the codec such as broker-ref's file ranges) are referenced,
// not copied, and handed to the socket as scatter/gather chunks.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/types.h"

namespace kfk::proto {

class Writer {
 public:
  // One piece of the output: `size` bytes spliced in after `at` bytes of the
  // owned buffer, either memory at `data` or bytes external to the codec.
  struct Splice {
    size_t at = 0;
    const uint8_t* data = nullptr;
    size_t size = 0;
    const ExternalBytes* external = nullptr;
  };

  // Payloads smaller than this are copied: a copy is cheaper than an iovec.
  static constexpr size_t kSpliceThreshold = 512;

  Writer() = default;
  explicit Writer(size_t reserve) { buf_.reserve(reserve); }

  void i8(int8_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void i16(int16_t v) { u16(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void i64(int64_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void f64(double v);
  void boolean(bool v) { i8(v ? 1 : 0); }
  void uuid(const Uuid& u) { raw(u.bytes.data(), u.bytes.size()); }

  void uvarint(uint64_t v);
  void varint(int64_t v) { uvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }

  // Kafka strings and bytes; `compact` selects the flexible-version form.
  void string(std::string_view s, bool compact);
  void nullable_string(const std::optional<std::string>& s, bool compact);
  void bytes(std::span<const uint8_t> b, bool compact);
  void nullable_bytes(const std::optional<Bytes>& b, bool compact);
  void records(const Records& r, bool compact);
  void array_length(int32_t n, bool compact);  // -1 for null

  void raw(const void* p, size_t n);
  // Appends without copying when large; `owner` keeps the bytes alive for
  // as long as this writer (and whoever holds its chunks) lives.
  void splice(const uint8_t* p, size_t n, std::shared_ptr<const void> owner = {});
  // Appends `n` bytes the codec cannot see (kept alive by `bytes`).
  void splice_external(std::shared_ptr<const ExternalBytes> bytes, size_t n);

  // Placeholders: reserve room now, patch once the value is known.
  size_t reserve_bytes(size_t n);
  size_t reserve_i32() { return reserve_bytes(4); }
  void patch_i32(size_t at, int32_t v) { patch_u32(at, static_cast<uint32_t>(v)); }
  void patch_u32(size_t at, uint32_t v);
  void patch_i16(size_t at, int16_t v);
  void patch_i64(size_t at, int64_t v);

  // Bytes written to the owned buffer (placeholder positions are in these).
  size_t position() const { return buf_.size(); }
  // All bytes, spliced ones included: the length a frame header announces.
  size_t size() const { return buf_.size() + spliced_; }
  uint8_t* data() { return buf_.data(); }
  const uint8_t* data() const { return buf_.data(); }
  const std::vector<Splice>& splices() const { return splices_; }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  void reserve(size_t n) { buf_.reserve(n); }
  void clear();

  bool has_external() const { return externals_ > 0; }
  // Every byte in order in one vector, for tests and small frames (the
  // network path sends chunks instead). Only for writers without external
  // splices: their bytes are not the codec's to read.
  std::vector<uint8_t> flatten() const;
  // Releases the owned buffer when there are no splices.
  std::vector<uint8_t> take();

  // Visits the output in order as memory chunks and external pieces:
  // on_memory(const uint8_t*, size_t) and
  // on_external(const ExternalBytes&, size_t).
  template <class OnMemory, class OnExternal>
  void for_each_chunk(OnMemory&& on_memory, OnExternal&& on_external) const {
    size_t pos = 0;
    for (const auto& s : splices_) {
      if (s.at > pos) on_memory(buf_.data() + pos, s.at - pos);
      pos = s.at;
      if (s.external != nullptr)
        on_external(*s.external, s.size);
      else if (s.size > 0)
        on_memory(s.data, s.size);
    }
    if (buf_.size() > pos) on_memory(buf_.data() + pos, buf_.size() - pos);
  }
  // The same for a writer without external splices (has_external() false).
  template <class OnMemory>
  void for_each_chunk(OnMemory&& on_memory) const {
    assert(!has_external() && "for_each_chunk(on_memory): external bytes need on_external");
    for_each_chunk(on_memory, [](const ExternalBytes&, size_t) {});
  }

 private:
  std::vector<uint8_t> buf_;
  std::vector<Splice> splices_;
  std::vector<std::shared_ptr<const void>> owners_;
  size_t spliced_ = 0;
  size_t externals_ = 0;
};

}  // namespace kfk::proto
