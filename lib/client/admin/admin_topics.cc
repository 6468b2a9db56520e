// Topic administration: CreateTopics, DeleteTopics and CreatePartitions
// (sent to the controller), and the metadata-based calls: describe cluster,
// describe topics, list topics.
#include <algorithm>

#include "client/admin/admin_impl.h"
#include "client/core/classify.h"
#include "protocol/error_codes.h"

namespace kfk::admin {
namespace {

constexpr int16_t kThrottled = proto::to_int(proto::ErrorCode::THROTTLING_QUOTA_EXCEEDED);

// Per-item errors of controller requests worth another attempt: the
// controller moved (the call refreshes the metadata and routes again), or a
// quota throttled us (Java's retryOnQuotaViolation default).
bool controller_retriable(int16_t code) { return code == kThrottled || core::rediscovers_controller(code); }

Error missing_from_response(const std::string& what, const char* api) {
  return Error::from_code(errc::kMalformedResponse, what + " missing from the " + api + " response");
}

const std::string& key_of(const std::string& name) { return name; }
template <class V>
const std::string& key_of(const std::pair<const std::string, V>& entry) {
  return entry.first;
}

// Runs on the network thread. A call sent to the controller (CreateTopics,
// DeleteTopics, CreatePartitions) through one net::Call routed to it: each
// attempt asks for the topics still pending. Topics the controller could
// not handle yet (it moved, or a quota throttled us) stay pending for the
// next attempt; the others are settled and leave `pending_`. Once nothing
// is left to retry, topics the answer left out fail.
template <class Req, class Pending, class Item>
class ControllerOp : public AdminOp {
 public:
  ControllerOp(AdminImpl& a, int64_t timeout_ms, std::string name, Pending pending)
      : AdminOp(a, timeout_ms, std::move(name)), pending_(std::move(pending)) {}

 protected:
  using Resp = net::ResponseOfT<Req>;
  // The request for the topics in pending_.
  virtual Req build() = 0;
  virtual int16_t min_version() const { return -1; }
  // The answer's per-topic results (each with error_code, error_message).
  virtual const std::vector<Item>& items(const Resp& resp) const = 0;
  virtual const std::string* name_of(const Item& r) const = 0;
  // The final answer of topic `name`.
  virtual void resolve(const std::string& name, const Item& r) = 0;
  virtual void fail_one(const std::string& name, const Error& e) = 0;

  Pending pending_;

 private:
  void attempt() override {
    call<Req>(
        net::Route::controller(), [this](int32_t, const net::ClusterMetadata*) { return build(); },
        [this](const Error& err, net::Reply<Resp>& reply) -> net::Outcome {
          if (!err.ok()) return {err};
          return {settle(reply.msg)};
        },
        [this](const Error& err, net::Reply<Resp>&) { finish(err); }, min_version());
  }

  // Returns the error to retry with (ok: every topic settled).
  Error settle(Resp& resp) {
    Error last;
    for (const Item& r : items(resp)) {
      const std::string* name = name_of(r);
      if (name == nullptr) continue;
      auto it = pending_.find(*name);
      if (it == pending_.end()) continue;
      if (controller_retriable(r.error_code)) {
        last = kafka_error(r.error_code, r.error_message);
        continue;
      }
      resolve(*name, r);
      pending_.erase(it);
    }
    if (last.ok()) {
      for (const auto& entry : pending_)
        fail_one(key_of(entry), missing_from_response("topic " + key_of(entry), name_.c_str()));
      pending_.clear();
    }
    return last;
  }

