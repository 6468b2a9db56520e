// Log loading: clean restart, crash recovery (torn/corrupt tails), index
// sanity checks and rebuilds.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "storage/log_manager.h"
#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

constexpr int32_t kInterval = 200;

// Appends `n` batches of 2-4 records; returns every record's value by offset.
std::vector<std::string> fill(Log& log, int n, int seed = 1) {
  std::mt19937 rng(seed);
  std::vector<std::string> values;
  int64_t leo = log.log_end_offset();
  for (int i = 0; i < n; ++i) {
    std::vector<Rec> recs;
    int k = 2 + static_cast<int>(rng() % 3);
    for (int j = 0; j < k; ++j) {
      std::string v = 'v' + std::to_string(leo + static_cast<int64_t>(values.size())) + std::string(rng() % 80, 'z');
      values.push_back(v);
      recs.push_back(Rec{'k' + std::to_string(rng() % 10), v, 2000 + i});
    }
    append_ok(log, make_batch(recs));
  }
  return values;
}

void check_values(const Log& log, const std::vector<std::string>& values, size_t count) {
  auto recs = read_all(log, 0, 1500);
  REQUIRE(recs.size() == count);
  for (size_t i = 0; i < count; ++i) {
    CHECK(recs[i].offset == static_cast<int64_t>(i));
    CHECK(*recs[i].value == values[i]);
  }
}

void check_indexes_match(const std::string& dir, const Log& log) {
  auto segs = log.segments();
  for (size_t i = 0; i < segs.size(); ++i) {
    auto exp = expected_indexes(dir + "/" + offset_file_name(segs[i].base_offset, ".log"), kInterval, i + 1 < segs.size());
    auto got = read_indexes(dir, segs[i].base_offset);
    CHECK(got.offsets == exp.offsets);
    CHECK(got.timestamps == exp.timestamps);
  }
}

std::string last_log_file(const std::string& dir) { return dir + "/" + files_with_suffix(dir, ".log").back(); }

}  // namespace

TEST_CASE("clean restart: offsets continue, everything readable, indexes reused") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(3000, kInterval));
  auto values = fill(*log, 120);
  const int64_t leo = log->log_end_offset();
  REQUIRE(log->close().ok());
  log.reset();
  std::map<std::string, std::string> before;
  for (const auto& f : files_with_suffix(dir, "index")) before[f] = read_file(dir + "/" + f);

  Warnings w;
  log = open_log(dir, small_config(3000, kInterval), true, leo, &w);
  CHECK(w.lines.empty());
  CHECK(log->log_end_offset() == leo);
  CHECK(log->recovery_point() == leo);
  for (const auto& f : files_with_suffix(dir, "index")) CHECK(read_file(dir + "/" + f) == before[f]);
  check_values(*log, values, values.size());
  AppendInfo ai = append_ok(*log, make_simple_batch(3, 9000));
  CHECK(ai.base_offset == leo);
  check_indexes_match(dir, *log);
}

TEST_CASE("crash: torn last batch plus garbage is cut, earlier batches intact, indexes rebuilt") {
  std::mt19937 rng(42);
  for (int round = 0; round < 8; ++round) {
    TempDir tmp;
    const std::string dir = tmp.sub("t-0");
    auto log = open_log(dir, small_config(3000, kInterval));
    auto values = fill(*log, 60, round);
    // The last batch: where it starts and how many records it has.
    std::vector<kfk::proto::BatchHeader> hs;
    read_all(*log, 0, 1 << 20, &hs);
    const auto last = hs.back();
    log.reset();  // kill -9: no close(), nothing flushed or marked

    const std::string path = last_log_file(dir);
    std::string data = read_file(path);
    const size_t last_pos = data.size() - last.total_size();
    size_t cut = last_pos + 1 + rng() % (last.total_size() - 1);
    data.resize(cut);
    std::string garbage(static_cast<size_t>(10 + rng() % 200), '\0');
    for (auto& c : garbage) c = static_cast<char>(rng());
    if (round % 2 == 0) data += garbage;
    write_file(path, data);

    Warnings w;
    log = open_log(dir, small_config(3000, kInterval), false, 0, &w);
    CHECK(w.contains("truncated"));
    CHECK(log->log_end_offset() == last.base_offset);
    check_values(*log, values, static_cast<size_t>(last.base_offset));
    check_indexes_match(dir, *log);
    AppendInfo ai = append_ok(*log, make_simple_batch(2, 9000));
    CHECK(ai.base_offset == last.base_offset);
  }
}

