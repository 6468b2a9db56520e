// Log: append/read round trips, segment rolls, indexes, timestamps, epochs.
#include <map>
#include <random>

#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;
using kfk::proto::BatchHeader;

TEST_CASE("append assigns offsets and reads round-trip across many segment rolls") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config(2048, 256));
  std::vector<std::string> values;
  for (int i = 0; i < 300; ++i) {
    std::vector<Rec> recs;
    for (int j = 0; j < 3; ++j) {
      std::string v = "value-" + std::to_string(i * 3 + j) + std::string(static_cast<size_t>(i % 40), 'x');
      values.push_back(v);
      recs.push_back(Rec{"key" + std::to_string(j), v, 1000 + i});
    }
    AppendInfo ai = append_ok(*log, make_batch(recs), 5000);
    CHECK(ai.base_offset == i * 3);
    CHECK(ai.last_offset == i * 3 + 2);
    CHECK(ai.log_append_time == -1);
    CHECK(ai.record_count == 3);
  }
  CHECK(log->log_end_offset() == 900);
  CHECK(log->high_watermark() == 900);
  CHECK(log->log_start_offset() == 0);
  auto segs = log->segments();
  CHECK(segs.size() > 20);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    CHECK(segs[i].next_offset == segs[i + 1].base_offset);
    CHECK(segs[i].size <= 2048u);
  }
  CHECK(files_with_suffix(tmp.sub("t-0"), ".log").size() == segs.size());
  CHECK(files_with_suffix(tmp.sub("t-0"), ".log")[0] == "00000000000000000000.log");

  auto all = read_all(*log, 0, 1000);
  REQUIRE(all.size() == 900);
  for (int64_t i = 0; i < 900; ++i) {
    CHECK(all[static_cast<size_t>(i)].offset == i);
    CHECK(*all[static_cast<size_t>(i)].value == values[static_cast<size_t>(i)]);
  }

  SUBCASE("reads start at the batch holding the offset, mid-segment") {
    for (int64_t off : {1, 100, 301, 455, 599, 898, 899}) {
      ReadResult r = log->read(off, 100000, true);
      REQUIRE(r.status.ok());
      std::vector<BatchHeader> hs;
      decode_all(slice_bytes(r), 0, &hs);
      REQUIRE(!hs.empty());
      CHECK(hs.front().base_offset <= off);
      CHECK(hs.front().last_offset() >= off);
      CHECK(r.file != nullptr);
    }
  }
  SUBCASE("whole batches only, up to max_bytes") {
    for (size_t max : {100u, 200u, 333u, 700u, 1500u, 5000u}) {
      ReadResult r = log->read(30, max, true);
      REQUIRE(r.status.ok());
      std::vector<uint8_t> bytes = slice_bytes(r);
      std::vector<kfk::proto::BatchSpan> spans;
      size_t tail = 1;
      REQUIRE(kfk::proto::split_batches(bytes, spans, nullptr, &tail));
      CHECK(tail == 0);
      REQUIRE(!spans.empty());
      if (spans.front().bytes.size() <= max) CHECK(r.size <= max);
      if (spans.size() > 1) CHECK(r.size <= max);
    }
  }
  SUBCASE("at least one whole batch when it is larger than max_bytes") {
    ReadResult r = log->read(0, 10, true);
    REQUIRE(r.status.ok());
    std::vector<BatchHeader> hs;
    decode_all(slice_bytes(r), 0, &hs);
    CHECK(hs.size() == 1);
    CHECK(r.size > 10);
    CHECK_FALSE(r.first_batch_incomplete);
    // min_one_batch false: Kafka's partial first batch.
    ReadResult p = log->read(0, 10, false);
    CHECK(p.status.ok());
    CHECK(p.size == 10);
    CHECK(p.first_batch_incomplete);
  }
  SUBCASE("OFFSET_OUT_OF_RANGE outside [log start, log end]") {
    ReadResult r = log->read(901, 1000, true);
    CHECK(r.status.code == ErrorCode::OFFSET_OUT_OF_RANGE);
    CHECK(r.status.kafka_code() == 1);
    ReadResult end = log->read(900, 1000, true);
    CHECK(end.status.ok());
    CHECK(end.size == 0);
    int64_t lso = 0;
    REQUIRE(log->delete_records_before(100, &lso).ok());
    CHECK(lso == 100);
    CHECK(log->read(99, 1000, true).status.code == ErrorCode::OFFSET_OUT_OF_RANGE);
    CHECK(log->read(100, 1000, true).status.ok());
    CHECK(log->read(-1, 1000, true).status.code == ErrorCode::OFFSET_OUT_OF_RANGE);
  }
  SUBCASE("max_offset bounds the read (high watermark)") {
    ReadResult r = log->read(0, 1 << 20, true, 30);
    std::vector<BatchHeader> hs;
    decode_all(slice_bytes(r), 0, &hs);
    REQUIRE(!hs.empty());
    CHECK(hs.back().last_offset() < 30);
    CHECK(log->read(30, 1 << 20, true, 30).size == 0);
  }
}

