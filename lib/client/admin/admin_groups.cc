// Consumer group calls, sent to the group's coordinator: committed offsets
// (OffsetFetch) and altering them (OffsetCommit from outside the group).
//
// CoordinatorOp finds the coordinator with FindCoordinator (both the v0-v3
// single-key and the v4+ batched shapes) and forgets it when an answer says
// it moved or is not ready (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE,
// COORDINATOR_LOAD_IN_PROGRESS), as the Java AdminClient does. More group
// calls (list/describe/delete groups, delete offsets) derive from it.
#include "client/admin/admin_impl.h"
#include "protocol/error_codes.h"

namespace kfk::admin {
namespace {

constexpr int16_t kLoadInProgress = proto::to_int(proto::ErrorCode::COORDINATOR_LOAD_IN_PROGRESS);
constexpr int16_t kNotAvailable = proto::to_int(proto::ErrorCode::COORDINATOR_NOT_AVAILABLE);
constexpr int16_t kNotCoordinator = proto::to_int(proto::ErrorCode::NOT_COORDINATOR);

bool is_coordinator_error(int16_t code) {
  return code == kLoadInProgress || code == kNotAvailable || code == kNotCoordinator;
}

// Runs on the network thread.
class CoordinatorOp : public AdminOp {
 public:
  CoordinatorOp(AdminImpl& a, int64_t timeout_ms, std::string name, std::string group)
      : AdminOp(a, timeout_ms, std::move(name)), group_(std::move(group)) {}

 protected:
  // Sends this attempt's request to the coordinator `node`.
  virtual void send_to(int32_t node) = 0;

  // A coordinator error from an answer: look it up again (unless it is
  // only loading) and retry.
  void coordinator_failed(int16_t code) {
    if (code != kLoadInProgress) coordinator_ = -1;
    retry(kafka_error(code));
  }
  // A failed request: a lost connection may mean a moved coordinator.
  void request_failed(const Error& err) {
    if (!err.retriable()) return finish(err);
    coordinator_ = -1;
    retry(err);
  }

  std::string group_;

 private:
  void attempt() override {
    if (coordinator_ >= 0 && nc_.pool().knows(coordinator_)) return send_to(coordinator_);
    proto::FindCoordinatorRequest req;
    req.key = group_;                // v0-v3
    req.key_type = 0;                // group
    req.coordinator_keys = {group_};  // v4+
    auto self = shared_from_this();
    nc_.send(
        net::kAnyNode, std::move(req),
        [this, self](const Error& err, net::Reply<proto::FindCoordinatorResponse>& reply) {
          if (finished()) return;
          if (!err.ok()) return err.retriable() ? retry(err) : finish(err);
          const auto& r = reply.msg;
          int16_t code = r.error_code;
          std::optional<std::string> message = r.error_message;
          int32_t node = r.node_id;
          if (reply.version >= 4) {
            if (r.coordinators.empty())
              return finish(Error::from_code(errc::kMalformedResponse, "FindCoordinator answer without coordinators"));
            code = r.coordinators[0].error_code;
            message = r.coordinators[0].error_message;
            node = r.coordinators[0].node_id;
          }
          if (code != 0) {
            Error e = kafka_error(code, message);
            return e.retriable() ? retry(e) : group_failed(e);
          }
          coordinator_ = node;
          if (nc_.pool().knows(node)) return send_to(node);
          // A broker this client has not seen yet: learn its address first.
          fetch_metadata(std::vector<std::string>{}, [this, node](const std::shared_ptr<const net::ClusterMetadata>&) {
            if (!nc_.pool().knows(node))
              return retry(Error::from_code(kNotAvailable, "coordinator " + std::to_string(node) + " not in metadata"));
            send_to(node);
          });
        },
        request_options());
  }

  // A final group-level error (GROUP_AUTHORIZATION_FAILED, ...).
  virtual void group_failed(const Error& e) = 0;

  int32_t coordinator_ = -1;
};

// Runs on the network thread.
class ListGroupOffsetsOp final : public CoordinatorOp {
 public:
  ListGroupOffsetsOp(AdminImpl& a, int64_t timeout_ms, std::string group, std::vector<TopicPartition> partitions,
                     bool require_stable)
      : CoordinatorOp(a, timeout_ms, "OffsetFetch", std::move(group)),
        partitions_(std::move(partitions)),
        require_stable_(require_stable) {}
  ListConsumerGroupOffsetsResult result;

