// kfk::Bytes, ProducerRecord, RecordMetadata and DeliveryCallback.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kfk/record.h"

using kfk::Bytes;
using kfk::DeliveryCallback;
using kfk::ProducerRecord;

TEST_CASE("Bytes: owning constructors move, views copy, borrow does not") {
  std::string big(100, 'x');
  const char* big_data = big.data();
  Bytes moved(std::move(big));
  CHECK(!moved.borrowed());
  CHECK(reinterpret_cast<const char*>(moved.data()) == big_data);  // no copy
  CHECK(moved.size() == 100);

  std::vector<uint8_t> v(64, 7);
  const uint8_t* v_data = v.data();
  Bytes from_vec(std::move(v));
  CHECK(reinterpret_cast<const uint8_t*>(from_vec.data()) == v_data);

  std::string src = "hello";
  Bytes copied{std::string_view(src)};
  src[0] = 'j';
  CHECK(copied.view() == "hello");

  Bytes lit = "literal";
  CHECK(lit.view() == "literal");
  const char* null_str = nullptr;
  CHECK(Bytes(null_str).empty());

  std::string backing = "borrowed bytes";
  Bytes b = Bytes::borrow(backing);
  CHECK(b.borrowed());
  CHECK(reinterpret_cast<const char*>(b.data()) == backing.data());
  b.make_owned();
  CHECK(!b.borrowed());
  backing[0] = 'B';
  CHECK(b.view() == "borrowed bytes");

  // Moving a Bytes keeps its contents valid (small-string storage included).
  Bytes small("ab");
  Bytes small2 = std::move(small);
  CHECK(small2.view() == "ab");
  CHECK(Bytes("x") == Bytes(std::vector<uint8_t>{'x'}));
}

TEST_CASE("ProducerRecord: constructors cover keyless, keyed, tombstone and fixed partition") {
  ProducerRecord a("t", "v");
  CHECK(a.topic == "t");
  CHECK(!a.key.has_value());
  REQUIRE(a.value.has_value());
  CHECK(a.value->view() == "v");

  ProducerRecord b("t", "k", "v");
  CHECK(b.key->view() == "k");
  CHECK(!b.partition.has_value());

  ProducerRecord tomb("t", "k", std::nullopt);
  CHECK(!tomb.value.has_value());

  ProducerRecord fixed("t", 3, std::nullopt, std::string("payload"));
  CHECK(fixed.partition == 3);
  CHECK(!fixed.key.has_value());

  fixed.add_header("h1", "v1").add_header("h2", std::nullopt);
  REQUIRE(fixed.headers.size() == 2);
  CHECK(fixed.headers[1].key == "h2");
  CHECK(!fixed.headers[1].value.has_value());

  std::string payload = "not copied";
  ProducerRecord borrowed("t", Bytes::borrow(payload));
  CHECK(borrowed.value->borrowed());
  borrowed.make_owned();
  CHECK(!borrowed.value->borrowed());
}

TEST_CASE("DeliveryCallback: inline and heap storage, moves, empty states") {
  int calls = 0;
  kfk::RecordMetadata md;
  md.offset = 5;
  kfk::Error ok;

  DeliveryCallback empty;
  CHECK(!empty);
  DeliveryCallback null_cb = nullptr;
  CHECK(!null_cb);
  void (*null_fn)(const kfk::RecordMetadata&, const kfk::Error&) = nullptr;
  DeliveryCallback from_null_fn = null_fn;
  CHECK(!from_null_fn);

  DeliveryCallback small = [&calls](const kfk::RecordMetadata& m, const kfk::Error&) { calls += static_cast<int>(m.offset); };
  REQUIRE(small);
  small(md, ok);
  CHECK(calls == 5);

  // A capture larger than the inline buffer goes to the heap; still works
  // after moves.
  struct Big {
    char pad[200];
  };
  auto shared = std::make_shared<int>(0);
  DeliveryCallback big = [shared, pad = Big{}](const kfk::RecordMetadata&, const kfk::Error&) {
    (void)pad;
    ++*shared;
  };
  DeliveryCallback moved = std::move(big);
  CHECK(!big);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  moved(md, ok);
  CHECK(*shared == 1);
  CHECK(shared.use_count() == 2);
  moved.reset();
  CHECK(shared.use_count() == 1);  // the capture was destroyed

  std::function<void(const kfk::RecordMetadata&, const kfk::Error&)> fn = [&](const kfk::RecordMetadata&,
                                                                           const kfk::Error& e) {
    calls += e.ok() ? 100 : 1000;
  };
  DeliveryCallback from_fn = fn;
  DeliveryCallback assigned;
  assigned = std::move(from_fn);
  assigned(md, ok);
  CHECK(calls == 105);

  // Move-only captures are fine.
  auto owned = std::make_unique<int>(9);
  DeliveryCallback move_only = [p = std::move(owned), &calls](const kfk::RecordMetadata&, const kfk::Error&) {
    calls += *p;
  };
  move_only(md, ok);
  CHECK(calls == 114);
}
