// Log compaction: latest value per key, offsets preserved, tombstones and
// their delete horizon, the active segment, crash-safe swaps.
#include <map>
#include <random>

#include "storage/batch_rewriter.h"
#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

LogConfig compact_config(int32_t segment_bytes = 1500) {
  LogConfig c = small_config(segment_bytes, 256);
  c.compact = true;
  c.del = false;
  c.min_cleanable_dirty_ratio = 0.01;
  c.delete_retention_ms = 1000;
  return c;
}

struct Written {
  std::map<std::string, std::optional<std::string>> latest;  // key -> latest value (nullopt: tombstone)
  std::map<std::string, int64_t> offset_of_value;             // value -> its offset
};

// Appends `rounds` rounds over `keys` keys, in batches of 3 records.
void write_rounds(Log& log, Written& w, int keys, int rounds, int64_t ts, kfk::proto::Compression c = {}) {
  std::vector<Rec> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    BatchSpec spec;
    spec.compression = c;
    AppendInfo ai = append_ok(log, make_batch(pending, spec));
    for (size_t i = 0; i < pending.size(); ++i)
      if (pending[i].value) w.offset_of_value[*pending[i].value] = ai.base_offset + static_cast<int64_t>(i);
    pending.clear();
  };
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < keys; ++k) {
      std::string key = "key-" + std::to_string(k);
      std::string value = key + "-round-" + std::to_string(r) + "-" + std::to_string(ts);
      pending.push_back(Rec{key, value, ts});
      w.latest[key] = value;
      if (pending.size() == 3) flush();
    }
  flush();
}

// Checks the log holds each key's latest value at its original offset.
// strict: at most one record per key below the active segment (a complete
// pass); otherwise only values and offsets are checked.
void check_compacted(const Log& log, const Written& w, int64_t active_base, bool strict = true) {
  auto recs = read_all(log, log.log_start_offset());
  std::map<std::string, std::vector<ReadRecord>> by_key;
  int64_t prev = -1;
  for (const auto& r : recs) {
    CHECK(r.offset > prev);
    prev = r.offset;
    REQUIRE(r.key);
    if (r.value) CHECK(w.offset_of_value.at(*r.value) == r.offset);
    by_key[*r.key].push_back(r);
  }
  for (const auto& [key, latest] : w.latest) {
    auto it = by_key.find(key);
    if (!latest) continue;
    REQUIRE(it != by_key.end());
    CHECK(it->second.back().value == latest);
    // Below the active segment, one record per key remains.
    int below = 0;
    for (const auto& r : it->second) below += r.offset < active_base;
    if (strict) CHECK(below <= 1);
  }
}

}  // namespace

