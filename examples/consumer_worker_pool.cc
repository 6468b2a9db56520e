// One thread polls, a pool of workers processes, and only processed offsets
// are committed.
//
// The consumer is used by one thread (the poll loop). Each poll's batch is
// shared with the workers without copying (the records are views into the
// batch, which a shared_ptr keeps alive until the last worker is done).
// Records of one partition go to one task, so they are processed in order;
// while a partition's task runs, the partition is paused, so the next polls
// do not hand out its later records (which another worker could otherwise
// process first). Finished tasks report "processed up to offset N" back to
// the poll loop, which resumes the partition and commits asynchronously.
// When partitions are revoked (a rebalance, close), the loop waits for
// their tasks and commits synchronously, so the next owner starts exactly
// after what was processed.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <string>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "kfk/consumer.h"
#include "kfk/producer.h"

namespace {

class WorkerPool {
 public:
  explicit WorkerPool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

// What the workers report back to the poll loop.
class Progress {
 public:
  void started(const kfk::TopicPartition& tp) {
    std::lock_guard<std::mutex> lock(mu_);
    busy_.insert(tp);
  }
  void finished(const kfk::TopicPartition& tp, int64_t next_offset, int64_t processed) {
    std::lock_guard<std::mutex> lock(mu_);
    busy_.erase(tp);
    done_[tp] = next_offset;
    processed_ += processed;
    cv_.notify_all();
  }
  // Partitions finished since the last call, with the offset to commit.
  std::map<kfk::TopicPartition, int64_t> take_done() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(done_, {});
  }
  void wait_idle(const std::vector<kfk::TopicPartition>& parts) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      for (auto& tp : parts)
        if (busy_.count(tp)) return false;
      return true;
    });
  }
  int64_t processed() {
    std::lock_guard<std::mutex> lock(mu_);
    return processed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<kfk::TopicPartition> busy_;
  std::map<kfk::TopicPartition, int64_t> done_;
  int64_t processed_ = 0;
};

// Commits what was processed before partitions go away. Runs on the poll
// thread, inside poll() or close().
class CommitOnRevoke : public kfk::RebalanceListener {
 public:
  explicit CommitOnRevoke(Progress& progress) : progress_(progress) {}
  void set_consumer(kfk::Consumer* c) { consumer_ = c; }
  void on_partitions_revoked(const std::vector<kfk::TopicPartition>& parts) override {
    progress_.wait_idle(parts);
    std::map<kfk::TopicPartition, kfk::OffsetAndMetadata> offsets;
    for (auto& [tp, next] : progress_.take_done()) offsets[tp].offset = next;
    if (!offsets.empty()) {
      kfk::Error err = consumer_->commit_sync(offsets);
      if (!err.ok()) std::fprintf(stderr, "commit on revoke: %s\n", err.to_string().c_str());
    }
  }

 private:
  Progress& progress_;
  kfk::Consumer* consumer_ = nullptr;
};