 private:
  void group_failed(const Error& e) override {
    result.error = e;
    finish(Error());
  }
  void fail_unresolved(const Error& e) override {
    result.error = e;
    for (const auto& tp : partitions_) result.partitions[tp].error = e;
  }

  void send_to(int32_t node) override {
    proto::OffsetFetchRequest req;
    req.require_stable = require_stable_;
    // v0-v7 shape and v8+ shape; the codec writes the one of the version.
    req.group_id = group_;
    proto::OffsetFetchRequest::OffsetFetchRequestGroup g;
    g.group_id = group_;
    if (partitions_.empty()) {
      req.topics = std::nullopt;  // every partition (v2+)
      g.topics = std::nullopt;
    } else {
      req.topics.emplace();
      g.topics.emplace();
      for (const auto& tp : partitions_) {
        if (req.topics->empty() || req.topics->back().name != tp.topic) {
          req.topics->push_back({tp.topic, {}, {}});
          g.topics->push_back({tp.topic, {}, {}});
        }
        req.topics->back().partition_indexes.push_back(tp.partition);
        g.topics->back().partition_indexes.push_back(tp.partition);
      }
    }
    req.groups.push_back(std::move(g));
    net::RequestOptions ro = request_options();
    if (partitions_.empty()) ro.min_version = 2;  // "all partitions" needs a null topic list
    if (require_stable_) ro.min_version = 7;
    auto self = shared_from_this();
    nc_.send(
        node, std::move(req),
        [this, self](const Error& err, net::Reply<proto::OffsetFetchResponse>& reply) {
          if (finished()) return;
          if (!err.ok()) return request_failed(err);
          auto& r = reply.msg;
          std::map<TopicPartition, CommittedOffset> got;
          int16_t group_code = 0;
          auto take = [&](const std::string& topic, const auto& p) {
            CommittedOffset c;
            c.error = kafka_error(p.error_code);
            c.offset = p.committed_offset;
            c.leader_epoch = p.committed_leader_epoch;
            c.metadata = p.metadata;
            if (is_coordinator_error(p.error_code)) group_code = p.error_code;
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
          if (is_coordinator_error(group_code)) return coordinator_failed(group_code);
          if (group_code != 0) return group_failed(kafka_error(group_code));
          result.error = Error();
          result.partitions = std::move(got);
          for (const auto& tp : partitions_) result.partitions.try_emplace(tp);  // asked, not answered: none committed
          finish(Error());
        },
        ro);
  }

  std::vector<TopicPartition> partitions_;
  bool require_stable_;
};

// Runs on the network thread.
class AlterGroupOffsetsOp final : public CoordinatorOp {
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
    finish(Error());
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& [tp, o] : pending_) result.partitions[tp] = e;
  }

  void send_to(int32_t node) override {
    proto::OffsetCommitRequest req;
    req.group_id = group_;
    req.generation_id_or_member_epoch = -1;  // not a member: a "simple" commit
    for (const auto& [tp, o] : pending_) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        req.topics.emplace_back();
        req.topics.back().name = tp.topic;
      }
      proto::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = tp.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch;
      p.committed_metadata = o.metadata.value_or("");
      req.topics.back().partitions.push_back(std::move(p));
    }
    net::RequestOptions ro = request_options();
    ro.min_version = 2;  // v0 commits to ZooKeeper; v1's timestamp field is unwanted
    auto self = shared_from_this();
    nc_.send(
        node, std::move(req),
        [this, self](const Error& err, proto::OffsetCommitResponse& resp) {
          if (finished()) return;
          if (!err.ok()) return request_failed(err);
          int16_t coordinator_code = 0;
          Error last;
          for (const auto& t : resp.topics) {
            for (const auto& p : t.partitions) {
              TopicPartition tp(t.name, p.partition_index);
              auto it = pending_.find(tp);
              if (it == pending_.end()) continue;
              if (is_coordinator_error(p.error_code)) {
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
          if (pending_.empty()) return finish(Error());
          if (coordinator_code != 0) return coordinator_failed(coordinator_code);
          retry(last.ok() ? Error::from_code(errc::kMalformedResponse, "partitions missing from the OffsetCommit answer")
                          : last);
        },
        ro);
  }

  std::map<TopicPartition, OffsetAndMetadata> pending_;
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

}  // namespace kfk::admin