TEST_CASE("compaction keeps the latest value per key at its original offset") {
  for (auto codec : {kfk::proto::Compression::kNone, kfk::proto::Compression::kGzip, kfk::proto::Compression::kZstd}) {
    CAPTURE(static_cast<int>(codec));
    TempDir tmp;
    const std::string dir = tmp.sub("t-0");
    auto log = open_log(dir, compact_config());
    Written w;
    write_rounds(*log, w, 10, codec == kfk::proto::Compression::kNone ? 12 : 60, 5000, codec);
    auto before = log->segments();
    REQUIRE(before.size() > 4);
    const int64_t active_base = before.back().base_offset;
    const std::string active_file = dir + "/" + offset_file_name(active_base, ".log");
    const std::string active_bytes = read_file(active_file);
    const int64_t size_before = log->size_bytes();

    CHECK(log->needs_compaction(10'000));
    CleanResult cr;
    REQUIRE(log->compact(10'000, {}, &cr).ok());
    CHECK(cr.ran);
    CHECK(cr.segments_cleaned > 0);
    CHECK(cr.records_removed > 0);
    CHECK(cr.end_offset == active_base);
    CHECK(log->size_bytes() < size_before);
    CHECK(log->log_end_offset() == before.back().next_offset);
    CHECK(read_file(active_file) == active_bytes);  // active segment untouched
    CHECK(log->segments().back().base_offset == active_base);
    CHECK(log->cleaner_checkpoint() == active_base);
    check_compacted(*log, w, active_base);
    CHECK(files_with_suffix(dir, ".cleaned").empty());
    CHECK(files_with_suffix(dir, ".swap").empty());
    CHECK(files_with_suffix(dir, ".deleted").empty());
    // Nothing dirty left: no new pass wanted (once the startup pass is done).
    CHECK_FALSE(log->needs_compaction(10'000));

    // Survives a restart, indexes consistent.
    REQUIRE(log->close().ok());
    log.reset();
    Warnings warn;
    log = open_log(dir, compact_config(), true, 0, &warn);
    CHECK(warn.lines.empty());
    check_compacted(*log, w, active_base);
    // More data, clean again: still one record per key below the active segment.
    write_rounds(*log, w, 10, 6, 20'000, codec);
    REQUIRE(log->compact(30'000, {}, &cr).ok());
    check_compacted(*log, w, log->segments().back().base_offset);
  }
}

TEST_CASE("tombstones are kept until delete.retention.ms after the first clean, then removed") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), compact_config());
  Written w;
  write_rounds(*log, w, 6, 4, 1000);
  append_ok(*log, make_batch({Rec{"gone", "value", 1000}}));
  append_ok(*log, make_batch({Rec{"gone", std::nullopt, 1000}}));
  const int64_t tombstone = log->log_end_offset() - 1;
  write_rounds(*log, w, 3, 10, 1000);  // rolls the tombstone out of the active segment
  REQUIRE(log->segments().back().base_offset > tombstone);
  auto has_gone = [&](bool* value, bool* tomb) {
    *value = *tomb = false;
    for (const auto& r : read_all(*log, 0)) {
      if (*r.key != "gone") continue;
      if (r.value) *value = true;
      else *tomb = r.offset == tombstone;
    }
  };

  const int64_t t1 = 50'000;
  REQUIRE(log->compact(t1, {}).ok());
  bool value = true, tomb = false;
  has_gone(&value, &tomb);
  CHECK_FALSE(value);
  CHECK(tomb);  // kept, now with a delete horizon of t1 + delete.retention.ms
  // Before the horizon: no pass wanted, and a forced one keeps it.
  CHECK_FALSE(log->needs_compaction(t1 + 500));
  REQUIRE(log->compact(t1 + 500, {}).ok());
  has_gone(&value, &tomb);
  CHECK(tomb);
  // After delete.retention.ms: the cleaner wants to run and removes it.
  CHECK(log->needs_compaction(t1 + 1001));
  REQUIRE(log->compact(t1 + 1001, {}).ok());
  has_gone(&value, &tomb);
  CHECK_FALSE(tomb);
  CHECK_FALSE(value);
  CHECK_FALSE(log->needs_compaction(t1 + 5000));
}

TEST_CASE("compacted topics reject keyless records") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), compact_config());
  auto keyless = make_batch({Rec{"a", "1", 1000}, Rec{std::nullopt, "2", 1000}});
  Status s = log->append(keyless, 0, 1000, nullptr);
  CHECK(s.code == ErrorCode::INVALID_RECORD);
  CHECK(s.kafka_code() == 87);
  CHECK(log->log_end_offset() == 0);
  std::vector<kfk::proto::BatchSpan> spans;
  REQUIRE(kfk::proto::split_batches(keyless, spans));
  CHECK(Log::validate_keys_for_compaction(spans[0]).code == ErrorCode::INVALID_RECORD);
  auto keyed = make_batch({Rec{"a", "1", 1000}});
  REQUIRE(kfk::proto::split_batches(keyed, spans));
  CHECK(Log::validate_keys_for_compaction(spans[0]).ok());
}

TEST_CASE("min.compaction.lag.ms keeps young segments dirty") {
  TempDir tmp;
  LogConfig cfg = compact_config();
  cfg.min_compaction_lag_ms = 60'000;
  auto log = open_log(tmp.sub("t-0"), cfg);
  Written w;
  write_rounds(*log, w, 5, 10, 100'000);
  const int64_t size = log->size_bytes();
  CleanResult cr;
  REQUIRE(log->compact(120'000, {}, &cr).ok());  // everything is 20 s old
  CHECK(log->size_bytes() == size);
  REQUIRE(log->compact(200'000, {}, &cr).ok());
  CHECK(log->size_bytes() < size);
}

TEST_CASE("compaction keeps an emptied batch when it is its producer's last one") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, compact_config());
  BatchSpec p;
  p.producer_id = 77;
  p.producer_epoch = 0;
  p.base_sequence = 0;
  append_ok(*log, make_batch({Rec{"a", "p1", 1000}, Rec{"b", "p2", 1000}, Rec{"c", "p3", 1000}}, p));
  Written w;
  write_rounds(*log, w, 3, 12, 1000);
  append_ok(*log, make_batch({Rec{"a", "n1", 1000}, Rec{"b", "n2", 1000}, Rec{"c", "n3", 1000}}));
  write_rounds(*log, w, 3, 12, 1000);
  REQUIRE(log->compact(10'000, {}).ok());
  std::vector<kfk::proto::BatchHeader> hs;
  auto recs = read_all(*log, 0, 1 << 20, &hs);
  REQUIRE(!hs.empty());
  CHECK(hs[0].producer_id == 77);
  CHECK(hs[0].record_count == 0);
  CHECK(hs[0].base_offset == 0);
  CHECK(hs[0].last_offset() == 2);
  CHECK(hs[0].last_sequence() == 2);
  // Producer state rebuilt from the compacted log (no snapshot) still knows seq 2.
  log.reset();
  for (const auto& f : files_with_suffix(dir, ".snapshot")) std::filesystem::remove(dir + "/" + f);
  log = open_log(dir, compact_config(), false);
  auto e = log->producer(77);
  REQUIRE(e);
  CHECK(e->last_seq() == 2);
}

TEST_CASE("a crash at any point of the swap recovers to a consistent log") {
  using CP = CleanerOptions::CrashPoint;
  for (CP cp : {CP::kAfterCleanedWritten, CP::kAfterSwapRename, CP::kAfterOldDeleted}) {
    CAPTURE(static_cast<int>(cp));
    TempDir tmp;
    const std::string dir = tmp.sub("t-0");
    auto log = open_log(dir, compact_config(3000));
    Written w;
    write_rounds(*log, w, 8, 20, 5000);
    const int64_t leo = log->log_end_offset();
    const int64_t active_base = log->segments().back().base_offset;
    const int64_t size = log->size_bytes();
    CleanerOptions opts;
    opts.crash_point = cp;
    REQUIRE(log->compact(10'000, opts).ok());
    if (cp != CP::kAfterCleanedWritten) CHECK(!files_with_suffix(dir, ".swap").empty());
    log.reset();  // the process dies here

    Warnings warn;
    log = open_log(dir, compact_config(3000), false, 0, &warn);
    CHECK(log->log_end_offset() == leo);
    CHECK(files_with_suffix(dir, ".swap").empty());
    CHECK(files_with_suffix(dir, ".cleaned").empty());
    CHECK(files_with_suffix(dir, ".deleted").empty());
    if (cp == CP::kAfterCleanedWritten) {
      CHECK(log->size_bytes() == size);
      auto recs = read_all(*log, 0);
      CHECK(recs.size() == static_cast<size_t>(leo));
    } else {
      CHECK(warn.contains("interrupted compaction swap"));
      CHECK(log->size_bytes() < size);
      check_compacted(*log, w, active_base, false);  // only the first group was swapped
    }
    // And a full clean afterwards works.
    REQUIRE(log->compact(20'000, {}).ok());
    check_compacted(*log, w, active_base);
  }
}

TEST_CASE("rebuild_batch keeps offsets, sequences and timestamps of the kept records") {
  BatchSpec p;
  p.producer_id = 9;
  p.producer_epoch = 3;
  p.base_sequence = 100;
  auto bytes = make_batch({Rec{"a", "1", 10}, Rec{"b", "2", 20}, Rec{"c", std::nullopt, 30}, Rec{"d", "4", 40}}, p);
  kfk::proto::set_batch_base_offset(bytes, 500);
  std::vector<kfk::proto::BatchSpan> spans;
  REQUIRE(kfk::proto::split_batches(bytes, spans));
  std::vector<kfk::proto::Record> recs;
  std::vector<uint8_t> scratch;
  REQUIRE(kfk::proto::decode_records(spans[0], recs, scratch, 1 << 20));
  std::vector<const kfk::proto::Record*> kept{&recs[1], &recs[2]};
  std::vector<uint8_t> out;
  rebuild_batch(spans[0].header, kept, 99'999, &out);
  std::vector<kfk::proto::BatchHeader> hs;
  auto got = decode_all(out, 0, &hs);
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].base_offset == 500);
  CHECK(hs[0].last_offset() == 503);
  CHECK(hs[0].base_sequence == 100);
  CHECK(hs[0].last_sequence() == 103);
  CHECK(hs[0].producer_id == 9);
  CHECK(hs[0].producer_epoch == 3);
  CHECK((hs[0].attributes & kfk::proto::batch_attr::kDeleteHorizon) != 0);
  CHECK(hs[0].base_timestamp == 99'999);
  CHECK(hs[0].max_timestamp == 30);
  REQUIRE(got.size() == 2);
  CHECK(got[0].offset == 501);
  CHECK(got[0].timestamp == 20);
  CHECK(got[1].offset == 502);
  CHECK(got[1].timestamp == 30);
  CHECK_FALSE(got[1].value);
  write_empty_batch(spans[0].header, &out);
  hs.clear();
  CHECK(decode_all(out, 0, &hs).empty());
  CHECK(hs[0].record_count == 0);
  CHECK(hs[0].last_offset() == 503);
}
