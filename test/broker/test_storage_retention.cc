// Retention by time and size, DeleteRecords, readers surviving deletion.
#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

// 100 batches, one per "second" starting at t0, small segments.
std::unique_ptr<Log> filled_log(const std::string& dir, const LogConfig& cfg, int64_t t0, int n = 100) {
  auto log = open_log(dir, cfg);
  for (int i = 0; i < n; ++i) append_ok(*log, make_simple_batch(2, t0 + i * 1000, "k", 40));
  return log;
}

}  // namespace

TEST_CASE("retention by time deletes old non-active segments and moves the log start offset") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  const int64_t t0 = 1'700'000'000'000;
  LogConfig cfg = small_config(1000, 256);
  cfg.retention_ms = 30'000;
  auto log = filled_log(dir, cfg, t0);
  auto before = log->segments();
  REQUIRE(before.size() > 8);
  const int64_t active_base = before.back().base_offset;

  // now = newest record + 10 s: segments whose newest record is older than
  // now - 30 s go.
  const int64_t now = t0 + 99'000 + 10'000;
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(now, &rr).ok());
  CHECK(rr.segments_deleted > 0);
  auto after = log->segments();
  CHECK(after.size() == before.size() - static_cast<size_t>(rr.segments_deleted));
  for (size_t i = 0; i + 1 < after.size(); ++i) CHECK(now - after[i].max_timestamp <= cfg.retention_ms);
  for (size_t i = 0; i < static_cast<size_t>(rr.segments_deleted); ++i)
    CHECK(now - before[i].max_timestamp > cfg.retention_ms);
  CHECK(log->log_start_offset() == after.front().base_offset);
  CHECK(log->read(0, 1000, true).status.code == ErrorCode::OFFSET_OUT_OF_RANGE);
  CHECK(log->read(log->log_start_offset(), 1000, true).status.ok());
  CHECK(files_with_suffix(dir, ".log").size() == after.size());
  CHECK(files_with_suffix(dir, ".deleted").empty());

  // Far in the future: everything but the active segment goes.
  REQUIRE(log->delete_old_segments(now + 10'000'000, &rr).ok());
  after = log->segments();
  REQUIRE(after.size() == 1);
  CHECK(after[0].base_offset == active_base);
  CHECK(log->log_start_offset() == active_base);
  CHECK(read_all(*log, active_base).size() == static_cast<size_t>(log->log_end_offset() - active_base));
  // Appends continue.
  AppendInfo ai = append_ok(*log, make_simple_batch(1, now));
  CHECK(ai.base_offset == 200);
  CHECK(ai.log_start_offset == active_base);
}

TEST_CASE("retention by size keeps at least retention.bytes") {
  TempDir tmp;
  LogConfig cfg = small_config(1000, 256);
  cfg.retention_bytes = 3000;
  auto log = filled_log(tmp.sub("t-0"), cfg, 1000);
  int64_t total = log->size_bytes();
  REQUIRE(total > 6000);
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(2000, &rr).ok());  // time is irrelevant here
  CHECK(rr.segments_deleted > 0);
  auto segs = log->segments();
  int64_t size = log->size_bytes();
  CHECK(size == total - rr.bytes_deleted);
  CHECK(size >= cfg.retention_bytes);
  CHECK(size - static_cast<int64_t>(segs.front().size) < cfg.retention_bytes);
  CHECK(log->log_start_offset() == segs.front().base_offset);
}

TEST_CASE("retention leaves the active segment and compact-only topics alone") {
  TempDir tmp;
  LogConfig cfg = small_config(1 << 20, 256);
  cfg.retention_ms = 1;
  cfg.retention_bytes = 0;
  auto log = filled_log(tmp.sub("t-0"), cfg, 1000, 20);
  REQUIRE(log->segments().size() == 1);
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(1'000'000'000, &rr).ok());
  CHECK(rr.segments_deleted == 0);
  CHECK(log->log_start_offset() == 0);

  TempDir tmp2;
  LogConfig c2 = small_config(1000, 256);
  c2.retention_ms = 1;
  c2.compact = true;
  c2.del = false;
  auto log2 = filled_log(tmp2.sub("t-0"), c2, 1000, 50);
  REQUIRE(log2->delete_old_segments(1'000'000'000, &rr).ok());
  CHECK(rr.segments_deleted == 0);
}

TEST_CASE("DeleteRecords moves the log start offset; retention then drops wholly-covered segments") {
  TempDir tmp;
  LogConfig cfg = small_config(1000, 256);
  cfg.retention_ms = -1;
  auto log = filled_log(tmp.sub("t-0"), cfg, 1000);
  auto segs = log->segments();
  int64_t target = segs[3].base_offset + 1;  // inside segment 3
  int64_t lso = 0;
  REQUIRE(log->delete_records_before(target, &lso).ok());
  CHECK(lso == target);
  CHECK(log->read(target - 1, 1000, true).status.code == ErrorCode::OFFSET_OUT_OF_RANGE);
  // The batch holding the start offset is returned whole; records below it are
  // the client's to skip.
  ReadResult r = log->read(target, 1000, true);
  REQUIRE(r.status.ok());
  CHECK(r.log_start_offset == target);
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(2000, &rr).ok());
  CHECK(rr.segments_deleted == 3);
  CHECK(log->segments().front().base_offset == segs[3].base_offset);
  CHECK(log->log_start_offset() == target);
  // Not past the high watermark; -1 means "up to the high watermark".
  CHECK(log->delete_records_before(log->log_end_offset() + 1, &lso).code == ErrorCode::OFFSET_OUT_OF_RANGE);
  REQUIRE(log->delete_records_before(-1, &lso).ok());
  CHECK(lso == log->log_end_offset());
  // Lower than the current start: no-op.
  REQUIRE(log->delete_records_before(5, &lso).ok());
  CHECK(lso == log->log_end_offset());
}

TEST_CASE("a reader keeps reading a segment that retention deleted meanwhile") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  LogConfig cfg = small_config(1000, 256);
  cfg.retention_ms = 10;
  auto log = filled_log(dir, cfg, 1000);
  ReadResult r = log->read(0, 5000, true);
  REQUIRE(r.status.ok());
  REQUIRE(r.size > 0);
  RetentionResult rr;
  REQUIRE(log->delete_old_segments(10'000'000, &rr).ok());
  REQUIRE(rr.segments_deleted > 0);
  CHECK_FALSE(std::filesystem::exists(dir + "/00000000000000000000.log"));
  auto recs = decode_all(slice_bytes(r));
  CHECK(recs.front().offset == 0);
  CHECK(FileRecords::of(r.records()) != nullptr);
}

TEST_CASE("retention survives a restart: deleted segments stay deleted") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  LogConfig cfg = small_config(1000, 256);
  cfg.retention_ms = 10;
  auto log = filled_log(dir, cfg, 1000);
  REQUIRE(log->delete_old_segments(10'000'000).ok());
  const int64_t lso = log->log_start_offset();
  const int64_t leo = log->log_end_offset();
  log.reset();
  log = open_log(dir, cfg, false);
  CHECK(log->log_start_offset() == lso);
  CHECK(log->log_end_offset() == leo);
}