TEST_CASE("append rejects oversized batches and bad input") {
  TempDir tmp;
  LogConfig cfg = small_config(4096, 256);
  cfg.max_message_bytes = 500;
  auto log = open_log(tmp.sub("t-0"), cfg);
  auto big = make_simple_batch(5, 1000, "k", 200);
  CHECK(log->append(big, 0, 1000, nullptr).code == ErrorCode::MESSAGE_TOO_LARGE);
  cfg.max_message_bytes = 100000;
  log->set_config(cfg);
  std::vector<uint8_t> many;
  for (int i = 0; i < 30; ++i) {
    auto b = make_simple_batch(2, 1000, "k", 100);
    many.insert(many.end(), b.begin(), b.end());
  }
  CHECK(log->append(many, 0, 1000, nullptr).code == ErrorCode::RECORD_LIST_TOO_LARGE);
  std::vector<uint8_t> torn = make_simple_batch(2, 1000);
  for (int i = 0; i < 3; ++i) torn.pop_back();
  CHECK(log->append(torn, 0, 1000, nullptr).code == ErrorCode::CORRUPT_MESSAGE);
  auto ctl = make_control_batch(5, 0, kfk::proto::ControlType::kCommit, 0);
  CHECK(log->append(ctl, 0, 1000, nullptr).code == ErrorCode::INVALID_RECORD);
  CHECK(log->log_end_offset() == 0);
  // Several batches in one append go in one write, offsets consecutive.
  std::vector<uint8_t> two = make_simple_batch(2, 1000);
  auto b2 = make_simple_batch(3, 1000);
  two.insert(two.end(), b2.begin(), b2.end());
  AppendInfo ai = append_ok(*log, two);
  CHECK(ai.base_offset == 0);
  CHECK(ai.last_offset == 4);
  CHECK(read_all(*log, 0).size() == 5);
}

TEST_CASE("LogAppendTime stamps batches with the append time") {
  TempDir tmp;
  LogConfig cfg = small_config();
  cfg.timestamp_type = kfk::proto::TimestampType::kLogAppendTime;
  auto log = open_log(tmp.sub("t-0"), cfg);
  AppendInfo ai = append_ok(*log, make_simple_batch(3, 42), 777000);
  CHECK(ai.log_append_time == 777000);
  std::vector<BatchHeader> hs;
  auto recs = read_all(*log, 0, 1 << 20, &hs);
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].timestamp_type() == kfk::proto::TimestampType::kLogAppendTime);
  CHECK(hs[0].max_timestamp == 777000);
  for (const auto& r : recs) CHECK(r.timestamp == 777000);
}

TEST_CASE("segment.ms rolls by the first batch's timestamp") {
  TempDir tmp;
  LogConfig cfg = small_config(1 << 20, 4096);
  cfg.segment_ms = 10000;
  auto log = open_log(tmp.sub("t-0"), cfg);
  append_ok(*log, make_simple_batch(1, 100000));
  append_ok(*log, make_simple_batch(1, 105000));
  CHECK(log->segments().size() == 1);
  append_ok(*log, make_simple_batch(1, 110001));
  CHECK(log->segments().size() == 2);
  CHECK(log->segments()[1].base_offset == 2);
}

