#include "client/producer/producer_impl.h"

#include <chrono>
#include <condition_variable>
#include <future>

#include "client/core/growable_struct.h"
#include "client/net/net_options.h"

namespace kfk {

using producer::ProducerImpl;

namespace {

const char* partitioner_name(const core::ResolvedConfig& rc) {
  using P = core::Partitioner;
  switch (rc.partitioner()) {
    case P::kDefault: return "default";
    case P::kMurmur2: return "murmur2";
    case P::kMurmur2Random: return "murmur2_random";
    case P::kConsistent: return "consistent";
    case P::kConsistentRandom: return "consistent_random";
    case P::kFnv1a: return "fnv1a";
    case P::kFnv1aRandom: return "fnv1a_random";
    case P::kRandom: return "random";
    case P::kRoundRobin: return "round_robin";
    case P::kUniformSticky: return "uniform_sticky";
    case P::kCustom: break;
  }
  return rc.get_string("partitioner").c_str();
}

}  // namespace

Error Producer::create(const Config& config, std::unique_ptr<Producer>* out, ProducerOptions options) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "Producer::create: out is null");
  core::ResolvedConfig rc;
  if (Error e = core::validate(config, core::ClientKind::kProducer, &rc); !e.ok()) return e;
  if (!rc.get_string("transactional.id").empty())
    return Error::from_code(errc::kUnsupportedFeature,
                            "transactional.id: transactions are not supported by this version of kfk yet");
  std::unique_ptr<Partitioner> owned;
  std::shared_ptr<Partitioner> shared = options.partitioner;
  if (!shared) {
    if (Error e = create_partitioner(partitioner_name(rc), owned); !e.ok()) return e;
  }
  auto p = std::make_unique<ProducerImpl>(std::move(rc), std::move(options), std::move(owned), std::move(shared));
  p->start();
  *out = std::move(p);
  return Error();
}

