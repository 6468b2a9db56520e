// Property tests over random group shapes (seeded, so failures reproduce):
// every assignor's assignment is complete and valid, balanced where it
// promises balance, sticky where it promises stickiness; cooperative-sticky
// never hands over a partition its owner still holds, and the follow-up
// rebalance completes the assignment.
#include <doctest/doctest.h>

#include <chrono>
#include <random>

#include "assignor_test_util.h"
#include "client/consumer/assignors/sticky_user_data.h"

using namespace assignor_test;

namespace {

const char* const kAll[] = {"range", "roundrobin", "sticky", "cooperative-sticky"};

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); }  // inclusive
  bool chance(double p) { return std::bernoulli_distribution(p)(gen); }
};

std::vector<std::string> random_subscription(Rng& r, const std::vector<std::string>& topics) {
  std::vector<std::string> out;
  for (const auto& t : topics)
    if (r.chance(0.5)) out.push_back(t);
  if (out.empty()) out.push_back(topics[static_cast<size_t>(r.range(0, static_cast<int>(topics.size()) - 1))]);
  if (r.chance(0.1)) out.push_back("ghost");  // subscribed, but does not exist
  std::sort(out.begin(), out.end());
  return out;
}

struct Shape {
  kfk::GroupAssignmentInput in;
  std::vector<std::string> topics;
  std::vector<std::string> common;  // the shared subscription when `equal`
  bool equal = false;
  int next_id = 0;
};

std::string new_member(Shape& s, Rng& r) {
  // Ids not in join order, so member order differs from arrival order.
  std::string id = 'm' + std::to_string(r.range(100, 999)) + "-" + std::to_string(s.next_id++);
  add(s.in, member(id, s.equal ? s.common : random_subscription(r, s.topics)));
  return id;
}

Shape random_shape(Rng& r) {
  Shape s;
  const int topics = r.range(1, 10);
  for (int t = 0; t < topics; ++t) {
    s.topics.push_back("topic" + std::to_string(t));
    s.in.partitions_per_topic[s.topics.back()] = r.range(1, 50);
  }
  s.equal = r.chance(0.5);
  s.common = random_subscription(r, s.topics);
  const int members = r.range(1, 20);
  for (int m = 0; m < members; ++m) new_member(s, r);
  return s;
}

// Random previous ownership, stale and conflicting claims included: each
// partition may be listed by a random member (subscribed or not), sometimes by
// a second one; members have random generations.
void random_ownership(Shape& s, Rng& r) {
  std::vector<kfk::MemberSubscription*> ms;
  for (auto& [id, m] : s.in.members) {
    m.owned_partitions.clear();
    m.generation_id = r.range(1, 3);
    ms.push_back(&m);
  }
  auto pick = [&] { return ms[static_cast<size_t>(r.range(0, static_cast<int>(ms.size()) - 1))]; };
  for (const auto& [topic, n] : s.in.partitions_per_topic)
    for (int32_t p = 0; p < n; ++p) {
      if (r.chance(0.6)) pick()->owned_partitions.emplace_back(topic, p);
      if (r.chance(0.1)) pick()->owned_partitions.emplace_back(topic, p);
    }
  if (r.chance(0.2)) pick()->owned_partitions.emplace_back("deleted-topic", 0);
  for (auto* m : ms) {
    std::sort(m->owned_partitions.begin(), m->owned_partitions.end());
    m->owned_partitions.erase(std::unique(m->owned_partitions.begin(), m->owned_partitions.end()),
                              m->owned_partitions.end());
    m->user_data = kfk::assignors::encode_sticky_user_data(m->owned_partitions, m->generation_id);
  }
}

void check_per_topic_balance(const kfk::GroupAssignmentInput& in, const Assignment& out, const std::string& ctx) {
  INFO(ctx);
  for (const auto& entry : in.partitions_per_topic) {
    const std::string& topic = entry.first;
    size_t lo = SIZE_MAX, hi = 0;
    for (const auto& [id, m] : in.members) {
      if (!subscribes(m, topic)) continue;
      size_t c = 0;
      for (const auto& p : out.at(id).partitions) c += p.topic == topic ? 1 : 0;
      lo = std::min(lo, c), hi = std::max(hi, c);
    }
    if (hi > 0) CHECK_MESSAGE(hi - lo <= 1, topic);
  }
}