TEST_CASE("offset and time indexes: entries every index.interval.bytes, lookups match a brute-force scan") {
  TempDir tmp;
  const int32_t interval = 300;
  auto log = open_log(tmp.sub("t-0"), small_config(8192, interval));
  std::mt19937 rng(7);
  std::vector<std::pair<int64_t, int64_t>> all;  // (offset, timestamp)
  int64_t base_ts = 1'000'000;
  for (int i = 0; i < 400; ++i) {
    std::vector<Rec> recs;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int j = 0; j < n; ++j) {
      // Mostly increasing timestamps with jitter (CreateTime is the producer's).
      int64_t ts = base_ts + i * 10 + static_cast<int64_t>(rng() % 50) - 25;
      recs.push_back(Rec{'k' + std::to_string(j), std::string(10 + rng() % 60, 'v'), ts});
    }
    AppendInfo ai = append_ok(*log, make_batch(recs));
    for (int j = 0; j < n; ++j) all.push_back({ai.base_offset + j, recs[static_cast<size_t>(j)].ts});
  }
  auto segs = log->segments();
  REQUIRE(segs.size() > 3);
  for (size_t i = 0; i < segs.size(); ++i) {
    bool sealed = i + 1 < segs.size();
    auto exp = expected_indexes(tmp.sub("t-0") + "/" + offset_file_name(segs[i].base_offset, ".log"), interval, sealed);
    auto got = read_indexes(tmp.sub("t-0"), segs[i].base_offset);
    CHECK(got.offsets == exp.offsets);
    CHECK(got.timestamps == exp.timestamps);
    CHECK(got.offsets.size() >= segs[i].size / 600);  // dense enough
  }

  SUBCASE("offset_for_timestamp") {
    for (int64_t target = base_ts - 100; target < base_ts + 4100; target += 37) {
      int64_t want = -1, want_ts = -1;
      for (const auto& [off, ts] : all)
        if (ts >= target) {
          want = off;
          want_ts = ts;
          break;
        }
      TimestampOffset got;
      REQUIRE(log->offset_for_timestamp(target, &got).ok());
      CHECK(got.offset == want);
      CHECK(got.timestamp == want_ts);
    }
    TimestampOffset e, l, m;
    REQUIRE(log->offset_for_timestamp(kEarliestTimestamp, &e).ok());
    CHECK(e.offset == 0);
    REQUIRE(log->offset_for_timestamp(kLatestTimestamp, &l).ok());
    CHECK(l.offset == log->log_end_offset());
    REQUIRE(log->offset_for_timestamp(kMaxTimestamp, &m).ok());
    int64_t max_ts = -1, max_off = -1;
    for (const auto& [off, ts] : all)
      if (ts > max_ts) {
        max_ts = ts;
        max_off = off;
      }
    CHECK(m.timestamp == max_ts);
    CHECK(m.offset == max_off);
    int64_t lso = 0;
    REQUIRE(log->delete_records_before(500, &lso).ok());
    REQUIRE(log->offset_for_timestamp(0, &e).ok());
    CHECK(e.offset == 500);
    REQUIRE(log->offset_for_timestamp(base_ts + 100000, &e).ok());
    CHECK(e.offset == -1);
  }
}

TEST_CASE("leader epoch cache: checkpoint file and end_offset_for_epoch") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  append_ok(*log, make_simple_batch(5, 1000), 1000, 0);
  append_ok(*log, make_simple_batch(5, 1000), 1000, 0);
  append_ok(*log, make_simple_batch(5, 1000), 1000, 2);
  append_ok(*log, make_simple_batch(5, 1000), 1000, 5);
  append_ok(*log, make_simple_batch(5, 1000), 1000, 5);
  CHECK(read_file(tmp.sub("t-0/leader-epoch-checkpoint")) == "0\n3\n0 0\n2 10\n5 15\n");
  CHECK(log->latest_epoch() == 5);
  CHECK(log->end_offset_for_epoch(5) == std::pair<int32_t, int64_t>{5, 25});
  CHECK(log->end_offset_for_epoch(0) == std::pair<int32_t, int64_t>{0, 10});
  CHECK(log->end_offset_for_epoch(1) == std::pair<int32_t, int64_t>{0, 10});
  CHECK(log->end_offset_for_epoch(3) == std::pair<int32_t, int64_t>{2, 15});
  CHECK(log->end_offset_for_epoch(9) == std::pair<int32_t, int64_t>{-1, -1});
  CHECK(log->end_offset_for_epoch(-1) == std::pair<int32_t, int64_t>{-1, -1});
  std::vector<BatchHeader> hs;
  read_all(*log, 0, 1 << 20, &hs);
  REQUIRE(hs.size() == 5);
  CHECK(hs[2].partition_leader_epoch == 2);
  // Truncation drops later epochs.
  REQUIRE(log->truncate_to(12).ok());
  CHECK(log->log_end_offset() == 10);
  CHECK(log->latest_epoch() == 0);
  CHECK(read_file(tmp.sub("t-0/leader-epoch-checkpoint")) == "0\n1\n0 0\n");
  // Survives a reopen.
  log->close().ok();
  log.reset();
  log = open_log(tmp.sub("t-0"), small_config());
  CHECK(log->latest_epoch() == 0);
  CHECK(log->log_end_offset() == 10);
}

