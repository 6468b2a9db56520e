// Idempotent producer state: duplicates, sequence checks, epochs, restarts.
#include "storage_test_util.h"

using namespace kfk::broker;
using namespace kfk::broker::test;

namespace {

std::vector<uint8_t> pbatch(int64_t pid, int16_t epoch, int32_t seq, int n, bool txn = false) {
  BatchSpec s;
  s.producer_id = pid;
  s.producer_epoch = epoch;
  s.base_sequence = seq;
  s.transactional = txn;
  return make_simple_batch(n, 1000, "k", 10, s);
}

Status append(Log& log, std::vector<uint8_t> b, AppendInfo* ai = nullptr,
              AppendOrigin origin = AppendOrigin::kClient) {
  AppendInfo local;
  return log.append(b, 0, 1000, ai != nullptr ? ai : &local, origin);
}

}  // namespace

TEST_CASE("idempotent producer: duplicates return the original offsets") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  append_ok(*log, make_simple_batch(3, 1000));  // a plain batch first: offsets 0..2
  AppendInfo a1, a2, dup;
  REQUIRE(append(*log, pbatch(1000, 0, 0, 5), &a1).ok());
  REQUIRE(append(*log, pbatch(1000, 0, 5, 5), &a2).ok());
  CHECK(a1.base_offset == 3);
  CHECK(a2.base_offset == 8);
  CHECK_FALSE(a1.duplicate);
  const int64_t leo = log->log_end_offset();
  REQUIRE(append(*log, pbatch(1000, 0, 0, 5), &dup).ok());
  CHECK(dup.duplicate);
  CHECK(dup.base_offset == 3);
  CHECK(dup.last_offset == 7);
  REQUIRE(append(*log, pbatch(1000, 0, 5, 5), &dup).ok());
  CHECK(dup.duplicate);
  CHECK(dup.base_offset == 8);
  CHECK(log->log_end_offset() == leo);
  auto e = log->producer(1000);
  REQUIRE(e);
  CHECK(e->epoch == 0);
  CHECK(e->last_seq() == 9);
  CHECK(e->batches.size() == 2);
}

TEST_CASE("idempotent producer: sequence and epoch errors") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  REQUIRE(append(*log, pbatch(7, 2, 0, 3)).ok());

  Status s = append(*log, pbatch(7, 2, 5, 1));  // gap: expected 3
  CHECK(s.code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
  CHECK(s.kafka_code() == 45);
  CHECK(append(*log, pbatch(7, 2, 1, 1)).code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);  // overlaps, not a dup

  s = append(*log, pbatch(8, 0, 4, 1));  // unknown producer, not at 0
  CHECK(s.code == ErrorCode::UNKNOWN_PRODUCER_ID);
  CHECK(s.kafka_code() == 59);
  CHECK(append(*log, pbatch(8, 0, 0, 1)).ok());

  s = append(*log, pbatch(7, 1, 3, 1));  // stale epoch: fenced
  CHECK(s.code == ErrorCode::INVALID_PRODUCER_EPOCH);
  CHECK(s.kafka_code() == 47);
  CHECK(append(*log, pbatch(7, 3, 2, 1)).code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);  // new epoch must start at 0
  CHECK(append(*log, pbatch(7, 3, 0, 2)).ok());
  CHECK(append(*log, pbatch(7, 2, 3, 1)).code == ErrorCode::INVALID_PRODUCER_EPOCH);  // the old epoch is fenced now
  CHECK(append(*log, pbatch(7, 3, 2, 1)).ok());
  CHECK(log->producer(7)->epoch == 3);
  CHECK(log->producer(7)->last_seq() == 2);
  const int64_t leo = log->log_end_offset();
  CHECK(append(*log, pbatch(7, 3, 9, 1)).code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
  CHECK(log->log_end_offset() == leo);
}

TEST_CASE("idempotent producer: only the last 5 batches are remembered") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  for (int i = 0; i < 7; ++i) REQUIRE(append(*log, pbatch(1, 0, i * 2, 2)).ok());
  AppendInfo ai;
  REQUIRE(append(*log, pbatch(1, 0, 4, 2), &ai).ok());  // batch 3 of 7: still cached
  CHECK(ai.duplicate);
  CHECK(ai.base_offset == 4);
  CHECK(append(*log, pbatch(1, 0, 2, 2)).code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);  // batch 2: evicted
  CHECK(log->producer(1)->batches.size() == 5);
}