// Assign with `name`, run the follow-up rebalances for cooperative-sticky,
// and check what the assignor promises. Returns the final assignment.
Assignment assign_and_check(const std::string& name, Shape& s, const std::string& ctx) {
  INFO(ctx << " assignor=" << name << " equal=" << s.equal << " members=" << s.in.members.size());
  auto a = make(name);
  Assignment out = run(*a, s.in);
  if (name == "cooperative-sticky") {
    check_withheld_are_owned(s.in, out, ctx);
    check_no_handover(s.in, out, ctx);
    int32_t generation = 10;
    out = settle(*a, s.in, out, 6, generation);
  }
  check_complete(s.in, out, ctx);
  if (name == "range") {
    check_per_topic_balance(s.in, out, ctx);
  } else if (s.equal) {
    auto [lo, hi] = min_max(out);
    CHECK(hi - lo <= 1);
  } else if (name != "roundrobin") {
    check_sticky_balance(s.in, out, ctx);
  }
  return out;
}

}  // namespace

TEST_CASE("assignor: properties over random group shapes and random previous ownership") {
  Rng r(20240501);
  for (int shape = 0; shape < 300; ++shape) {
    Shape s = random_shape(r);
    random_ownership(s, r);
    for (const char* name : kAll) {
      Shape copy = s;  // settle() rewrites ownership
      assign_and_check(name, copy, "shape " + std::to_string(shape));
    }
  }
}

TEST_CASE("assignor: sticky and cooperative-sticky across rebalances with members joining and leaving") {
  for (const char* name : {"sticky", "cooperative-sticky"}) {
    const bool coop = std::string(name) == "cooperative-sticky";
    Rng r(7);
    int leaves = 0, joins = 0, steady = 0;
    for (int shape = 0; shape < 200; ++shape) {
      Shape s = random_shape(r);
      std::map<std::string, std::unique_ptr<kfk::PartitionAssignor>> instances;  // each member's own
      Assignment prev;
      int32_t generation = 0;
      for (int step = 0; step < 6; ++step) {
        const std::string ctx = std::string(name) + " shape " + std::to_string(shape) + " step " + std::to_string(step);
        INFO(ctx);
        // What each member reports: eager members their assignor's user_data,
        // cooperative ones their owned partitions.
        for (auto& [id, m] : s.in.members) {
          auto& inst = instances[id];
          if (!inst) inst = make(name);
          m.user_data = inst->subscription_user_data(m.topics);
          m.owned_partitions = coop && prev.count(id) ? prev[id].partitions : std::vector<kfk::TopicPartition>{};
          m.generation_id = coop && prev.count(id) ? generation : -1;
        }
        const size_t total = assignable(s.in).size();
        const size_t members = s.in.members.size();
        auto leader = make(name);
        Assignment out = run(*leader, s.in);
        if (coop) check_no_handover(s.in, out, ctx);

        // Stickiness on the first round (before any follow-up): with equal
        // subscriptions everyone keeps what it had, up to its quota.
        if (s.equal && step > 0) {
          for (const auto& entry : prev) {
            const std::string& id = entry.first;
            const kfk::MemberAssignment& a = entry.second;
            if (!out.count(id)) continue;  // left
            const auto& now = out[id].partitions;
            size_t kept = 0;
            for (const auto& p : a.partitions) kept += std::binary_search(now.begin(), now.end(), p) ? 1 : 0;
            CHECK_MESSAGE(kept >= std::min(a.partitions.size(), total / members), id);
          }
        }
        if (coop) {
          int32_t g = generation;
          for (auto& [id, m] : s.in.members) m.generation_id = generation;
          out = settle(*leader, s.in, out, 6, g);
          generation = g;
        }
        check_complete(s.in, out, ctx);
        if (s.equal) {
          auto [lo, hi] = min_max(out);
          CHECK(hi - lo <= 1);
        } else {
          check_sticky_balance(s.in, out, ctx);
        }
        ++generation;
        for (auto& [id, inst] : instances)
          if (out.count(id)) inst->on_assignment(out[id], generation);
        prev = out;

        // The membership change for the next step.
        const int change = r.range(0, 2);
        if (change == 0 && s.in.members.size() > 1) {
          auto it = s.in.members.begin();
          std::advance(it, r.range(0, static_cast<int>(s.in.members.size()) - 1));
          const std::string gone = it->first;
          s.in.members.erase(it);
          instances.erase(gone);
          prev.erase(gone);
          ++leaves;
          // Leaving a balanced group with equal subscriptions: every remaining
          // member keeps everything it had, in the very first round.
          if (s.equal) {
            for (auto& [id, m] : s.in.members) {
              m.user_data = instances[id]->subscription_user_data(m.topics);
              m.owned_partitions = coop ? prev[id].partitions : std::vector<kfk::TopicPartition>{};
              m.generation_id = coop ? generation : -1;
            }
            Assignment after = run(*make(name), s.in);
            check_complete(s.in, after, ctx + " after a leave");
            for (const auto& entry : prev)
              for (const auto& p : entry.second.partitions)
                CHECK_MESSAGE(std::binary_search(after[entry.first].partitions.begin(),
                                                 after[entry.first].partitions.end(), p),
                              entry.first << " lost " << p.to_string() << " when another member left");
          }
        } else if (change == 1) {
          new_member(s, r);
          ++joins;
        } else {
          ++steady;
          // Nothing changed: a rebalance now gives the same assignment.
          for (auto& [id, m] : s.in.members) {
            m.user_data = instances[id]->subscription_user_data(m.topics);
            m.owned_partitions = coop ? prev[id].partitions : std::vector<kfk::TopicPartition>{};
            m.generation_id = coop ? generation : -1;
          }
          CHECK(same_partitions(run(*make(name), s.in), prev));
        }
      }
    }
    MESSAGE(std::string(name) << ": " << leaves << " leaves, " << joins << " joins, " << steady << " steady rebalances");
  }
}

