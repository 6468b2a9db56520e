// The metrics structs users read can grow: a program built against an older
// header passes a smaller size, and the library writes only the fields
// within it (lib/client/core/growable_struct.h).
#include <doctest/doctest.h>

#include <cstddef>
#include <memory>

#include "kfk/consumer.h"
#include "kfk/producer.h"

using namespace kfk;

namespace {

// Calls the protected fill_metrics() as Producer::metrics() does, with a
// size of our choosing (what an older header would have said).
struct ProducerPeek : Producer {
  static void fill(const Producer& p, ProducerMetrics* out, size_t size) { (p.*(&ProducerPeek::fill_metrics))(out, size); }
};
struct ConsumerPeek : Consumer {
  static void fill(const Consumer& c, ConsumerMetrics* out, size_t size) { (c.*(&ConsumerPeek::fill_metrics))(out, size); }
};

}  // namespace

TEST_CASE("metrics: an older caller's ProducerMetrics gets only the fields it knows") {
  std::unique_ptr<Producer> p;
  REQUIRE(Producer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}}, &p).ok());
  ProducerMetrics m;
  m.records_sent = 7;
  m.queued_batches = 7;
  m.producer_id = 7;
  m.producer_epoch = 7;
  // A header whose struct ended after queued_batches.
  ProducerPeek::fill(*p, &m, offsetof(ProducerMetrics, queued_batches) + sizeof m.queued_batches);
  CHECK(m.records_sent == 0);
  CHECK(m.queued_batches == 0);
  CHECK(m.producer_id == 7);  // beyond the caller's struct: untouched
  CHECK(m.producer_epoch == 7);
  // Through metrics(): everything.
  CHECK(p->metrics().producer_id == -1);
  CHECK(p->close().ok());
}

TEST_CASE("metrics: an older caller's ConsumerMetrics gets only the fields it knows") {
  std::unique_ptr<Consumer> c;
  REQUIRE(Consumer::create(Config{{"bootstrap.servers", "127.0.0.1:1"}, {"group.id", "g"}}, &c).ok());
  ConsumerMetrics m;
  m.commit_failures = 7;
  m.generation_id = 7;
  m.member_id = "kept";
  m.buffered_fetches = 7;
  // A header whose struct ended after generation_id.
  ConsumerPeek::fill(*c, &m, offsetof(ConsumerMetrics, generation_id) + sizeof m.generation_id);
  CHECK(m.commit_failures == 0);
  CHECK(m.generation_id == -1);
  CHECK(m.member_id == "kept");
  CHECK(m.buffered_fetches == 7);
  CHECK(c->metrics().member_id.empty());
  CHECK(c->close().ok());
}
