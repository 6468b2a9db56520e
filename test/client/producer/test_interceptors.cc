// InterceptorChain: order, isolation from throwing interceptors, and the
// acknowledgement path through completed batches.
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/producer/interceptors.h"
#include "client/producer/record_accumulator.h"

using kfk::ProducerRecord;
using kfk::producer::InterceptorChain;

namespace {

struct Tagger : kfk::ProducerInterceptor {
  std::string tag;
  std::vector<std::string>* acks;
  int closes = 0;
  Tagger(std::string t, std::vector<std::string>* a) : tag(std::move(t)), acks(a) {}
  ProducerRecord on_send(ProducerRecord r) override {
    r.add_header("via", tag);
    return r;
  }
  void on_acknowledgement(const kfk::RecordMetadata& md, const kfk::Error& err) override {
    acks->push_back(tag + ":" + std::to_string(md.offset) + ":" + (err.ok() ? "ok" : err.name()));
  }
  void close() override { ++closes; }
};

// Mangles the record it gets, then throws: the chain must ignore both.
struct Thrower : kfk::ProducerInterceptor {
  ProducerRecord on_send(ProducerRecord r) override {
    r.value = kfk::Bytes("mangled");
    r.headers.clear();
    throw std::runtime_error("boom");
  }
  void on_acknowledgement(const kfk::RecordMetadata&, const kfk::Error&) override { throw 42; }
  void close() override { throw std::logic_error("close boom"); }
};

}  // namespace

TEST_CASE("interceptors run in order and a throwing one is skipped, logged, harmless") {
  std::vector<std::string> acks, logs;
  auto a = std::make_shared<Tagger>("a", &acks);
  auto b = std::make_shared<Tagger>("b", &acks);
  InterceptorChain chain({a, std::make_shared<Thrower>(), b, nullptr},
                         [&](std::string_view m) { logs.emplace_back(m); });
  CHECK(chain.size() == 3);  // null entries dropped

  ProducerRecord out = chain.on_send(ProducerRecord("t", "k", "v"));
  REQUIRE(out.headers.size() == 2);
  CHECK(out.headers[0].value == "a");
  CHECK(out.headers[1].value == "b");
  CHECK(out.value->view() == "v");  // the thrower's changes are not seen
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].find("boom") != std::string::npos);
  CHECK(logs[0].find("#1") != std::string::npos);

  kfk::RecordMetadata md;
  md.topic = "t";
  md.offset = 7;
  chain.on_acknowledgement(md, kfk::Error());
  CHECK(acks == std::vector<std::string>{"a:7:ok", "b:7:ok"});
  CHECK(logs.size() == 2);  // the thrower's `throw 42` was caught too

  acks.clear();
  chain.on_send_error(ProducerRecord("t", "v"), "t", -1, kfk::Error::from_code(kfk::errc::kQueueFull));
  CHECK(acks == std::vector<std::string>{"a:-1:QUEUE_FULL", "b:-1:QUEUE_FULL"});

  chain.close();
  chain.close();  // once only
  CHECK(a->closes == 1);
  CHECK(b->closes == 1);
  CHECK(logs.size() == 4);
}

TEST_CASE("an empty chain passes records through untouched") {
  InterceptorChain chain;
  CHECK(chain.empty());
  std::string payload = "zero-copy";
  ProducerRecord r("t", kfk::Bytes::borrow(payload));
  ProducerRecord out = chain.on_send(std::move(r));
  CHECK(out.value->borrowed());
  CHECK(reinterpret_cast<const char*>(out.value->data()) == payload.data());
}

TEST_CASE("completed batches acknowledge each record to the interceptors before its callback") {
  std::vector<std::string> events;
  auto tag = std::make_shared<Tagger>("i", &events);
  InterceptorChain chain({tag});
  kfk::producer::AccumulatorConfig cfg;
  cfg.interceptors = &chain;
  kfk::producer::RecordAccumulator acc(cfg);
  for (int i = 0; i < 3; ++i) {
    kfk::ProducerRecord rec("t", "k", 'v' + std::to_string(i));
    auto r = acc.append(rec, 0, 1000, [&events, i](const kfk::RecordMetadata& md, const kfk::Error&) {
      events.push_back("cb" + std::to_string(i) + ":" + std::to_string(md.offset));
    }, 0);
    REQUIRE(r.error.ok());
  }
  std::vector<kfk::producer::BatchPtr> out;
  const kfk::producer::PartitionRef parts[] = {{"t", 0}};
  acc.drain(1, parts, 1 << 20, 100, out);
  REQUIRE(out.size() == 1);
  kfk::producer::ProducerBatch::complete(std::move(out[0]), 40, -1, kfk::Error());
  CHECK(events == std::vector<std::string>{"i:40:ok", "cb0:40", "i:41:ok", "cb1:41", "i:42:ok", "cb2:42"});
}