TEST_CASE("assignor: sticky at scale, 1000 members and 10000 partitions") {
  using Clock = std::chrono::steady_clock;
  for (const bool equal : {true, false}) {
    for (const char* name : {"sticky", "cooperative-sticky"}) {
      Rng r(99);
      Shape s;
      s.equal = equal;
      for (int t = 0; t < 100; ++t) {
        s.topics.push_back("topic" + std::to_string(t));
        s.in.partitions_per_topic[s.topics.back()] = 100;
      }
      s.common = s.topics;
      for (int m = 0; m < 1000; ++m) {
        std::string id = "member-" + std::to_string(m);
        std::vector<std::string> topics = s.topics;
        if (!equal) {
          std::shuffle(topics.begin(), topics.end(), r.gen);
          topics.resize(static_cast<size_t>(r.range(10, 60)));
          std::sort(topics.begin(), topics.end());
        }
        add(s.in, member(id, topics));
      }
      auto a = make(name);
      auto t0 = Clock::now();
      Assignment first = run(*a, s.in);
      auto t1 = Clock::now();
      check_complete(s.in, first, "initial");
      check_sticky_balance(s.in, first, "initial");

      // One member leaves, another joins: everyone reports what it owns.
      s.in.members.erase("member-500");
      add(s.in, member("member-new", s.topics));
      for (auto& [id, m] : s.in.members) {
        m.owned_partitions = first.count(id) ? first[id].partitions : std::vector<kfk::TopicPartition>{};
        m.generation_id = 1;
        m.user_data = kfk::assignors::encode_sticky_user_data(m.owned_partitions, 1);
      }
      auto t2 = Clock::now();
      Assignment second = run(*a, s.in);
      auto t3 = Clock::now();
      check_sound(s.in, second, "rebalance");
      if (std::string(name) == "sticky") check_sticky_balance(s.in, second, "rebalance");
      auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
      MESSAGE(std::string(name) << std::string(equal ? " equal" : " unequal") << " subscriptions: initial " << ms(t1 - t0)
                   << " ms, rebalance " << ms(t3 - t2) << " ms");
    }
  }
}
