// Configs: DescribeConfigs and IncrementalAlterConfigs.
//
// Per-resource errors are final (the Java AdminClient does not retry them
// either); a failed request (connection lost, timeout) is retried.
//
// Routing, as the Java AdminClient: a broker's (or broker logger's) own
// configs go to that broker (only it knows its static and per-broker
// values); topic configs and the cluster-wide broker default go to any
// broker. One request per destination.
#include <algorithm>
#include <charconv>

#include "client/admin/admin_impl.h"

namespace kfk::admin {
namespace {

constexpr int32_t kNoNode = -1;

// The broker a resource must be asked of, or kNoNode for any broker.
int32_t node_for(const ConfigResource& r) {
  if (r.type == ConfigResource::Type::kTopic || r.name.empty()) return kNoNode;
  int32_t id = -1;
  std::from_chars(r.name.data(), r.name.data() + r.name.size(), id);
  return id;
}

Error check_resource(const ConfigResource& r, const char* call) {
  switch (r.type) {
    case ConfigResource::Type::kTopic:
      if (r.name.empty()) return Error::from_code(errc::kInvalidArgument, std::string(call) + ": empty topic name");
      return Error();
    case ConfigResource::Type::kBroker:
    case ConfigResource::Type::kBrokerLogger: {
      if (r.name.empty()) return Error();
      int32_t id = -1;
      auto [end, ec] = std::from_chars(r.name.data(), r.name.data() + r.name.size(), id);
      if (ec != std::errc() || end != r.name.data() + r.name.size() || id < 0)
        return Error::from_code(errc::kInvalidArgument,
                                std::string(call) + ": broker resource name must be a broker id, not '" + r.name + "'");
      return Error();
    }
  }
  return Error::from_code(errc::kInvalidArgument, std::string(call) + ": unknown resource type " +
                                                      std::to_string(static_cast<int>(r.type)));
}

// Runs on the network thread. Spec: what is asked of each resource.
template <class Spec>
class ResourceOp : public AdminOp {
 public:
  ResourceOp(AdminImpl& a, int64_t timeout_ms, std::string name, std::map<ConfigResource, Spec> items)
      : AdminOp(a, timeout_ms, std::move(name)), pending_(std::move(items)) {}

 protected:
  // Sends one request for `resources` to `node`; the response handler
  // erases answered resources from pending_ and calls `done` once.
  virtual void send_group(int32_t node, std::vector<ConfigResource> resources, std::function<void()> done) = 0;
  virtual void resolve(const ConfigResource& r, const Error& err) = 0;

  // A whole request failed: retriable errors wait for the next attempt.
  void request_failed(const std::vector<ConfigResource>& resources, const Error& err) {
    if (err.retriable()) {
      last_ = err;
      return;
    }
    for (const auto& r : resources) {
      resolve(r, err);
      pending_.erase(r);
    }
  }

  std::map<ConfigResource, Spec> pending_;

 private:
  void attempt() override {
    last_ = Error();
    bool need_metadata = false;
    for (const auto& [r, spec] : pending_) {
      int32_t node = node_for(r);
      if (node != kNoNode && !nc_.pool().knows(node)) need_metadata = true;
    }
    if (!need_metadata) return dispatch(nullptr);
    fetch_metadata(std::vector<std::string>{},
                   [this](const std::shared_ptr<const net::ClusterMetadata>& md) { dispatch(md.get()); });
  }

  void dispatch(const net::ClusterMetadata* md) {
    std::map<int32_t, std::vector<ConfigResource>> by_node;
    for (auto it = pending_.begin(); it != pending_.end();) {
      int32_t node = node_for(it->first);
      if (node != kNoNode && !nc_.pool().knows(node) && md != nullptr && md->broker(node) == nullptr) {
        resolve(it->first, Error::from_code(errc::kInvalidArgument,
                                            "broker " + it->first.name + " is not in the cluster metadata"));
        it = pending_.erase(it);
        continue;
      }
      by_node[node == kNoNode ? net::kAnyNode : node].push_back(it->first);
      ++it;
    }
    if (by_node.empty()) return after_attempt();
    outstanding_ = by_node.size();
    auto self = shared_from_this();
    for (auto& [node, resources] : by_node) {
      send_group(node, std::move(resources), [this, self] {
        if (--outstanding_ == 0 && !finished()) after_attempt();
      });
    }
  }

  void after_attempt() {
    if (pending_.empty()) return finish(Error());
    retry(last_.ok() ? Error::from_code(errc::kMalformedResponse, name_ + ": resources missing from the response")
                     : last_);
  }

  void fail_unresolved(const Error& e) override {
    for (const auto& [r, spec] : pending_) resolve(r, e);
  }

  size_t outstanding_ = 0;
  Error last_;
};

struct DescribeSpec {};

ConfigEntry to_entry(const proto::DescribeConfigsResponse::DescribeConfigsResourceResult& c, int16_t version) {
  ConfigEntry e;
  e.name = c.name;
  e.value = c.value;
  if (version == 0) {
    // v0 has is_default instead of a source.
    e.source = c.is_default ? ConfigSource::kDefault : ConfigSource::kUnknown;
  } else {
    e.source = static_cast<ConfigSource>(c.config_source);
  }
  e.read_only = c.read_only;
  e.sensitive = c.is_sensitive;
  for (const auto& s : c.synonyms) e.synonyms.push_back({s.name, s.value, static_cast<ConfigSource>(s.source)});
  e.type = c.config_type;
  if (c.documentation && !c.documentation->empty()) e.documentation = c.documentation;
  return e;
}

// Runs on the network thread.
class DescribeConfigsOp final : public ResourceOp<DescribeSpec> {
 public:
  DescribeConfigsOp(AdminImpl& a, int64_t timeout_ms, std::map<ConfigResource, DescribeSpec> items,
                    const DescribeConfigsOptions& opts)
      : ResourceOp(a, timeout_ms, "DescribeConfigs", std::move(items)), opts_(opts) {}
  DescribeConfigsResult result;

