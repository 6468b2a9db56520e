#include "client/admin/admin_impl.h"

#include <algorithm>


namespace kfk {

bool TopicId::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string TopicId::to_string() const {
  proto::Uuid u;
  u.bytes = bytes;
  return u.to_string();
}

std::string ConfigResource::to_string() const {
  switch (type) {
    case Type::kTopic: return "topic:" + name;
    case Type::kBroker: return "broker:" + name;
    case Type::kBrokerLogger: return "broker_logger:" + name;
  }
  return "resource" + std::to_string(static_cast<int>(type)) + ":" + name;
}

const ConfigEntry* ResourceConfig::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

Error Admin::create(const Config& config, std::unique_ptr<Admin>* out) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "Admin::create: out is null");
  core::ResolvedConfig rc;
  Error err = core::validate(config, core::ClientKind::kAdmin, &rc);
  if (!err.ok()) return err;
  net::NetOptions opts = net::NetOptions::from(rc);
  *out = std::make_unique<admin::AdminImpl>(std::move(rc), std::move(opts));
  return Error();
}

}  // namespace kfk

namespace kfk::admin {

TopicId to_topic_id(const proto::Uuid& id) {
  TopicId t;
  t.bytes = id.bytes;
  return t;
}

// --- AdminOp -------------------------------------------------------------------

AdminOp::AdminOp(AdminImpl& admin, int64_t timeout_ms, std::string name)
    : admin_(admin),
      nc_(admin.net()),
      name_(std::move(name)),
      retrier_(admin.net(), name_, net::after_ms(timeout_ms), admin.max_retries()) {}

AdminOp::~AdminOp() = default;

// Runs on the network thread.
void AdminOp::start() {
  admin_.live_ops.insert(shared_from_this());
  retrier_.start([this] { attempt(); }, [this](const Error& err) { finish(err); });
}

// Runs on the network thread.
void AdminOp::finish(const Error& overall) {
  if (finished_) return;
  finished_ = true;
  lifetime_.end();
  if (!overall.ok()) fail_unresolved(overall);
  // Timers die here, on the network thread (the op itself may be released
  // later by the calling thread).
  retrier_.stop();
  auto self = shared_from_this();  // keep alive until the end of this call
  admin_.live_ops.erase(self);
  promise_.set_value(overall);
}

Error AdminOp::kafka_error(int16_t code, const std::optional<std::string>& message) {
  if (code == 0) return Error();
  Error base = Error::from_code(code);
  if (message && !message->empty()) return Error(code, *message, base.retriable(), base.fatal());
  return base;
}

// Runs on the network thread.
void AdminOp::fetch_metadata(std::optional<std::vector<std::string>> topics, MetadataCallback cb) {
  proto::MetadataRequest req;
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) {
      proto::MetadataRequest::MetadataRequestTopic rt;
      rt.name = std::move(t);
      req.topics->push_back(std::move(rt));
    }
  } else {
    req.topics = std::nullopt;
  }
  req.allow_auto_topic_creation = false;  // the admin client never creates topics by asking
  net::RequestOptions ro = request_options();
  ro.min_version = 1;  // v0 reads an empty topic list as "all topics"
  auto self = shared_from_this();
  nc_.send(
      net::kAnyNode, std::move(req),
      [this, self, cb = std::move(cb)](const Error& err, proto::MetadataResponse& resp) {
        if (finished_) return;
        if (!err.ok()) {
          if (err.retriable()) return retry(err);
          return finish(err);
        }
        auto md = net::ClusterMetadata::merge(nullptr, resp, false, net::EpochMap{}, nullptr);
        // Keep the pool's broker list current: later requests address brokers by id.
        std::vector<net::ConnectionPool::BrokerAddress> brokers;
        for (const auto& [id, b] : md->brokers()) brokers.push_back({id, io::HostPort{b.host, b.port}, b.rack});
        if (!brokers.empty()) nc_.pool().set_brokers(brokers);
        cb(md);
      },
      ro);
}

// --- AdminImpl ----------------------------------------------------------------

AdminImpl::AdminImpl(core::ResolvedConfig rc, net::NetOptions opts)
    : rc_(std::move(rc)), nc_(std::move(opts)), default_timeout_ms_(rc_.get_long("default.api.timeout.ms")),
      max_retries_(rc_.get_long("retries")) {
  nc_.start();
  nc_.post([this] {
    // Runs on the network thread. Stop hooks run last-added first: calls
    // still running end before the pool fails their requests.
    nc_.thread().add_stop_hook([this] {
      auto ops = live_ops;
      for (const auto& op : ops) op->abort(Error::from_code(errc::kDestroyed, "admin client closed"));
      live_ops.clear();
    });
  });
}

AdminImpl::~AdminImpl() { close(); }

void AdminImpl::close() { nc_.stop(); }

int64_t AdminImpl::timeout_ms(const AdminCallOptions& opts) const {
  return opts.timeout.count() < 0 ? default_timeout_ms_ : opts.timeout.count();
}

}  // namespace kfk::admin
