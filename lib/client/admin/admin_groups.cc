// Consumer group calls, sent to the group's coordinator: committed offsets
// (OffsetFetch) and altering them (OffsetCommit from outside the group).
//
// CoordinatorOp sends one net::Call routed to the group's coordinator: the
// client's CoordinatorCache finds it (one FindCoordinator, shared with other
// calls for the group) and forgets it when an answer says it moved or is
// not available (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE) or the
// connection failed; COORDINATOR_LOAD_IN_PROGRESS is retried as is, as the
// Java AdminClient does. Describing and deleting groups and deleting
// offsets derive from it (one op per group, all running at once); listing
// groups asks every broker.
#include <algorithm>

#include "client/admin/admin_impl.h"
#include "client/core/classify.h"
#include "client/consumer/offset_requests.h"
#include "protocol/consumer_protocol.h"
#include "protocol/error_codes.h"
#include "protocol/reader.h"

namespace kfk::admin {
namespace {

// A final answer about the group itself (GROUP_AUTHORIZATION_FAILED,
// GROUP_ID_NOT_FOUND, ...), not a failure of the call: a Kafka code (local
// ones are -100 and below) the call did not retry.
bool is_group_answer(const Error& e) {
  return !e.ok() && !e.retriable() && e.code() >= errc::kUnknownServerError && e.code() != errc::kUnsupportedVersion;
}

// Runs on the network thread.
template <class Req>
class CoordinatorOp : public AdminOp {
 public:
  CoordinatorOp(AdminImpl& a, int64_t timeout_ms, std::string name, std::string group)
      : AdminOp(a, timeout_ms, std::move(name)), group_(std::move(group)) {}

 protected:
  using Resp = net::ResponseOfT<Req>;
  // The request of an attempt.
  virtual Req build() = 0;
  virtual int16_t min_version() const { return -1; }
  // Reads an answer from the coordinator `node`: ok once the op has its
  // result, or the error to retry with (a coordinator error: the call
  // rediscovers the coordinator or waits for it to load).
  virtual Error read(net::Reply<Resp>& reply) = 0;
  // A final group-level error: the result says so.
  virtual void group_failed(const Error& e) = 0;

  std::string group_;

 private:
  void attempt() override {
    this->template call<Req>(
        net::Route::coordinator_of({net::CoordinatorType::kGroup, group_}),
        [this](int32_t, const net::ClusterMetadata*) { return build(); },
        [this](const Error& err, net::Reply<Resp>& reply) -> net::Outcome {
          if (!err.ok()) return {err};
          Error e = read(reply);
          // A group-level answer is final: the result holds it.
          if (is_group_answer(e)) {
            group_failed(e);
            return {};
          }
          return {e};
        },
        [this](const Error& err, net::Reply<Resp>&) {
          if (!err.ok() && is_group_answer(err)) {
            group_failed(err);  // e.g. GROUP_AUTHORIZATION_FAILED finding the coordinator
            return finish(Error());
          }
          finish(err);
        },
        min_version());
  }
};

// Runs on the network thread.
class ListGroupOffsetsOp final : public CoordinatorOp<proto::OffsetFetchRequest> {
 public:
  ListGroupOffsetsOp(AdminImpl& a, int64_t timeout_ms, std::string group, std::vector<TopicPartition> partitions,
                     bool require_stable)
      : CoordinatorOp(a, timeout_ms, "OffsetFetch", std::move(group)),
        partitions_(std::move(partitions)),
        require_stable_(require_stable) {}
  ListConsumerGroupOffsetsResult result;

 private:
  void group_failed(const Error& e) override { result.error = e; }
  void fail_unresolved(const Error& e) override {
    result.error = e;
    for (const auto& tp : partitions_) result.partitions[tp].error = e;
  }

  proto::OffsetFetchRequest build() override {
    // No partitions named: every partition of the group.
    return consumer::offset_fetch_request(group_, partitions_.empty() ? nullptr : &partitions_, require_stable_);
  }
  int16_t min_version() const override {
    if (require_stable_) return 7;
    return partitions_.empty() ? 2 : -1;  // "all partitions" needs a null topic list
  }