  void fail_unresolved(const Error& e) override {
    for (const auto& entry : pending_) fail_one(key_of(entry), e);
  }
};

// Runs on the network thread.
using CreatableTopicResult = proto::CreateTopicsResponse::CreatableTopicResult;
class CreateTopicsOp final
    : public ControllerOp<proto::CreateTopicsRequest, std::map<std::string, NewTopic>, CreatableTopicResult> {
 public:
  CreateTopicsOp(AdminImpl& a, int64_t timeout_ms, const std::vector<NewTopic>& topics, bool validate_only)
      : ControllerOp(a, timeout_ms, "CreateTopics", {}), validate_only_(validate_only) {
    for (const auto& t : topics) pending_[t.name] = t;
  }
  CreateTopicsResult result;

 private:
  proto::CreateTopicsRequest build() override {
    proto::CreateTopicsRequest req;
    req.timeout_ms = remaining_ms();
    req.validate_only = validate_only_;
    for (const auto& [name, t] : pending_) {
      proto::CreateTopicsRequest::CreatableTopic ct;
      ct.name = name;
      ct.num_partitions = t.partitions;
      ct.replication_factor = t.replication_factor;
      for (const auto& [p, brokers] : t.replica_assignment) {
        proto::CreateTopicsRequest::CreatableReplicaAssignment ra;
        ra.partition_index = p;
        ra.broker_ids = brokers;
        ct.assignments.push_back(std::move(ra));
      }
      for (const auto& [k, v] : t.configs) {
        proto::CreateTopicsRequest::CreatableTopicConfig c;
        c.name = k;
        c.value = v;
        ct.configs.push_back(std::move(c));
      }
      req.topics.push_back(std::move(ct));
    }
    return req;
  }
  // v0 cannot say validate_only (it would create the topics), and v0-v3
  // cannot ask for the broker's defaults (-1).
  int16_t min_version() const override {
    bool uses_defaults = std::any_of(pending_.begin(), pending_.end(), [](const auto& kv) {
      return kv.second.replica_assignment.empty() && (kv.second.partitions < 0 || kv.second.replication_factor < 0);
    });
    return uses_defaults ? 4 : (validate_only_ ? 1 : 0);
  }
  const std::vector<CreatableTopicResult>& items(const proto::CreateTopicsResponse& resp) const override {
    return resp.topics;
  }
  const std::string* name_of(const CreatableTopicResult& r) const override { return &r.name; }
  void resolve(const std::string& name, const CreatableTopicResult& r) override {
    CreatedTopic& out = result.topics[name];
    out.error = kafka_error(r.error_code, r.error_message);
    out.topic_id = to_topic_id(r.topic_id);
    out.partitions = r.num_partitions;
    out.replication_factor = r.replication_factor;
  }
  void fail_one(const std::string& name, const Error& e) override { result.topics[name].error = e; }

  bool validate_only_;
};

// Runs on the network thread.
using DeletableTopicResult = proto::DeleteTopicsResponse::DeletableTopicResult;
class DeleteTopicsOp final
    : public ControllerOp<proto::DeleteTopicsRequest, std::set<std::string>, DeletableTopicResult> {
 public:
  DeleteTopicsOp(AdminImpl& a, int64_t timeout_ms, const std::vector<std::string>& topics)
      : ControllerOp(a, timeout_ms, "DeleteTopics", std::set<std::string>(topics.begin(), topics.end())) {}
  DeleteTopicsResult result;

 private:
  proto::DeleteTopicsRequest build() override {
    proto::DeleteTopicsRequest req;
    req.timeout_ms = remaining_ms();
    for (const auto& name : pending_) {
      req.topic_names.push_back(name);  // v0-v5
      proto::DeleteTopicsRequest::DeleteTopicState st;  // v6+
      st.name = name;
      req.topics.push_back(std::move(st));
    }
    return req;
  }
  const std::vector<DeletableTopicResult>& items(const proto::DeleteTopicsResponse& resp) const override {
    return resp.responses;
  }
  const std::string* name_of(const DeletableTopicResult& r) const override { return r.name ? &*r.name : nullptr; }
  void resolve(const std::string& name, const DeletableTopicResult& r) override {
    result.topics[name] = kafka_error(r.error_code, r.error_message);
  }
  void fail_one(const std::string& name, const Error& e) override { result.topics[name] = e; }
};

// Runs on the network thread.
using CreatePartitionsTopicResult = proto::CreatePartitionsResponse::CreatePartitionsTopicResult;
class CreatePartitionsOp final : public ControllerOp<proto::CreatePartitionsRequest,
                                                     std::map<std::string, NewPartitions>, CreatePartitionsTopicResult> {
 public:
  CreatePartitionsOp(AdminImpl& a, int64_t timeout_ms, const std::map<std::string, NewPartitions>& topics,
                     bool validate_only)
      : ControllerOp(a, timeout_ms, "CreatePartitions", topics), validate_only_(validate_only) {}
  CreatePartitionsResult result;

 private:
  proto::CreatePartitionsRequest build() override {
    proto::CreatePartitionsRequest req;
    req.timeout_ms = remaining_ms();
    req.validate_only = validate_only_;
    for (const auto& [name, np] : pending_) {
      proto::CreatePartitionsRequest::CreatePartitionsTopic t;
      t.name = name;
      t.count = np.total_count;
      if (np.assignments.empty()) {
        t.assignments = std::nullopt;
      } else {
        t.assignments.emplace();
        for (const auto& ids : np.assignments) t.assignments->push_back({ids, {}});
      }
      req.topics.push_back(std::move(t));
    }
    return req;
  }
  const std::vector<CreatePartitionsTopicResult>& items(const proto::CreatePartitionsResponse& resp) const override {
    return resp.results;
  }
  const std::string* name_of(const CreatePartitionsTopicResult& r) const override { return &r.name; }
  void resolve(const std::string& name, const CreatePartitionsTopicResult& r) override {
    result.topics[name] = kafka_error(r.error_code, r.error_message);
  }
  void fail_one(const std::string& name, const Error& e) override { result.topics[name] = e; }

  bool validate_only_;
};

// Runs on the network thread.
class DescribeClusterOp final : public AdminOp {
 public:
  DescribeClusterOp(AdminImpl& a, int64_t timeout_ms) : AdminOp(a, timeout_ms, "DescribeCluster") {}
  ClusterDescription result;