 private:
  void resolve(const ConfigResource& r, const Error& err) override { result.resources[r].error = err; }

  void send_group(int32_t node, std::vector<ConfigResource> resources, std::function<void()> done) override {
    proto::DescribeConfigsRequest req;
    req.include_synonyms = opts_.include_synonyms;
    req.include_documentation = opts_.include_documentation;
    for (const auto& r : resources) {
      proto::DescribeConfigsRequest::DescribeConfigsResource dr;
      dr.resource_type = static_cast<int8_t>(r.type);
      dr.resource_name = r.name;
      dr.configuration_keys = std::nullopt;  // every key
      req.resources.push_back(std::move(dr));
    }
    auto self = shared_from_this();
    nc_.send(
        node, std::move(req),
        [this, self, resources = std::move(resources), done = std::move(done)](
            const Error& err, net::Reply<proto::DescribeConfigsResponse>& reply) {
          if (finished()) return;
          if (!err.ok()) {
            request_failed(resources, err);
            return done();
          }
          for (const auto& res : reply.msg.results) {
            ConfigResource r{static_cast<ConfigResource::Type>(res.resource_type), res.resource_name};
            if (!pending_.count(r)) continue;
            Error e = kafka_error(res.error_code, res.error_message);
            ResourceConfig& rc = result.resources[r];
            rc.error = e;
            rc.entries.clear();
            for (const auto& c : res.configs) rc.entries.push_back(to_entry(c, reply.version));
            std::sort(rc.entries.begin(), rc.entries.end(),
                      [](const ConfigEntry& a, const ConfigEntry& b) { return a.name < b.name; });
            pending_.erase(r);
          }
          done();
        },
        request_options());
  }

  DescribeConfigsOptions opts_;
};

// Runs on the network thread.
class AlterConfigsOp final : public ResourceOp<std::vector<AlterConfigOp>> {
 public:
  AlterConfigsOp(AdminImpl& a, int64_t timeout_ms, std::map<ConfigResource, std::vector<AlterConfigOp>> items,
                 bool validate_only)
      : ResourceOp(a, timeout_ms, "IncrementalAlterConfigs", std::move(items)), validate_only_(validate_only) {}
  AlterConfigsResult result;

 private:
  void resolve(const ConfigResource& r, const Error& err) override { result.resources[r] = err; }

  void send_group(int32_t node, std::vector<ConfigResource> resources, std::function<void()> done) override {
    proto::IncrementalAlterConfigsRequest req;
    req.validate_only = validate_only_;
    for (const auto& r : resources) {
      proto::IncrementalAlterConfigsRequest::AlterConfigsResource ar;
      ar.resource_type = static_cast<int8_t>(r.type);
      ar.resource_name = r.name;
      for (const auto& op : pending_.at(r)) {
        proto::IncrementalAlterConfigsRequest::AlterableConfig c;
        c.name = op.name;
        c.config_operation = static_cast<int8_t>(op.op);
        if (op.op == AlterConfigOp::Type::kDelete)
          c.value = std::nullopt;
        else
          c.value = op.value;
        ar.configs.push_back(std::move(c));
      }
      req.resources.push_back(std::move(ar));
    }
    auto self = shared_from_this();
    nc_.send(
        node, std::move(req),
        [this, self, resources = std::move(resources), done = std::move(done)](
            const Error& err, proto::IncrementalAlterConfigsResponse& resp) {
          if (finished()) return;
          if (!err.ok()) {
            request_failed(resources, err);
            return done();
          }
          for (const auto& res : resp.responses) {
            ConfigResource r{static_cast<ConfigResource::Type>(res.resource_type), res.resource_name};
            if (!pending_.count(r)) continue;
            Error e = kafka_error(res.error_code, res.error_message);
            result.resources[r] = e;
            pending_.erase(r);
          }
          done();
        },
        request_options());
  }

  bool validate_only_;
};

}  // namespace

Error AdminImpl::describe_configs(const std::vector<ConfigResource>& resources, DescribeConfigsResult* out,
                                  const DescribeConfigsOptions& options) {
  std::map<ConfigResource, DescribeSpec> items;
  for (const auto& r : resources) {
    if (Error e = check_resource(r, "describe_configs"); !e.ok()) return e;
    items[r] = {};
  }
  if (items.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<DescribeConfigsOp>(*this, timeout_ms(options), std::move(items), options), out);
}

Error AdminImpl::incremental_alter_configs(const std::map<ConfigResource, std::vector<AlterConfigOp>>& changes,
                                           AlterConfigsResult* out, const AlterConfigsOptions& options) {
  for (const auto& [r, ops] : changes) {
    if (Error e = check_resource(r, "incremental_alter_configs"); !e.ok()) return e;
    for (const auto& op : ops) {
      if (op.name.empty())
        return Error::from_code(errc::kInvalidArgument,
                                "incremental_alter_configs: empty config name for " + r.to_string());
      if (static_cast<int>(op.op) < 0 || static_cast<int>(op.op) > 3)
        return Error::from_code(errc::kInvalidArgument, "incremental_alter_configs: unknown operation " +
                                                            std::to_string(static_cast<int>(op.op)) + " for " +
                                                            op.name);
    }
  }
  if (changes.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<AlterConfigsOp>(*this, timeout_ms(options), changes, options.validate_only), out);
}

}  // namespace kfk::admin
