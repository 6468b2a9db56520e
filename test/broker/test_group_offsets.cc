// Group coordinator offsets and administration through real requests:
// OffsetCommit / OffsetFetch (all versions' shapes, multi-group v8+),
// generation checks, DescribeGroups / ListGroups / DeleteGroups /
// OffsetDelete, and a restart on the same data dir (state rebuilt from
// __consumer_offsets).

#include "group_test_util.h"
#include "kfk_test/temp_dir.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

std::map<std::string, std::string> fast_config() {
  return {{"group.initial.rebalance.delay.ms", "0"}, {"group.min.session.timeout.ms", "100"},
          {"offsets.topic.num.partitions", "50"}, {"num.partitions", "3"}};
}

// The log end offset of __consumer_offsets-<p>.
int64_t offsets_end(RawConn& c, int32_t p) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  proto::ListOffsetsRequest::ListOffsetsTopic t;
  t.name = "__consumer_offsets";
  proto::ListOffsetsRequest::ListOffsetsPartition lp;
  lp.partition_index = p;
  lp.timestamp = -1;
  t.partitions.push_back(lp);
  req.topics.push_back(t);
  auto resp = c.call<proto::ListOffsetsResponse>(req, 7);
  REQUIRE(resp.topics.size() == 1);
  REQUIRE(resp.topics[0].partitions[0].error_code == 0);
  return resp.topics[0].partitions[0].offset;
}

}  // namespace

