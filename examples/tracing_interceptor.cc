// A tracing interceptor: stamps every record with a W3C Trace Context
// `traceparent` header (https://www.w3.org/TR/trace-context/) in on_send(),
// and records each outcome in on_acknowledgement(), the way an
// OpenTelemetry integration would. (test/client/producer checks that such
// headers reach the broker byte for byte.)
#include <atomic>
#include <cstdio>
#include <random>
#include <string>

#include "kfk/producer.h"

namespace {

class TraceparentInterceptor : public kfk::ProducerInterceptor {
 public:
  // Application threads: must be thread-safe.
  kfk::ProducerRecord on_send(kfk::ProducerRecord record) override {
    // version 00, a 16-byte trace id, an 8-byte parent span id, flags 01
    // (sampled). A real tracer takes the ids from the current span.
    record.add_header("traceparent", "00-" + hex(16) + "-" + hex(8) + "-01");
    stamped_.fetch_add(1, std::memory_order_relaxed);
    return record;
  }
  // The callback thread.
  void on_acknowledgement(const kfk::RecordMetadata& md, const kfk::Error& err) override {
    if (err.ok())
      acked_.fetch_add(1, std::memory_order_relaxed);
    else
      std::fprintf(stderr, "span error on %.*s: %s\n", static_cast<int>(md.topic.size()), md.topic.data(),
                   err.to_string().c_str());
  }
  int stamped() const { return stamped_.load(); }
  int acked() const { return acked_.load(); }

 private:
  static std::string hex(int bytes) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < bytes; ++i) {
      auto b = static_cast<unsigned>(rng() & 0xff);
      s += digits[b >> 4];
      s += digits[b & 15];
    }
    return s;
  }
  std::atomic<int> stamped_{0}, acked_{0};
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_SERVERS   (e.g. localhost:9092)\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];
  auto tracer = std::make_shared<TraceparentInterceptor>();
  kfk::ProducerOptions options;
  options.interceptors.push_back(tracer);
  std::unique_ptr<kfk::Producer> producer;
  kfk::Error err = kfk::Producer::create({{"bootstrap.servers", bootstrap}}, &producer, options);
  if (!err.ok()) {
    std::fprintf(stderr, "config: %s\n", err.to_string().c_str());
    return 1;
  }
  for (int i = 0; i < 1000; ++i) producer->send(kfk::ProducerRecord("traced", "order-" + std::to_string(i)), nullptr);
  // A demo of the interceptor: its counts below show what was acknowledged.
  (void)producer->flush(std::chrono::seconds(30));
  (void)producer->close(std::chrono::seconds(10));
  std::printf("stamped %d records with traceparent, %d acknowledged\n", tracer->stamped(), tracer->acked());
  return tracer->stamped() == 1000 && tracer->acked() == 1000 ? 0 : 1;
}
