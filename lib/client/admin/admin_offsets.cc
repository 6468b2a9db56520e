// Calls addressed to partition leaders: ListOffsets and DeleteRecords.
//
// One attempt: fresh metadata for the topics still unresolved, then one
// request per leader. Partitions of unknown topics, or missing from a known
// topic, end with UNKNOWN_TOPIC_OR_PARTITION; leaderless partitions and
// retriable answers (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, ...) wait
// for the next attempt, after the backoff, as the Java AdminClient does.
#include <algorithm>

#include "client/admin/admin_impl.h"
#include "client/consumer/offset_requests.h"
#include "protocol/error_codes.h"

namespace kfk::admin {
namespace {

constexpr int16_t kLeaderNotAvailable = proto::to_int(proto::ErrorCode::LEADER_NOT_AVAILABLE);
constexpr int16_t kUnknownTopic = proto::to_int(proto::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);

// Runs on the network thread.
template <class Spec>
class LeaderOp : public AdminOp {
 public:
  LeaderOp(AdminImpl& a, int64_t timeout_ms, std::string name, std::map<TopicPartition, Spec> items)
      : AdminOp(a, timeout_ms, std::move(name)), pending_(std::move(items)) {}

 protected:
  // Sends one request for `partitions` to `leader`; calls resolve() or
  // keep() for each, then `done` (exactly once).
  virtual void send_group(int32_t leader, std::vector<TopicPartition> partitions,
                          std::shared_ptr<const net::ClusterMetadata> md, std::function<void()> done) = 0;
  // The final answer of one partition.
  virtual void resolve(const TopicPartition& tp, const Error& err) = 0;

  // A retriable failure of `tp`: asked again in the next attempt.
  void keep(const Error& why) { last_ = why; }
  // Handles a partition's error code: final or kept for the next attempt.
  // Returns true when the partition is done with an error.
  bool handle_code(const TopicPartition& tp, int16_t code) {
    if (code == 0) return false;
    Error e = kafka_error(code);
    if (e.retriable()) {
      keep(e);
      return false;
    }
    resolve(tp, e);
    pending_.erase(tp);
    return true;
  }

  // A whole request failed: retriable errors keep its partitions for the
  // next attempt, others are their final answer.
  void request_failed(const Error& err, const std::vector<TopicPartition>& tps) {
    if (err.retriable()) return keep(err);
    for (const auto& tp : tps) {
      resolve(tp, err);
      pending_.erase(tp);
    }
  }
  // Walks an answer's per-partition results (topics[].partitions[] with
  // partition_index and error_code): errors go through handle_code(), the
  // others to `ok(tp, partition)` and leave pending_.
  template <class Topics, class Ok>
  void settle(const Topics& topics, Ok ok) {
    for (const auto& t : topics) {
      for (const auto& p : t.partitions) {
        TopicPartition tp(t.name, p.partition_index);
        if (!pending_.count(tp)) continue;
        if (p.error_code != 0) {
          handle_code(tp, p.error_code);
          continue;
        }
        ok(tp, p);
        pending_.erase(tp);
      }
    }
  }

  std::map<TopicPartition, Spec> pending_;

 private:
  void attempt() override {
    last_ = Error();
    std::set<std::string> topics;
    for (const auto& [tp, spec] : pending_) topics.insert(tp.topic);
    fetch_metadata(std::vector<std::string>(topics.begin(), topics.end()),
                   [this](const std::shared_ptr<const net::ClusterMetadata>& md) { dispatch(md); });
  }

