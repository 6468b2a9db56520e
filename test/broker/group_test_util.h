// Helpers for the group coordinator tests: raw JoinGroup / SyncGroup /
// Heartbeat / LeaveGroup / OffsetCommit / OffsetFetch requests over RawConn.
// JoinGroup and follower SyncGroup answers may be held by the broker, so
// joins are split into send (join_send) and receive (join_recv).
#pragma once

#include "protocol/error_codes.h"
#include "test_server_util.h"

namespace kfk::broker::server_test {

using proto::ErrorCode;
inline int16_t ec(ErrorCode e) { return proto::to_int(e); }

// A ConsumerProtocolSubscription (v1) for `topics`, with its version prefix.
inline proto::Bytes subscription(const std::vector<std::string>& topics) {
  proto::ConsumerProtocolSubscription s;
  s.topics = topics;
  proto::Writer w;
  w.i16(1);
  s.encode(w, 1);
  return w.flatten();
}

inline proto::Bytes bytes(const std::string& s) { return proto::Bytes(s.begin(), s.end()); }

struct JoinSpec {
  std::string group;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string protocol_type = "consumer";
  std::vector<std::pair<std::string, proto::Bytes>> protocols = {{"range", bytes("meta")}};
  int32_t session_timeout_ms = 10000;
  int32_t rebalance_timeout_ms = 10000;
  int16_t version = 9;
};

inline proto::JoinGroupRequest join_request(const JoinSpec& s) {
  proto::JoinGroupRequest req;
  req.group_id = s.group;
  req.session_timeout_ms = s.session_timeout_ms;
  req.rebalance_timeout_ms = s.rebalance_timeout_ms;
  req.member_id = s.member_id;
  req.group_instance_id = s.instance_id;
  req.protocol_type = s.protocol_type;
  for (const auto& [n, md] : s.protocols) {
    proto::JoinGroupRequest::JoinGroupRequestProtocol p;
    p.name = n;
    p.metadata = md;
    req.protocols.push_back(p);
  }
  return req;
}

// A connection with its own correlation ids for split send/receive.
struct GroupConn {
  explicit GroupConn(int port) : c(port) {}
  RawConn c;
  int32_t corr = 1000;
  int32_t pending = 0;
  int16_t pending_version = 0;

  void join_send(const JoinSpec& s) {
    pending = corr++;
    pending_version = s.version;
    c.send(join_request(s), s.version, pending);
  }
  proto::JoinGroupResponse join_recv(int timeout_ms = 10000) {
    return c.recv<proto::JoinGroupResponse>(pending_version, pending, timeout_ms);
  }
  // Join, doing the KIP-394 round trip when asked for a member id.
  proto::JoinGroupResponse join(JoinSpec s) {
    join_send(s);
    auto r = join_recv();
    if (r.error_code == ec(ErrorCode::MEMBER_ID_REQUIRED)) {
      s.member_id = r.member_id;
      join_send(s);
      r = join_recv();
    }
    return r;
  }

  void sync_send(const std::string& group, int32_t gen, const std::string& member,
                 const std::vector<std::pair<std::string, proto::Bytes>>& assignments = {},
                 const std::optional<std::string>& instance = std::nullopt, int16_t version = 5) {
    proto::SyncGroupRequest req;
    req.group_id = group;
    req.generation_id = gen;
    req.member_id = member;
    req.group_instance_id = instance;
    for (const auto& [m, a] : assignments) {
      proto::SyncGroupRequest::SyncGroupRequestAssignment x;
      x.member_id = m;
      x.assignment = a;
      req.assignments.push_back(x);
    }
    pending = corr++;
    pending_version = version;
    c.send(req, version, pending);
  }
  proto::SyncGroupResponse sync_recv(int timeout_ms = 10000) {
    return c.recv<proto::SyncGroupResponse>(pending_version, pending, timeout_ms);
  }

  int16_t heartbeat(const std::string& group, int32_t gen, const std::string& member,
                    const std::optional<std::string>& instance = std::nullopt, int16_t version = 4) {
    proto::HeartbeatRequest req;
    req.group_id = group;
    req.generation_id = gen;
    req.member_id = member;
    req.group_instance_id = instance;
    return c.call<proto::HeartbeatResponse>(req, version).error_code;
  }