TEST_CASE("group offsets: simple commits, fetch by partition and all, metadata, errors") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port());
  ensure_topic(g.c, "t1");
  ensure_topic(g.c, "t2");
  // Generation -1, unknown group: a simple (offsets only) group is created.
  auto errs = g.commit("simple", -1, "", {{"t1", 0, 10}, {"t1", 1, 11}, {"t2", 2, 22}, {"nope", 0, 1}, {"t1", 9, 1}});
  REQUIRE(errs.size() == 5);
  CHECK(errs[0] == 0);
  CHECK(errs[1] == 0);
  CHECK(errs[2] == 0);
  CHECK(errs[3] == ec(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  CHECK(errs[4] == ec(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  // A group that does not exist, with a generation: ILLEGAL_GENERATION.
  CHECK(g.commit("ghost", 3, "m", {{"t1", 0, 1}}) == std::vector<int16_t>{ec(ErrorCode::ILLEGAL_GENERATION)});
  CHECK(g.commit("", -1, "", {{"t1", 0, 1}}) == std::vector<int16_t>{ec(ErrorCode::INVALID_GROUP_ID)});
  // Metadata over offset.metadata.max.bytes.
  CHECK(g.commit("simple", -1, "", {{"t1", 2, 5}}, std::string(5000, 'm')) ==
        std::vector<int16_t>{ec(ErrorCode::OFFSET_METADATA_TOO_LARGE)});

  auto some = g.fetch("simple", std::vector<std::pair<std::string, int32_t>>{{"t1", 0}, {"t1", 2}, {"t2", 2}});
  CHECK(some[{"t1", 0}] == std::pair<int64_t, std::string>{10, "md"});
  CHECK(some[{"t1", 2}].first == -1);  // never committed
  CHECK(some[{"t2", 2}].first == 22);
  auto all = g.fetch("simple", std::nullopt);
  CHECK(all.size() == 3);
  CHECK(all[{"t1", 1}].first == 11);
  CHECK(g.fetch("unknown-group", std::nullopt).empty());

  // Every OffsetCommit / OffsetFetch version round trips.
  for (int16_t v = 0; v <= 9; ++v) {
    CAPTURE(v);
    CHECK(g.commit("versions", -1, "", {{"t1", 0, 100 + v}}, 'v' + std::to_string(v), v) == std::vector<int16_t>{0});
    if (v <= 7) {
      auto f = g.fetch("versions", std::vector<std::pair<std::string, int32_t>>{{"t1", 0}}, v);
      CHECK(f[{"t1", 0}] == std::pair<int64_t, std::string>{100 + v, 'v' + std::to_string(v)});
    }
  }
  // v8+: several groups at once, one with all topics (null).
  for (int16_t v : {8, 9}) {
    CAPTURE(v);
    proto::OffsetFetchRequest req;
    proto::OffsetFetchRequest::OffsetFetchRequestGroup g1, g2;
    g1.group_id = "simple";
    g1.topics.reset();
    g2.group_id = "versions";
    g2.topics.emplace();
    proto::OffsetFetchRequest::OffsetFetchRequestTopics t;
    t.name = "t1";
    t.partition_indexes = {0, 1};
    g2.topics->push_back(t);
    req.groups = {g1, g2};
    auto resp = g.c.call<proto::OffsetFetchResponse>(req, v);
    REQUIRE(resp.groups.size() == 2);
    CHECK(resp.groups[0].group_id == "simple");
    size_t n = 0;
    for (const auto& tt : resp.groups[0].topics) n += tt.partitions.size();
    CHECK(n == 3);
    REQUIRE(resp.groups[1].topics.size() == 1);
    REQUIRE(resp.groups[1].topics[0].partitions.size() == 2);
    CHECK(resp.groups[1].topics[0].partitions[0].committed_offset == 109);
    CHECK(resp.groups[1].topics[0].partitions[0].committed_leader_epoch == 0);
    CHECK(resp.groups[1].topics[0].partitions[1].committed_offset == -1);
  }

  // Stored in Kafka's partition for the group: abs("simple".hashCode()) % 50.
  // ("simple".hashCode() == -902286926 -> 26.)
  CHECK(offsets_end(g.c, 26) >= 2);
}

TEST_CASE("group offsets: member commits are checked against generation and membership") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port()), other(broker->port());
  ensure_topic(g.c, "t1");
  JoinSpec s{.group = "members"};
  auto j = g.join(s);
  REQUIRE(j.error_code == 0);
  // CompletingRebalance: commits wait for SyncGroup.
  CHECK(g.commit("members", j.generation_id, j.member_id, {{"t1", 0, 5}}) ==
        std::vector<int16_t>{ec(ErrorCode::REBALANCE_IN_PROGRESS)});
  g.sync_send("members", j.generation_id, j.member_id, {{j.member_id, bytes("x")}});
  REQUIRE(g.sync_recv().error_code == 0);
  CHECK(g.commit("members", j.generation_id, j.member_id, {{"t1", 0, 5}}) == std::vector<int16_t>{0});
  CHECK(g.commit("members", j.generation_id + 1, j.member_id, {{"t1", 0, 6}}) ==
        std::vector<int16_t>{ec(ErrorCode::ILLEGAL_GENERATION)});
  CHECK(g.commit("members", j.generation_id, "stranger", {{"t1", 0, 6}}) ==
        std::vector<int16_t>{ec(ErrorCode::UNKNOWN_MEMBER_ID)});
  // A simple commit to a live group is not allowed either.
  CHECK(other.commit("members", -1, "", {{"t1", 0, 6}}) == std::vector<int16_t>{ec(ErrorCode::UNKNOWN_MEMBER_ID)});
  CHECK(g.fetch("members", std::nullopt)[{"t1", 0}].first == 5);
  // After the member left the group is Empty: simple commits work again.
  g.leave("members", j.member_id);
  CHECK(other.commit("members", -1, "", {{"t1", 0, 7}}) == std::vector<int16_t>{0});
  CHECK(g.fetch("members", std::nullopt)[{"t1", 0}].first == 7);
}

TEST_CASE("group admin: DescribeGroups, ListGroups with filters, DeleteGroups, OffsetDelete") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port()), h(broker->port());
  ensure_topic(g.c, "subscribed");
  ensure_topic(g.c, "other");
  JoinSpec s{.group = "live", .protocols = {{"range", subscription({"subscribed"})}}};
  auto [mid, gen] = join_alone(g, s);
  REQUIRE(g.commit("live", gen, mid, {{"subscribed", 0, 1}, {"other", 0, 2}}) == std::vector<int16_t>{0, 0});
  REQUIRE(h.commit("idle", -1, "", {{"other", 1, 3}}) == std::vector<int16_t>{0});

  // DescribeGroups: unknown groups are "Dead" with NONE.
  auto d = g.describe("nobody");
  CHECK(d.error_code == 0);
  CHECK(d.group_state == "Dead");
  for (int16_t v = 0; v <= 5; ++v) {
    CAPTURE(v);
    auto live = g.describe("live", v);
    CHECK(live.group_state == "Stable");
    CHECK(live.protocol_type == "consumer");
    REQUIRE(live.members.size() == 1);
    CHECK(live.members[0].member_id == mid);
    CHECK(live.members[0].client_id == "kfk-server-test");
    CHECK(live.members[0].member_metadata == subscription({"subscribed"}));
  }
  proto::DescribeGroupsRequest dreq;
  dreq.groups = {"live"};
  dreq.include_authorized_operations = true;
  CHECK(g.c.call<proto::DescribeGroupsResponse>(dreq, 5).groups[0].authorized_operations == 328);

  // ListGroups, with the v4+ state filter (case-insensitive) and v5 types.
  auto list = [&](std::vector<std::string> states, int16_t v, std::vector<std::string> types = {}) {
    proto::ListGroupsRequest req;
    req.states_filter = std::move(states);
    req.types_filter = std::move(types);
    auto resp = g.c.call<proto::ListGroupsResponse>(req, v);
    REQUIRE(resp.error_code == 0);
    std::map<std::string, std::string> out;
    for (const auto& lg : resp.groups) out[lg.group_id] = v >= 4 ? lg.group_state : lg.protocol_type;
    return out;
  };
  CHECK(list({}, 0) == std::map<std::string, std::string>{{"idle", ""}, {"live", "consumer"}});
  CHECK(list({}, 4) == std::map<std::string, std::string>{{"idle", "Empty"}, {"live", "Stable"}});
  CHECK(list({"stable"}, 4) == std::map<std::string, std::string>{{"live", "Stable"}});
  CHECK(list({"Empty", "Dead"}, 5) == std::map<std::string, std::string>{{"idle", "Empty"}});
  CHECK(list({}, 5, {"consumer"}).empty());
  CHECK(list({}, 5, {"Classic"}).size() == 2);

  // OffsetDelete: a live consumer group keeps offsets of subscribed topics.
  auto odel = [&](const std::string& group, std::vector<std::pair<std::string, int32_t>> parts) {
    proto::OffsetDeleteRequest req;
    req.group_id = group;
    for (const auto& [t, p] : parts) {
      if (req.topics.empty() || req.topics.back().name != t) {
        req.topics.emplace_back();
        req.topics.back().name = t;
      }
      req.topics.back().partitions.push_back({p, {}});
    }
    return g.c.call<proto::OffsetDeleteResponse>(req, 0);
  };
  auto od = odel("live", {{"subscribed", 0}, {"other", 0}, {"missing", 0}});
  CHECK(od.error_code == 0);
  REQUIRE(od.topics.size() == 3);
  CHECK(od.topics[0].partitions[0].error_code == ec(ErrorCode::GROUP_SUBSCRIBED_TO_TOPIC));
  CHECK(od.topics[1].partitions[0].error_code == 0);
  CHECK(od.topics[2].partitions[0].error_code == ec(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
  auto left = g.fetch("live", std::nullopt);
  CHECK(left.size() == 1);
  CHECK(left.count({"subscribed", 0}) == 1);
  CHECK(odel("nobody", {{"other", 0}}).error_code == ec(ErrorCode::GROUP_ID_NOT_FOUND));

  // DeleteGroups: only Empty groups.
  proto::DeleteGroupsRequest del;
  del.groups_names = {"live", "idle", "nobody"};
  auto dr = g.c.call<proto::DeleteGroupsResponse>(del, 2);
  REQUIRE(dr.results.size() == 3);
  CHECK(dr.results[0].error_code == ec(ErrorCode::NON_EMPTY_GROUP));
  CHECK(dr.results[1].error_code == 0);
  CHECK(dr.results[2].error_code == ec(ErrorCode::GROUP_ID_NOT_FOUND));
  CHECK(g.fetch("idle", std::nullopt).empty());
  CHECK(g.describe("idle").group_state == "Dead");
  g.leave("live", mid);
  // Empty now: offsets of any topic may go.
  CHECK(odel("live", {{"subscribed", 0}}).topics[0].partitions[0].error_code == 0);
  for (int16_t v : {0, 1}) {
    del.groups_names = {"live"};
    auto r = g.c.call<proto::DeleteGroupsResponse>(del, v);
    CHECK(r.results[0].error_code == (v == 0 ? 0 : ec(ErrorCode::GROUP_ID_NOT_FOUND)));
  }
  CHECK(list({}, 4).empty());
}

TEST_CASE("group restart: offsets and group metadata come back from __consumer_offsets") {
  kfk::test::TempDir dir("kfk-group-test");
  std::string stable_member, empty_member;
  int32_t stable_gen = 0;
  {
    auto broker = start_broker(fast_config(), dir.path);
    GroupConn g(broker->port()), h(broker->port());
    ensure_topic(g.c, "t1");
    // "kept": a consumer group whose member left (Empty, generation 2).
    JoinSpec ks{.group = "kept"};
    auto [km, kgen] = join_alone(g, ks);
    REQUIRE(g.commit("kept", kgen, km, {{"t1", 0, 41}, {"t1", 1, 42}}, "meta-kept") == std::vector<int16_t>{0, 0});
    g.leave("kept", km);
    // "running": still Stable at shutdown.
    JoinSpec rs{.group = "running", .instance_id = "inst-r"};
    auto [rm, rgen] = join_alone(h, rs, bytes("assignment-r"));
    stable_member = rm;
    stable_gen = rgen;
    REQUIRE(h.commit("running", rgen, rm, {{"t1", 2, 7}}) == std::vector<int16_t>{0});
    // "gone": deleted before the restart, must stay deleted.
    REQUIRE(g.commit("gone", -1, "", {{"t1", 0, 1}}) == std::vector<int16_t>{0});
    proto::DeleteGroupsRequest del;
    del.groups_names = {"gone"};
    REQUIRE(g.c.call<proto::DeleteGroupsResponse>(del, 2).results[0].error_code == 0);
    // Overwritten offsets: the latest wins.
    REQUIRE(g.commit("kept", -1, "", {{"t1", 1, 43}}, "meta-kept2") == std::vector<int16_t>{0});
    broker->stop();
  }
  auto broker = start_broker(fast_config(), dir.path);
  GroupConn g(broker->port());
  auto kept = g.fetch("kept", std::nullopt);
  CHECK(kept.size() == 2);
  CHECK(kept[{"t1", 0}] == std::pair<int64_t, std::string>{41, "meta-kept"});
  CHECK(kept[{"t1", 1}] == std::pair<int64_t, std::string>{43, "meta-kept2"});
  auto dk = g.describe("kept");
  CHECK(dk.group_state == "Empty");
  CHECK(dk.protocol_type == "consumer");
  CHECK(g.fetch("gone", std::nullopt).empty());
  CHECK(g.describe("gone").group_state == "Dead");
  CHECK(g.fetch("running", std::nullopt)[{"t1", 2}].first == 7);
  auto dr = g.describe("running");
  CHECK(dr.group_state == "Stable");
  REQUIRE(dr.members.size() == 1);
  CHECK(dr.members[0].member_id == stable_member);
  CHECK(dr.members[0].group_instance_id == "inst-r");
  CHECK(dr.members[0].member_assignment == bytes("assignment-r"));
  // The member carries on with its generation, and its assignment is there.
  CHECK(g.heartbeat("running", stable_gen, stable_member, std::string("inst-r")) == 0);
  g.sync_send("running", stable_gen, stable_member, {}, std::string("inst-r"));
  CHECK(g.sync_recv().assignment == bytes("assignment-r"));
  // A new member of "kept" starts the next generation after the stored one.
  auto j = g.join(JoinSpec{.group = "kept"});
  REQUIRE(j.error_code == 0);
  CHECK(j.generation_id == 3);
}