TEST_CASE("idempotent producer: several batches of one producer in one append are checked in order") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  std::vector<uint8_t> two = pbatch(3, 0, 0, 2);
  auto b = pbatch(3, 0, 2, 2);
  two.insert(two.end(), b.begin(), b.end());
  AppendInfo ai;
  REQUIRE(append(*log, two, &ai).ok());
  CHECK(ai.last_offset == 3);
  std::vector<uint8_t> bad = pbatch(3, 0, 4, 1);
  auto c = pbatch(3, 0, 9, 1);
  bad.insert(bad.end(), c.begin(), c.end());
  CHECK(append(*log, bad).code == ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
  CHECK(log->log_end_offset() == 4);
  CHECK(log->producer(3)->last_seq() == 3);  // nothing of the failed append was applied
}

TEST_CASE("sequence numbers wrap at INT32_MAX") {
  ProducerStateManager psm;
  kfk::proto::BatchHeader h;
  h.producer_id = 5;
  h.producer_epoch = 0;
  h.base_sequence = INT32_MAX - 1;
  h.last_offset_delta = 1;
  h.record_count = 2;
  psm.replay(h, std::nullopt);
  CHECK(psm.find(5)->last_seq() == INT32_MAX);
  ProducerStateManager::Append a(psm);
  h.base_sequence = 0;
  h.base_offset = 10;
  std::optional<ProducerBatchInfo> dup;
  CHECK(a.check(h, std::nullopt, &dup).ok());
  CHECK_FALSE(dup);
  psm.commit(std::move(a));
  CHECK(psm.find(5)->last_seq() == 1);
}

TEST_CASE("producer state survives a clean restart (snapshot) and a crash (snapshot + replay, or rebuild)") {
  TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  auto cfg = small_config(600, 128);  // rolls often: snapshots at every roll
  auto log = open_log(dir, cfg);
  std::map<int64_t, std::pair<int64_t, int64_t>> first_batch;  // pid -> offsets of its first batch
  for (int i = 0; i < 40; ++i) {
    int64_t pid = 100 + i % 3;
    int32_t seq = (i / 3) * 2;
    AppendInfo ai;
    REQUIRE(append(*log, pbatch(pid, 1, seq, 2), &ai).ok());
  }
  auto expect_state = [&](Log& l) {
    for (int64_t pid = 100; pid < 103; ++pid) {
      auto e = l.producer(pid);
      REQUIRE(e);
      CHECK(e->epoch == 1);
      CHECK(e->batches.size() == 5);
    }
    // A retry of producer 100's last batch is a duplicate.
    auto e = l.producer(100);
    AppendInfo ai;
    REQUIRE(append(l, pbatch(100, 1, e->batches.back().first_seq, 2), &ai).ok());
    CHECK(ai.duplicate);
    CHECK(ai.base_offset == e->batches.back().first_offset);
    CHECK(append(l, pbatch(101, 0, 0, 1)).code == ErrorCode::INVALID_PRODUCER_EPOCH);
  };
  std::vector<ProducerEntry> before;
  for (int64_t pid = 100; pid < 103; ++pid) before.push_back(*log->producer(pid));
  expect_state(*log);

  SUBCASE("clean restart from the shutdown snapshot") {
    const int64_t leo = log->log_end_offset();
    REQUIRE(log->close().ok());
    log.reset();
    CHECK(std::filesystem::exists(dir + "/" + offset_file_name(leo, ".snapshot")));
    log = open_log(dir, cfg);
  }
  SUBCASE("crash: latest roll snapshot plus replay") {
    log.reset();
    CHECK(!files_with_suffix(dir, ".snapshot").empty());
    log = open_log(dir, cfg, false);
  }
  SUBCASE("crash without any snapshot: rebuilt from batch headers") {
    log.reset();
    for (const auto& f : files_with_suffix(dir, ".snapshot")) std::filesystem::remove(dir + "/" + f);
    log = open_log(dir, cfg, false);
  }
  SUBCASE("corrupt snapshot: ignored, rebuilt") {
    const int64_t leo = log->log_end_offset();
    REQUIRE(log->close().ok());
    log.reset();
    std::string snap = dir + "/" + offset_file_name(leo, ".snapshot");
    REQUIRE(std::filesystem::exists(snap));
    std::string data = read_file(snap);
    data[data.size() / 2] ^= 1;
    write_file(snap, data);
    log = open_log(dir, cfg);
    CHECK_FALSE(std::filesystem::exists(snap));
  }
  for (int64_t pid = 100; pid < 103; ++pid) CHECK(*log->producer(pid) == before[static_cast<size_t>(pid - 100)]);
  expect_state(*log);
}

