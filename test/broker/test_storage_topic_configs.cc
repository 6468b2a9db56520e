// Topic configs honoured by the storage layer: max.compaction.lag.ms (the
// cleaner compacts dirty records older than it whatever the dirty ratio,
// and a compacted log's active segment rolls by it), file.delete.delay.ms,
// preallocate, segment.jitter.ms, and the cross-key checks of LogConfig.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

LogConfig compact_config() {
  LogConfig c = small_config(1500, 256);
  c.compact = true;
  c.del = false;
  c.min_cleanable_dirty_ratio = 0.9;
  return c;
}

// `rounds` rounds over `keys` keys, 3 records a batch, all at timestamp ts.
void write_rounds(Log& log, int keys, int rounds, int64_t ts) {
  std::vector<Rec> pending;
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < keys; ++k) {
      pending.push_back(Rec{"key-" + std::to_string(k), "round-" + std::to_string(r) + "-" + std::to_string(ts), ts});
      if (pending.size() == 3) {
        append_ok(log, make_batch(pending), ts);
        pending.clear();
      }
    }
  if (!pending.empty()) append_ok(log, make_batch(pending), ts);
}

}  // namespace

TEST_CASE("max.compaction.lag.ms: old dirty records are compacted below min.cleanable.dirty.ratio") {
  TempDir tmp;
  LogConfig cfg = compact_config();
  auto log = open_log(tmp.sub("t-0"), cfg);
  // Many distinct keys: a large clean part once compacted.
  write_rounds(*log, 150, 1, 1000);
  REQUIRE(log->segments().size() > 3);
  REQUIRE(log->compact(1000, {}).ok());  // the first pass: everything was dirty
  CHECK_FALSE(log->needs_compaction(1000));

  // A little more, rolled out of the active segment: dirty, but far below
  // a 0.9 dirty ratio. Every record has timestamp 1000.
  write_rounds(*log, 5, 10, 1000);
  CHECK_FALSE(log->needs_compaction(500'000));  // max.compaction.lag.ms unset

  cfg.max_compaction_lag_ms = 100'000;
  log->set_config(cfg);
  CHECK_FALSE(log->needs_compaction(91'000));  // the dirty records are 90 s old
  CHECK(log->needs_compaction(111'000));       // 110 s: past the lag
  const int64_t size = log->size_bytes();
  REQUIRE(log->compact(111'000, {}).ok());
  CHECK(log->size_bytes() < size);
}

TEST_CASE("max.compaction.lag.ms rolls a compacted log's active segment") {
  TempDir tmp;
  LogConfig cfg = compact_config();
  cfg.segment_bytes = 1 << 20;
  cfg.max_compaction_lag_ms = 5000;
  auto log = open_log(tmp.sub("t-0"), cfg);
  append_ok(*log, make_batch({Rec{"a", "1", 1000}}), 1000);
  append_ok(*log, make_batch({Rec{"a", "2", 4000}}), 4000);
  CHECK(log->segments().size() == 1);
  append_ok(*log, make_batch({Rec{"a", "3", 7000}}), 7000);  // 6 s after the segment's first batch
  CHECK(log->segments().size() == 2);

  // Not for a log that is not compacted (Kafka's maxSegmentMs).
  TempDir tmp2;
  cfg.compact = false;
  cfg.del = true;
  auto plain = open_log(tmp2.sub("t-0"), cfg);
  append_ok(*plain, make_batch({Rec{"a", "1", 1000}}), 1000);
  append_ok(*plain, make_batch({Rec{"a", "3", 7000}}), 7000);
  CHECK(plain->segments().size() == 1);
}

TEST_CASE("file.delete.delay.ms keeps deleted segment files as *.deleted until it passes") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  LogConfig cfg = small_config(600, 256);
  cfg.retention_ms = 30'000;
  cfg.file_delete_delay_ms = 1000;
  auto log = open_log(dir, cfg);
  for (int i = 0; i < 40; ++i) append_ok(*log, make_simple_batch(3, 1000), 1000);
  const size_t segments = log->segments().size();
  REQUIRE(segments > 3);
  const int64_t now = 100'000;
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(now, &rr).ok());
  REQUIRE(rr.segments_deleted == static_cast<int>(segments) - 1);
  CHECK(files_with_suffix(dir, ".log.deleted").size() == segments - 1);
  CHECK(log->remove_deleted_files(now + 999) == now + 1000);
  CHECK(files_with_suffix(dir, ".log.deleted").size() == segments - 1);
  CHECK(log->remove_deleted_files(now + 1000) == INT64_MAX);
  CHECK(files_with_suffix(dir, ".deleted").empty());

  // 0: removed at once.
  cfg.file_delete_delay_ms = 0;
  log->set_config(cfg);
  for (int i = 0; i < 40; ++i) append_ok(*log, make_simple_batch(3, 1000), 1000);
  REQUIRE(log->delete_old_segments(now, &rr).ok());
  CHECK(rr.segments_deleted > 0);
  CHECK(files_with_suffix(dir, ".deleted").empty());
}

namespace {

// Disk space a file holds (blocks), as opposed to its size.
int64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int64_t>(st.st_blocks) * 512;
}

bool fallocate_works(const std::string& dir) {
  const std::string probe = dir + "/probe";
  int fd = ::open(probe.c_str(), O_CREAT | O_RDWR, 0644);
  REQUIRE(fd >= 0);
  bool ok = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
  ::close(fd);
  ::unlink(probe.c_str());
  return ok;
}

std::string log_file(const std::string& dir, int64_t base) {
  char name[32];
  std::snprintf(name, sizeof name, "%020lld.log", static_cast<long long>(base));
  return dir + "/" + name;
}

}  // namespace

TEST_CASE("preallocate reserves a whole segment's disk when it becomes active and gives it back at roll") {
  TempDir tmp;
  if (!fallocate_works(tmp.path)) {
    MESSAGE("this file system has no fallocate: preallocate cannot reserve anything here");
    return;
  }
  const int64_t kSegment = 8 << 20;
  LogConfig cfg = small_config(static_cast<int32_t>(kSegment), 256);
  cfg.segment_ms = 10'000;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, cfg);
  append_ok(*log, make_batch({Rec{"a", "1", 1000}}), 1000);
  CHECK(allocated_bytes(log_file(dir, 0)) < (1 << 20));  // preallocate=false (Kafka's default)

  cfg.preallocate = true;
  log->set_config(cfg);
  append_ok(*log, make_batch({Rec{"a", "2", 2000}}), 2000);
  struct stat st {};
  REQUIRE(::stat(log_file(dir, 0).c_str(), &st) == 0);
  CHECK(st.st_size < 1024);  // the file's size stays the log's: readers see no zeros
  CHECK(allocated_bytes(log_file(dir, 0)) >= kSegment);

  // A roll (segment.ms) seals the first segment: its reservation goes; the
  // new active segment reserves its own.
  append_ok(*log, make_batch({Rec{"a", "3", 20'000}}), 20'000);
  REQUIRE(log->segments().size() == 2);
  CHECK(allocated_bytes(log_file(dir, 0)) < (1 << 20));
  CHECK(allocated_bytes(log_file(dir, 2)) >= kSegment);
  ReadResult rr = log->read(0, 1 << 20, true);
  REQUIRE(rr.status.ok());
  CHECK(decode_all(slice_bytes(rr)).size() == 2);  // first segment, intact
}

TEST_CASE("segment.jitter.ms rolls segments up to the jitter before segment.ms, drawn per segment") {
  // One record every 100 ms (record timestamps: CreateTime). A segment's
  // age at roll is (next base - base) * 100 ms.
  auto roll_ages = [](int64_t jitter_ms) {
    TempDir tmp;
    LogConfig cfg = small_config(1 << 30, 256);
    cfg.segment_ms = 10'000;
    cfg.segment_jitter_ms = jitter_ms;
    auto log = open_log(tmp.sub("t-0"), cfg);
    for (int i = 0; i < 3000; ++i) {
      const int64_t ts = 1000 + int64_t{i} * 100;
      append_ok(*log, make_batch({Rec{"k", "v", ts}}), ts);
    }
    std::vector<int64_t> ages;
    auto segs = log->segments();
    for (size_t i = 0; i + 1 < segs.size(); ++i) ages.push_back((segs[i + 1].base_offset - segs[i].base_offset) * 100);
    return ages;
  };
  // No jitter: every segment rolls at the first batch past segment.ms.
  for (int64_t age : roll_ages(0)) CHECK(age == 10'100);
  // Jitter up to 8 s: every roll within (2 s, 10.1 s], and the ages differ
  // (29 or so segments: all equal, or all above 9 s, would mean no jitter).
  auto ages = roll_ages(8000);
  REQUIRE(ages.size() >= 20);
  std::set<int64_t> distinct(ages.begin(), ages.end());
  CHECK(distinct.size() > 3);
  CHECK(*std::min_element(ages.begin(), ages.end()) < 9000);
  for (int64_t age : ages) {
    CHECK(age > 2000);
    CHECK(age <= 10'100);
  }
}

TEST_CASE("LogConfig: cross-key checks and the effective timestamp bounds") {
  LogConfig c;
  ConfigMap bad_lag{{"min.compaction.lag.ms", "5000"}, {"max.compaction.lag.ms", "4000"}};
  LogConfig out;
  Status s = LogConfig::with_overrides(c, bad_lag, &out);
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  CHECK(s.message.find("max.compaction.lag.ms") != std::string::npos);
  s = LogConfig::with_overrides(c, {{"remote.storage.enable", "true"}}, &out);
  CHECK(s.code == ErrorCode::INVALID_CONFIG);
  REQUIRE(LogConfig::with_overrides(c, {{"message.timestamp.difference.max.ms", "1000"}}, &out).ok());
  CHECK(out.effective_before_max_ms() == 1000);
  CHECK(out.effective_after_max_ms() == 1000);
  REQUIRE(LogConfig::with_overrides(
              c, {{"message.timestamp.difference.max.ms", "1000"}, {"message.timestamp.after.max.ms", "50"}}, &out)
              .ok());
  CHECK(out.effective_before_max_ms() == 1000);
  CHECK(out.effective_after_max_ms() == 50);
  REQUIRE(LogConfig::with_overrides(c, {{"compression.type", "zstd"}, {"compression.zstd.level", "-7"}}, &out).ok());
  CHECK(out.compression_level() == -7);
  CHECK(out.get("compression.type") == "zstd");
}
