// Fetcher: the consumer's data path on the network thread.
//
// Runs on the network thread (every method). Each pass (run()):
//   1. hands prefetched data on: a partition whose buffered response poll()
//      has used up gets its next held response (see "Prefetch");
//   2. resolves positions: committed offsets through the group coordinator
//      (OffsetFetch, via the hook the consumer gives), then auto.offset.reset
//      through ListOffsets to the partition leader;
//   3. sends one long-poll Fetch per partition leader that has no fetch in
//      flight, for the assigned partitions that have a position, are not
//      paused, and are within the prefetch bound;
//   4. on each response, queues the partition data as a CompletedFetch (no
//      copy: the response frame is kept alive) and handles the partition
//      errors (leader moves and fenced epochs refresh metadata,
//      OFFSET_OUT_OF_RANGE resets the position, ...).
// A pass runs when asked (trigger()), after metadata updates, and on a
// timer for backoffs.
//
// Prefetch: ConsumerState::completed holds at most one response per
// partition (what poll() drains; the position is where it starts). Further
// responses of a partition wait here, in `held`, up to kMaxHeldPerPartition
// of them and fetch.max.bytes in all, so that poll() never waits for a
// broker round trip while records keep coming. A held response moves on
// only when the position is exactly where it starts (anything else, such as
// a failed CRC check, drops what is held and fetches again from the
// position).
//
// End of partition (enable.partition.eof): an empty CompletedFetch (no
// batches) queued behind the partition's records, in order with them, so a
// seek drops it like any buffered data. It is created when a response
// reaches the high watermark (or the last stable offset, read_committed)
// or a fetch at the end returns nothing.
//
// Fetch sessions (KIP-227, Fetch v7+): one FetchSessionHandler per broker.
// A request names only partitions that are new or whose fetch state
// changed, and forgets those not fetched this time (at the prefetch bound,
// paused, moved away); a response leaves out partitions without news, which
// for the end of a partition means "still at the high watermark last
// reported". Session errors start over with a full request at once.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/core/resolved_config.h"
#include "client/net/net_client.h"
#include "io/lifetime.h"
#include "io/timer.h"
#include "client/consumer/consumer_state.h"

namespace kfk::consumer {

struct FetcherOptions {
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_bytes = 52428800;
  int32_t fetch_max_wait_ms = 500;
  int32_t max_partition_fetch_bytes = 1048576;
  int8_t isolation_level = 0;
  std::string client_rack;
  core::AutoOffsetReset auto_offset_reset = core::AutoOffsetReset::kLatest;
  bool enable_partition_eof = false;
  bool has_group = false;
  int64_t request_timeout_ms = 30000;
  int64_t retry_backoff_ms = 100;

  static FetcherOptions from(const core::ResolvedConfig& rc);
};

// Committed offsets from the group coordinator: -1 for none.
using CommittedOffsets = std::map<TopicPartition, OffsetAndMetadata>;
using CommittedCallback = std::function<void(const Error&, CommittedOffsets&)>;
using FetchCommittedFn = std::function<void(std::vector<TopicPartition>, CommittedCallback)>;

using ListOffsetsResult = std::map<TopicPartition, OffsetAndTimestamp>;
using ListOffsetsCallback = std::function<void(const Error&, ListOffsetsResult&)>;

struct ListOffsetsJob;

// The client side of KIP-227 for one broker: mirrors what the broker's
// session holds, so that a request names only partitions that are new or
// changed and forgets those no longer fetched. No I/O; one request at a time
// (build(), then exactly one of on_response() / on_failure()).
class FetchSessionHandler {
 public:
  // A partition the next request fetches, with its fetch state.
  struct Want {
    TopicPartition tp;
    proto::Uuid topic_id;
    int64_t fetch_offset = 0;
    int32_t current_leader_epoch = -1;
    int32_t last_fetched_epoch = -1;
    int32_t max_bytes = 0;
    bool same_state(const Want& o) const {
      return fetch_offset == o.fetch_offset && current_leader_epoch == o.current_leader_epoch &&
             last_fetched_epoch == o.last_fetched_epoch && max_bytes == o.max_bytes && topic_id == o.topic_id;
    }
  };

  // Fills req's session id and epoch, topics and forgotten topics for
  // fetching `want` (ordered by topic). `by_id`: the request may use topic
  // ids (v13+); a session started the other way is replaced.
  void build(const std::vector<Want>& want, bool by_id, proto::FetchRequest& req);
  // The response's top-level error, session id and version.
  void on_response(int16_t error_code, int32_t session_id);
  // No response (transport error, timeout): start over with a full request.
  void on_failure();

