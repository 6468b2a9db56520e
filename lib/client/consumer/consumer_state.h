// ConsumerState: what the application thread (poll, seek, assign, ...) and
// the network thread (fetcher, group coordinator) share, under one mutex.
//
// Model (as the Java client's SubscriptionState + Fetcher buffer): every
// assigned partition has a position, the next offset poll() returns. One
// fetched response per partition waits here for poll() (`completed`); the
// fetcher holds up to two more of its own, fetched ahead, and hands the
// next over once poll() used this one up (see fetcher.h, "Prefetch").
// poll() advances positions as it hands records out; a seek bumps the
// partition's `generation`, which makes buffered, held or in-flight data
// for the old position stale. End of partition (enable.partition.eof) is
// an empty completed fetch queued behind the records, so a seek drops it
// with them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/net/frame_reader.h"
#include "io/mutex.h"
#include "kfk/consumer.h"
#include "protocol/fetch.h"
#include "protocol/record_batch.h"

namespace kfk::consumer {

// Where a partition without a position gets one.
enum class PositionSource : uint8_t {
  kKnown,      // position is valid
  kCommitted,  // ask the group coordinator (OffsetFetch), then the reset policy
  kEarliest,   // ListOffsets -2
  kLatest,     // ListOffsets -1
  kPolicy,     // auto.offset.reset decides (none: an error for poll())
};

// One fetched partition response waiting for poll(). Decoded lazily on the
// application thread (decompression and CRC checks stay off the network
// thread).
struct CompletedFetch {
  TopicPartition tp;
  std::shared_ptr<const std::string> topic;  // the views' topic name
  uint64_t generation = 0;                   // PartitionState::generation at fetch time
  int64_t fetch_offset = 0;
  net::FramePtr frame;                       // owns the record bytes
  std::vector<proto::BatchSpan> batches;
  size_t batch_index = 0;
  // The batch being handed out.
  std::vector<proto::Record> records;
  size_t record_index = 0;
  std::shared_ptr<std::vector<uint8_t>> scratch;  // decompressed bytes of the batch, if compressed
  bool batch_decoded = false;
  // read_committed: aborted transactions (sorted by first offset) and the
  // producers whose aborted data is being skipped.
  std::vector<proto::FetchResponse::AbortedTransaction> aborted;
  size_t aborted_index = 0;
  std::set<int64_t> aborted_producers;
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  // The offset after the last complete batch: the position once everything
  // here is consumed (skips control batches and aborted data).
  int64_t next_offset = 0;
  int64_t bytes = 0;
};

struct PartitionState {
  std::shared_ptr<const std::string> topic;
  int64_t position = -1;
  std::optional<int32_t> position_epoch;  // leader epoch of the last record returned
  PositionSource source = PositionSource::kCommitted;
  uint64_t generation = 0;  // bumped by seeks and resets
  bool paused = false;
  bool fetch_in_flight = false;
  bool offset_request_in_flight = false;  // OffsetFetch or ListOffsets
  bool buffered = false;                  // a CompletedFetch is in the queue
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  bool eof_reported = false;
  Error error;  // to report from poll() (no offset, authorization, ...)
  // Backoff after errors: not fetched before this.
  std::chrono::steady_clock::time_point not_before{};
};

// What poll() must do for the group. Lives in ConsumerState::steps (guarded
// by its mu).
struct RebalanceStep {
  enum class Kind : uint8_t { kRevoke, kLost, kAssign };
  Kind kind = Kind::kAssign;
  std::vector<TopicPartition> revoked;   // kRevoke, kLost; kAssign (cooperative: what moved away)
  std::vector<TopicPartition> assigned;  // kAssign: the whole new assignment
  std::vector<TopicPartition> added;     // kAssign: newly added partitions
  bool rejoin_after = false;             // cooperative: revoked something, join again
};

class ConsumerState {
 public:
  // mutable: const readers (metrics()) lock it too. The GUARDED_BY fields
  // below are checked by clang's -Wthread-safety (io/thread_annotations.h).
  mutable Mutex mu;
  CondVar cv;  // poll() waits here for data, events and wakeups

  std::map<TopicPartition, PartitionState> partitions GUARDED_BY(mu);  // the assignment
  std::deque<std::unique_ptr<CompletedFetch>> completed GUARDED_BY(mu);
  // Errors for poll() that concern no single partition (fatal group errors).
  Error pending_error GUARDED_BY(mu);
  // Non-fatal reports for poll() (a subscribed topic that does not exist):
  // each returned by one poll(), in order.
  std::deque<Error> reports GUARDED_BY(mu);
  // Group steps for poll() to run, in order, and work to run on the
  // application thread (commit callbacks).
  std::deque<RebalanceStep> steps GUARDED_BY(mu);
  std::deque<std::function<void()>> app_tasks GUARDED_BY(mu);
  // Something for poll() to do (a rebalance step, commit callbacks).
  bool events_pending GUARDED_BY(mu) = false;
  // Group membership, for metrics.
  int32_t generation GUARDED_BY(mu) = -1;
  std::string member_id GUARDED_BY(mu);
  uint64_t rebalances GUARDED_BY(mu) = 0;
  uint64_t bytes_fetched GUARDED_BY(mu) = 0;
  uint64_t fetch_requests GUARDED_BY(mu) = 0;
  uint64_t fetch_errors GUARDED_BY(mu) = 0;

  // --- not guarded by mu ------------------------------------------------------
  // wakeup() was called (set from any thread, also a signal handler; poll()
  // clears it).
  std::atomic<bool> wakeup{false};

  // Adds `tp` (no-op when present).
  PartitionState& add(const TopicPartition& tp, PositionSource source) REQUIRES(mu) {
    auto [it, inserted] = partitions.try_emplace(tp);
    if (inserted) {
      it->second.topic = std::make_shared<const std::string>(tp.topic);
      it->second.source = source;
    }
    return it->second;
  }
  PartitionState* find(const TopicPartition& tp) REQUIRES(mu) {
    auto it = partitions.find(tp);
    return it == partitions.end() ? nullptr : &it->second;
  }
  // Moves `tp` to `offset` (or to a lazily resolved source) and drops what
  // is buffered or in flight for it.
  void seek(const TopicPartition& tp, PartitionState& ps, int64_t offset, PositionSource source) REQUIRES(mu) {
    ps.generation++;
    ps.position = offset;
    ps.position_epoch.reset();
    ps.source = source;
    ps.error = Error();
    ps.eof_reported = false;
    ps.not_before = {};
    if (ps.buffered) {
      for (auto it = completed.begin(); it != completed.end(); ++it) {
        if ((*it)->tp == tp) {
          completed.erase(it);
          break;
        }
      }
      ps.buffered = false;
    }
  }
  // Removes partitions not in `keep`.
  void retain(const std::set<TopicPartition>& keep) REQUIRES(mu) {
    for (auto it = partitions.begin(); it != partitions.end();) {
      if (keep.count(it->first) == 0)
        it = partitions.erase(it);
      else
        ++it;
    }
    for (auto it = completed.begin(); it != completed.end();) {
      if (keep.count((*it)->tp) == 0)
        it = completed.erase(it);
      else
        ++it;
    }
  }
};

}  // namespace kfk::consumer