namespace producer {

namespace {

std::atomic<uint64_t> g_next_producer_id{1};

// send()'s per-thread memo of topic views: the hot path then takes no lock,
// touches no shared reference count and hashes nothing. An entry is used
// only while its producer and the metadata generation it was made from
// are current. Only the outermost send() on a thread writes entries (a
// partitioner or interceptor that sends from inside send() reads them but
// cannot free the view its caller is using).
struct ViewMemo {
  uint64_t owner = 0;
  uint64_t generation = 0;
  std::string topic;
  std::shared_ptr<const TopicView> view;
};
constexpr size_t kViewMemoSize = 8;
thread_local ViewMemo t_view_memo[kViewMemoSize];
thread_local int t_send_depth = 0;

size_t view_memo_slot(std::string_view topic) {
  const size_t n = topic.size();
  return (n + (n > 0 ? static_cast<unsigned char>(topic[n - 1]) : 0)) & (kViewMemoSize - 1);
}

struct SendDepth {
  SendDepth() { ++t_send_depth; }
  ~SendDepth() { --t_send_depth; }
  SendDepth(const SendDepth&) = delete;
  SendDepth& operator=(const SendDepth&) = delete;
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AccumulatorConfig accumulator_config(const core::ResolvedConfig& rc, CallbackExecutor* executor,
                                     const InterceptorChain* interceptors, LogFn log) {
  AccumulatorConfig c;
  c.batch_size = static_cast<size_t>(rc.get_long("batch.size"));
  c.linger_ms = rc.get_long("linger.ms");
  c.buffer_memory = static_cast<size_t>(rc.get_long("buffer.memory"));
  c.max_block_ms = rc.get_long("max.block.ms");
  c.max_request_size = static_cast<size_t>(rc.get_long("max.request.size"));
  c.delivery_timeout_ms = rc.get_long("delivery.timeout.ms");
  c.retry_backoff_ms = rc.get_long("retry.backoff.ms");
  c.retry_backoff_max_ms = rc.get_long("retry.backoff.max.ms");
  c.compression = rc.compression();
  c.compression_level = rc.compression_level();
  c.executor = executor;
  c.interceptors = interceptors;
  c.log = std::move(log);
  return c;
}

SenderConfig sender_config(const core::ResolvedConfig& rc) {
  SenderConfig c;
  c.acks = rc.acks();
  c.request_timeout_ms = rc.get_long("request.timeout.ms");
  c.max_in_flight = rc.get_int("max.in.flight.requests.per.connection");
  c.retries = rc.get_int("retries");
  c.delivery_timeout_ms = rc.get_long("delivery.timeout.ms");
  c.max_request_size = static_cast<size_t>(rc.get_long("max.request.size"));
  c.idempotent = rc.idempotence();
  c.transaction_timeout_ms = rc.get_int("transaction.timeout.ms");
  return c;
}
}  // namespace

ProducerImpl::ProducerImpl(core::ResolvedConfig config, ProducerOptions options, std::unique_ptr<kfk::Partitioner> owned,
                           std::shared_ptr<kfk::Partitioner> shared)
    : config_(std::move(config)),
      options_(std::move(options)),
      owned_partitioner_(std::move(owned)),
      shared_partitioner_(std::move(shared)),
      partitioner_(shared_partitioner_ ? shared_partitioner_.get() : owned_partitioner_.get()),
      ignore_keys_(config_.get_bool("partitioner.ignore.keys")),
      max_block_ms_(config_.get_long("max.block.ms")),
      delivery_timeout_ms_(config_.get_long("delivery.timeout.ms")),
      id_(g_next_producer_id.fetch_add(1, std::memory_order_relaxed)),
      interceptors_(options_.interceptors, options_.log) {
  if (!options_.log) options_.log = log_to_stderr;
  for (const auto& note : config_.adjustments()) options_.log(note);
  accumulator_ = std::make_unique<RecordAccumulator>(
      accumulator_config(config_, &executor_, &interceptors_, options_.log));
  net::NetOptions no = net::NetOptions::from(config_);
  no.log = options_.log;
  net_ = std::make_unique<net::NetClient>(std::move(no));
}

ProducerImpl::~ProducerImpl() { (void)close(std::chrono::milliseconds(delivery_timeout_ms_)); }  // nobody left to tell

void ProducerImpl::start() {
  net_->start();
  net_->post([this] {
    // Runs on the network thread.
    sender_ = std::make_unique<Sender>(*net_, *accumulator_, sender_config(config_), counters_, options_.log);
    sender_->start();
  });
}

void ProducerImpl::wake_sender() {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  net_->post([this] {
    // Runs on the network thread.
    wake_pending_.store(false, std::memory_order_release);
    if (sender_) sender_->run();
  });
}

// --- send ------------------------------------------------------------------------

void ProducerImpl::fail_early(ProducerRecord&& record, int32_t partition, const Error& err,
                              DeliveryCallback&& callback) {
  // The error path may allocate; callbacks still run on the callback
  // thread, after the callbacks of records sent earlier.
  struct Early {
    ProducerRecord record;
    DeliveryCallback callback;
  };
  auto early = std::make_shared<Early>(Early{std::move(record), std::move(callback)});
  executor_.post([this, early, partition, err] {
    // RecordMetadata::topic must outlive the record (the callback may keep
    // it, e.g. in a future's DeliveryResult): the producer's own copy.
    const std::string_view topic = failed_topic_name(early->record.topic);
    interceptors_.on_send_error(early->record, topic, partition, err);
    if (!early->callback) return;
    RecordMetadata md;
    md.topic = topic;
    md.partition = partition;
    md.serialized_key_size = early->record.key ? static_cast<int32_t>(early->record.key->size()) : -1;
    md.serialized_value_size = early->record.value ? static_cast<int32_t>(early->record.value->size()) : -1;
    try {
      early->callback(md, err);
    } catch (const std::exception& e) {
      interceptors_.log(std::string("delivery callback threw: ") + e.what());
    } catch (...) {
      interceptors_.log("delivery callback threw");
    }
  });
}

std::string_view ProducerImpl::failed_topic_name(std::string_view topic) {
  MutexLock lock(failed_topic_names_mu_);
  auto it = failed_topic_names_.find(topic);
  if (it == failed_topic_names_.end()) it = failed_topic_names_.emplace(topic).first;
  return *it;
}

std::shared_ptr<const TopicView> ProducerImpl::cached_view(std::string_view topic, uint64_t generation) const {
  std::shared_lock lock(topics_mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second->generation != generation) return nullptr;
  return it->second;
}

Error ProducerImpl::wait_for_topic(const std::string& topic, int64_t timeout_ms) {
  auto done = std::make_shared<std::promise<Error>>();
  std::future<Error> f = done->get_future();
  bool posted = net_->post([this, topic, timeout_ms, done] {
    // Runs on the network thread.
    net_->metadata().wait_for_topic(topic, net::after_ms(timeout_ms),
                                    [done](const Error& err, const net::MetadataManager::Snapshot&) {
                                      done->set_value(err);
                                    });
  });
  if (!posted) return Error::from_code(errc::kDestroyed, "producer closed");
  // The metadata manager answers by the deadline; the margin covers a
  // network thread busy with other work.
  if (f.wait_for(std::chrono::milliseconds(timeout_ms + 1000)) != std::future_status::ready)
    return Error::from_code(errc::kTimedOut, "topic " + topic + " not present in metadata after " +
                                                 std::to_string(timeout_ms) + " ms (max.block.ms)");
  Error e = f.get();
  if (e.code() != errc::kTimedOut) return e;
  std::string msg = "topic " + topic + " not present in metadata after " + std::to_string(timeout_ms) +
                    " ms (max.block.ms)";
  // Name the real cause when it is that no broker could be reached.
  if (Error down = brokers_down(msg); !down.ok()) return down;
  return Error::from_code(errc::kTimedOut, msg);
}

Error ProducerImpl::brokers_down(const std::string& what) const {
  Error down = net_->all_brokers_down();
  if (down.ok()) return down;
  return Error(errc::kAllBrokersDown, what + ": " + down.message(), true);
}

Error ProducerImpl::known_topic_failure(const std::string& topic, const net::ClusterMetadata& snap) {
  Error remembered;
  {
    std::shared_lock lock(topics_mu_);
    auto it = failed_topics_.find(topic);
    if (it == failed_topics_.end()) return Error();
    remembered = it->second;
  }
  if (remembered.code() == errc::kAllBrokersDown) {
    if (Error down = brokers_down("topic " + topic + " not in metadata"); !down.ok()) return down;
  } else {
    const net::TopicInfo* info = snap.topic(topic);
    if (info == nullptr || info->error == remembered.code())
      return Error::from_code(remembered.code(), "topic " + topic + " does not exist: the cluster said so when a "
                                                 "send waited for it, and the metadata has not changed since");
  }
  std::unique_lock lock(topics_mu_);
  failed_topics_.erase(topic);  // things changed: a later send waits again
  return Error();
}

void ProducerImpl::remember_topic_failure(const std::string& topic, const Error& err) {
  if (err.code() != errc::kAllBrokersDown && err.code() != errc::kUnknownTopicOrPartition) return;
  std::unique_lock lock(topics_mu_);
  failed_topics_[topic] = err;
}

Error ProducerImpl::topic_view(const std::string& topic, bool may_wait, const TopicView** out,
                               std::shared_ptr<const TopicView>* keep) {
  ViewMemo& memo = t_view_memo[view_memo_slot(topic)];
  if (memo.owner == id_ && memo.generation == net_->metadata_generation() && memo.topic == topic) {
    *out = memo.view.get();
    return Error();
  }
  if (Error e = shared_view(topic, may_wait, keep); !e.ok()) return e;
  *out = keep->get();
  if (t_send_depth == 1) {
    memo.owner = id_;
    memo.generation = (*keep)->generation;
    memo.topic = topic;
    memo.view = *keep;
  }
  return Error();
}

Error ProducerImpl::shared_view(const std::string& topic, bool may_wait, std::shared_ptr<const TopicView>* out) {
  auto snap = net_->metadata_snapshot();
  if (auto v = cached_view(topic, snap->generation())) {
    *out = std::move(v);
    return Error();
  }
  const net::TopicInfo* info = snap->topic(topic);
  if (info == nullptr || !info->usable()) {
    if (Error e = known_topic_failure(topic, *snap); !e.ok()) return e;
    if (!may_wait) {
      net_->post([this, topic] {
        // Runs on the network thread.
        net_->metadata().add_topics({topic});
      });
      if (Error down = brokers_down("topic " + topic + " not in metadata"); !down.ok()) return down;
      return Error(errc::kUnknownTopicOrPartition,
                   "metadata of topic " + topic + " not known yet (requested; try again)", true);
    }
    if (Error e = wait_for_topic(topic, max_block_ms_); !e.ok()) {
      remember_topic_failure(topic, e);
      return e;
    }
    snap = net_->metadata_snapshot();
    info = snap->topic(topic);
    if (info == nullptr || !info->usable())
      return Error::from_code(errc::kUnknownTopicOrPartition, "topic " + topic + " has no partitions");
  }
  auto view = std::make_shared<TopicView>();
  view->generation = snap->generation();
  view->num_partitions = static_cast<int32_t>(info->partitions.size());
  for (const auto& p : info->partitions)
    if (p.leader_id >= 0) view->available.push_back(p.partition);
  {
    std::unique_lock lock(topics_mu_);
    topics_[topic] = view;
    if (!failed_topics_.empty()) failed_topics_.erase(topic);
  }
  *out = std::move(view);
  return Error();
}

void ProducerImpl::send(ProducerRecord record, DeliveryCallback callback) {
  if (closed_.load(std::memory_order_acquire)) {
    fail_early(std::move(record), record.partition.value_or(-1),
               Error::from_code(errc::kDestroyed, "producer closed: cannot send"), std::move(callback));
    return;
  }
  if (counters_.fatal.load(std::memory_order_acquire)) {
    fail_early(std::move(record), record.partition.value_or(-1), counters_.fatal_error(), std::move(callback));
    return;
  }
  if (!interceptors_.empty()) record = interceptors_.on_send(std::move(record));
  int32_t partition = record.partition.value_or(-1);
  // Only the callback thread frees buffer.memory: it must not wait for it.
  const bool on_callback_thread = executor_.on_executor_thread();
  Error e = enqueue(record, callback, true, !on_callback_thread, &partition);
  if (e.ok()) return;
  if (on_callback_thread && e.code() == errc::kQueueFull)
    e = Error::from_code(errc::kQueueFull, e.message() + " (send() from a delivery callback: only the callback "
                                                         "thread frees buffer.memory, so it does not wait)");
  fail_early(std::move(record), partition, e, std::move(callback));
}

Error ProducerImpl::try_send(ProducerRecord&& record, DeliveryCallback&& callback) {
  if (closed_.load(std::memory_order_acquire))
    return Error::from_code(errc::kDestroyed, "producer closed: cannot send");
  if (counters_.fatal.load(std::memory_order_acquire)) return counters_.fatal_error();
  if (interceptors_.empty()) {
    int32_t partition = record.partition.value_or(-1);
    return enqueue(record, callback, false, false, &partition);
  }
  // `record` stays as it was on failure: the interceptors get a copy.
  ProducerRecord intercepted = interceptors_.on_send(record);
  int32_t partition = intercepted.partition.value_or(-1);
  Error e = enqueue(intercepted, callback, false, false, &partition);
  if (!e.ok()) fail_early(std::move(intercepted), partition, e, DeliveryCallback());  // on_acknowledgement
  return e;
}

Error ProducerImpl::enqueue(const ProducerRecord& record, DeliveryCallback& callback, bool wait_for_metadata,
                            bool wait_for_memory, int32_t* partition_out) {
  SendDepth depth;
  const TopicView* view = nullptr;
  std::shared_ptr<const TopicView> keep_view;
  if (Error e = topic_view(record.topic, wait_for_metadata, &view, &keep_view); !e.ok()) return e;
  int32_t partition;
  PartitionerContext ctx;
  if (record.partition) {
    partition = *record.partition;
    if (partition < 0 || partition >= view->num_partitions) {
      // Fails now, as librdkafka does, but asks for fresh metadata: the
      // partition may have just been created (Java waits for it instead).
      if (partition >= view->num_partitions)
        net_->post([this, why = "partition " + std::to_string(partition) + " of topic " + record.topic +
                                " not in metadata"] {
          // Runs on the network thread.
          net_->metadata().request_refresh(why);
        });
      return Error::from_code(errc::kUnknownTopicOrPartition,
                              "partition " + std::to_string(partition) + " of topic " + record.topic +
                                  " does not exist (the topic has " + std::to_string(view->num_partitions) +
                                  " partitions)");
    }
  } else {
    ctx.topic = record.topic;
    if (record.key && !ignore_keys_) ctx.key = record.key->span();
    if (record.value) ctx.value = record.value->span();
    ctx.num_partitions = view->num_partitions;
    ctx.available_partitions = view->available;
    partition = partitioner_->partition(ctx);
  }
  *partition_out = partition;
  const int64_t timestamp = record.timestamp.value_or(wall_ms());
  const bool hints = !record.partition && partitioner_->new_batch_hints();
  // One clock read per record, for its timestamp: the accumulator reads the
  // monotonic clock only when it starts a batch.
  constexpr int64_t now = RecordAccumulator::kNowIfNeeded;
  AppendResult r = accumulator_->append(record, partition, timestamp, std::move(callback), now, hints, wait_for_memory);
  if (r.aborted_for_new_batch) {
    partitioner_->on_new_batch(record.topic, partition);
    partition = partitioner_->partition(ctx);
    *partition_out = partition;
    r = accumulator_->append(record, partition, timestamp, std::move(callback), now, false, wait_for_memory);
  }
  if (!r.error.ok()) return r.error;
  if (r.batch_full || r.new_batch_created) wake_sender();
  return Error();
}

std::future<DeliveryResult> ProducerImpl::send(ProducerRecord record) {
  std::promise<DeliveryResult> promise;
  std::future<DeliveryResult> f = promise.get_future();
  send(std::move(record), [p = std::move(promise)](const RecordMetadata& md, const Error& err) mutable {
    p.set_value(DeliveryResult{md, err});
  });
  return f;
}

// --- flush / close ---------------------------------------------------------------

Error ProducerImpl::flush(std::chrono::milliseconds timeout) {
  if (executor_.on_executor_thread())
    return Error::from_code(errc::kState, "flush() called from a delivery callback would deadlock");
  const uint64_t token = accumulator_->begin_flush();
  wake_sender();
  const int64_t ms = timeout.count() >= net::kForeverMs ? net::kForeverMs : timeout.count();
  return accumulator_->await_flush_completion(token, ms);
}

Error ProducerImpl::close(std::chrono::milliseconds timeout) {
  if (executor_.on_executor_thread())
    return Error::from_code(errc::kState, "close() called from a delivery callback would deadlock");
  std::lock_guard lock(close_mu_);
  if (close_done_) return Error();
  closed_.store(true, std::memory_order_release);
  const auto start = std::chrono::steady_clock::now();
  const int64_t total_ms = timeout.count() >= net::kForeverMs ? net::kForeverMs : std::max<int64_t>(timeout.count(), 0);
  auto remaining = [&] {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    return std::max<int64_t>(total_ms - spent, 0);
  };

  // Everything queued becomes sendable; wait for the answers.
  accumulator_->close();
  const uint64_t token = accumulator_->begin_flush();
  wake_sender();
  Error result = accumulator_->await_flush_completion(token, total_ms);
  if (!result.ok()) {
    // Out of time: fail what is left. Queued batches now; in-flight ones
    // when the network stops below.
    Error purged = Error::from_code(errc::kPurged, "producer closed before the record was delivered");
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    if (net_->post([this, purged, done] {
          if (sender_) sender_->abort(purged);
          done->set_value();
        }))
      f.wait_for(std::chrono::milliseconds(std::max<int64_t>(remaining(), 100)));
    result = Error::from_code(errc::kTimedOut, "close(): records were still in flight when the timeout passed");
  }
  // Stops the network thread: requests in flight fail (kDestroyed) and
  // their batches complete with kPurged on the way out.
  auto done = std::make_shared<std::promise<void>>();
  net_->post([this, done] {
    sender_.reset();  // destroyed on the network thread (its timer lives there)
    done->set_value();
  });
  done->get_future().wait_for(std::chrono::milliseconds(std::max<int64_t>(remaining(), 100)));
  net_->stop();
  accumulator_->abort_undrained(Error::from_code(errc::kPurged, "producer closed"));
  executor_.wait_idle();
  interceptors_.close();
  partitioner_->close();
  close_done_ = true;
  return result;
}

// --- metadata and metrics ---------------------------------------------------------

Error ProducerImpl::partitions_for(std::string_view topic_name, std::vector<PartitionMetadata>* out) {
  if (out == nullptr) return Error::from_code(errc::kInvalidArgument, "partitions_for: out is null");
  out->clear();
  if (closed_.load(std::memory_order_acquire)) return Error::from_code(errc::kDestroyed, "producer closed");
  std::string topic(topic_name);
  auto snap = net_->metadata_snapshot();
  const net::TopicInfo* info = snap->topic(topic);
  if (info == nullptr || !info->usable()) {
    if (Error e = wait_for_topic(topic, max_block_ms_); !e.ok()) return e;
    snap = net_->metadata_snapshot();
    info = snap->topic(topic);
    if (info == nullptr) return Error::from_code(errc::kUnknownTopicOrPartition, topic);
  }
  for (const auto& p : info->partitions) {
    PartitionMetadata m;
    m.topic = topic;
    m.partition = p.partition;
    m.leader = p.leader_id;
    m.leader_epoch = p.leader_epoch;
    m.replicas = p.replicas;
    m.isr = p.isr;
    m.offline_replicas = p.offline_replicas;
    m.error = Error::from_code(p.error);
    out->push_back(std::move(m));
  }
  return Error();
}

void ProducerImpl::fill_metrics(ProducerMetrics* out, size_t size) const {
  ProducerMetrics m;
  const auto r = std::memory_order_relaxed;
  m.records_sent = counters_.records_sent.load(r);
  m.records_failed = counters_.records_failed.load(r);
  m.records_retried = counters_.records_retried.load(r);
  m.batches_sent = counters_.batches_sent.load(r);
  m.bytes_sent = counters_.bytes_sent.load(r);
  m.requests_sent = counters_.requests_sent.load(r);
  m.epoch_bumps = counters_.epoch_bumps.load(r);
  m.buffered_bytes = accumulator_->buffered_bytes();
  m.queued_batches = accumulator_->queued_batch_count();
  m.producer_id = counters_.producer_id.load(r);
  m.producer_epoch = static_cast<int16_t>(counters_.producer_epoch.load(r));
  using M = ProducerMetrics;
  core::assign_within(out, size, std::move(m), &M::records_sent, &M::records_failed, &M::records_retried,
                      &M::batches_sent, &M::bytes_sent, &M::requests_sent, &M::epoch_bumps, &M::buffered_bytes,
                      &M::queued_batches, &M::producer_id, &M::producer_epoch);
}

}  // namespace producer
}  // namespace kfk
