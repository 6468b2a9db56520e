// AdminImpl: kfk::Admin on top of one NetClient, and AdminOp, what every
// admin call shares.
//
// A call is an AdminOp living on the network thread: start() arms the
// call's deadline and runs attempt(), which sends requests for the items
// still unresolved; retriable failures call retry(), which waits the
// backoff and runs attempt() again, or gives up at the deadline (a
// net::Retrier). Calls with one destination (a group's coordinator, the
// controller) send one net::Call instead (call()), which routes and
// retries by itself within the same deadline and `retries`. The calling
// thread blocks on the op's future and reads the result once it is ready;
// after that the network thread no longer touches the op's result
// (finish() runs once).
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/core/resolved_config.h"
#include "client/net/call.h"
#include "client/net/net_client.h"
#include "kfk/admin.h"

namespace kfk::admin {

class AdminImpl;

// Runs on the network thread (every method but future()).
class AdminOp : public std::enable_shared_from_this<AdminOp> {
 public:
  AdminOp(AdminImpl& admin, int64_t timeout_ms, std::string name);
  virtual ~AdminOp();
  AdminOp(const AdminOp&) = delete;
  AdminOp& operator=(const AdminOp&) = delete;

  // Any thread: ready once the op has finished; holds the overall error.
  std::future<Error> future() { return promise_.get_future(); }

  // Registers with the admin, arms the deadline and sends the first attempt.
  void start();
  // Ends the op now (close(): errc::kDestroyed).
  void abort(const Error& err) { finish(err); }
  bool finished() const { return finished_; }

  // A Kafka error code as a kfk::Error, with the broker's message when given.
  static Error kafka_error(int16_t code, const std::optional<std::string>& message = std::nullopt);

 protected:
  // Sends the requests for every unresolved item.
  virtual void attempt() = 0;
  // Gives every unresolved item `item_err` (the op failed or timed out).
  virtual void fail_unresolved(const Error& item_err) = 0;

  // Waits the backoff, then attempt() again; at the deadline the op
  // finishes with errc::kTimedOut naming `why`, the last retriable error.
  // Once `retries` retries were made, the op finishes with `why` itself.
  void retry(const Error& why) { retrier_.retry(why); }
  // Completes the op: `overall` ok means every item has its answer.
  void finish(const Error& overall);

  // The per-request timeout: request.timeout.ms, cut to what is left of the
  // call's timeout (as the Java AdminClient does).
  net::RequestOptions request_options() const { return retrier_.request_options(); }
  // What is left of the call's timeout, for timeouts inside requests
  // (CreateTopics' timeout_ms); at least 1.
  int32_t remaining_ms() const { return retrier_.remaining_ms(); }

  // Sends one request to `route` as a net::Call bounded by this op (its
  // deadline, `retries`, its life). `done` runs unless the op finished.
  template <class Req>
  void call(net::Route route, typename net::Call<Req>::Build build, typename net::Call<Req>::Classify classify,
            typename net::Call<Req>::Done done, int16_t min_version = -1) {
    net::CallSpec spec;
    spec.name = name_;
    spec.route = std::move(route);
    spec.deadline = retrier_.deadline();
    spec.max_retries = retrier_.max_retries();
    spec.min_version = min_version;
    spec.owner = lifetime_.weak();
    // The op's deadline message names the call's last failure.
    auto noting = [this, classify = std::move(classify)](const Error& err, net::Reply<net::ResponseOfT<Req>>& r) {
      net::Outcome o = classify ? classify(err, r) : net::Outcome{err};
      if (!o.error.ok()) retrier_.note(o.error);
      return o;
    };
    net::Call<Req>::start(nc_, std::move(spec), std::move(build), std::move(noting),
                          [this, done = std::move(done)](const Error& err, net::Reply<net::ResponseOfT<Req>>& r) {
                            if (!finished_) done(err, r);
                          });
  }

  // Fresh metadata for `topics` (nullopt: every topic; empty: none, just
  // brokers and controller) from any broker. Transport failures are
  // retried through retry(). Updates the pool's broker list and the cached
  // controller.
  using MetadataCallback = std::function<void(const std::shared_ptr<const net::ClusterMetadata>&)>;
  void fetch_metadata(std::optional<std::vector<std::string>> topics, MetadataCallback cb);