  Error read(net::Reply<proto::OffsetFetchResponse>& reply) override {
    auto& r = reply.msg;
    std::map<TopicPartition, CommittedOffset> got;
    int16_t group_code = 0;
    auto take = [&](const std::string& topic, const auto& p) {
      CommittedOffset c;
      c.error = kafka_error(p.error_code);
      c.offset = p.committed_offset;
      c.leader_epoch = p.committed_leader_epoch;
      c.metadata = p.metadata;
      if (core::coordinator_error(p.error_code)) group_code = p.error_code;
      got[TopicPartition(topic, p.partition_index)] = std::move(c);
    };
    if (reply.version >= 8) {
      for (const auto& g : r.groups) {
        if (g.group_id != group_) continue;
        group_code = g.error_code;
        for (const auto& t : g.topics)
          for (const auto& p : t.partitions) take(t.name, p);
      }
    } else {
      group_code = r.error_code;
      for (const auto& t : r.topics)
        for (const auto& p : t.partitions) take(t.name, p);
    }
    if (group_code != 0) return kafka_error(group_code);
    result.error = Error();
    result.partitions = std::move(got);
    for (const auto& tp : partitions_) result.partitions.try_emplace(tp);  // asked, not answered: none committed
    return Error();
  }

  std::vector<TopicPartition> partitions_;
  bool require_stable_;
};

// Runs on the network thread.
class AlterGroupOffsetsOp final : public CoordinatorOp<proto::OffsetCommitRequest> {
 public:
  AlterGroupOffsetsOp(AdminImpl& a, int64_t timeout_ms, std::string group,
                      std::map<TopicPartition, OffsetAndMetadata> offsets)
      : CoordinatorOp(a, timeout_ms, "OffsetCommit", std::move(group)), pending_(std::move(offsets)) {}
  AlterConsumerGroupOffsetsResult result;

 private:
  void group_failed(const Error& e) override {
    result.error = e;
    for (const auto& [tp, o] : pending_) result.partitions[tp] = e;
    pending_.clear();
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& [tp, o] : pending_) result.partitions[tp] = e;
  }

  proto::OffsetCommitRequest build() override {
    return consumer::offset_commit_request(group_, pending_);  // not a member: "simple"
  }
  int16_t min_version() const override { return 2; }  // v0 commits to ZooKeeper; v1's timestamp field is unwanted

  // Final partition errors settle their partitions; a coordinator error or
  // a retriable one keeps the rest for the next attempt.
  Error read(net::Reply<proto::OffsetCommitResponse>& reply) override {
    int16_t coordinator_code = 0;
    Error last;
    for (const auto& t : reply.msg.topics) {
      for (const auto& p : t.partitions) {
        TopicPartition tp(t.name, p.partition_index);
        auto it = pending_.find(tp);
        if (it == pending_.end()) continue;
        if (core::coordinator_error(p.error_code)) {
          coordinator_code = p.error_code;
          continue;
        }
        Error e = kafka_error(p.error_code);
        if (e.retriable()) {
          last = e;
          continue;
        }
        result.partitions[tp] = e;
        pending_.erase(it);
      }
    }
    if (pending_.empty()) return Error();
    if (coordinator_code != 0) return kafka_error(coordinator_code);
    return last.ok() ? Error(errc::kMalformedResponse, "partitions missing from the OffsetCommit answer", true) : last;
  }

  std::map<TopicPartition, OffsetAndMetadata> pending_;
};

// Runs on the network thread.
class DescribeGroupOp final : public CoordinatorOp<proto::DescribeGroupsRequest> {
 public:
  DescribeGroupOp(AdminImpl& a, int64_t timeout_ms, std::string group)
      : CoordinatorOp(a, timeout_ms, "DescribeGroups", std::move(group)) {
    result.group_id = group_;
  }
  ConsumerGroupDescription result;

 private:
  void group_failed(const Error& e) override { result.error = e; }
  void fail_unresolved(const Error& e) override { result.error = e; }