 private:
  void attempt() override {
    fetch_metadata(std::vector<std::string>{}, [this](const std::shared_ptr<const net::ClusterMetadata>& md) {
      result.cluster_id = md->cluster_id();
      result.controller_id = md->controller_id();
      for (const auto& [id, b] : md->brokers()) result.brokers.push_back(BrokerNode{id, b.host, b.port, b.rack});
      finish(Error());
    });
  }
  void fail_unresolved(const Error&) override {}
};

PartitionDescription describe_partition(const net::PartitionInfo& p) {
  PartitionDescription d;
  d.partition = p.partition;
  d.leader = p.leader_id;
  d.leader_epoch = p.leader_epoch;
  d.replicas = p.replicas;
  d.isr = p.isr;
  d.offline_replicas = p.offline_replicas;
  d.error = AdminOp::kafka_error(p.error);
  return d;
}

// Runs on the network thread.
class DescribeTopicsOp final : public AdminOp {
 public:
  DescribeTopicsOp(AdminImpl& a, int64_t timeout_ms, std::set<std::string> topics)
      : AdminOp(a, timeout_ms, "DescribeTopics"), pending_(std::move(topics)) {}
  DescribeTopicsResult result;

 private:
  void attempt() override {
    std::vector<std::string> names(pending_.begin(), pending_.end());
    fetch_metadata(names, [this](const std::shared_ptr<const net::ClusterMetadata>& md) {
      Error last;
      for (auto it = pending_.begin(); it != pending_.end();) {
        const net::TopicInfo* t = md->topic(*it);
        if (t == nullptr) {
          result.topics[*it].name = *it;
          result.topics[*it].error = missing_from_response("topic " + *it, "Metadata");
          it = pending_.erase(it);
          continue;
        }
        // A topic being created has no leaders yet: ask again.
        if (t->error == proto::to_int(proto::ErrorCode::LEADER_NOT_AVAILABLE)) {
          last = kafka_error(t->error);
          ++it;
          continue;
        }
        TopicDescription& d = result.topics[*it];
        d.name = t->name;
        d.error = kafka_error(t->error);
        d.topic_id = to_topic_id(t->id);
        d.internal = t->is_internal;
        for (const auto& p : t->partitions) d.partitions.push_back(describe_partition(p));
        it = pending_.erase(it);
      }
      if (pending_.empty()) return finish(Error());
      retry(last);
    });
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& name : pending_) {
      result.topics[name].name = name;
      result.topics[name].error = e;
    }
  }

