// ConsumerImpl: kfk::Consumer. The application-thread half lives here
// (poll, positions, commits, the rebalance listener); the network-thread
// half is the Fetcher and the GroupMember, reached through post().
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include <uv.h>

#include "client/consumer/consumer_state.h"
#include "client/consumer/fetcher.h"
#include "client/consumer/group_member.h"
#include "client/consumer/record_drain.h"
#include "client/core/resolved_config.h"
#include "client/net/net_client.h"
#include "kfk/consumer.h"

namespace kfk::consumer {

class ConsumerImpl final : public Consumer {
 public:
  ConsumerImpl(core::ResolvedConfig rc, ConsumerOptions options, std::vector<std::shared_ptr<PartitionAssignor>> assignors);
  ~ConsumerImpl() override;
  void start();

  Error subscribe(const std::vector<std::string>& topics) override;
  Error subscribe(const std::vector<std::string>& topics, std::shared_ptr<RebalanceListener> listener) override;
  Error subscribe_pattern(const std::regex& pattern) override;
  Error subscribe_pattern(const std::regex& pattern, std::shared_ptr<RebalanceListener> listener) override;
  Error unsubscribe() override;
  std::vector<std::string> subscription() const override;
  Error assign(const std::vector<TopicPartition>& partitions) override;
  std::vector<TopicPartition> assignment() const override;
  ConsumerRecords poll(std::chrono::milliseconds timeout) override;
  void wakeup() override;
  Error commit_sync(std::chrono::milliseconds timeout) override;
  Error commit_sync(const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                    std::chrono::milliseconds timeout) override;
  void commit_async(CommitCallback callback) override;
  void commit_async(const std::map<TopicPartition, OffsetAndMetadata>& offsets, CommitCallback callback) override;
  Error committed(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, OffsetAndMetadata>* out,
                  std::chrono::milliseconds timeout) override;
  Error position(const TopicPartition& tp, int64_t* out, std::chrono::milliseconds timeout) override;
  Error seek(const TopicPartition& tp, int64_t offset) override;
  Error seek_to_beginning(const std::vector<TopicPartition>& partitions) override;
  Error seek_to_end(const std::vector<TopicPartition>& partitions) override;
  Error offsets_for_times(const std::map<TopicPartition, int64_t>& timestamps,
                          std::map<TopicPartition, OffsetAndTimestamp>* out, std::chrono::milliseconds timeout) override;
  Error beginning_offsets(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, int64_t>* out,
                          std::chrono::milliseconds timeout) override;
  Error end_offsets(const std::vector<TopicPartition>& partitions, std::map<TopicPartition, int64_t>* out,
                    std::chrono::milliseconds timeout) override;
  Error pause(const std::vector<TopicPartition>& partitions) override;
  Error resume(const std::vector<TopicPartition>& partitions) override;
  std::vector<TopicPartition> paused() const override;
  Error close(std::chrono::milliseconds timeout) override;
  void fill_metrics(ConsumerMetrics* out, size_t size) const override;

 private:
  // Java's acquire()/release(): one application thread inside the consumer
  // at a time, re-entrant (the rebalance listener calls back in). Every
  // call takes it except wakeup(), metrics(), assignment() and paused().
  class AppCall {
   public:
    explicit AppCall(const ConsumerImpl& c);
    ~AppCall();
    AppCall(const AppCall&) = delete;
    AppCall& operator=(const AppCall&) = delete;
    bool ok() const { return error_.ok(); }
    const Error& error() const { return error_; }

   private:
    const ConsumerImpl& c_;
    Error error_;
  };

  // Runs `fn` on the network thread and waits for it (false: closed).
  bool on_loop(std::function<void()> fn);
  void log(std::string_view msg) const;
  void run_steps();
  // The listener's callbacks (exceptions are logged), and what each
  // RebalanceStep does on the application thread.
  void call_listener(RebalanceStep::Kind kind, const std::vector<TopicPartition>& parts);
  void revoke_partitions(const std::vector<TopicPartition>& parts);
  void lose_partitions(std::vector<TopicPartition> parts);
  // Runs queued kLost steps only (close(), unsubscribe(): a member that
  // lost its partitions does not revoke them).
  void run_lost_steps();
  Error subscribe_topics(const std::vector<std::string>& topics, std::shared_ptr<RebalanceListener> listener);
  Error subscribe_regex(const std::regex& pattern, std::shared_ptr<RebalanceListener> listener);
  void run_app_tasks();
  void maybe_auto_commit();
  std::map<TopicPartition, OffsetAndMetadata> consumed_offsets(const std::vector<TopicPartition>* only = nullptr);
  Error commit_offsets_sync(std::map<TopicPartition, OffsetAndMetadata> offsets, std::chrono::milliseconds timeout);
  void commit_offsets_async(std::map<TopicPartition, OffsetAndMetadata> offsets, CommitCallback cb);
  void refuse_async(const std::map<TopicPartition, OffsetAndMetadata>& offsets, const CommitCallback& callback,
                    const Error& e);
  Error list_offsets_sync(std::map<TopicPartition, int64_t> ts, std::map<TopicPartition, OffsetAndTimestamp>* out,
                          std::chrono::milliseconds timeout);
  Error check_open() const;
  void trigger_fetch();
  void notify_commit(const std::map<TopicPartition, OffsetAndMetadata>& offsets);

  core::ResolvedConfig rc_;
  ConsumerOptions options_;
  std::vector<std::shared_ptr<PartitionAssignor>> assignors_;
  ConsumerState state_;
  std::unique_ptr<net::NetClient> nc_;
  uint64_t brokers_down_reported_ GUARDED_BY(state_.mu) = 0;  // poll()'s all_brokers_down_since() counter
  // Created, used and destroyed on the network thread.
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<GroupMember> group_;

  std::string group_id_;
  bool auto_commit_ = false;
  int64_t auto_commit_interval_ms_ = 5000;
  size_t max_poll_records_ = 500;
  DrainOptions drain_;
  std::chrono::steady_clock::time_point next_auto_commit_;

  enum class Mode : uint8_t { kNone, kSubscribed, kAssigned };
  Mode mode_ = Mode::kNone;
  std::vector<std::string> subscription_;  // explicit topics
  bool pattern_ = false;
  bool closing_ = false;
  std::atomic<bool> closed_{false};
  // The listener of the current subscription (subscribe()'s, else
  // ConsumerOptions::rebalance_listener). Application thread.
  std::shared_ptr<RebalanceListener> listener_;
  // AppCall: the thread inside a call, and how deep (that thread only).
  mutable std::atomic<std::thread::id> app_thread_{};
  mutable int app_depth_ = 0;
  // wakeup(): an atomic store and uv_async_send on this handle (both
  // async-signal-safe); its callback, on the network thread, wakes poll().
  uv_async_t wakeup_async_{};
  std::atomic<bool> wakeup_async_open_{false};
  std::atomic<uint64_t> records_consumed_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> commit_failures_{0};
};

}  // namespace kfk::consumer
