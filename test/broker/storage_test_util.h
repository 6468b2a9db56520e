// Helpers for the storage tests: batch building, reading a log
// back through the zero-copy read path.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kfk_test/temp_dir.h"
#include "protocol/record_batch.h"
#include "storage/file_util.h"
#include "storage/log.h"

namespace kfk::broker::test {

using kfk::test::TempDir;

struct Rec {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t ts = 1000;
};

struct BatchSpec {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  proto::Compression compression = proto::Compression::kNone;
};

inline std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::vector<uint8_t> make_batch(const std::vector<Rec>& recs, const BatchSpec& spec = {}) {
  proto::BatchBuilder::Options o;
  o.producer_id = spec.producer_id;
  o.producer_epoch = spec.producer_epoch;
  o.base_sequence = spec.base_sequence;
  o.transactional = spec.transactional;
  o.compression = spec.compression;
  proto::BatchBuilder b(o);
  for (const auto& r : recs) {
    std::optional<std::span<const uint8_t>> k, v;
    if (r.key) k = as_bytes(*r.key);
    if (r.value) v = as_bytes(*r.value);
    b.append(r.ts, k, v);
  }
  return b.release();
}

inline std::vector<uint8_t> make_control_batch(int64_t pid, int16_t epoch, proto::ControlType type,
                                               int32_t coordinator_epoch, int64_t ts = 1000) {
  proto::BatchBuilder::Options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.transactional = true;
  o.control = true;
  proto::BatchBuilder b(o);
  b.append_control(ts, type, coordinator_epoch);
  return b.release();
}

// n records with keys "<key_prefix><i>" and values of `value_size` bytes.
inline std::vector<uint8_t> make_simple_batch(int n, int64_t ts, const std::string& key_prefix = "k",
                                              size_t value_size = 20, const BatchSpec& spec = {}) {
  std::vector<Rec> recs;
  for (int i = 0; i < n; ++i) recs.push_back(Rec{key_prefix + std::to_string(i), std::string(value_size, 'a' + i % 26), ts});
  return make_batch(recs, spec);
}

struct ReadRecord {
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
};

inline std::vector<uint8_t> slice_bytes(const ReadResult& r) {
  std::vector<uint8_t> out(r.size);
  if (r.size > 0) {
    int64_t n = pread_full(r.fd, out.data(), out.size(), r.position);
    REQUIRE(n == static_cast<int64_t>(r.size));
  }
  return out;
}

inline std::vector<ReadRecord> decode_all(std::span<const uint8_t> bytes, int64_t min_offset = 0,
                                          std::vector<proto::BatchHeader>* headers = nullptr) {
  std::vector<proto::BatchSpan> spans;
  size_t tail = 0;
  REQUIRE(proto::split_batches(bytes, spans, nullptr, &tail));
  std::vector<ReadRecord> out;
  for (const auto& sp : spans) {
    REQUIRE(proto::verify_batch_crc(sp.bytes));
    if (headers != nullptr) headers->push_back(sp.header);
    std::vector<proto::Record> recs;
    std::vector<uint8_t> scratch;
    REQUIRE(proto::decode_records(sp, recs, scratch, 64 << 20));
    for (const auto& r : recs) {
      if (r.offset < min_offset) continue;
      ReadRecord rr;
      rr.offset = r.offset;
      if (r.key) rr.key = std::string(reinterpret_cast<const char*>(r.key->data()), r.key->size());
      if (r.value) rr.value = std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size());
      rr.timestamp = r.timestamp;
      out.push_back(std::move(rr));
    }
  }
  return out;
}

// Everything from `from` to the log end, through Log::read.
inline std::vector<ReadRecord> read_all(const Log& log, int64_t from, size_t max_bytes = 1 << 20,
                                        std::vector<proto::BatchHeader>* headers = nullptr) {
  std::vector<ReadRecord> out;
  int64_t off = from;
  for (int guard = 0; guard < 1000000; ++guard) {
    ReadResult r = log.read(off, max_bytes, true);
    REQUIRE_MESSAGE(r.status.ok(), r.status.to_string());
    if (r.size == 0) break;
    std::vector<uint8_t> bytes = slice_bytes(r);
    std::vector<proto::BatchHeader> hs;
    auto recs = decode_all(bytes, off, &hs);
    REQUIRE(!hs.empty());
    for (auto& x : recs) out.push_back(std::move(x));
    if (headers != nullptr) headers->insert(headers->end(), hs.begin(), hs.end());
    off = hs.back().last_offset() + 1;
  }
  return out;
}