  proto::LeaveGroupResponse leave(const std::string& group, const std::string& member, int16_t version = 5,
                                  const std::optional<std::string>& instance = std::nullopt) {
    proto::LeaveGroupRequest req;
    req.group_id = group;
    if (version < 3) {
      req.member_id = member;
    } else {
      proto::LeaveGroupRequest::MemberIdentity m;
      m.member_id = member;
      m.group_instance_id = instance;
      req.members.push_back(m);
    }
    return c.call<proto::LeaveGroupResponse>(req, version);
  }

  // Commits offsets for (topic, partition, offset); returns per-partition errors in order.
  std::vector<int16_t> commit(const std::string& group, int32_t gen, const std::string& member,
                              const std::vector<std::tuple<std::string, int32_t, int64_t>>& offsets,
                              const std::string& metadata = "md", int16_t version = 8) {
    proto::OffsetCommitRequest req;
    req.group_id = group;
    req.generation_id_or_member_epoch = gen;
    req.member_id = member;
    for (const auto& [t, p, o] : offsets) {
      if (req.topics.empty() || req.topics.back().name != t) {
        req.topics.emplace_back();
        req.topics.back().name = t;
      }
      proto::OffsetCommitRequest::OffsetCommitRequestPartition rp;
      rp.partition_index = p;
      rp.committed_offset = o;
      rp.committed_leader_epoch = 0;
      rp.committed_metadata = metadata;
      req.topics.back().partitions.push_back(rp);
    }
    auto resp = c.call<proto::OffsetCommitResponse>(req, version);
    std::vector<int16_t> out;
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions) out.push_back(p.error_code);
    return out;
  }

  // OffsetFetch v7: (topic, partition) -> (offset, metadata); nullopt topics: all.
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, std::string>> fetch(
      const std::string& group, const std::optional<std::vector<std::pair<std::string, int32_t>>>& parts,
      int16_t version = 7) {
    proto::OffsetFetchRequest req;
    req.group_id = group;
    if (!parts) {
      req.topics.reset();
    } else {
      req.topics.emplace();
      for (const auto& [t, p] : *parts) {
        if (req.topics->empty() || req.topics->back().name != t) {
          req.topics->emplace_back();
          req.topics->back().name = t;
        }
        req.topics->back().partition_indexes.push_back(p);
      }
    }
    auto resp = c.call<proto::OffsetFetchResponse>(req, version);
    REQUIRE(resp.error_code == 0);
    std::map<std::pair<std::string, int32_t>, std::pair<int64_t, std::string>> out;
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions) {
        REQUIRE(p.error_code == 0);
        out[{t.name, p.partition_index}] = {p.committed_offset, p.metadata.value_or("<null>")};
      }
    return out;
  }

  proto::DescribeGroupsResponse::DescribedGroup describe(const std::string& group, int16_t version = 5) {
    proto::DescribeGroupsRequest req;
    req.groups = {group};
    auto resp = c.call<proto::DescribeGroupsResponse>(req, version);
    REQUIRE(resp.groups.size() == 1);
    return resp.groups[0];
  }
};

// Waits (heartbeating as `member`) until the group is rebalancing: a join
// sent on another connection has been processed.
inline void wait_rebalancing(GroupConn& g, const std::string& group, int32_t gen, const std::string& member,
                             const std::optional<std::string>& instance = std::nullopt) {
  int16_t hb = 0;
  for (int i = 0; i < 200 && hb == 0; ++i) {
    hb = g.heartbeat(group, gen, member, instance);
    if (hb == 0) ::usleep(10000);
  }
  REQUIRE(hb == ec(ErrorCode::REBALANCE_IN_PROGRESS));
}

// One member joining alone and syncing: returns (member id, generation).
inline std::pair<std::string, int32_t> join_alone(GroupConn& g, JoinSpec s, const proto::Bytes& assignment = bytes("a")) {
  auto j = g.join(s);
  REQUIRE(j.error_code == 0);
  g.sync_send(s.group, j.generation_id, j.member_id, {{j.member_id, assignment}}, s.instance_id);
  auto sr = g.sync_recv();
  REQUIRE(sr.error_code == 0);
  return {j.member_id, j.generation_id};
}

}  // namespace kfk::broker::server_test