  std::set<std::string> pending_;
};

// Runs on the network thread.
class ListTopicsOp final : public AdminOp {
 public:
  ListTopicsOp(AdminImpl& a, int64_t timeout_ms, bool include_internal)
      : AdminOp(a, timeout_ms, "ListTopics"), include_internal_(include_internal) {}
  ListTopicsResult result;

 private:
  void attempt() override {
    fetch_metadata(std::nullopt, [this](const std::shared_ptr<const net::ClusterMetadata>& md) {
      for (const auto& [name, t] : md->topics()) {
        if (t.is_internal && !include_internal_) continue;
        if (t.error != 0 && t.partitions.empty()) continue;  // e.g. being deleted
        result.topics.push_back(
            TopicListing{name, to_topic_id(t.id), t.is_internal, static_cast<int32_t>(t.partitions.size())});
      }
      finish(Error());
    });
  }
  void fail_unresolved(const Error&) override {}

  bool include_internal_;
};

}  // namespace

Error AdminImpl::create_topics(const std::vector<NewTopic>& topics, CreateTopicsResult* out,
                               const CreateTopicsOptions& options) {
  std::set<std::string> seen;
  for (const auto& t : topics) {
    if (t.name.empty()) return Error::from_code(errc::kInvalidArgument, "create_topics: empty topic name");
    if (!seen.insert(t.name).second)
      return Error::from_code(errc::kInvalidArgument, "create_topics: topic '" + t.name + "' given twice");
  }
  if (topics.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<CreateTopicsOp>(*this, timeout_ms(options), topics, options.validate_only), out);
}

Error AdminImpl::delete_topics(const std::vector<std::string>& topics, DeleteTopicsResult* out,
                               const DeleteTopicsOptions& options) {
  for (const auto& t : topics)
    if (t.empty()) return Error::from_code(errc::kInvalidArgument, "delete_topics: empty topic name");
  if (topics.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<DeleteTopicsOp>(*this, timeout_ms(options), topics), out);
}

Error AdminImpl::create_partitions(const std::map<std::string, NewPartitions>& topics, CreatePartitionsResult* out,
                                   const CreatePartitionsOptions& options) {
  for (const auto& [name, np] : topics) {
    if (name.empty()) return Error::from_code(errc::kInvalidArgument, "create_partitions: empty topic name");
    if (np.total_count <= 0)
      return Error::from_code(errc::kInvalidArgument,
                              "create_partitions: total_count of '" + name + "' must be positive");
  }
  if (topics.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<CreatePartitionsOp>(*this, timeout_ms(options), topics, options.validate_only), out);
}

Error AdminImpl::describe_cluster(ClusterDescription* out, const DescribeClusterOptions& options) {
  return run(std::make_shared<DescribeClusterOp>(*this, timeout_ms(options)), out);
}

Error AdminImpl::describe_topics(const std::vector<std::string>& topics, DescribeTopicsResult* out,
                                 const DescribeTopicsOptions& options) {
  for (const auto& t : topics)
    if (t.empty()) return Error::from_code(errc::kInvalidArgument, "describe_topics: empty topic name");
  if (topics.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<DescribeTopicsOp>(*this, timeout_ms(options),
                                                std::set<std::string>(topics.begin(), topics.end())),
             out);
}

Error AdminImpl::list_topics(ListTopicsResult* out, const ListTopicsOptions& options) {
  return run(std::make_shared<ListTopicsOp>(*this, timeout_ms(options), options.include_internal), out);
}

}  // namespace kfk::admin
