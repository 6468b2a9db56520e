// Topic administration: CreateTopics, DeleteTopics and CreatePartitions
// (sent to the controller), and the metadata-based calls: describe cluster,
// describe topics, list topics.
#include <algorithm>

#include "client/admin/admin_impl.h"
#include "protocol/error_codes.h"

namespace kfk::admin {
namespace {

constexpr int16_t kNotController = proto::to_int(proto::ErrorCode::NOT_CONTROLLER);
constexpr int16_t kThrottled = proto::to_int(proto::ErrorCode::THROTTLING_QUOTA_EXCEEDED);

// Per-item errors of controller requests worth another attempt: the
// controller moved (look it up again), or a quota throttled us (Java's
// retryOnQuotaViolation default).
bool controller_retriable(int16_t code) { return code == kNotController || code == kThrottled; }

Error missing_from_response(const std::string& what, const char* api) {
  return Error::from_code(errc::kMalformedResponse, what + " missing from the " + api + " response");
}

// A failed request to the controller: a transport failure may mean the
// controller is gone, so look it up again; anything else ends the call.
// Returns whether the op should retry.
bool controller_request_failed(AdminImpl& admin, const Error& err) {
  if (!err.retriable()) return false;
  admin.controller_id = -1;
  return true;
}

const std::string& key_of(const std::string& name) { return name; }
template <class V>
const std::string& key_of(const std::pair<const std::string, V>& entry) {
  return entry.first;
}

// Settles one controller answer's per-topic results. Topics the controller
// could not handle yet (it moved, or a quota throttled us) stay pending for
// the next attempt; the others go to `settle(item, name)` and leave
// `pending`. Once nothing is left to retry, topics the answer left out fail
// through `fail(name, error)`. Returns the error to retry with (ok: done).
template <class Pending, class Items, class NameOf, class Settle, class Fail>
Error settle_topics(AdminImpl& admin, const char* api, Pending& pending, Items& items, NameOf name_of, Settle settle,
                    Fail fail) {
  Error last;
  for (auto& r : items) {
    const std::string* name = name_of(r);
    if (name == nullptr) continue;
    auto it = pending.find(*name);
    if (it == pending.end()) continue;
    if (controller_retriable(r.error_code)) {
      if (r.error_code == kNotController) admin.controller_id = -1;
      last = AdminOp::kafka_error(r.error_code, r.error_message);
      continue;
    }
    settle(r, *name);
    pending.erase(it);
  }
  if (last.ok()) {
    for (const auto& entry : pending) fail(key_of(entry), missing_from_response("topic " + key_of(entry), api));
    pending.clear();
  }
  return last;
}

// Runs on the network thread.
class CreateTopicsOp final : public AdminOp {
 public:
  CreateTopicsOp(AdminImpl& a, int64_t timeout_ms, const std::vector<NewTopic>& topics, bool validate_only)
      : AdminOp(a, timeout_ms, "CreateTopics"), validate_only_(validate_only) {
    for (const auto& t : topics) pending_[t.name] = t;
  }
  CreateTopicsResult result;

 private:
  void attempt() override {
    with_controller([this](int32_t controller) {
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
      net::RequestOptions ro = request_options();
      // v0 cannot say validate_only (it would create the topics), and
      // v0-v3 cannot ask for the broker's defaults (-1).
      bool uses_defaults = std::any_of(pending_.begin(), pending_.end(), [](const auto& kv) {
        return kv.second.replica_assignment.empty() && (kv.second.partitions < 0 || kv.second.replication_factor < 0);
      });
      ro.min_version = uses_defaults ? 4 : (validate_only_ ? 1 : 0);
      auto self = shared_from_this();
      nc_.send(
          controller, std::move(req),
          [this, self](const Error& err, proto::CreateTopicsResponse& resp) {
            if (finished()) return;
            if (!err.ok()) return controller_request_failed(admin_, err) ? retry(err) : finish(err);
            Error last = settle_topics(
                admin_, "CreateTopics", pending_, resp.topics, [](auto& r) { return &r.name; },
                [this](auto& r, const std::string& name) {
                  CreatedTopic& out = result.topics[name];
                  out.error = kafka_error(r.error_code, r.error_message);
                  out.topic_id = to_topic_id(r.topic_id);
                  out.partitions = r.num_partitions;
                  out.replication_factor = r.replication_factor;
                },
                [this](const std::string& name, Error e) { result.topics[name].error = std::move(e); });
            if (pending_.empty()) return finish(Error());
            retry(last);
          },
          ro);
    });
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& [name, t] : pending_) result.topics[name].error = e;
  }

  bool validate_only_;
  std::map<std::string, NewTopic> pending_;
};

// Runs on the network thread.
class DeleteTopicsOp final : public AdminOp {
 public:
  DeleteTopicsOp(AdminImpl& a, int64_t timeout_ms, const std::vector<std::string>& topics)
      : AdminOp(a, timeout_ms, "DeleteTopics"), pending_(topics.begin(), topics.end()) {}
  DeleteTopicsResult result;

 private:
  void attempt() override {
    with_controller([this](int32_t controller) {
      proto::DeleteTopicsRequest req;
      req.timeout_ms = remaining_ms();
      for (const auto& name : pending_) {
        req.topic_names.push_back(name);  // v0-v5
        proto::DeleteTopicsRequest::DeleteTopicState st;  // v6+
        st.name = name;
        req.topics.push_back(std::move(st));
      }
      auto self = shared_from_this();
      nc_.send(
          controller, std::move(req),
          [this, self](const Error& err, proto::DeleteTopicsResponse& resp) {
            if (finished()) return;
            if (!err.ok()) return controller_request_failed(admin_, err) ? retry(err) : finish(err);
            Error last = settle_topics(
                admin_, "DeleteTopics", pending_, resp.responses,
                [](auto& r) { return r.name ? &*r.name : nullptr; },
                [this](auto& r, const std::string& name) {
                  result.topics[name] = kafka_error(r.error_code, r.error_message);
                },
                [this](const std::string& name, Error e) { result.topics[name] = std::move(e); });
            if (pending_.empty()) return finish(Error());
            retry(last);
          },
          request_options());
    });
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& name : pending_) result.topics[name] = e;
  }

  std::set<std::string> pending_;
};

// Runs on the network thread.
class CreatePartitionsOp final : public AdminOp {
 public:
  CreatePartitionsOp(AdminImpl& a, int64_t timeout_ms, const std::map<std::string, NewPartitions>& topics,
                     bool validate_only)
      : AdminOp(a, timeout_ms, "CreatePartitions"), validate_only_(validate_only), pending_(topics) {}
  CreatePartitionsResult result;

 private:
  void attempt() override {
    with_controller([this](int32_t controller) {
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
      auto self = shared_from_this();
      nc_.send(
          controller, std::move(req),
          [this, self](const Error& err, proto::CreatePartitionsResponse& resp) {
            if (finished()) return;
            if (!err.ok()) return controller_request_failed(admin_, err) ? retry(err) : finish(err);
            Error last = settle_topics(
                admin_, "CreatePartitions", pending_, resp.results, [](auto& r) { return &r.name; },
                [this](auto& r, const std::string& name) {
                  result.topics[name] = kafka_error(r.error_code, r.error_message);
                },
                [this](const std::string& name, Error e) { result.topics[name] = std::move(e); });
            if (pending_.empty()) return finish(Error());
            retry(last);
          },
          request_options());
    });
  }
  void fail_unresolved(const Error& e) override {
    for (const auto& [name, np] : pending_) result.topics[name] = e;
  }

  bool validate_only_;
  std::map<std::string, NewPartitions> pending_;
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
