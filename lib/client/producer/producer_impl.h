// ProducerImpl: kfk::Producer put together: the application-thread side of
// send() (interceptors, metadata wait, partitioning, append), and the
// network thread's Sender, RecordAccumulator, CallbackExecutor.
//
// Threads: application threads call send(), flush(), close(),
// partitions_for(), metrics(). The network thread (NetClient) runs the
// Sender. The CallbackExecutor thread runs callbacks and
// on_acknowledgement().
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/core/resolved_config.h"
#include "client/net/net_client.h"
#include "client/producer/callback_executor.h"
#include "client/producer/interceptors.h"
#include "client/producer/record_accumulator.h"
#include "client/producer/sender.h"
#include "io/mutex.h"
#include "kfk/producer.h"

namespace kfk::producer {

// What send() needs to know of a topic; rebuilt when the metadata changes.
struct TopicView {
  uint64_t generation = 0;
  int32_t num_partitions = 0;
  std::vector<int32_t> available;  // partitions with a leader, ascending
};

class ProducerImpl final : public Producer {
 public:
  ProducerImpl(core::ResolvedConfig config, ProducerOptions options, std::unique_ptr<kfk::Partitioner> owned,
               std::shared_ptr<kfk::Partitioner> shared);
  ~ProducerImpl() override;

  // Starts the threads.
  void start();

  void send(ProducerRecord record, DeliveryCallback callback) override;
  std::future<DeliveryResult> send(ProducerRecord record) override;
  Error try_send(ProducerRecord&& record, DeliveryCallback&& callback) override;
  Error flush(std::chrono::milliseconds timeout) override;
  Error close(std::chrono::milliseconds timeout) override;
  Error partitions_for(std::string_view topic, std::vector<PartitionMetadata>* out) override;
  void fill_metrics(ProducerMetrics* out, size_t size) const override;

 private:
  // Application thread: the topic's view, waiting (up to max.block.ms) for
  // its metadata when unknown. *out stays valid until this send() returns:
  // it is held by a per-thread memo (see producer_impl.cc) or by *keep.
  // With `may_wait` false, an unknown topic fails at once (its metadata is
  // requested).
  Error topic_view(const std::string& topic, bool may_wait, const TopicView** out,
                   std::shared_ptr<const TopicView>* keep);
  Error shared_view(const std::string& topic, bool may_wait, std::shared_ptr<const TopicView>* out);
  // Application thread: what send() and try_send() share once the
  // interceptors ran: the topic's view, the partition (*partition: -1 until
  // chosen), the append. The callback is moved from only on success.
  Error enqueue(const ProducerRecord& record, DeliveryCallback& callback, bool wait_for_metadata,
                bool wait_for_memory, int32_t* partition);
  // Why sends to `topic` (not usable in the metadata) should fail at once:
  // an earlier wait for it ended with the cluster saying it does not exist
  // (and the metadata still says so), or with every broker down (and they
  // still are). ok(): wait (again).
  Error known_topic_failure(const std::string& topic, const net::ClusterMetadata& snap);
  void remember_topic_failure(const std::string& topic, const Error& err);
  // ok() while some broker is reachable; otherwise errc::kAllBrokersDown,
  // "<what>: " followed by every address and why it failed.
  Error brokers_down(const std::string& what) const;
  std::shared_ptr<const TopicView> cached_view(std::string_view topic, uint64_t generation) const;
  Error wait_for_topic(const std::string& topic, int64_t timeout_ms);
  // Reports a record that failed before reaching a batch, on the callback
  // thread.
  void fail_early(ProducerRecord&& record, int32_t partition, const Error& err, DeliveryCallback&& callback);
  void wake_sender();

  core::ResolvedConfig config_;
  ProducerOptions options_;
  std::unique_ptr<kfk::Partitioner> owned_partitioner_;
  std::shared_ptr<kfk::Partitioner> shared_partitioner_;
  kfk::Partitioner* partitioner_;
  bool ignore_keys_ = false;
  int64_t max_block_ms_;
  int64_t delivery_timeout_ms_;
  const uint64_t id_;  // never reused: tells this producer's memo entries from a dead one's

  InterceptorChain interceptors_;
  CallbackExecutor executor_;
  std::unique_ptr<RecordAccumulator> accumulator_;
  std::unique_ptr<net::NetClient> net_;
  SenderCounters counters_;
  std::unique_ptr<Sender> sender_;  // created, run and destroyed on the network thread

  mutable std::shared_mutex topics_mu_;
  struct TopicHash {
    using is_transparent = void;  // lookups by string_view: no per-send allocation
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<const TopicView>, TopicHash, std::equal_to<>> topics_;
  // Topics whose metadata wait failed for a known cause (see
  // known_topic_failure()), with that failure. Guarded by topics_mu_.
  std::unordered_map<std::string, Error> failed_topics_;

  // The names RecordMetadata::topic points at for records that failed
  // before reaching a batch (fail_early): stable nodes, one per distinct
  // name, kept while the producer exists (the header's promise).
  std::string_view failed_topic_name(std::string_view topic);
  Mutex failed_topic_names_mu_;
  std::set<std::string, std::less<>> failed_topic_names_ GUARDED_BY(failed_topic_names_mu_);

  std::atomic<bool> wake_pending_{false};
  std::atomic<bool> closed_{false};
  std::mutex close_mu_;
  bool close_done_ = false;
};

}  // namespace kfk::producer
