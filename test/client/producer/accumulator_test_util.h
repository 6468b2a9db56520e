// Helpers shared by the accumulator tests.
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/producer/record_accumulator.h"
#include "protocol/record_batch.h"

namespace kfk::producer::testing {

inline std::span<const uint8_t> u8(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Collects what callbacks report (topics copied while the views are valid).
struct Recorder {
  std::vector<RecordMetadata> md;
  std::vector<std::string> topics;
  std::vector<Error> errors;

  DeliveryCallback cb() {
    return [this](const RecordMetadata& m, const Error& e) {
      md.push_back(m);
      topics.emplace_back(m.topic);
      errors.push_back(e);
    };
  }
};

inline AppendResult add(RecordAccumulator& acc, std::string_view topic, int32_t partition, std::string_view value,
                        int64_t now, Recorder* rec = nullptr, std::optional<std::string_view> key = std::nullopt,
                        int64_t timestamp = 1000) {
  std::optional<std::span<const uint8_t>> k;
  if (key) k = u8(*key);
  return acc.append(topic, partition, timestamp, k, u8(value), {}, rec != nullptr ? rec->cb() : DeliveryCallback(),
                    now);
}

inline std::vector<BatchPtr> drain_one(RecordAccumulator& acc, std::string_view topic, int32_t partition,
                                       int64_t now, size_t max_request = size_t{1} << 30) {
  std::vector<BatchPtr> out;
  const PartitionRef parts[] = {{topic, partition}};
  acc.drain(1, parts, max_request, now, out);
  return out;
}

struct Decoded {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = 0;
  int64_t offset = 0;
  bool operator==(const Decoded&) const = default;
};

inline std::optional<std::string> str(const std::optional<std::span<const uint8_t>>& s) {
  if (!s) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(s->data()), s->size());
}

// Decodes a finished batch with the codec's reader (CRC checked too).
inline std::vector<Decoded> decode(std::span<const uint8_t> bytes, proto::BatchHeader* header = nullptr) {
  std::vector<proto::BatchSpan> spans;
  REQUIRE(proto::split_batches(bytes, spans));
  REQUIRE(spans.size() == 1);
  CHECK(proto::verify_batch_crc(spans[0].bytes));
  if (header != nullptr) *header = spans[0].header;
  std::vector<proto::Record> records;
  std::vector<uint8_t> scratch;
  const char* why = nullptr;
  REQUIRE_MESSAGE(proto::decode_records(spans[0], records, scratch, 64u << 20, &why), (why ? why : ""));
  std::vector<Decoded> out;
  for (const auto& r : records) {
    Decoded d;
    d.key = str(r.key);
    d.value = str(r.value);
    for (const auto& h : r.headers)
      d.headers.emplace_back(std::string(h.key),
                             h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
    d.timestamp = r.timestamp;
    d.offset = r.offset;
    out.push_back(std::move(d));
  }
  return out;
}

inline std::vector<std::string> values_of(const ProducerBatch& b) {
  std::vector<std::string> v;
  for (auto& d : decode(b.bytes())) v.push_back(d.value.value_or("<null>"));
  return v;
}

}  // namespace kfk::producer::testing
