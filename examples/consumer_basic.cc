// A plain group consumer: poll a batch, process it, commit it synchronously,
// and log assignment changes through a rebalance listener given to
// subscribe(). Ctrl-C (SIGINT/SIGTERM) ends the loop through wakeup(), which
// is safe to call from a signal handler.
//
//   ./build/examples/consumer_basic 127.0.0.1:9092 [TOPIC] [COUNT]
//
// So that a run shows something, it first writes COUNT records (default 20)
// to TOPIC (default "consumer-basic"); it stops once it has processed every
// record written by this run (or on Ctrl-C, or after 60 s), checks that the
// group's committed offsets cover them, and exits 0 when they do.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "kfk/consumer.h"
#include "kfk/producer.h"

namespace {

std::atomic<kfk::Consumer*> g_consumer{nullptr};

extern "C" void on_signal(int) {
  // wakeup() is async-signal-safe: the blocked poll() returns errc::kWakeup.
  if (kfk::Consumer* c = g_consumer.load()) c->wakeup();
}

// Logs what the group gives and takes. Given to subscribe(), after the
// consumer exists, so it may call the consumer (here: commit before
// partitions go to another member).
class LoggingListener : public kfk::RebalanceListener {
 public:
  explicit LoggingListener(kfk::Consumer& consumer) : consumer_(consumer) {}
  void on_partitions_assigned(const std::vector<kfk::TopicPartition>& partitions) override {
    std::printf("assigned:%s\n", list(partitions).c_str());
  }
  void on_partitions_revoked(const std::vector<kfk::TopicPartition>& partitions) override {
    // Everything processed so far is committed after each batch already;
    // committing here again is cheap and covers a batch cut short.
    kfk::Error e = consumer_.commit_sync();
    std::printf("revoked:%s (commit: %s)\n", list(partitions).c_str(), e.to_string().c_str());
  }
  void on_partitions_lost(const std::vector<kfk::TopicPartition>& partitions) override {
    // Another member owns them already: do not commit.
    std::printf("lost:%s\n", list(partitions).c_str());
  }

 private:
  static std::string list(const std::vector<kfk::TopicPartition>& partitions) {
    std::string s;
    for (const auto& tp : partitions) s += ' ' + tp.to_string();
    return s.empty() ? " (none)" : s;
  }
  kfk::Consumer& consumer_;
};

// Writes `count` records "<run>/record-<i>" (keyed, so spread over
// partitions).
bool write_demo_records(const std::string& bootstrap, const std::string& topic, const std::string& run, int count) {
  std::unique_ptr<kfk::Producer> producer;
  kfk::Error err = kfk::Producer::create({{"bootstrap.servers", bootstrap}}, &producer);
  if (!err.ok()) {
    std::fprintf(stderr, "producer: %s\n", err.to_string().c_str());
    return false;
  }
  std::atomic<int> failed{0};
  for (int i = 0; i < count; ++i)
    producer->send(kfk::ProducerRecord(topic, "key-" + std::to_string(i), run + "/record-" + std::to_string(i)),
                   [&](const kfk::RecordMetadata&, const kfk::Error& e) {
                     if (!e.ok()) failed.fetch_add(1);
                   });
  err = producer->flush(std::chrono::seconds(30));
  (void)producer->close(std::chrono::seconds(10));  // flush() above already said whether all were delivered
  if (!err.ok() || failed.load() != 0) {
    std::fprintf(stderr, "producing the demo records failed: %s\n", err.to_string().c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP [TOPIC] [COUNT]\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];
  const std::string topic = argc > 2 ? argv[2] : "consumer-basic";
  const int count = argc > 3 ? std::atoi(argv[3]) : 20;
  const std::string run = "run-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  if (!write_demo_records(bootstrap, topic, run, count)) return 1;

  std::unique_ptr<kfk::Consumer> consumer;
  kfk::Error err = kfk::Consumer::create({{"bootstrap.servers", bootstrap},
                                          {"group.id", "consumer-basic"},
                                          {"auto.offset.reset", "earliest"},
                                          {"enable.auto.commit", "false"}},  // commit_sync() after each batch
                                         &consumer);
  if (!err.ok()) {
    std::fprintf(stderr, "consumer: %s\n", err.to_string().c_str());
    return 1;
  }
  g_consumer = consumer.get();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  err = consumer->subscribe({topic}, std::make_shared<LoggingListener>(*consumer));
  if (!err.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", err.to_string().c_str());
    return 1;
  }

  // This run's records, by value; the group may also hand out older ones
  // (an earlier run's, not committed): they are processed all the same.
  int seen_this_run = 0;
  std::map<kfk::TopicPartition, int64_t> processed_up_to;  // next offset per partition
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool interrupted = false;
  while (seen_this_run < count && std::chrono::steady_clock::now() < deadline) {
    kfk::ConsumerRecords batch = consumer->poll(std::chrono::milliseconds(500));
    if (batch.error().code() == kfk::errc::kWakeup) {
      interrupted = true;
      break;
    }
    if (!batch.error().ok()) {
      // Retriable problems are handled inside; these are worth showing
      // (e.g. "Subscribed topic not available"). Fatal ones end the loop.
      std::fprintf(stderr, "poll: %s\n", batch.error().to_string().c_str());
      if (batch.error().fatal()) break;
      continue;
    }
    for (const kfk::ConsumerRecord& r : batch) {
      // Process: here, print it.
      std::printf("%s@%lld %.*s = %.*s\n", r.topic_partition().to_string().c_str(),
                  static_cast<long long>(r.offset), static_cast<int>(r.key_view().size()), r.key_view().data(),
                  static_cast<int>(r.value_view().size()), r.value_view().data());
      processed_up_to[r.topic_partition()] = r.offset + 1;
      if (r.value_view().starts_with(run + "/")) ++seen_this_run;
    }
    if (batch.empty()) continue;
    // The batch is processed: commit it before polling the next one.
    err = consumer->commit_sync();
    if (!err.ok()) std::fprintf(stderr, "commit: %s\n", err.to_string().c_str());
  }

  // What the group has committed now covers what was processed.
  std::vector<kfk::TopicPartition> parts;
  for (const auto& [tp, next] : processed_up_to) parts.push_back(tp);
  std::map<kfk::TopicPartition, kfk::OffsetAndMetadata> committed;
  kfk::Error ce = consumer->committed(parts, &committed);
  bool covered = ce.ok();
  for (const auto& [tp, next] : processed_up_to)
    if (committed.count(tp) == 0 || committed[tp].offset < next) covered = false;
  // Revokes through the listener (which commits), leaves the group; what
  // matters was checked with committed() above.
  (void)consumer->close(std::chrono::seconds(10));
  g_consumer = nullptr;
  std::printf("processed %d of this run's %d records%s; committed offsets %s\n", seen_this_run, count,
              interrupted ? " (interrupted)" : "", covered ? "cover them" : "do NOT cover them");
  return seen_this_run >= count && covered ? 0 : 1;
}
