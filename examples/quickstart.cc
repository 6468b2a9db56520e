// The quickstart: produce a stream of records with kfk::Producer, read it
// back with kfk::Consumer as a member of a consumer group, and print what
// happened, against the broker or cluster given on the command line (with
// auto-created topics of several partitions, e.g. broker-ref as
// tools/dev/quickstart.sh starts it):
//
//   ./build/examples/quickstart 127.0.0.1:9092        # 100,000 records
//   ./build/examples/quickstart 127.0.0.1:9092 50000  # 50,000 records
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "kfk/consumer.h"
#include "kfk/producer.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_SERVERS [RECORDS]   (e.g. localhost:9092 100000)\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];
  const long n = argc > 2 ? std::atol(argv[2]) : 100000;
  const std::string topic = "quickstart-orders";

  // --- Produce ---------------------------------------------------------------
  std::unique_ptr<kfk::Producer> producer;
  kfk::Error err = kfk::Producer::create(
      {{"bootstrap.servers", bootstrap}, {"compression.type", "lz4"}, {"linger.ms", "5"}}, &producer);
  if (!err.ok()) {
    std::fprintf(stderr, "producer: %s\n", err.to_string().c_str());
    return 1;
  }
  std::atomic<long> delivered{0}, failed{0};
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    kfk::ProducerRecord record(topic, "customer-" + std::to_string(i % 1000),
                               "{\"order\": " + std::to_string(i) + ", \"amount\": " + std::to_string(i % 97) + "}");
    record.add_header("source", "quickstart");
    producer->send(std::move(record), [&](const kfk::RecordMetadata&, const kfk::Error& e) {
      (e.ok() ? delivered : failed).fetch_add(1, std::memory_order_relaxed);
    });
  }
  err = producer->flush(std::chrono::seconds(60));
  const double produce_s = seconds_since(t0);
  const kfk::ProducerMetrics pm = producer->metrics();
  (void)producer->close(std::chrono::seconds(10));  // flush() above said whether all were delivered
  std::printf("produced %ld records (lz4, idempotent producer id %lld) in %.2f s: %.0f records/s, %llu requests\n",
              delivered.load(), static_cast<long long>(pm.producer_id), produce_s,
              static_cast<double>(delivered.load()) / produce_s, static_cast<unsigned long long>(pm.requests_sent));
  if (!err.ok() || failed.load() != 0) {
    std::fprintf(stderr, "produce failed: %ld records, %s\n", failed.load(), err.to_string().c_str());
    return 1;
  }

  // --- Consume ---------------------------------------------------------------
  std::unique_ptr<kfk::Consumer> consumer;
  err = kfk::Consumer::create({{"bootstrap.servers", bootstrap},
                               {"group.id", "quickstart"},
                               {"auto.offset.reset", "earliest"}},
                              &consumer);
  if (!err.ok()) {
    std::fprintf(stderr, "consumer: %s\n", err.to_string().c_str());
    return 1;
  }
  err = consumer->subscribe({topic});
  if (!err.ok()) {
    std::fprintf(stderr, "subscribe: %s\n", err.to_string().c_str());
    return 1;
  }
  std::map<int32_t, long> per_partition;
  std::map<int32_t, int64_t> next_offset;
  long got = 0, out_of_order = 0, bad_header = 0;
  t0 = std::chrono::steady_clock::now();
  while (got < n && seconds_since(t0) < 60) {
    kfk::ConsumerRecords records = consumer->poll(std::chrono::milliseconds(500));
    if (!records.error().ok()) {
      std::fprintf(stderr, "poll: %s\n", records.error().to_string().c_str());
      continue;
    }
    for (const kfk::ConsumerRecord& r : records) {
      if (next_offset.count(r.partition) && r.offset != next_offset[r.partition]) ++out_of_order;
      next_offset[r.partition] = r.offset + 1;
      if (r.headers.size() != 1 || r.headers[0].key != "source") ++bad_header;
      ++per_partition[r.partition];
      ++got;
    }
  }
  const double consume_s = seconds_since(t0);
  err = consumer->commit_sync();
  (void)consumer->close(std::chrono::seconds(10));  // the commit above is what counts
  std::printf("consumed %ld records back as group member in %.2f s: %.0f records/s\n", got, consume_s,
              static_cast<double>(got) / consume_s);
  for (const auto& [p, c] : per_partition)
    std::printf("  partition %d: %ld records, offsets 0..%lld\n", p, c, static_cast<long long>(next_offset[p] - 1));
  const bool ok = got == n && out_of_order == 0 && bad_header == 0 && err.ok();
  std::printf("%s\n", ok ? "OK: every record came back, in order, headers intact, offsets committed"
                         : "MISMATCH: see above");
  return ok ? 0 : 1;
}