TEST_CASE("crash: garbage after the last batch only, or a flipped byte, is detected") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(3000, kInterval));
  auto values = fill(*log, 40);
  const int64_t leo = log->log_end_offset();
  log.reset();
  std::string path = last_log_file(dir);
  write_file(path, read_file(path) + std::string(100, '\x07'));
  log = open_log(dir, small_config(3000, kInterval), false);
  CHECK(log->log_end_offset() == leo);
  check_values(*log, values, values.size());

  // A flipped byte inside the last batch's records: CRC mismatch, batch cut.
  std::vector<kfk::proto::BatchHeader> hs;
  read_all(*log, 0, 1 << 20, &hs);
  log.reset();
  std::string data = read_file(path);
  data[data.size() - 5] ^= 0x40;
  write_file(path, data);
  Warnings w;
  log = open_log(dir, small_config(3000, kInterval), false, 0, &w);
  CHECK(w.contains("CRC"));
  CHECK(log->log_end_offset() == hs.back().base_offset);
}

TEST_CASE("crash: a torn batch in an earlier segment drops the segments after it") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(2000, kInterval));
  fill(*log, 80);
  auto segs = log->segments();
  REQUIRE(segs.size() >= 4);
  log.reset();
  std::string second = dir + "/" + offset_file_name(segs[1].base_offset, ".log");
  std::string data = read_file(second);
  data.resize(data.size() - 10);
  write_file(second, data);
  log = open_log(dir, small_config(2000, kInterval), false, 0);
  CHECK(log->segments().size() == 2);
  CHECK(log->log_end_offset() < segs[2].base_offset);
  CHECK(read_all(*log, 0).size() == static_cast<size_t>(log->log_end_offset()));
  CHECK(files_with_suffix(dir, ".log").size() == 2);
}

TEST_CASE("recovery point: segments below it are trusted, the ones from it on re-validated") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(2000, kInterval));
  fill(*log, 80);
  REQUIRE(log->flush().ok());
  const int64_t rp = log->recovery_point();
  CHECK(rp == log->log_end_offset());
  auto values2 = fill(*log, 10, 9);
  const int64_t leo = log->log_end_offset();
  log.reset();
  std::string path = last_log_file(dir);
  write_file(path, read_file(path) + "garbage!");
  Warnings w;
  log = open_log(dir, small_config(2000, kInterval), false, rp, &w);
  CHECK(log->log_end_offset() == leo);
  CHECK(w.contains("truncated 8 invalid bytes"));
}

TEST_CASE("index sanity check after a clean shutdown: a bad index is rebuilt") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(3000, kInterval));
  auto values = fill(*log, 100);
  auto segs = log->segments();
  REQUIRE(segs.size() >= 3);
  REQUIRE(log->close().ok());
  log.reset();
  const std::string idx = dir + "/" + offset_file_name(segs[1].base_offset, ".index");
  const std::string tidx = dir + "/" + offset_file_name(segs[0].base_offset, ".timeindex");
  const std::string good = read_file(idx);
  REQUIRE(good.size() >= 16);

  auto reopen_and_check = [&](const std::string& what) {
    Warnings w;
    log = open_log(dir, small_config(3000, kInterval), true, 0, &w);
    CHECK_MESSAGE(w.contains("rebuilt the indexes"), what);
    check_values(*log, values, values.size());
    check_indexes_match(dir, *log);
    REQUIRE(log->close().ok());
    log.reset();
  };
  SUBCASE("size not a multiple of 8") {
    write_file(idx, good + "abc");
    reopen_and_check("odd size");
  }
  SUBCASE("entries not increasing") {
    std::string bad = good;
    std::swap_ranges(bad.begin(), bad.begin() + 8, bad.begin() + 8);
    write_file(idx, bad);
    reopen_and_check("swapped");
  }
  SUBCASE("last entry beyond the log") {
    std::string bad = good;
    bad[bad.size() - 4] = 0x7f;
    write_file(idx, bad);
    reopen_and_check("beyond");
  }
  SUBCASE("missing index") {
    std::filesystem::remove(idx);
    reopen_and_check("missing");
  }
  SUBCASE("corrupt time index") {
    write_file(tidx, std::string(24, '\xff'));
    reopen_and_check("time index");
  }
}