  // A member's assignment: version, then ConsumerProtocolAssignment (newer
  // versions only add fields: read what this codec knows).
  static std::vector<TopicPartition> decode_assignment(const std::vector<uint8_t>& bytes) {
    std::vector<TopicPartition> out;
    if (bytes.size() < 2) return out;
    proto::Reader r(bytes.data(), bytes.size());
    int16_t v = r.i16();
    if (v < 0) return out;
    proto::ConsumerProtocolAssignment pa;
    pa.decode(r, std::min<int16_t>(v, proto::ConsumerProtocolAssignment::kMaxVersion));
    if (!r.ok()) return out;
    for (const auto& t : pa.assigned_partitions)
      for (int32_t p : t.partitions) out.emplace_back(t.topic, p);
    std::sort(out.begin(), out.end());
    return out;
  }

  proto::DescribeGroupsRequest build() override {
    proto::DescribeGroupsRequest req;
    req.groups = {group_};
    return req;
  }

  Error read(net::Reply<proto::DescribeGroupsResponse>& reply) override {
    for (auto& g : reply.msg.groups) {
      if (g.group_id != group_) continue;
      if (g.error_code != 0) return kafka_error(g.error_code);
      result.error = Error();
      result.state = g.group_state;
      result.protocol_type = g.protocol_type;
      result.assignor = g.protocol_data;
      result.coordinator = reply.node_id;
      result.members.clear();
      for (auto& m : g.members) {
        MemberDescription md;
        md.member_id = m.member_id;
        md.group_instance_id = m.group_instance_id;
        md.client_id = m.client_id;
        md.host = m.client_host;
        // Only the consumer protocol's assignments are known here
        // (Connect and others use their own formats).
        if (g.protocol_type == "consumer") md.assignment = decode_assignment(m.member_assignment);
        result.members.push_back(std::move(md));
      }
      std::sort(result.members.begin(), result.members.end(),
                [](const MemberDescription& a, const MemberDescription& b) { return a.member_id < b.member_id; });
      return Error();
    }
    return Error(errc::kMalformedResponse, "DescribeGroups answer without group '" + group_ + "'", true);
  }
};

// Runs on the network thread.
class DeleteGroupOp final : public CoordinatorOp<proto::DeleteGroupsRequest> {
 public:
  DeleteGroupOp(AdminImpl& a, int64_t timeout_ms, std::string group)
      : CoordinatorOp(a, timeout_ms, "DeleteGroups", std::move(group)) {}
  Error result;

 private:
  void group_failed(const Error& e) override { result = e; }
  void fail_unresolved(const Error& e) override { result = e; }

  proto::DeleteGroupsRequest build() override {
    proto::DeleteGroupsRequest req;
    req.groups_names = {group_};
    return req;
  }

  Error read(net::Reply<proto::DeleteGroupsResponse>& reply) override {
    for (const auto& g : reply.msg.results) {
      if (g.group_id != group_) continue;
      result = kafka_error(g.error_code);
      return result;
    }
    return Error(errc::kMalformedResponse, "DeleteGroups answer without group '" + group_ + "'", true);
  }
};

// Runs on the network thread.
class DeleteGroupOffsetsOp final : public CoordinatorOp<proto::OffsetDeleteRequest> {
 public:
  DeleteGroupOffsetsOp(AdminImpl& a, int64_t timeout_ms, std::string group, std::vector<TopicPartition> partitions)
      : CoordinatorOp(a, timeout_ms, "OffsetDelete", std::move(group)), partitions_(std::move(partitions)) {}
  DeleteConsumerGroupOffsetsResult result;

 private:
  void group_failed(const Error& e) override {
    result.error = e;
    for (const auto& tp : partitions_) result.partitions[tp] = e;
  }
  void fail_unresolved(const Error& e) override {
    result.error = e;
    for (const auto& tp : partitions_) result.partitions.try_emplace(tp, e);
  }

  proto::OffsetDeleteRequest build() override {
    proto::OffsetDeleteRequest req;
    req.group_id = group_;
    for (const auto& tp : partitions_) {  // sorted: grouped by topic
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        req.topics.emplace_back();
        req.topics.back().name = tp.topic;
      }
      proto::OffsetDeleteRequest::OffsetDeleteRequestPartition p;
      p.partition_index = tp.partition;
      req.topics.back().partitions.push_back(p);
    }
    return req;
  }

