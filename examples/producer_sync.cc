// Synchronous sending: wait for each record's acknowledgement through the
// future send() returns. Simple, and slow (one round trip per record):
// fine for rare, important records; use callbacks for streams.
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
  kfk::Error err = kfk::Producer::create({{"bootstrap.servers", bootstrap}, {"acks", "all"}}, &producer);
  if (!err.ok()) {
    std::fprintf(stderr, "config: %s\n", err.to_string().c_str());
    return 1;
  }
  for (int i = 0; i < 5; ++i) {
    kfk::ProducerRecord record("payments", "account-" + std::to_string(i), "{\"amount\": " + std::to_string(10 * i) + "}");
    kfk::DeliveryResult r = producer->send(std::move(record)).get();  // blocks until acknowledged
    if (!r.error.ok()) {
      std::fprintf(stderr, "send failed: %s\n", r.error.to_string().c_str());
      return 1;
    }
    std::printf("payments-%d@%lld\n", r.metadata.partition, static_cast<long long>(r.metadata.offset));
  }
  return producer->close(std::chrono::seconds(10)).ok() ? 0 : 1;
}