int produce(const std::string& bootstrap, int count) {
  std::unique_ptr<kfk::Producer> producer;
  if (!kfk::Producer::create({{"bootstrap.servers", bootstrap}}, &producer).ok()) return -1;
  for (int i = 0; i < count; ++i)
    producer->send(kfk::ProducerRecord("jobs", "job-" + std::to_string(i), "payload " + std::to_string(i)), nullptr);
  return producer->close(std::chrono::seconds(30)).ok() ? count : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_SERVERS   (e.g. localhost:9092)\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];
  const int kRecords = 1000;
  if (produce(bootstrap, kRecords) != kRecords) {
    std::fprintf(stderr, "producing failed\n");
    return 1;
  }

  Progress progress;
  auto listener = std::make_shared<CommitOnRevoke>(progress);
  kfk::ConsumerOptions options;
  options.rebalance_listener = listener;
  std::unique_ptr<kfk::Consumer> consumer;
  kfk::Error err = kfk::Consumer::create({{"bootstrap.servers", bootstrap},
                                          {"group.id", "worker-pool-example"},
                                          {"auto.offset.reset", "earliest"},
                                          {"enable.auto.commit", "false"}},  // we commit what was processed
                                         &consumer, options);
  if (!err.ok()) {
    std::fprintf(stderr, "config: %s\n", err.to_string().c_str());
    return 1;
  }
  listener->set_consumer(consumer.get());
  if (kfk::Error e = consumer->subscribe({"jobs"}); !e.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", e.to_string().c_str());
    return 1;
  }

  std::atomic<int64_t> checksum{0};
  {
    WorkerPool pool(4);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (progress.processed() < kRecords && std::chrono::steady_clock::now() < deadline) {
      auto batch = std::make_shared<kfk::ConsumerRecords>(consumer->poll(std::chrono::milliseconds(100)));
      if (!batch->error().ok()) {
        std::fprintf(stderr, "poll: %s\n", batch->error().to_string().c_str());
        if (batch->error().fatal()) return 1;
      }
      // One task per partition, records in order; the partition is paused
      // until its task finished.
      std::map<kfk::TopicPartition, std::vector<size_t>> by_partition;
      for (size_t i = 0; i < batch->size(); ++i)
        by_partition[kfk::TopicPartition(std::string((*batch)[i].topic), (*batch)[i].partition)].push_back(i);
      for (auto& entry : by_partition) {  // no structured binding: the lambda below captures these
        const kfk::TopicPartition& tp = entry.first;
        const std::vector<size_t>& indexes = entry.second;
        (void)consumer->pause({tp});  // fails only for a partition no longer assigned: harmless
        progress.started(tp);
        pool.submit([batch, tp, indexes, &progress, &checksum] {
          for (size_t i : indexes) {
            const kfk::ConsumerRecord& r = (*batch)[i];  // a view into the shared batch
            checksum += static_cast<int64_t>(r.value_view().size());
          }
          progress.finished(tp, (*batch)[indexes.back()].offset + 1, static_cast<int64_t>(indexes.size()));
        });
      }
      // Resume finished partitions and commit what they processed.
      auto done = progress.take_done();
      if (!done.empty()) {
        std::map<kfk::TopicPartition, kfk::OffsetAndMetadata> offsets;
        std::vector<kfk::TopicPartition> resume;
        for (auto& [tp, next] : done) {
          offsets[tp].offset = next;
          resume.push_back(tp);
        }
        (void)consumer->resume(resume);  // may fail for a partition revoked meanwhile: harmless
        consumer->commit_async(offsets, [](const auto&, const kfk::Error& e) {
          if (!e.ok()) std::fprintf(stderr, "commit: %s\n", e.to_string().c_str());
        });
      }
    }
  }  // the pool finishes its tasks

  // Commit the last finished tasks, then check that the group's committed
  // offsets cover every record.
  std::map<kfk::TopicPartition, kfk::OffsetAndMetadata> offsets;
  for (auto& [tp, next] : progress.take_done()) offsets[tp].offset = next;
  if (!offsets.empty() && !consumer->commit_sync(offsets).ok()) return 1;
  std::vector<kfk::TopicPartition> parts = consumer->assignment();
  std::map<kfk::TopicPartition, kfk::OffsetAndMetadata> committed;
  std::map<kfk::TopicPartition, int64_t> ends;
  if (!consumer->committed(parts, &committed).ok() || !consumer->end_offsets(parts, &ends).ok()) return 1;
  bool all_committed = true;
  for (auto& [tp, end] : ends) all_committed = all_committed && committed[tp].offset == end;
  std::printf("processed %lld records (%lld value bytes) on 4 workers; committed offsets %s the log ends\n",
              static_cast<long long>(progress.processed()), static_cast<long long>(checksum.load()),
              all_committed ? "match" : "DO NOT match");
  (void)consumer->close(std::chrono::seconds(10));  // the offsets were checked above
  return progress.processed() == kRecords && all_committed ? 0 : 1;
}
