// Custom assignors: register_assignor / create_assignor and
// partition.assignment.strategy validation.
#include <doctest/doctest.h>

#include "assignor_test_util.h"
#include "client/core/resolved_config.h"
#include "kfk/config.h"

using namespace assignor_test;

namespace {

// Everything to the first member (a real custom assignor would be smarter).
class AllToFirst final : public kfk::PartitionAssignor {
 public:
  std::string name() const override { return "test-all-to-first"; }
  kfk::Error assign(const kfk::GroupAssignmentInput& in, Assignment* out) override {
    for (const auto& [id, m] : in.members) (*out)[id];
    if (in.members.empty()) return kfk::Error();
    auto& first = (*out)[in.members.begin()->first];
    for (const auto& [topic, n] : in.partitions_per_topic)
      for (int32_t p = 0; p < n; ++p) first.partitions.emplace_back(topic, p);
    return kfk::Error();
  }
};

kfk::Error validate_strategy(const std::string& strategy, kfk::core::ResolvedConfig* rc) {
  kfk::Config c{{"bootstrap.servers", "localhost:9092"}, {"group.id", "g"},
                {"partition.assignment.strategy", strategy}};
  return kfk::core::validate(c, kfk::core::ClientKind::kConsumer, rc);
}

}  // namespace

TEST_CASE("assignor: create_assignor knows the built-ins, also by Java class name") {
  for (const char* n : {"range", "roundrobin", "sticky", "cooperative-sticky"}) CHECK(make(n)->name() == n);
  CHECK(make("org.apache.kafka.clients.consumer.CooperativeStickyAssignor")->name() == "cooperative-sticky");
  CHECK(make("RangeAssignor")->name() == "range");
  std::unique_ptr<kfk::PartitionAssignor> a;
  kfk::Error e = kfk::create_assignor("nope", a);
  CHECK(e.code() == kfk::errc::kInvalidClientConfig);
  CHECK(e.message().find("'nope'") != std::string::npos);
  CHECK(e.message().find("partition.assignment.strategy") != std::string::npos);
  CHECK(e.message().find("cooperative-sticky") != std::string::npos);  // lists the known ones
  CHECK(a == nullptr);
}

TEST_CASE("assignor: a registered assignor is accepted by config validation and created by name") {
  const std::string name = "test-all-to-first";
  kfk::core::ResolvedConfig rc;
  kfk::Error e = validate_strategy(name + ",range", &rc);
  CHECK(e.code() == kfk::errc::kInvalidClientConfig);  // not registered yet
  CHECK(e.message().find("partition.assignment.strategy") != std::string::npos);
  CHECK(e.message().find(name) != std::string::npos);

  REQUIRE(kfk::register_assignor(name, [] { return std::make_unique<AllToFirst>(); }).ok());
  e = validate_strategy(name + ",range", &rc);
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  CHECK(rc.assignors() == std::vector<std::string>{name, "range"});

  auto a = make(name);
  CHECK(a->name() == name);
  kfk::GroupAssignmentInput in;
  in.partitions_per_topic = {{"t", 2}};
  add(in, member("m1", {"t"}));
  add(in, member("m2", {"t"}));
  Assignment out = run(*a, in);
  CHECK(parts(out, "m1").size() == 2);
  std::unique_ptr<kfk::PartitionAssignor> unused;
  CHECK(kfk::create_assignor("nope", unused).message().find(name) != std::string::npos);  // listed as known

  // Taken: a second registration fails and the first stays.
  CHECK(kfk::register_assignor(name, [] { return std::make_unique<AllToFirst>(); }).code() ==
        kfk::errc::kInvalidArgument);

  CHECK(kfk::unregister_assignor(name));
  CHECK_FALSE(kfk::unregister_assignor(name));
  CHECK(validate_strategy(name, &rc).code() == kfk::errc::kInvalidClientConfig);
  CHECK(kfk::create_assignor(name, unused).code() == kfk::errc::kInvalidClientConfig);
}

TEST_CASE("assignor: built-in and unusable names cannot be registered") {
  auto factory = [] { return std::make_unique<AllToFirst>(); };
  for (const char* n : {"range", "roundrobin", "sticky", "cooperative-sticky", "StickyAssignor",
                        "org.apache.kafka.clients.consumer.RangeAssignor", "", "a,b", " padded"}) {
    INFO(n);
    CHECK(kfk::register_assignor(n, factory).code() == kfk::errc::kInvalidArgument);
  }
  CHECK(kfk::register_assignor("test-no-factory", nullptr).code() == kfk::errc::kInvalidArgument);
  CHECK_FALSE(kfk::unregister_assignor("range"));
  CHECK(make("range")->name() == "range");

  // A factory that returns nothing is reported, not handed out.
  REQUIRE(kfk::register_assignor("test-null", [] { return std::unique_ptr<kfk::PartitionAssignor>(); }).ok());
  std::unique_ptr<kfk::PartitionAssignor> a;
  CHECK(kfk::create_assignor("test-null", a).code() == kfk::errc::kInvalidArgument);
  CHECK(a == nullptr);
  CHECK(kfk::unregister_assignor("test-null"));
}
