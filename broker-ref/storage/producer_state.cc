#include "storage/producer_state.h"

#include <algorithm>
#include <cerrno>

#include "protocol/crc32c.h"
#include "protocol/reader.h"
#include "protocol/writer.h"
#include "storage/file_util.h"

namespace kfk::broker {
namespace {

constexpr const char* kSnapshotExt = ".snapshot";
constexpr int16_t kSnapshotVersion = 1;

// Kafka's inSequence: the next sequence follows the last, wrapping at INT32_MAX.
bool in_sequence(int32_t last_seq, int32_t next_seq) {
  return next_seq == static_cast<int32_t>(int64_t{last_seq} + 1) || (next_seq == 0 && last_seq == INT32_MAX);
}

}  // namespace

std::optional<ControlMarker> parse_control_marker(const proto::BatchSpan& batch) {
  if (!batch.header.is_control()) return std::nullopt;
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  if (!proto::decode_records(batch, recs, scratch, 1 << 20) || recs.empty() || !recs[0].key) return std::nullopt;
  proto::Reader k(*recs[0].key);
  (void)k.i16();  // version
  int16_t type = k.i16();
  if (!k.ok()) return std::nullopt;
  ControlMarker m;
  m.type = static_cast<proto::ControlType>(type);
  if (recs[0].value) {
    proto::Reader v(*recs[0].value);
    (void)v.i16();
    int32_t ce = v.i32();
    if (v.ok()) m.coordinator_epoch = ce;
  }
  return m;
}

// ------------------------------------------------------------------ checks

const ProducerEntry* ProducerStateManager::Append::current(int64_t pid) const {
  if (auto it = staged_.find(pid); it != staged_.end()) return &it->second;
  return mgr_.find(pid);
}

Status ProducerStateManager::Append::check(const proto::BatchHeader& h, const std::optional<ControlMarker>& marker,
                                           std::optional<ProducerBatchInfo>* duplicate) {
  duplicate->reset();
  if (h.producer_id < 0) return Status::Ok();
  const int64_t pid = h.producer_id;
  const ProducerEntry* cur = current(pid);
  const std::string who = "producer " + std::to_string(pid);

  if (h.is_control()) {
    if (cur != nullptr && h.producer_epoch < cur->epoch)
      return Status::error(ErrorCode::INVALID_PRODUCER_EPOCH,
                           "Transaction marker epoch " + std::to_string(h.producer_epoch) + " of " + who +
                               " is older than the current epoch " + std::to_string(cur->epoch));
    if (cur != nullptr && marker && marker->coordinator_epoch < cur->coordinator_epoch)
      return Status::error(ErrorCode::TRANSACTION_COORDINATOR_FENCED,
                           "Coordinator epoch " + std::to_string(marker->coordinator_epoch) + " of the marker for " +
                               who + " is older than " + std::to_string(cur->coordinator_epoch));
  } else {
    if (h.base_sequence < 0)
      return Status::error(ErrorCode::INVALID_RECORD, "Batch of " + who + " has a producer id but no sequence number");
    // Duplicates first: a retry of one of the last 5 batches of this epoch.
    if (cur != nullptr && h.producer_epoch == cur->epoch) {
      for (const auto& b : cur->batches) {
        if (b.first_seq == h.base_sequence && b.last_seq == h.last_sequence()) {
          *duplicate = b;
          return Status::Ok();
        }
      }
    }
    if (cur == nullptr) {
      // No state for this producer (new, or its state is gone): only a
      // first batch (sequence 0) can be accepted.
      if (h.base_sequence != 0)
        return Status::error(ErrorCode::UNKNOWN_PRODUCER_ID,
                             "Found no record of " + who + " on the broker; its first sequence must be 0, got " +
                                 std::to_string(h.base_sequence));
    } else if (h.producer_epoch < cur->epoch) {
      return Status::error(ErrorCode::INVALID_PRODUCER_EPOCH,
                           "Epoch of " + who + " is " + std::to_string(h.producer_epoch) +
                               ", which is smaller than the last seen epoch " + std::to_string(cur->epoch));
    } else if (h.producer_epoch != cur->epoch) {
      if (h.base_sequence != 0)
        return Status::error(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                             "Invalid sequence number for new epoch " + std::to_string(h.producer_epoch) + " of " +
                                 who + ": " + std::to_string(h.base_sequence) + " (must be 0)");
    } else if (!in_sequence(cur->last_seq(), h.base_sequence)) {
      return Status::error(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                           "Out of order sequence number for " + who + " at offset " + std::to_string(h.base_offset) +
                               ": " + std::to_string(h.base_sequence) + " (incoming seq. number), " +
                               std::to_string(cur->last_seq()) + " (current end sequence number)");
    }
  }
  ProducerEntry next = cur != nullptr ? *cur : ProducerEntry{};
  next.producer_id = pid;
  apply_batch(next, h, marker);
  staged_[pid] = std::move(next);
  return Status::Ok();
}

void ProducerStateManager::apply_batch(ProducerEntry& e, const proto::BatchHeader& h,
                                       const std::optional<ControlMarker>& marker) {
  if (h.producer_epoch != e.epoch) {
    // A new epoch starts a new sequence space.
    e.batches.clear();
    e.epoch = h.producer_epoch;
  }
  e.last_timestamp = h.max_timestamp;
  if (h.is_control()) {
    if (marker) e.coordinator_epoch = marker->coordinator_epoch;
    e.current_txn_first_offset = -1;
    return;
  }
  if (h.base_sequence >= 0) {
    e.batches.push_back(ProducerBatchInfo{h.base_sequence, h.last_sequence(), h.base_offset, h.last_offset(),
                                          h.max_timestamp});
    while (e.batches.size() > kNumBatchesToRetain) e.batches.pop_front();
  }
  if (h.is_transactional() && e.current_txn_first_offset < 0) e.current_txn_first_offset = h.base_offset;
}

void ProducerStateManager::commit(Append&& a) {
  for (auto& [pid, e] : a.staged_) producers_[pid] = std::move(e);
  a.staged_.clear();
}

void ProducerStateManager::replay(const proto::BatchHeader& h, const std::optional<ControlMarker>& marker) {
  if (h.producer_id < 0) return;
  ProducerEntry& e = producers_[h.producer_id];
  e.producer_id = h.producer_id;
  apply_batch(e, h, marker);
}

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

int64_t ProducerStateManager::first_unstable_offset() const {
  int64_t first = -1;
  for (const auto& [pid, e] : producers_)
    if (e.current_txn_first_offset >= 0 && (first < 0 || e.current_txn_first_offset < first))
      first = e.current_txn_first_offset;
  return first;
}

// --------------------------------------------------------------- snapshots
//
// version int16 | crc uint32 (CRC32C of the rest) | count int32 |
// per producer: id int64, epoch int16, coordinator epoch int32,
//   txn first offset int64, last timestamp int64, batch count int32,
//   per batch: first seq int32, last seq int32, first offset int64,
//   last offset int64, timestamp int64

std::vector<uint8_t> ProducerStateManager::encode_snapshot() const {
  proto::Writer w;
  w.i16(kSnapshotVersion);
  size_t crc_at = w.reserve_bytes(4);
  w.i32(static_cast<int32_t>(producers_.size()));
  for (const auto& [pid, e] : producers_) {
    w.i64(pid);
    w.i16(e.epoch);
    w.i32(e.coordinator_epoch);
    w.i64(e.current_txn_first_offset);
    w.i64(e.last_timestamp);
    w.i32(static_cast<int32_t>(e.batches.size()));
    for (const auto& b : e.batches) {
      w.i32(b.first_seq);
      w.i32(b.last_seq);
      w.i64(b.first_offset);
      w.i64(b.last_offset);
      w.i64(b.timestamp);
    }
  }
  std::vector<uint8_t> out = w.take();
  uint32_t crc = proto::crc32c(out.data() + crc_at + 4, out.size() - crc_at - 4);
  for (int i = 0; i < 4; ++i) out[crc_at + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  return out;
}

bool ProducerStateManager::decode_snapshot(std::span<const uint8_t> bytes) {
  proto::Reader r(bytes);
  if (r.i16() != kSnapshotVersion) return false;
  uint32_t crc = r.u32();
  if (!r.ok() || proto::crc32c(r.current(), r.remaining()) != crc) return false;
  int32_t n = r.array_length(false, 34);
  if (!r.ok() || n < 0) return false;
  std::map<int64_t, ProducerEntry> out;
  for (int32_t i = 0; i < n; ++i) {
    ProducerEntry e;
    e.producer_id = r.i64();
    e.epoch = r.i16();
    e.coordinator_epoch = r.i32();
    e.current_txn_first_offset = r.i64();
    e.last_timestamp = r.i64();
    int32_t nb = r.array_length(false, 32);
    if (!r.ok() || nb < 0 || static_cast<size_t>(nb) > kNumBatchesToRetain) return false;
    for (int32_t j = 0; j < nb; ++j) {
      ProducerBatchInfo b;
      b.first_seq = r.i32();
      b.last_seq = r.i32();
      b.first_offset = r.i64();
      b.last_offset = r.i64();
      b.timestamp = r.i64();
      e.batches.push_back(b);
    }
    if (!r.ok()) return false;
    out[e.producer_id] = std::move(e);
  }
  if (!r.ok() || !r.empty()) return false;
  producers_ = std::move(out);
  return true;
}

Status ProducerStateManager::write_snapshot(int dirfd, int64_t offset) const {
  std::vector<uint8_t> bytes = encode_snapshot();
  // Not fsynced here (the CRC catches a torn file after a power loss; the
  // loader then falls back to an older snapshot or a full rebuild).
  return write_file_atomic_at(dirfd, offset_file_name(offset, kSnapshotExt),
                              std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), false);
}

std::vector<int64_t> ProducerStateManager::list_snapshots(int dirfd) {
  std::vector<int64_t> out;
  for (const auto& name : list_dir_at(dirfd))
    if (auto off = parse_offset_file_name(name, kSnapshotExt)) out.push_back(*off);
  std::sort(out.begin(), out.end());
  return out;
}

void ProducerStateManager::delete_snapshots_above(int dirfd, int64_t offset) {
  for (int64_t off : list_snapshots(dirfd))
    if (off > offset) unlink_at(dirfd, offset_file_name(off, kSnapshotExt));
}

void ProducerStateManager::retain_latest_snapshots(int dirfd, size_t keep) {
  std::vector<int64_t> all = list_snapshots(dirfd);
  for (size_t i = 0; i + keep < all.size(); ++i) unlink_at(dirfd, offset_file_name(all[i], kSnapshotExt));
}

Status ProducerStateManager::load_latest_snapshot(int dirfd, int64_t max_offset, int64_t* offset) {
  *offset = -1;
  producers_.clear();
  delete_snapshots_above(dirfd, max_offset);
  std::vector<int64_t> all = list_snapshots(dirfd);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string name = offset_file_name(*it, kSnapshotExt);
    int err = 0;
    auto text = read_file_at(dirfd, name, &err);
    if (!text) {
      if (err != ENOENT) return io_error("read " + name, err);
      continue;
    }
    if (decode_snapshot(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text->data()), text->size()))) {
      *offset = *it;
      return Status::Ok();
    }
    unlink_at(dirfd, name);  // corrupt: fall back to an older one
  }
  producers_.clear();
  return Status::Ok();
}

}  // namespace kfk::broker