TEST_CASE("truncate_to removes whole batches and later segments") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config(1024, 128));
  for (int i = 0; i < 60; ++i) append_ok(*log, make_simple_batch(2, 1000 + i));
  REQUIRE(log->segments().size() > 4);
  REQUIRE(log->truncate_to(51).ok());  // inside the batch [50, 51]
  CHECK(log->log_end_offset() == 50);
  auto recs = read_all(*log, 0);
  CHECK(recs.size() == 50);
  CHECK(recs.back().offset == 49);
  for (const auto& s : log->segments()) CHECK(s.base_offset <= 50);
  AppendInfo ai = append_ok(*log, make_simple_batch(2, 5000));
  CHECK(ai.base_offset == 50);
  REQUIRE(log->truncate_to(0).ok());
  CHECK(log->log_end_offset() == 0);
  CHECK(log->segments().size() == 1);
  CHECK(read_all(*log, 0).empty());
}

TEST_CASE("a growing segment reserves disk blocks ahead without changing its size, and gives them back") {
  // Appends past 1 MiB write into blocks reserved ahead (fallocate with
  // KEEP_SIZE): the .log's size is always exactly the log's bytes, so
  // readers, recovery and retention see nothing of it; rolling the segment
  // or truncating it frees what was reserved.
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(8 << 20, 4096));
  const std::string value(100000, 'v');
  int64_t n = 0;
  auto active_log_file = [&] {
    auto files = files_with_suffix(dir, ".log");
    std::sort(files.begin(), files.end());
    return dir + "/" + files.back();
  };
  auto stat_of = [](const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st;
  };
  while (log->segments().back().size < (3u << 20)) {
    append_ok(*log, make_batch({{"k", value, 1000 + n}}));
    ++n;
  }
  REQUIRE(log->segments().size() == 1);
  struct stat st = stat_of(active_log_file());
  CHECK(static_cast<uint64_t>(st.st_size) == log->segments().back().size);
  // Does this file system reserve (ext4, xfs, tmpfs do)? Then the blocks go
  // past the end.
  const bool reserves = static_cast<uint64_t>(st.st_blocks) * 512 > static_cast<uint64_t>(st.st_size) + 4096;
  MESSAGE("blocks past the end: " << static_cast<int64_t>(st.st_blocks) * 512 - st.st_size);
  if (reserves) CHECK(static_cast<uint64_t>(st.st_blocks) * 512 <= static_cast<uint64_t>(st.st_size) + (17u << 20));

  // Truncation frees what lay past the new end.
  REQUIRE(log->truncate_to(n - 5).ok());
  st = stat_of(active_log_file());
  CHECK(static_cast<uint64_t>(st.st_size) == log->segments().back().size);
  CHECK(static_cast<uint64_t>(st.st_blocks) * 512 <= static_cast<uint64_t>(st.st_size) + 4096);
  n -= 5;

  // Grow past the roll: the sealed segment keeps only its own bytes.
  const std::string first = active_log_file();
  while (log->segments().size() < 2) {
    append_ok(*log, make_batch({{"k", value, 1000 + n}}));
    ++n;
  }
  st = stat_of(first);
  CHECK(static_cast<uint64_t>(st.st_size) == log->segments().front().size);
  CHECK(static_cast<uint64_t>(st.st_blocks) * 512 <= static_cast<uint64_t>(st.st_size) + 4096);

  // Everything reads back, before and after a restart.
  auto recs = read_all(*log, 0);
  REQUIRE(recs.size() == static_cast<size_t>(n));
  CHECK(recs.back().offset == n - 1);
  log.reset();
  log = open_log(dir, small_config(8 << 20, 4096), false);
  CHECK(log->log_end_offset() == n);
  recs = read_all(*log, 0);
  REQUIRE(recs.size() == static_cast<size_t>(n));
  for (const auto& r : recs) CHECK(r.value == value);
}