TEST_CASE("crash: leftovers are removed and the epoch cache is rebuilt") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto log = open_log(dir, small_config(2000, kInterval));
  append_ok(*log, make_simple_batch(3, 1000), 1000, 1);
  fill(*log, 30);
  append_ok(*log, make_simple_batch(3, 1000), 1000, 4);
  const int64_t leo = log->log_end_offset();
  auto epochs = log->leader_epochs();
  REQUIRE(epochs.size() == 2);
  log.reset();
  std::filesystem::remove(dir + "/leader-epoch-checkpoint");
  write_file(dir + "/00000000000000000000.log.deleted", "old");
  write_file(dir + "/00000000000000000000.log.cleaned", "half");
  write_file(dir + "/00000000000099999999.index", "orphan!!");
  log = open_log(dir, small_config(2000, kInterval), false, 0);
  CHECK(log->log_end_offset() == leo);
  CHECK(log->leader_epochs() == epochs);
  CHECK(files_with_suffix(dir, ".deleted").empty());
  CHECK(files_with_suffix(dir, ".cleaned").empty());
  CHECK_FALSE(std::filesystem::exists(dir + "/00000000000099999999.index"));
}

TEST_CASE("everything written before a kill is served after restart, with no close at all") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  std::vector<std::string> values;
  for (int run = 0; run < 4; ++run) {
    auto log = open_log(dir, small_config(2500, kInterval), false, 0);
    CHECK(log->log_end_offset() == static_cast<int64_t>(values.size()));
    auto more = fill(*log, 25, run);
    values.insert(values.end(), more.begin(), more.end());
    check_values(*log, values, values.size());
  }  // each run ends like a kill -9
}

TEST_CASE("a writer process killed with SIGKILL loses no acknowledged append") {
  std::mt19937 rng(99);
  for (int round = 0; round < 3; ++round) {
    TempDir tmp;
    const std::string data = tmp.sub("data");
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Child: a LogManager with its maintenance thread, appending until
      // killed; each acknowledged last offset goes down the pipe.
      ::close(fds[0]);
      LogManagerOptions o;
      o.data_dir = data;
      o.broker_config = {{"log.segment.bytes", "4096"}, {"log.retention.check.interval.ms", "5"}};
      o.log = [](const std::string&) {};
      std::unique_ptr<LogManager> m;
      if (!LogManager::open(o, &m).ok() || !m->create_topic("t", 1).ok()) ::_exit(2);
      Log* log = m->log("t", 0);
      for (;;) {
        int64_t leo = log->log_end_offset();
        std::vector<Rec> recs;
        const int64_t now = wall_clock_ms();  // not 1970: retention runs here
        for (int i = 0; i < 3; ++i) recs.push_back(Rec{'r' + std::to_string(leo + i), std::string(50, 'x'), now});
        auto b = make_batch(recs);
        AppendInfo ai;
        if (!log->append(b, 0, now, &ai).ok()) ::_exit(3);
        if (::write(fds[1], &ai.last_offset, sizeof ai.last_offset) != sizeof ai.last_offset) ::_exit(4);
      }
    }
    ::close(fds[1]);
    int64_t acked = -1, v = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50 + rng() % 300);
    while (std::chrono::steady_clock::now() < deadline && ::read(fds[0], &v, sizeof v) == sizeof v) acked = v;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    while (::read(fds[0], &v, sizeof v) == sizeof v) acked = v;  // acks sent before the kill
    ::close(fds[0]);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(acked > 0);

    LogManagerOptions o;
    o.data_dir = data;
    o.start_maintenance_thread = false;
    o.log = [](const std::string&) {};
    std::unique_ptr<LogManager> m;
    REQUIRE(LogManager::open(o, &m).ok());
    CHECK_FALSE(m->had_clean_shutdown());
    Log* log = m->log("t", 0);
    REQUIRE(log != nullptr);
    CHECK(log->log_end_offset() >= acked + 1);
    auto recs = read_all(*log, 0);
    REQUIRE(recs.size() == static_cast<size_t>(log->log_end_offset()));
    for (size_t i = 0; i < recs.size(); ++i) CHECK(*recs[i].key == 'r' + std::to_string(i));
  }
}