  int32_t session_id() const { return id_; }
  // The epoch the next request carries: 0 asks for a new session (a full
  // request), >= 1 is incremental.
  int32_t next_epoch() const { return epoch_; }
  // Whether the request in flight was full.
  bool full_in_flight() const { return full_; }
  // The partitions the session holds (in the broker's view, once the
  // request in flight succeeded).
  size_t size() const { return parts_.size(); }

 private:
  void reset(bool keep_id);
  int32_t id_ = 0;
  int32_t epoch_ = 0;
  bool by_id_ = false;  // how the session names topics
  bool full_ = false;
  std::map<TopicPartition, Want> parts_;    // the session as of the last answered request
  std::map<TopicPartition, Want> pending_;  // the session once the request in flight succeeds
};

class Fetcher {
 public:
  // Responses a partition may have waiting beyond the one poll() drains.
  static constexpr size_t kMaxHeldPerPartition = 2;

  Fetcher(net::NetClient& nc, ConsumerState& state, FetcherOptions opts, FetchCommittedFn fetch_committed);
  ~Fetcher();

  // Registers the metadata listener. Network thread.
  void start();
  // Stops scheduling; responses still arriving are dropped.
  void shutdown();
  // Runs a pass soon (coalesced into one per loop iteration).
  void trigger();

  // ListOffsets for `timestamps` (-2 earliest, -1 latest, else a time),
  // one request per leader, retrying retriable errors (backoff
  // retry.backoff.ms .. retry.backoff.max.ms, metadata refreshed when
  // leaders moved) until `deadline`.
  void list_offsets(std::map<TopicPartition, int64_t> timestamps, net::TimePoint deadline, ListOffsetsCallback cb);

 private:
  // Per partition: responses fetched ahead, waiting for the one in
  // ConsumerState::completed to be used up.
  struct Cursor {
    uint64_t generation = 0;
    std::deque<std::unique_ptr<CompletedFetch>> held;
    int64_t queued_next = -1;  // next_offset of the response last queued for poll()
  };
  struct Sent {
    uint64_t generation;
    int64_t offset;
  };
  using SentMap = std::map<TopicPartition, Sent>;

  void run();
  void promote_held();
  void resolve_positions(net::TimePoint now);
  void send_fetches(net::TimePoint now);
  void send_fetch(int32_t node, std::vector<FetchSessionHandler::Want> want, bool all_ids);
  void on_fetch_response(int32_t node, const Error& err, net::Reply<proto::FetchResponse>& reply, const SentMap& sent);
  void handle_partition(const TopicPartition& tp, const Sent& sent, proto::FetchResponse::PartitionData& pd,
                        std::unique_ptr<CompletedFetch> cf, const char* corrupt, const net::FramePtr& frame)
      REQUIRES(state_.mu);
  void handle_no_data(const TopicPartition& tp, PartitionState& ps, int64_t fetch_offset) REQUIRES(state_.mu);
  int64_t fetch_position(const TopicPartition& tp, const PartitionState& ps) const REQUIRES(state_.mu);
  void deliver(const TopicPartition& tp, PartitionState& ps, std::unique_ptr<CompletedFetch> cf)
      REQUIRES(state_.mu);
  void drop_held(std::map<TopicPartition, Cursor>::iterator it);
  void backoff(PartitionState& ps, int64_t ms);
  void schedule_timer(net::TimePoint when);
  void list_offsets_attempt(ListOffsetsJob& job);
  void on_list_offsets_response(ListOffsetsJob& job, const Error& err, proto::ListOffsetsResponse& resp);
  void finish_list_offsets(ListOffsetsJob& job, const Error& err);

  net::NetClient& nc_;
  ConsumerState& state_;
  FetcherOptions opts_;
  FetchCommittedFn fetch_committed_;
  io::Lifetime lifetime_;  // io/lifetime.h
  std::set<int32_t> nodes_in_flight_;
  std::map<int32_t, FetchSessionHandler> sessions_;
  std::map<TopicPartition, Cursor> cursors_;
  int64_t held_bytes_ = 0;
  bool notify_ GUARDED_BY(state_.mu) = false;  // something for poll() arrived
  bool run_posted_ = false;
  bool shut_down_ = false;
  std::unique_ptr<io::Timer> timer_;
  std::set<std::shared_ptr<ListOffsetsJob>> offset_jobs_;
};

}  // namespace kfk::consumer
