// Fetcher: the consumer's data path on the network thread.
//
// Runs on the network thread (every method). Each pass (run()):
//   1. resolves positions: committed offsets through the group coordinator
//      (OffsetFetch, via the hook the consumer gives), then auto.offset.reset
//      through ListOffsets to the partition leader;
//   2. sends one long-poll Fetch per partition leader that has no fetch in
//      flight, for the assigned partitions that have a position, are not
//      paused, and have nothing buffered or in flight (the prefetch bound:
//      one response per partition waits for poll());
//   3. on each response, queues the partition data as a CompletedFetch for
//      poll() (no copy: the response frame is kept alive) and handles the
//      partition errors (leader moves and fenced epochs refresh metadata,
//      OFFSET_OUT_OF_RANGE resets the position, ...).
// A pass runs when asked (trigger()), after metadata updates, and on a
// timer for backoffs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/core/resolved_config.h"
#include "client/net/net_client.h"
#include "client/net/timer.h"
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

class Fetcher {
 public:
  Fetcher(net::NetClient& nc, ConsumerState& state, FetcherOptions opts, FetchCommittedFn fetch_committed);
  ~Fetcher();

  // Registers the metadata listener. Network thread.
  void start();
  // Stops scheduling; responses still arriving are dropped.
  void shutdown();
  // Runs a pass soon (coalesced into one per loop iteration).
  void trigger();

  // ListOffsets for `timestamps` (-2 earliest, -1 latest, else a time),
  // grouped by leader, retrying retriable errors until `deadline`.
  void list_offsets(std::map<TopicPartition, int64_t> timestamps, net::TimePoint deadline, ListOffsetsCallback cb);

 private:
  void run();
  void resolve_positions(net::TimePoint now);
  void send_fetches(net::TimePoint now);
  void send_fetch(int32_t node, std::vector<TopicPartition> parts);
  void on_fetch_response(int32_t node, const Error& err, net::Reply<proto::FetchResponse>& reply,
                         const std::map<TopicPartition, std::pair<uint64_t, int64_t>>& sent);
  void handle_partition(const TopicPartition& tp, uint64_t generation, int64_t fetch_offset,
                        proto::FetchResponse::PartitionData& pd, const net::FramePtr& frame,
                        std::vector<TopicPartition>& eofs);
  void backoff(PartitionState& ps, int64_t ms);
  void schedule_timer(net::TimePoint when);
  void list_offsets_attempt(std::shared_ptr<ListOffsetsJob> job);

  net::NetClient& nc_;
  ConsumerState& state_;
  FetcherOptions opts_;
  FetchCommittedFn fetch_committed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::set<int32_t> nodes_in_flight_;
  bool run_posted_ = false;
  bool shut_down_ = false;
  std::unique_ptr<net::Timer> timer_;
};

}  // namespace kfk::consumer
