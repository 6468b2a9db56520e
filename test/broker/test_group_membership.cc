// Group coordinator membership through real requests: FindCoordinator,
// the JoinGroup / SyncGroup / Heartbeat / LeaveGroup state machine,
// KIP-394 member ids, protocol selection, session and rebalance timeouts,
// static membership (KIP-345).
#include <thread>

#include "group_test_util.h"

using namespace kfk;
using namespace kfk::broker::server_test;

namespace {

// Fast groups: no initial delay, short sessions allowed.
std::map<std::string, std::string> fast_config() {
  return {{"group.initial.rebalance.delay.ms", "0"}, {"group.min.session.timeout.ms", "100"},
          {"offsets.topic.num.partitions", "5"}};
}

}  // namespace

TEST_CASE("group: FindCoordinator in every version, __consumer_offsets is internal and protected") {
  auto broker = start_broker(fast_config());
  RawConn c(broker->port());
  for (int16_t v = 0; v <= 6; ++v) {
    CAPTURE(v);
    proto::FindCoordinatorRequest req;
    if (v < 4) req.key = "g1";
    else req.coordinator_keys = {"g1", "g2"};
    auto resp = c.call<proto::FindCoordinatorResponse>(req, v);
    if (v < 4) {
      CHECK(resp.error_code == 0);
      CHECK(resp.node_id == 1);
      CHECK(resp.port == broker->port());
      CHECK(resp.host == "127.0.0.1");
    } else {
      REQUIRE(resp.coordinators.size() == 2);
      CHECK(resp.coordinators[1].key == "g2");
      for (const auto& co : resp.coordinators) {
        CHECK(co.error_code == 0);
        CHECK(co.node_id == 1);
        CHECK(co.port == broker->port());
      }
    }
  }
  // Transactions: no coordinator yet, which fails for good at once (issue 21).
  proto::FindCoordinatorRequest txn;
  txn.key = "tx";
  txn.key_type = 1;
  CHECK(c.call<proto::FindCoordinatorResponse>(txn, 3).error_code ==
        ec(ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
  txn.key_type = 7;
  CHECK(c.call<proto::FindCoordinatorResponse>(txn, 3).error_code == ec(ErrorCode::INVALID_REQUEST));

  // The internal topic exists now, with the configured partition count.
  auto md = c.call<proto::MetadataResponse>(metadata_request({"__consumer_offsets"}, false), 12);
  REQUIRE(md.topics.size() == 1);
  CHECK(md.topics[0].error_code == 0);
  CHECK(md.topics[0].is_internal);
  CHECK(md.topics[0].partitions.size() == 5);
  // Clients may neither write nor delete it.
  auto pr = c.call<proto::ProduceResponse>(produce_request("__consumer_offsets", 0, simple_batch(1)), 9);
  CHECK(pr.responses[0].partition_responses[0].error_code == ec(ErrorCode::INVALID_TOPIC_EXCEPTION));
  proto::DeleteTopicsRequest del;
  del.topic_names = {"__consumer_offsets"};
  auto dr = c.call<proto::DeleteTopicsResponse>(del, 4);
  REQUIRE(dr.responses.size() == 1);
  CHECK(dr.responses[0].error_code == ec(ErrorCode::INVALID_TOPIC_EXCEPTION));
}

TEST_CASE("group: single member join, sync, heartbeat, leave; MEMBER_ID_REQUIRED round trip") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port());
  JoinSpec s{.group = "solo"};
  g.join_send(s);
  auto first = g.join_recv();
  CHECK(first.error_code == ec(ErrorCode::MEMBER_ID_REQUIRED));
  REQUIRE(!first.member_id.empty());
  CHECK(first.member_id.rfind("kfk-server-test-", 0) == 0);  // client.id prefix, as Kafka
  s.member_id = first.member_id;
  g.join_send(s);
  auto j = g.join_recv();
  REQUIRE(j.error_code == 0);
  CHECK(j.member_id == first.member_id);
  CHECK(j.generation_id == 1);
  CHECK(j.leader == j.member_id);
  CHECK(j.protocol_type == "consumer");
  CHECK(j.protocol_name == "range");
  REQUIRE(j.members.size() == 1);
  CHECK(j.members[0].metadata == bytes("meta"));

  // CompletingRebalance: a heartbeat is fine, DescribeGroups shows it.
  CHECK(g.heartbeat("solo", 1, j.member_id) == 0);
  CHECK(g.describe("solo").group_state == "CompletingRebalance");

  g.sync_send("solo", 1, j.member_id, {{j.member_id, bytes("assigned")}});
  auto sr = g.sync_recv();
  CHECK(sr.error_code == 0);
  CHECK(sr.assignment == bytes("assigned"));
  CHECK(sr.protocol_name == "range");
  CHECK(g.heartbeat("solo", 1, j.member_id) == 0);
  CHECK(g.heartbeat("solo", 0, j.member_id) == ec(ErrorCode::ILLEGAL_GENERATION));
  CHECK(g.heartbeat("solo", 1, "nobody") == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  CHECK(g.heartbeat("nogroup", 1, j.member_id) == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  auto d = g.describe("solo");
  CHECK(d.group_state == "Stable");
  CHECK(d.protocol_data == "range");
  REQUIRE(d.members.size() == 1);
  CHECK(d.members[0].member_assignment == bytes("assigned"));
  CHECK(d.members[0].client_host == "/127.0.0.1");

  // A second SyncGroup in Stable answers the same assignment at once.
  g.sync_send("solo", 1, j.member_id);
  CHECK(g.sync_recv().assignment == bytes("assigned"));

  auto lr = g.leave("solo", j.member_id);
  CHECK(lr.error_code == 0);
  REQUIRE(lr.members.size() == 1);
  CHECK(lr.members[0].error_code == 0);
  CHECK(g.describe("solo").group_state == "Empty");
  CHECK(g.heartbeat("solo", 2, j.member_id) == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  // v0 LeaveGroup for a member that is gone: top-level error.
  CHECK(g.leave("solo", j.member_id, 0).error_code == ec(ErrorCode::UNKNOWN_MEMBER_ID));
}

TEST_CASE("group: old JoinGroup versions join directly; bad requests get Kafka's errors") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port());
  for (int16_t v : {0, 1, 2, 3}) {
    CAPTURE(v);
    JoinSpec s{.group = "old-" + std::to_string(v), .version = v};
    g.join_send(s);
    auto j = g.join_recv();
    CHECK(j.error_code == 0);  // no MEMBER_ID_REQUIRED before v4
    CHECK(j.generation_id == 1);
    CHECK(j.protocol_name == "range");
  }
  JoinSpec bad{.group = "bad", .session_timeout_ms = 50};
  g.join_send(bad);
  CHECK(g.join_recv().error_code == ec(ErrorCode::INVALID_SESSION_TIMEOUT));
  bad.session_timeout_ms = 2000000;
  g.join_send(bad);
  CHECK(g.join_recv().error_code == ec(ErrorCode::INVALID_SESSION_TIMEOUT));
  JoinSpec noid{.group = ""};
  g.join_send(noid);
  CHECK(g.join_recv().error_code == ec(ErrorCode::INVALID_GROUP_ID));
  JoinSpec unknown{.group = "fresh", .member_id = "made-up"};
  g.join_send(unknown);
  CHECK(g.join_recv().error_code == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  JoinSpec noproto{.group = "fresh", .protocols = {}};
  g.join_send(noproto);
  CHECK(g.join_recv().error_code == ec(ErrorCode::INCONSISTENT_GROUP_PROTOCOL));
}

TEST_CASE("group: two members, rebalance on join, protocol selection, inconsistent protocols") {
  auto broker = start_broker(fast_config());
  GroupConn a(broker->port()), b(broker->port()), c(broker->port());
  JoinSpec sa{.group = "pair", .protocols = {{"range", bytes("a-range")}, {"roundrobin", bytes("a-rr")}}};
  auto [ida, gen1] = join_alone(a, sa);
  CHECK(gen1 == 1);

  // B joins: the group goes back to PreparingRebalance until A rejoins.
  JoinSpec sb{.group = "pair", .protocols = {{"roundrobin", bytes("b-rr")}, {"range", bytes("b-range")}}};
  b.join_send(sb);
  auto mid = b.join_recv();
  REQUIRE(mid.error_code == ec(ErrorCode::MEMBER_ID_REQUIRED));
  sb.member_id = mid.member_id;
  b.join_send(sb);
  CHECK(b.c.silent_for(200));  // held until A rejoins
  CHECK(a.heartbeat("pair", 1, ida) == ec(ErrorCode::REBALANCE_IN_PROGRESS));
  // A different protocol type cannot join a non-empty group.
  JoinSpec sc{.group = "pair", .protocol_type = "connect"};
  CHECK(c.join(sc).error_code == ec(ErrorCode::INCONSISTENT_GROUP_PROTOCOL));
  JoinSpec sc2{.group = "pair", .protocols = {{"sticky", bytes("x")}}};
  CHECK(c.join(sc2).error_code == ec(ErrorCode::INCONSISTENT_GROUP_PROTOCOL));

  sa.member_id = ida;
  a.join_send(sa);
  auto ja = a.join_recv();
  auto jb = b.join_recv();
  REQUIRE(ja.error_code == 0);
  REQUIRE(jb.error_code == 0);
  CHECK(ja.generation_id == 2);
  CHECK(jb.generation_id == 2);
  // One vote each: the tie goes to the first member's preference (range).
  CHECK(ja.protocol_name == "range");
  CHECK(jb.protocol_name == "range");
  CHECK(ja.leader == ida);
  CHECK(jb.leader == ida);
  REQUIRE(ja.members.size() == 2);
  CHECK(jb.members.empty());
  CHECK(ja.members[0].member_id == ida);
  CHECK(ja.members[0].metadata == bytes("a-range"));
  CHECK(ja.members[1].metadata == bytes("b-range"));

  // The follower's SyncGroup waits for the leader's.
  b.sync_send("pair", 2, jb.member_id);
  CHECK(b.c.silent_for(150));
  a.sync_send("pair", 2, ida, {{ida, bytes("to-a")}, {jb.member_id, bytes("to-b")}});
  CHECK(a.sync_recv().assignment == bytes("to-a"));
  CHECK(b.sync_recv().assignment == bytes("to-b"));
  CHECK(a.heartbeat("pair", 2, ida) == 0);
  CHECK(b.heartbeat("pair", 2, jb.member_id) == 0);
  // Sync with an old generation.
  b.sync_send("pair", 1, jb.member_id);
  CHECK(b.sync_recv().error_code == ec(ErrorCode::ILLEGAL_GENERATION));

  // Third member votes decide: roundrobin (B, C) beats range (A).
  JoinSpec sc3{.group = "pair", .protocols = {{"roundrobin", bytes("c-rr")}, {"range", bytes("c-range")}}};
  c.join_send(sc3);
  auto cm = c.join_recv();
  REQUIRE(cm.error_code == ec(ErrorCode::MEMBER_ID_REQUIRED));
  sc3.member_id = cm.member_id;
  c.join_send(sc3);
  sb.member_id = jb.member_id;
  wait_rebalancing(a, "pair", 2, ida);
  a.join_send(sa);
  b.join_send(sb);
  auto ja3 = a.join_recv(), jb3 = b.join_recv(), jc3 = c.join_recv();
  CHECK(ja3.generation_id == 3);
  CHECK(ja3.protocol_name == "roundrobin");
  CHECK(jc3.protocol_name == "roundrobin");
  REQUIRE(ja3.members.size() == 3);
  CHECK(ja3.members[0].metadata == bytes("a-rr"));
  // Sync during the next rebalance: REBALANCE_IN_PROGRESS for the waiting follower.
  c.sync_send("pair", 3, jc3.member_id);
  CHECK(c.c.silent_for(100));
  auto lv = b.leave("pair", jb3.member_id);
  CHECK(lv.members.at(0).error_code == 0);
  CHECK(c.sync_recv().error_code == ec(ErrorCode::REBALANCE_IN_PROGRESS));
}

TEST_CASE("group: session expiry removes a silent member and rebalances") {
  auto broker = start_broker(fast_config());
  GroupConn a(broker->port()), b(broker->port());
  JoinSpec sa{.group = "sess", .session_timeout_ms = 5000};
  JoinSpec sb{.group = "sess", .session_timeout_ms = 300};
  auto [ida, g1] = join_alone(a, sa);
  b.join_send(sb);
  auto mid = b.join_recv();
  sb.member_id = mid.member_id;
  b.join_send(sb);
  wait_rebalancing(a, "sess", 1, ida);
  sa.member_id = ida;
  a.join_send(sa);
  auto ja = a.join_recv();
  auto jb = b.join_recv();
  REQUIRE(ja.generation_id == 2);
  a.sync_send("sess", 2, ida, {{ida, bytes("x")}, {jb.member_id, bytes("y")}});
  b.sync_send("sess", 2, jb.member_id);
  CHECK(a.sync_recv().error_code == 0);
  CHECK(b.sync_recv().error_code == 0);
  // B goes silent; A keeps heartbeating and is told to rejoin once B expired.
  int64_t start = now_ms();
  int16_t hb = 0;
  while (now_ms() - start < 3000) {
    hb = a.heartbeat("sess", 2, ida);
    if (hb != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(hb == ec(ErrorCode::REBALANCE_IN_PROGRESS));
  CHECK(now_ms() - start >= 250);
  a.join_send(sa);
  auto j3 = a.join_recv();
  REQUIRE(j3.error_code == 0);
  CHECK(j3.generation_id == 3);
  REQUIRE(j3.members.size() == 1);
  CHECK(j3.members[0].member_id == ida);
  CHECK(b.heartbeat("sess", 2, jb.member_id) == ec(ErrorCode::UNKNOWN_MEMBER_ID));
}

TEST_CASE("group: members that do not rejoin within the rebalance timeout are removed") {
  auto broker = start_broker(fast_config());
  GroupConn a(broker->port()), b(broker->port());
  JoinSpec sa{.group = "lag", .rebalance_timeout_ms = 600};
  JoinSpec sb{.group = "lag", .rebalance_timeout_ms = 600};
  auto [ida, g1] = join_alone(a, sa);
  b.join_send(sb);
  sb.member_id = b.join_recv().member_id;
  b.join_send(sb);
  wait_rebalancing(a, "lag", 1, ida);
  sa.member_id = ida;
  a.join_send(sa);
  auto ja = a.join_recv();
  auto jb = b.join_recv();
  a.sync_send("lag", 2, ida, {{ida, bytes("x")}, {jb.member_id, bytes("y")}});
  b.sync_send("lag", 2, jb.member_id);
  REQUIRE(a.sync_recv().error_code == 0);
  REQUIRE(b.sync_recv().error_code == 0);
  // The leader rejoins (forcing a rebalance); B only heartbeats.
  int64_t start = now_ms();
  a.join_send(sa);
  int16_t hb = 0;
  for (int i = 0; i < 20 && hb == 0; ++i) {  // A's JoinGroup travels on another connection
    hb = b.heartbeat("lag", 2, jb.member_id);
    if (hb == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(hb == ec(ErrorCode::REBALANCE_IN_PROGRESS));
  auto j3 = a.join_recv(5000);
  int64_t took = now_ms() - start;
  REQUIRE(j3.error_code == 0);
  CHECK(took >= 500);
  CHECK(j3.generation_id == 3);
  REQUIRE(j3.members.size() == 1);
  CHECK(b.heartbeat("lag", 2, jb.member_id) == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  // A member that never sends SyncGroup is removed after the rebalance timeout too.
  b.join_send(JoinSpec{.group = "lag", .rebalance_timeout_ms = 600});
  auto nb = b.join_recv();
  JoinSpec sb2{.group = "lag", .member_id = nb.member_id, .rebalance_timeout_ms = 600};
  b.join_send(sb2);
  wait_rebalancing(a, "lag", 3, ida);
  a.join_send(sa);
  auto ja4 = a.join_recv();
  auto jb4 = b.join_recv();
  REQUIRE(ja4.generation_id == 4);
  b.sync_send("lag", 4, jb4.member_id);  // B syncs; the leader A never does
  auto sr = b.sync_recv(5000);
  CHECK(sr.error_code == ec(ErrorCode::REBALANCE_IN_PROGRESS));
  CHECK(a.heartbeat("lag", 4, ida) == ec(ErrorCode::UNKNOWN_MEMBER_ID));
}

TEST_CASE("group: initial rebalance delay gathers a starting group into one generation") {
  auto cfg = fast_config();
  cfg["group.initial.rebalance.delay.ms"] = "400";
  auto broker = start_broker(cfg);
  GroupConn a(broker->port()), b(broker->port());
  JoinSpec s{.group = "delayed", .version = 3};  // no MEMBER_ID_REQUIRED
  int64_t start = now_ms();
  a.join_send(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  b.join_send(s);
  auto ja = a.join_recv(), jb = b.join_recv();
  CHECK(now_ms() - start >= 400);
  CHECK(ja.error_code == 0);
  CHECK(ja.generation_id == 1);
  CHECK(jb.generation_id == 1);
  CHECK(ja.members.size() + jb.members.size() == 2);
}

TEST_CASE("group: static membership replaces a member without rebalance and fences the old id") {
  auto broker = start_broker(fast_config());
  GroupConn a(broker->port()), b(broker->port()), a2(broker->port());
  JoinSpec sa{.group = "static", .instance_id = "inst-a"};
  JoinSpec sb{.group = "static", .instance_id = "inst-b"};
  // Static members get their id at once (no MEMBER_ID_REQUIRED).
  a.join_send(sa);
  auto ja = a.join_recv();
  REQUIRE(ja.error_code == 0);
  CHECK(ja.member_id.rfind("inst-a-", 0) == 0);
  a.sync_send("static", 1, ja.member_id, {{ja.member_id, bytes("pa")}}, sa.instance_id);
  REQUIRE(a.sync_recv().error_code == 0);
  b.join_send(sb);
  wait_rebalancing(a, "static", 1, ja.member_id, sa.instance_id);
  sa.member_id = ja.member_id;
  a.join_send(sa);
  auto ja2 = a.join_recv(), jb2 = b.join_recv();
  REQUIRE(ja2.generation_id == 2);
  a.sync_send("static", 2, ja.member_id, {{ja.member_id, bytes("pa2")}, {jb2.member_id, bytes("pb2")}}, sa.instance_id);
  b.sync_send("static", 2, jb2.member_id, {}, sb.instance_id);
  REQUIRE(a.sync_recv().error_code == 0);
  REQUIRE(b.sync_recv().assignment == bytes("pb2"));

  // inst-b restarts: a new member id, same generation, its old assignment.
  JoinSpec sb_new{.group = "static", .instance_id = "inst-b"};
  auto jr = a2.join(sb_new);
  REQUIRE(jr.error_code == 0);
  CHECK(jr.member_id != jb2.member_id);
  CHECK(jr.generation_id == 2);
  CHECK(jr.leader == ja.member_id);
  CHECK(jr.members.empty());
  CHECK(a.heartbeat("static", 2, ja.member_id, sa.instance_id) == 0);  // no rebalance
  a2.sync_send("static", 2, jr.member_id, {}, sb.instance_id);
  CHECK(a2.sync_recv().assignment == bytes("pb2"));
  // The old incarnation is fenced.
  CHECK(b.heartbeat("static", 2, jb2.member_id, sb.instance_id) == ec(ErrorCode::FENCED_INSTANCE_ID));
  b.sync_send("static", 2, jb2.member_id, {}, sb.instance_id);
  CHECK(b.sync_recv().error_code == ec(ErrorCode::FENCED_INSTANCE_ID));
  JoinSpec stale{.group = "static", .member_id = jb2.member_id, .instance_id = "inst-b"};
  b.join_send(stale);
  CHECK(b.join_recv().error_code == ec(ErrorCode::FENCED_INSTANCE_ID));

  // Batched LeaveGroup (v3+) by instance id: inst-b leaves, a wrong member
  // id for inst-a is fenced, an unknown instance is unknown.
  proto::LeaveGroupRequest lr;
  lr.group_id = "static";
  lr.members.push_back({"", std::string("inst-b"), std::nullopt, {}});
  lr.members.push_back({"wrong-id", std::string("inst-a"), std::nullopt, {}});
  lr.members.push_back({"", std::string("inst-z"), std::nullopt, {}});
  auto resp = a2.c.call<proto::LeaveGroupResponse>(lr, 5);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.members.size() == 3);
  CHECK(resp.members[0].error_code == 0);
  CHECK(resp.members[0].group_instance_id == "inst-b");
  CHECK(resp.members[1].error_code == ec(ErrorCode::FENCED_INSTANCE_ID));
  CHECK(resp.members[2].error_code == ec(ErrorCode::UNKNOWN_MEMBER_ID));
  // inst-b leaving rebalanced the group.
  CHECK(a.heartbeat("static", 2, ja.member_id, sa.instance_id) == ec(ErrorCode::REBALANCE_IN_PROGRESS));
}

TEST_CASE("group: held JoinGroups survive closed connections and are answered at shutdown") {
  auto cfg = fast_config();
  cfg["group.initial.rebalance.delay.ms"] = "300";
  auto broker = start_broker(cfg);
  {
    // A member whose connection goes away while its JoinGroup is held.
    GroupConn gone(broker->port());
    gone.join_send(JoinSpec{.group = "vanish", .version = 3});
  }
  GroupConn b(broker->port());
  b.join_send(JoinSpec{.group = "vanish", .version = 3});
  auto jb = b.join_recv();
  CHECK(jb.error_code == 0);
  CHECK(jb.generation_id == 1);
  // Pipelined requests behind a held JoinGroup are answered after it, in order.
  GroupConn c(broker->port());
  c.join_send(JoinSpec{.group = "held", .version = 3});
  proto::HeartbeatRequest hb;
  hb.group_id = "held";
  hb.member_id = "x";
  c.c.send(hb, 4, 5555);
  auto jc = c.join_recv();
  CHECK(jc.error_code == 0);
  CHECK(c.c.recv<proto::HeartbeatResponse>(4, 5555).error_code == ec(ErrorCode::UNKNOWN_MEMBER_ID));

  // Shutdown answers a held JoinGroup with NOT_COORDINATOR (clients look again).
  GroupConn d(broker->port());
  d.join_send(JoinSpec{.group = "at-shutdown", .version = 3});
  CHECK(d.c.silent_for(100));
  broker->stop();
  CHECK(d.join_recv(2000).error_code == ec(ErrorCode::NOT_COORDINATOR));
}

TEST_CASE("group: group.max.size and malformed group requests") {
  auto cfg = fast_config();
  cfg["group.max.size"] = "1";
  auto broker = start_broker(cfg);
  GroupConn a(broker->port()), b(broker->port());
  auto [ida, gen] = join_alone(a, JoinSpec{.group = "small"});
  JoinSpec sb{.group = "small", .version = 3};
  b.join_send(sb);
  CHECK(b.join_recv().error_code == ec(ErrorCode::GROUP_MAX_SIZE_REACHED));
  CHECK(a.heartbeat("small", gen, ida) == 0);  // no rebalance for the refused joiner

  // A truncated JoinGroup body closes that connection only.
  RawConn bad(broker->port());
  auto frame = RawConn::frame(join_request(JoinSpec{.group = "small"}), 9, 77);
  frame.resize(frame.size() - 5);
  uint32_t size = static_cast<uint32_t>(frame.size() - 4);
  frame[0] = static_cast<uint8_t>(size >> 24);
  frame[1] = static_cast<uint8_t>(size >> 16);
  frame[2] = static_cast<uint8_t>(size >> 8);
  frame[3] = static_cast<uint8_t>(size);
  REQUIRE(bad.send_bytes(frame));
  CHECK(bad.wait_closed());
  CHECK(a.heartbeat("small", gen, ida) == 0);
}

TEST_CASE("group: every SyncGroup, Heartbeat and LeaveGroup version") {
  auto broker = start_broker(fast_config());
  GroupConn g(broker->port());
  for (int16_t v = 0; v <= 5; ++v) {
    CAPTURE(v);
    const std::string group = "versions-" + std::to_string(v);
    auto j = g.join(JoinSpec{.group = group, .version = static_cast<int16_t>(std::min<int>(v + 4, 9))});
    REQUIRE(j.error_code == 0);
    g.sync_send(group, j.generation_id, j.member_id, {{j.member_id, bytes("as-" + std::to_string(v))}}, std::nullopt, v);
    auto sr = g.sync_recv();
    CHECK(sr.error_code == 0);
    CHECK(sr.assignment == bytes("as-" + std::to_string(v)));
    if (v >= 5) CHECK(sr.protocol_type == "consumer");
    if (v <= 4) CHECK(g.heartbeat(group, j.generation_id, j.member_id, std::nullopt, v) == 0);
    auto lr = g.leave(group, j.member_id, v);
    CHECK(lr.error_code == 0);
    if (v >= 3) CHECK(lr.members.at(0).error_code == 0);
    CHECK(g.describe(group).group_state == "Empty");
  }
}
