// Topic configs honoured by the storage layer: max.compaction.lag.ms (the
// cleaner compacts dirty records older than it whatever the dirty ratio,
// and a compacted log's active segment rolls by it), and the cross-key
// checks of LogConfig.
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
