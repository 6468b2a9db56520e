#include "client/consumer/assignors/sticky_user_data.h"

#include <map>
#include <string>

namespace kfk::assignors {
namespace {

void put16(std::vector<uint8_t>& b, int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  b.push_back(static_cast<uint8_t>(u >> 8));
  b.push_back(static_cast<uint8_t>(u));
}

void put32(std::vector<uint8_t>& b, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<uint8_t>(u >> shift));
}

struct Reader {
  const std::vector<uint8_t>& b;
  size_t pos = 0;
  size_t left() const { return b.size() - pos; }
  bool get16(int16_t& v) {
    if (left() < 2) return false;
    v = static_cast<int16_t>(static_cast<uint16_t>((b[pos] << 8) | b[pos + 1]));
    pos += 2;
    return true;
  }
  bool get32(int32_t& v) {
    if (left() < 4) return false;
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u = (u << 8) | b[pos + static_cast<size_t>(i)];
    v = static_cast<int32_t>(u);
    pos += 4;
    return true;
  }
};

}  // namespace

std::vector<uint8_t> encode_sticky_user_data(const std::vector<TopicPartition>& partitions, int32_t generation) {
  std::map<std::string_view, std::vector<int32_t>> by_topic;
  for (const auto& tp : partitions) by_topic[tp.topic].push_back(tp.partition);
  std::vector<uint8_t> b;
  put32(b, static_cast<int32_t>(by_topic.size()));
  for (const auto& [topic, parts] : by_topic) {
    put16(b, static_cast<int16_t>(topic.size()));  // Kafka topic names are at most 249 bytes
    b.insert(b.end(), topic.begin(), topic.end());
    put32(b, static_cast<int32_t>(parts.size()));
    for (int32_t p : parts) put32(b, p);
  }
  put32(b, generation);
  return b;
}

bool decode_sticky_user_data(const std::vector<uint8_t>& data, StickyUserData& out) {
  out = StickyUserData();
  Reader r{data};
  int32_t topics = 0;
  if (!r.get32(topics) || topics < 0) return false;
  std::vector<TopicPartition> parts;
  for (int32_t t = 0; t < topics; ++t) {
    int16_t len = 0;
    if (!r.get16(len) || len < 0 || r.left() < static_cast<size_t>(len)) return false;
    std::string topic(reinterpret_cast<const char*>(data.data() + r.pos), static_cast<size_t>(len));
    r.pos += static_cast<size_t>(len);
    int32_t n = 0;
    // Each partition takes 4 bytes: bounds a bogus count before reserving.
    if (!r.get32(n) || n < 0 || r.left() / 4 < static_cast<size_t>(n)) return false;
    for (int32_t i = 0; i < n; ++i) {
      int32_t p = 0;
      r.get32(p);
      parts.emplace_back(topic, p);
    }
  }
  int32_t generation = -1;
  r.get32(generation);  // absent in v0 (Java: the v1 read fails, v0 succeeds)
  out.partitions = std::move(parts);
  out.generation = generation;
  return true;
}

std::vector<uint8_t> encode_cooperative_user_data(int32_t generation) {
  std::vector<uint8_t> b;
  put32(b, generation);
  return b;
}

int32_t decode_cooperative_user_data(const std::vector<uint8_t>& data) {
  Reader r{data};
  int32_t g = -1;
  return r.get32(g) ? g : -1;
}

}  // namespace kfk::assignors