  void dispatch(const std::shared_ptr<const net::ClusterMetadata>& md) {
    std::map<int32_t, std::vector<TopicPartition>> by_leader;
    for (auto it = pending_.begin(); it != pending_.end();) {
      const TopicPartition& tp = it->first;
      const net::TopicInfo* t = md->topic(tp.topic);
      Error final_err;
      if (t == nullptr || t->error == kUnknownTopic) {
        final_err = Error::from_code(kUnknownTopic, "topic " + tp.topic);
      } else if (t->error == kLeaderNotAvailable) {
        keep(kafka_error(t->error));
      } else if (t->error != 0) {
        final_err = kafka_error(t->error);
      } else if (const net::PartitionInfo* p = t->partition(tp.partition); p == nullptr) {
        final_err = Error::from_code(kUnknownTopic, "partition " + tp.to_string());
      } else if (p->leader_id < 0 || !nc_.pool().knows(p->leader_id)) {
        keep(Error::from_code(kLeaderNotAvailable, tp.to_string()));
      } else {
        by_leader[p->leader_id].push_back(tp);
      }
      if (!final_err.ok()) {
        resolve(tp, final_err);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    if (by_leader.empty()) return after_attempt();
    outstanding_ = by_leader.size();
    auto self = shared_from_this();
    for (auto& [leader, tps] : by_leader) {
      send_group(leader, std::move(tps), md, [this, self] {
        if (--outstanding_ == 0 && !finished()) after_attempt();
      });
    }
  }

  void after_attempt() {
    if (pending_.empty()) return finish(Error());
    retry(last_.ok() ? Error::from_code(kLeaderNotAvailable) : last_);
  }

  void fail_unresolved(const Error& e) override {
    for (const auto& [tp, spec] : pending_) resolve(tp, e);
  }

  size_t outstanding_ = 0;
  Error last_;
};

// Runs on the network thread.
class ListOffsetsOp final : public LeaderOp<OffsetSpec> {
 public:
  ListOffsetsOp(AdminImpl& a, int64_t timeout_ms, std::map<TopicPartition, OffsetSpec> items, bool read_committed)
      : LeaderOp(a, timeout_ms, "ListOffsets", std::move(items)), read_committed_(read_committed) {}
  ListOffsetsResult result;

 private:
  void resolve(const TopicPartition& tp, const Error& err) override { result.partitions[tp].error = err; }

  void send_group(int32_t leader, std::vector<TopicPartition> partitions, std::shared_ptr<const net::ClusterMetadata> md,
                  std::function<void()> done) override {
    // max_timestamp needs ListOffsets v7 (KIP-734): a separate request, so
    // that an older broker fails only those partitions.
    std::vector<TopicPartition> plain, max_ts;
    for (const auto& tp : partitions)
      (pending_.at(tp).timestamp == OffsetSpec::kMaxTimestamp ? max_ts : plain).push_back(tp);
    auto remaining = std::make_shared<int>(static_cast<int>(!plain.empty()) + static_cast<int>(!max_ts.empty()));
    auto one_done = [remaining, done] {
      if (--*remaining == 0) done();
    };
    if (!plain.empty()) send(leader, std::move(plain), md, 1, one_done);
    if (!max_ts.empty()) send(leader, std::move(max_ts), md, 7, one_done);
  }

  void send(int32_t leader, std::vector<TopicPartition> tps, const std::shared_ptr<const net::ClusterMetadata>& md,
            int16_t min_version, std::function<void()> done) {
    std::vector<std::pair<TopicPartition, int64_t>> asks;
    for (const auto& tp : tps) asks.emplace_back(tp, pending_.at(tp).timestamp);
    proto::ListOffsetsRequest req =
        consumer::list_offsets_request(asks, read_committed_ ? 1 : 0, remaining_ms(), md.get());
    net::RequestOptions ro = request_options();
    ro.min_version = min_version;  // v0's offset arrays are not worth supporting
    auto self = shared_from_this();
    nc_.send(
        leader, std::move(req),
        [this, self, tps = std::move(tps), done = std::move(done)](const Error& err, proto::ListOffsetsResponse& resp) {
          if (finished()) return;
          if (!err.ok()) {
            request_failed(err, tps);
            return done();
          }
          this->settle(resp.topics, [this](const TopicPartition& tp, const auto& p) {
            ListedOffset& lo = result.partitions[tp];
            lo.error = Error();
            lo.offset = p.offset;
            lo.timestamp = p.timestamp;
            lo.leader_epoch = p.leader_epoch;
          });
          done();
        },
        ro);
  }

  bool read_committed_;
};

// Runs on the network thread.
class DeleteRecordsOp final : public LeaderOp<int64_t> {
 public:
  DeleteRecordsOp(AdminImpl& a, int64_t timeout_ms, std::map<TopicPartition, int64_t> items)
      : LeaderOp(a, timeout_ms, "DeleteRecords", std::move(items)) {}
  DeleteRecordsResult result;

 private:
  void resolve(const TopicPartition& tp, const Error& err) override { result.partitions[tp].error = err; }

  void send_group(int32_t leader, std::vector<TopicPartition> tps, std::shared_ptr<const net::ClusterMetadata>,
                  std::function<void()> done) override {
    proto::DeleteRecordsRequest req;
    req.timeout_ms = remaining_ms();
    for (const auto& tp : tps) {
      if (req.topics.empty() || req.topics.back().name != tp.topic) {
        req.topics.emplace_back();
        req.topics.back().name = tp.topic;
      }
      req.topics.back().partitions.push_back({tp.partition, pending_.at(tp), {}});
    }
    auto self = shared_from_this();
    nc_.send(
        leader, std::move(req),
        [this, self, tps = std::move(tps), done = std::move(done)](const Error& err, proto::DeleteRecordsResponse& resp) {
          if (finished()) return;
          if (!err.ok()) {
            request_failed(err, tps);
            return done();
          }
          this->settle(resp.topics, [this](const TopicPartition& tp, const auto& p) {
            DeletedRecords& dr = result.partitions[tp];
            dr.error = Error();
            dr.low_watermark = p.low_watermark;
          });
          done();
        },
        request_options());
  }
};

}  // namespace

Error AdminImpl::list_offsets(const std::map<TopicPartition, OffsetSpec>& partitions, ListOffsetsResult* out,
                              const ListOffsetsOptions& options) {
  for (const auto& [tp, spec] : partitions) {
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument, "list_offsets: invalid partition '" + tp.to_string() + "'");
    if (spec.timestamp < OffsetSpec::kMaxTimestamp)
      return Error::from_code(errc::kInvalidArgument, "list_offsets: invalid timestamp " +
                                                          std::to_string(spec.timestamp) + " for " + tp.to_string());
  }
  if (partitions.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<ListOffsetsOp>(*this, timeout_ms(options), partitions, options.read_committed), out);
}

Error AdminImpl::delete_records(const std::map<TopicPartition, int64_t>& before_offsets, DeleteRecordsResult* out,
                                const DeleteRecordsOptions& options) {
  for (const auto& [tp, offset] : before_offsets) {
    if (tp.topic.empty() || tp.partition < 0)
      return Error::from_code(errc::kInvalidArgument, "delete_records: invalid partition '" + tp.to_string() + "'");
    if (offset < kDeleteAllRecords)
      return Error::from_code(errc::kInvalidArgument,
                              "delete_records: invalid offset " + std::to_string(offset) + " for " + tp.to_string());
  }
  if (before_offsets.empty()) {
    if (out) *out = {};
    return Error();
  }
  return run(std::make_shared<DeleteRecordsOp>(*this, timeout_ms(options), before_offsets), out);
}

}  // namespace kfk::admin