  AdminImpl& admin_;
  net::NetClient& nc_;
  std::string name_;  // "CreateTopics", for error messages

 private:
  bool finished_ = false;
  io::Lifetime lifetime_;  // ended by finish(): its calls end without done
  std::promise<Error> promise_;
  net::Retrier retrier_;
};

class AdminImpl final : public Admin {
 public:
  AdminImpl(core::ResolvedConfig rc, net::NetOptions opts);
  ~AdminImpl() override;

  Error create_topics(const std::vector<NewTopic>& topics, CreateTopicsResult* out,
                      const CreateTopicsOptions& options) override;
  Error delete_topics(const std::vector<std::string>& topics, DeleteTopicsResult* out,
                      const DeleteTopicsOptions& options) override;
  Error create_partitions(const std::map<std::string, NewPartitions>& topics, CreatePartitionsResult* out,
                          const CreatePartitionsOptions& options) override;
  Error describe_cluster(ClusterDescription* out, const DescribeClusterOptions& options) override;
  Error describe_topics(const std::vector<std::string>& topics, DescribeTopicsResult* out,
                        const DescribeTopicsOptions& options) override;
  Error list_topics(ListTopicsResult* out, const ListTopicsOptions& options) override;
  Error list_offsets(const std::map<TopicPartition, OffsetSpec>& partitions, ListOffsetsResult* out,
                     const ListOffsetsOptions& options) override;
  Error delete_records(const std::map<TopicPartition, int64_t>& before_offsets, DeleteRecordsResult* out,
                       const DeleteRecordsOptions& options) override;
  Error describe_configs(const std::vector<ConfigResource>& resources, DescribeConfigsResult* out,
                         const DescribeConfigsOptions& options) override;
  Error incremental_alter_configs(const std::map<ConfigResource, std::vector<AlterConfigOp>>& changes,
                                  AlterConfigsResult* out, const AlterConfigsOptions& options) override;
  Error list_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                    ListConsumerGroupOffsetsResult* out,
                                    const ListConsumerGroupOffsetsOptions& options) override;
  Error alter_consumer_group_offsets(const std::string& group,
                                     const std::map<TopicPartition, OffsetAndMetadata>& offsets,
                                     AlterConsumerGroupOffsetsResult* out,
                                     const AlterConsumerGroupOffsetsOptions& options) override;
  Error list_consumer_groups(ListConsumerGroupsResult* out, const ListConsumerGroupsOptions& options) override;
  Error describe_consumer_groups(const std::vector<std::string>& groups, DescribeConsumerGroupsResult* out,
                                 const DescribeConsumerGroupsOptions& options) override;
  Error delete_consumer_groups(const std::vector<std::string>& groups, DeleteConsumerGroupsResult* out,
                               const DeleteConsumerGroupsOptions& options) override;
  Error delete_consumer_group_offsets(const std::string& group, const std::vector<TopicPartition>& partitions,
                                      DeleteConsumerGroupOffsetsResult* out,
                                      const DeleteConsumerGroupOffsetsOptions& options) override;
  void close() override;

  net::NetClient& net() { return nc_; }
  const net::NetOptions& net_options() const { return nc_.options(); }
  // The call timeout for `opts` (default.api.timeout.ms when negative).
  int64_t timeout_ms(const AdminCallOptions& opts) const;
  // The `retries` setting: attempts after the first, per call.
  int64_t max_retries() const { return max_retries_; }

  // Network thread only.
  std::set<std::shared_ptr<AdminOp>> live_ops;

  // Runs `op` on the network thread and waits for it. `*out` is written
  // from the op's result once it finished.
  template <class Op, class Out>
  Error run(std::shared_ptr<Op> op, Out* out) {
    std::future<Error> fut = op->future();
    if (!nc_.post([op] { op->start(); })) return Error::from_code(errc::kDestroyed, "admin client closed");
    Error err = fut.get();
    if (out != nullptr) *out = std::move(op->result);
    return err;
  }

 private:
  core::ResolvedConfig rc_;
  net::NetClient nc_;
  int64_t default_timeout_ms_;
  int64_t max_retries_;
};

// Conversions shared by the operation files.
TopicId to_topic_id(const proto::Uuid& id);

}  // namespace kfk::admin