  Error read(net::Reply<proto::OffsetDeleteResponse>& reply) override {
    const auto& resp = reply.msg;
    Error group_err = kafka_error(resp.error_code);
    if (!group_err.ok()) return group_err;  // coordinator errors retried, others final
    std::map<TopicPartition, Error> got;
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions) got[TopicPartition(t.name, p.partition_index)] = kafka_error(p.error_code);
    result.error = Error();
    for (const auto& tp : partitions_) {
      auto it = got.find(tp);
      // A partition left out of the answer had nothing to delete.
      result.partitions[tp] = it != got.end() ? it->second : Error();
    }
    return Error();
  }

  std::vector<TopicPartition> partitions_;
};

// Runs on the network thread.
class ListGroupsOp final : public AdminOp {
 public:
  ListGroupsOp(AdminImpl& a, int64_t timeout_ms, std::vector<std::string> states)
      : AdminOp(a, timeout_ms, "ListGroups"), states_(std::move(states)) {}
  ListConsumerGroupsResult result;

 private:
  void fail_unresolved(const Error& e) override {
    for (int32_t id : pending_) result.broker_errors[id] = e;
    sort_groups();
  }
  void sort_groups() {
    std::sort(result.groups.begin(), result.groups.end(),
              [](const ConsumerGroupListing& a, const ConsumerGroupListing& b) { return a.group_id < b.group_id; });
  }
  bool wanted(const std::optional<std::string>& state) const {
    if (states_.empty()) return true;
    return state && std::find(states_.begin(), states_.end(), *state) != states_.end();
  }

  void attempt() override {
    if (!brokers_known_) {
      return fetch_metadata(std::vector<std::string>{}, [this](const std::shared_ptr<const net::ClusterMetadata>& md) {
        brokers_known_ = true;
        for (const auto& [id, b] : md->brokers()) pending_.insert(id);
        if (pending_.empty()) return finish(Error());
        attempt();
      });
    }
    for (int32_t id : pending_) {
      if (in_flight_.count(id) != 0) continue;
      in_flight_.insert(id);
      send_to(id);
    }
  }

  void send_to(int32_t id) {
    proto::ListGroupsRequest req;
    req.states_filter = states_;
    net::RequestOptions ro = request_options();
    auto self = shared_from_this();
    nc_.send(
        id, std::move(req),
        [this, self, id](const Error& err, net::Reply<proto::ListGroupsResponse>& reply) {
          in_flight_.erase(id);
          if (finished()) return;
          Error e = err.ok() ? kafka_error(reply.msg.error_code) : err;
          if (!e.ok()) {
            if (e.retriable()) return retry(e);
            result.broker_errors[id] = e;
          } else {
            for (const auto& g : reply.msg.groups) {
              ConsumerGroupListing l;
              l.group_id = g.group_id;
              l.protocol_type = g.protocol_type;
              if (reply.version >= 4) l.state = g.group_state;
              l.coordinator = id;
              if (wanted(l.state)) result.groups.push_back(std::move(l));
            }
          }
          pending_.erase(id);
          if (pending_.empty()) {
            sort_groups();
            finish(Error());
          }
        },
        ro);
  }

  std::vector<std::string> states_;
  bool brokers_known_ = false;
  std::set<int32_t> pending_;
  std::set<int32_t> in_flight_;
};

Error check_group(const std::string& group, const char* call) {
  if (group.empty()) return Error::from_code(errc::kInvalidArgument, std::string(call) + ": empty group id");
  return Error();
}

}  // namespace

Error AdminImpl::list_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                             ListConsumerGroupOffsetsResult* out,
                                             const ListConsumerGroupOffsetsOptions& options) {
  if (Error e = check_group(group, "list_consumer_group_offsets"); !e.ok()) return e;
  std::map<TopicPartition, bool> sorted;  // grouped by topic for the request, duplicates dropped
  for (const auto& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument,
                              "list_consumer_group_offsets: invalid partition '" + tp.to_string() + "'");
    sorted[tp] = true;
  }
  std::vector<TopicPartition> tps;
  for (const auto& [tp, _] : sorted) tps.push_back(tp);
  return run(std::make_shared<ListGroupOffsetsOp>(*this, timeout_ms(options), group, std::move(tps),
                                                  options.require_stable),
             out);
}

