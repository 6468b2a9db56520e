// Asynchronous sending: send() returns at once; each record's callback runs
// on the producer's callback thread when the broker answered. flush() waits
// for everything sent so far.
#include <atomic>
#include <cstdio>
#include <string>

#include "kfk/producer.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_SERVERS   (e.g. localhost:9092)\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];

  std::unique_ptr<kfk::Producer> producer;
  kfk::Error err = kfk::Producer::create({{"bootstrap.servers", bootstrap},
                                          {"linger.ms", "5"},
                                          {"compression.type", "lz4"}},
                                         &producer);
  if (!err.ok()) {
    std::fprintf(stderr, "config: %s\n", err.to_string().c_str());
    return 1;
  }
  constexpr int kRecords = 100000;
  std::atomic<int> delivered{0}, failed{0};
  for (int i = 0; i < kRecords; ++i) {
    kfk::ProducerRecord record("clicks", "user-" + std::to_string(i % 1000), "page-" + std::to_string(i));
    producer->send(std::move(record), [&](const kfk::RecordMetadata&, const kfk::Error& e) {
      // Runs on the callback thread: keep it short.
      if (e.ok()) {
        delivered.fetch_add(1, std::memory_order_relaxed);
      } else if (failed.fetch_add(1, std::memory_order_relaxed) == 0) {
        std::fprintf(stderr, "first failure: %s\n", e.to_string().c_str());
      }
    });
  }
  kfk::Error f = producer->flush(std::chrono::seconds(60));
  kfk::ProducerMetrics m = producer->metrics();
  std::printf("delivered %d, failed %d, %llu requests, %llu batches, %.1f MB\n", delivered.load(), failed.load(),
              static_cast<unsigned long long>(m.requests_sent), static_cast<unsigned long long>(m.batches_sent),
              static_cast<double>(m.bytes_sent) / 1e6);
  (void)producer->close(std::chrono::seconds(10));  // every record reported itself to its callback
  return f.ok() && delivered.load() == kRecords ? 0 : 1;
}