TEST_CASE("snapshot encoding round-trips") {
  ProducerStateManager a;
  kfk::proto::BatchHeader h;
  for (int i = 0; i < 8; ++i) {
    h.producer_id = 40 + i % 2;
    h.producer_epoch = 2;
    h.base_sequence = i;
    h.base_offset = i * 10;
    h.max_timestamp = 5000 + i;
    h.attributes = i == 7 ? kfk::proto::batch_attr::kTransactional : 0;
    a.replay(h, std::nullopt);
  }
  auto bytes = a.encode_snapshot();
  ProducerStateManager b;
  REQUIRE(b.decode_snapshot(bytes));
  CHECK(b.entries() == a.entries());
  CHECK(b.first_unstable_offset() == 70);
  bytes[bytes.size() - 1] ^= 1;
  ProducerStateManager c;
  CHECK_FALSE(c.decode_snapshot(bytes));
}

TEST_CASE("transactions: first unstable offset, markers from the coordinator only") {
  TempDir tmp;
  auto log = open_log(tmp.sub("t-0"), small_config());
  append_ok(*log, make_simple_batch(2, 1000));
  REQUIRE(append(*log, pbatch(9, 0, 0, 3, true)).ok());
  CHECK(log->last_stable_offset() == 2);
  REQUIRE(append(*log, pbatch(9, 0, 3, 1, true)).ok());
  CHECK(log->last_stable_offset() == 2);
  auto marker = make_control_batch(9, 0, kfk::proto::ControlType::kCommit, 4);
  CHECK(append(*log, marker).code == ErrorCode::INVALID_RECORD);
  REQUIRE(append(*log, marker, nullptr, AppendOrigin::kCoordinator).ok());
  CHECK(log->last_stable_offset() == log->log_end_offset());
  CHECK(log->producer(9)->coordinator_epoch == 4);
  auto stale = make_control_batch(9, 0, kfk::proto::ControlType::kAbort, 3);
  CHECK(append(*log, stale, nullptr, AppendOrigin::kCoordinator).code == ErrorCode::TRANSACTION_COORDINATOR_FENCED);
  // Producer state from the log alone (rebuild) agrees.
  log.reset();
  for (const auto& f : files_with_suffix(tmp.sub("t-0"), ".snapshot")) std::filesystem::remove(tmp.sub("t-0/" + f));
  log = open_log(tmp.sub("t-0"), small_config(), false);
  CHECK(log->producer(9)->coordinator_epoch == 4);
  CHECK(log->producer(9)->current_txn_first_offset == -1);
  CHECK(log->last_stable_offset() == log->log_end_offset());
}