inline LogConfig small_config(int32_t segment_bytes = 2048, int32_t index_interval = 256) {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.index_interval_bytes = index_interval;
  c.file_delete_delay_ms = 0;  // deleted segment files go at once (Kafka's default keeps them 60 s)
  return c;
}

struct Warnings {
  std::vector<std::string> lines;
  std::function<void(const std::string&)> fn() {
    return [this](const std::string& s) { lines.push_back(s); };
  }
  bool contains(const std::string& needle) const {
    for (const auto& l : lines)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
};

inline std::unique_ptr<Log> open_log(const std::string& dir, const LogConfig& cfg, bool clean = true,
                                     int64_t recovery_point = 0, Warnings* w = nullptr, int64_t now_ms = 0) {
  LogOpenOptions o;
  o.clean_shutdown = clean;
  o.recovery_point = recovery_point;
  o.now_ms = now_ms;
  if (w != nullptr) o.log = w->fn();
  else o.log = [](const std::string&) {};
  std::unique_ptr<Log> log;
  Status s = Log::open(dir, cfg, o, &log);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return log;
}

inline AppendInfo append_ok(Log& log, std::vector<uint8_t> batch, int64_t now_ms = 1000, int32_t epoch = 0) {
  AppendInfo ai;
  Status s = log.append(batch, epoch, now_ms, &ai);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return ai;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

inline std::vector<std::string> files_with_suffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t be64(const uint8_t* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }

// What the indexes of a segment file must hold by Kafka's rule: an entry
// for a batch when more than `interval` bytes lie between the last entry's
// batch and it; time index entries (max timestamp so far, its batch's last
// offset) alongside when the max grew; `sealed` adds the final one.
struct ExpectedIndexes {
  std::vector<std::pair<int64_t, uint32_t>> offsets;    // (offset, position)
  std::vector<std::pair<int64_t, int64_t>> timestamps;  // (timestamp, offset)
};

inline ExpectedIndexes expected_indexes(const std::string& log_path, int32_t interval, bool sealed) {
  std::string data = read_file(log_path);
  std::vector<proto::BatchSpan> spans;
  REQUIRE(proto::split_batches(as_bytes(data), spans));
  ExpectedIndexes e;
  uint32_t last = 0;
  int64_t max_ts = -1, off_max = 0;
  uint32_t pos = 0;
  for (const auto& sp : spans) {
    const auto& h = sp.header;
    if (h.max_timestamp > max_ts) {
      max_ts = h.max_timestamp;
      off_max = h.last_offset();
    }
    if (static_cast<int64_t>(pos) - last > interval) {
      e.offsets.push_back({h.last_offset(), pos});
      if (e.timestamps.empty() || max_ts > e.timestamps.back().first) e.timestamps.push_back({max_ts, off_max});
      last = pos;
    }
    pos += static_cast<uint32_t>(h.total_size());
  }
  if (sealed && max_ts >= 0 && (e.timestamps.empty() || max_ts > e.timestamps.back().first))
    e.timestamps.push_back({max_ts, off_max});
  return e;
}

inline ExpectedIndexes read_indexes(const std::string& dir, int64_t base) {
  ExpectedIndexes e;
  std::string oi = read_file(dir + "/" + offset_file_name(base, ".index"));
  REQUIRE(oi.size() % 8 == 0);
  for (size_t i = 0; i < oi.size(); i += 8) {
    auto* p = reinterpret_cast<const uint8_t*>(oi.data() + i);
    e.offsets.push_back({base + static_cast<int32_t>(be32(p)), be32(p + 4)});
  }
  std::string ti = read_file(dir + "/" + offset_file_name(base, ".timeindex"));
  REQUIRE(ti.size() % 12 == 0);
  for (size_t i = 0; i < ti.size(); i += 12) {
    auto* p = reinterpret_cast<const uint8_t*>(ti.data() + i);
    e.timestamps.push_back({static_cast<int64_t>(be64(p)), base + static_cast<int32_t>(be32(p + 8))});
  }
  return e;
}

}  // namespace kfk::broker::test