Error AdminImpl::alter_consumer_group_offsets(const std::string& group,
                                              const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                              AlterConsumerGroupOffsetsResult* out,
                                              const AlterConsumerGroupOffsetsOptions& options) {
  if (Error e = check_group(group, "alter_consumer_group_offsets"); !e.ok()) return e;
  for (const auto& [tp, o] : offsets) {
    if (tp.topic.empty() || tp.partition < 0 || o.offset < 0)
      return Error::from_code(errc::kInvalidArgument, "alter_consumer_group_offsets: invalid partition or offset for '" +
                                                          tp.to_string() + "'");
  }
  if (offsets.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<AlterGroupOffsetsOp>(*this, timeout_ms(options), group, offsets), out);
}

namespace {

// Runs one op per item at once and waits for all; the overall error is
// the first failure (a timeout, the client closed).
template <class Op>
Error run_each(AdminImpl& admin, const std::vector<std::shared_ptr<Op>>& ops) {
  std::vector<std::future<Error>> futures;
  for (const auto& op : ops) {
    futures.push_back(op->future());
    if (!admin.net().post([op] { op->start(); })) {
      // Not started: nothing else will touch it.
      op->abort(Error::from_code(errc::kDestroyed, "admin client closed"));
    }
  }
  Error overall;
  for (auto& f : futures) {
    Error e = f.get();
    if (overall.ok() && !e.ok()) overall = e;
  }
  return overall;
}

// The distinct group ids of `groups`, or kInvalidArgument for an empty one.
Error distinct_groups(const std::vector<std::string>& groups, const char* call, std::vector<std::string>* out) {
  std::set<std::string> seen;
  for (const auto& g : groups) {
    if (Error e = check_group(g, call); !e.ok()) return e;
    if (seen.insert(g).second) out->push_back(g);
  }
  return Error();
}

}  // namespace

Error AdminImpl::list_consumer_groups(ListConsumerGroupsResult* out, const ListConsumerGroupsOptions& options) {
  return run(std::make_shared<ListGroupsOp>(*this, timeout_ms(options), options.states), out);
}

Error AdminImpl::describe_consumer_groups(const std::vector<std::string>& groups, DescribeConsumerGroupsResult* out,
                                          const DescribeConsumerGroupsOptions& options) {
  std::vector<std::string> ids;
  if (Error e = distinct_groups(groups, "describe_consumer_groups", &ids); !e.ok()) return e;
  std::vector<std::shared_ptr<DescribeGroupOp>> ops;
  for (const auto& g : ids) ops.push_back(std::make_shared<DescribeGroupOp>(*this, timeout_ms(options), g));
  Error err = run_each(*this, ops);
  if (out != nullptr) {
    out->groups.clear();
    for (auto& op : ops) out->groups[op->result.group_id] = std::move(op->result);
  }
  return err;
}

Error AdminImpl::delete_consumer_groups(const std::vector<std::string>& groups, DeleteConsumerGroupsResult* out,
                                        const DeleteConsumerGroupsOptions& options) {
  std::vector<std::string> ids;
  if (Error e = distinct_groups(groups, "delete_consumer_groups", &ids); !e.ok()) return e;
  std::vector<std::shared_ptr<DeleteGroupOp>> ops;
  for (const auto& g : ids) ops.push_back(std::make_shared<DeleteGroupOp>(*this, timeout_ms(options), g));
  Error err = run_each(*this, ops);
  if (out != nullptr) {
    out->groups.clear();
    for (size_t i = 0; i < ops.size(); ++i) out->groups[ids[i]] = std::move(ops[i]->result);
  }
  return err;
}

Error AdminImpl::delete_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                               DeleteConsumerGroupOffsetsResult* out,
                                               const DeleteConsumerGroupOffsetsOptions& options) {
  if (Error e = check_group(group, "delete_consumer_group_offsets"); !e.ok()) return e;
  std::set<TopicPartition> sorted;
  for (const auto& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument,
                              "delete_consumer_group_offsets: invalid partition '" + tp.to_string() + "'");
    sorted.insert(tp);
  }
  if (sorted.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<DeleteGroupOffsetsOp>(*this, timeout_ms(options), group,
                                                    std::vector<TopicPartition>(sorted.begin(), sorted.end())),
             out);
}

}  // namespace kfk::admin
