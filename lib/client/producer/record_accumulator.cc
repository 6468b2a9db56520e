#include "client/producer/record_accumulator.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "client/producer/callback_executor.h"

namespace kfk::producer {

namespace {

// Every accumulator gets an id never reused, so that the per-thread queue
// cache below cannot mistake a dead accumulator's entry for a live one.
std::atomic<uint64_t> g_next_accumulator_id{1};

// A small per-thread cache of partition queues: the hot path of append()
// then needs neither the map's shared lock nor a hash of the topic. Entries
// are only dereferenced when their owner id matches (queues live as long as
// their accumulator).
struct QueueCacheEntry {
  uint64_t owner = 0;
  PartitionQueue* queue = nullptr;
};
constexpr size_t kQueueCacheSize = 16;
thread_local QueueCacheEntry t_queue_cache[kQueueCacheSize];

size_t queue_cache_slot(std::string_view topic, int32_t partition) {
  return (static_cast<size_t>(partition) + topic.size() * 7) & (kQueueCacheSize - 1);
}

}  // namespace

size_t RecordAccumulator::KeyHash::operator()(const PartitionRef& k) const noexcept {
  return std::hash<std::string_view>{}(k.topic) ^ (static_cast<size_t>(k.partition) * 0x9e3779b97f4a7c15ull);
}

RecordAccumulator::RecordAccumulator(AccumulatorConfig config)
    : config_(std::move(config)), id_(g_next_accumulator_id.fetch_add(1, std::memory_order_relaxed)) {
  if (config_.batch_size < proto::kBatchHeaderSize + 1) config_.batch_size = proto::kBatchHeaderSize + 1;
}

RecordAccumulator::~RecordAccumulator() {
  closed_ = true;
  std::vector<ProducerBatch*> left;
  for_each_queue([&](PartitionQueue& q) {
    MutexLock lk(q.mu);
    while (!q.batches.empty()) {
      left.push_back(q.batches.front());
      q.batches.pop_front();
    }
  });
  // Inline, not on the executor: it may outlive this object's memory.
  for (ProducerBatch* b : left) {
    b->error_ = Error::from_code(errc::kDestroyed, "producer destroyed before the record was sent");
    b->state_ = State::kDone;
    b->run_completion();
  }
  MutexLock lk(mem_mu_);
  for (ProducerBatch* b : pool_) delete b;
  pool_.clear();
}

void RecordAccumulator::log(std::string_view message) const {
  if (config_.log)
    config_.log(message);
  else
    log_to_stderr(message);
}

proto::BatchBuilder::Options RecordAccumulator::batch_options() const {
  proto::BatchBuilder::Options o;
  o.compression = config_.compression;
  o.compression_level = config_.compression_level;
  o.transactional = config_.transactional;
  return o;
}

PartitionQueue* RecordAccumulator::find_queue(std::string_view topic, int32_t partition) const {
  ReaderLock lk(queues_mu_);
  auto it = queues_.find(PartitionRef{topic, partition});
  return it == queues_.end() ? nullptr : it->second.get();
}

PartitionQueue& RecordAccumulator::queue_for(std::string_view topic, int32_t partition) {
  QueueCacheEntry& cached = t_queue_cache[queue_cache_slot(topic, partition)];
  if (cached.owner == id_ && cached.queue->partition == partition && cached.queue->topic == topic)
    return *cached.queue;
  PartitionQueue* found = find_queue(topic, partition);
  if (found == nullptr) {
    WriterLock lk(queues_mu_);
    auto it = queues_.find(PartitionRef{topic, partition});
    if (it != queues_.end()) {
      found = it->second.get();
    } else {
      auto q = std::make_unique<PartitionQueue>(topic, partition);
      found = q.get();
      queues_.emplace(PartitionRef{found->topic, partition}, std::move(q));  // the key views the queue's own string
    }
  }
  cached = QueueCacheEntry{id_, found};
  return *found;
}

template <class Fn>
void RecordAccumulator::for_each_queue(Fn&& fn) const {
  // Never completes batches inside: a callback could send() to a new
  // partition, which takes queues_mu_ exclusively.
  ReaderLock lk(queues_mu_);
  for (const auto& [key, q] : queues_) fn(*q);
}

// ------------------------------------------------------------------ append

int64_t RecordAccumulator::mono_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

AppendResult RecordAccumulator::append(const ProducerRecord& record, int32_t partition, int64_t timestamp,
                                       DeliveryCallback&& callback, int64_t now_ms, bool abort_on_new_batch,
                                       bool wait_for_memory) {
  std::optional<std::span<const uint8_t>> key, value;
  if (record.key) key = record.key->u8();
  if (record.value) value = record.value->u8();
  return append(record.topic, partition, timestamp, key, value, record.headers, std::move(callback), now_ms,
                abort_on_new_batch, wait_for_memory);
}

AppendResult RecordAccumulator::append(std::string_view topic, int32_t partition, int64_t timestamp,
                                       std::optional<std::span<const uint8_t>> key,
                                       std::optional<std::span<const uint8_t>> value, std::span<const Header> headers,
                                       DeliveryCallback&& callback, int64_t now_ms, bool abort_on_new_batch,
                                       bool wait_for_memory) {
  AppendResult res;
  if (closed_.load(std::memory_order_relaxed)) {
    res.error = Error::from_code(errc::kDestroyed, "the producer is closed");
    return res;
  }
  if (partition < 0) {
    res.error = Error::from_code(errc::kInvalidArgument, "partition " + std::to_string(partition) + " of topic " +
                                                             std::string(topic) + " is negative");
    return res;
  }

  // The codec takes header views: built in a per-thread vector that keeps
  // its capacity (append never re-enters itself on one thread).
  std::span<const proto::RecordHeader> hdrs;
  if (!headers.empty()) {
    thread_local std::vector<proto::RecordHeader> t_headers;
    t_headers.resize(headers.size());
    for (size_t i = 0; i < headers.size(); ++i) {
      t_headers[i].key = headers[i].key;
      if (headers[i].value)
        t_headers[i].value = std::string_view(*headers[i].value);
      else
        t_headers[i].value.reset();
    }
    hdrs = t_headers;
  }

  const size_t record_bound =
      proto::BatchBuilder::record_size_upper_bound(key ? key->size() : 0, value ? value->size() : 0, hdrs);
  const size_t batch_bound = proto::kBatchHeaderSize + record_bound;
  if (batch_bound > config_.max_request_size || batch_bound > config_.buffer_memory) {
    const bool request = batch_bound > config_.max_request_size;
    res.error = Error::from_code(
        errc::kMessageTooLarge,
        "the record is " + std::to_string(batch_bound) + " bytes when serialized, which is larger than " +
            (request ? "max.request.size (" + std::to_string(config_.max_request_size) + ")"
                     : "buffer.memory (" + std::to_string(config_.buffer_memory) + ")"));
    return res;
  }

  const size_t batch_size = config_.batch_size;
  PartitionQueue& q = queue_for(topic, partition);

  // Appends to the open batch when the record fits. A batch the record does
  // not fit, or that is now full, is sealed: marked under the lock, finished
  // by this thread after unlocking (see seal()). Called under q.mu.
  auto try_append = [&](ProducerBatch*& to_seal) REQUIRES(q.mu) {
    if (q.batches.empty()) return false;
    ProducerBatch* last = q.batches.back();
    if (last->state_ != State::kOpen) return false;
    if (!last->has_room_for(record_bound, batch_size)) {
      last->state_ = State::kSealing;
      to_seal = last;
      return false;
    }
    last->append(timestamp, key, value, hdrs, std::move(callback));
    if (last->builder_.estimated_size() >= batch_size) {
      last->state_ = State::kSealing;
      to_seal = last;
    }
    return true;
  };

  ProducerBatch* sealed = nullptr;
  bool appended;
  {
    MutexLock lk(q.mu);
    appended = try_append(sealed);
  }
  if (sealed != nullptr) {
    seal(sealed);
    res.batch_full = true;
  }
  if (appended) return res;
  if (abort_on_new_batch) {
    res.aborted_for_new_batch = true;
    return res;
  }

  // A new batch: memory first (may block), without the partition lock so
  // the sender can keep draining it.
  const size_t reserve = std::max(batch_size, batch_bound);
  int64_t waited_ms = 0;
  ProducerBatch* fresh = allocate(reserve, wait_for_memory, &res.error, &waited_ms);
  if (fresh == nullptr) return res;
  fresh->reserve_bookkeeping(q.last_records.load(std::memory_order_relaxed),
                             q.last_callbacks.load(std::memory_order_relaxed));
  // Linger and delivery.timeout.ms count from the batch's real creation,
  // after any wait for memory.
  if (now_ms == kNowIfNeeded)
    now_ms = mono_now_ms();
  else
    now_ms += waited_ms;

  ProducerBatch* sealed_old = nullptr;
  ProducerBatch* sealed_new = nullptr;
  bool used_fresh = false;
  {
    MutexLock lk(q.mu);
    if (closed_.load(std::memory_order_relaxed)) {
      res.error = Error::from_code(errc::kDestroyed, "the producer is closed");
    } else if (!try_append(sealed_old)) {  // another thread may have made a batch meanwhile
      fresh->start(&q, q.topic, partition, q.next_seq++, now_ms, batch_options(), reserve);
      q.batches.push_back(fresh);
      used_fresh = true;
      fresh->append(timestamp, key, value, hdrs, std::move(callback));
      res.new_batch_created = true;
      if (fresh->builder_.estimated_size() >= batch_size) {  // a record of batch.size or more: alone
        fresh->state_ = State::kSealing;
        sealed_new = fresh;
      }
    }
  }
  if (!used_fresh) release_unused(fresh);
  if (sealed_old != nullptr) seal(sealed_old);
  if (sealed_new != nullptr) seal(sealed_new);
  if (sealed_old != nullptr || sealed_new != nullptr) res.batch_full = true;
  return res;
}

void RecordAccumulator::seal(ProducerBatch* batch) {
  // Closed for appends. Not compressed here: drain() finishes it on the
  // network thread, so the application thread goes on encoding records
  // while the previous batch is compressed (librdkafka's split of work;
  // measured ~1.5x faster with lz4 from one sending thread).
  charge_bookkeeping(batch);  // in kSealing nobody appends to it
  MutexLock lk(batch->queue_->mu);
  batch->state_ = State::kSealed;
}

void RecordAccumulator::charge_bookkeeping(ProducerBatch* batch) {
  PartitionQueue& q = *batch->queue_;
  q.last_records.store(static_cast<uint32_t>(batch->records_.size()), std::memory_order_relaxed);
  q.last_callbacks.store(static_cast<uint32_t>(batch->callbacks_.size()), std::memory_order_relaxed);
  const size_t now = batch->bookkeeping_bytes();
  MutexLock lk(mem_mu_);
  used_ = used_ - batch->charged_ + now;
  batch->charged_ = now;
}

// ------------------------------------------------------------------ memory

ProducerBatch* RecordAccumulator::allocate(size_t reserve, bool wait, Error* error, int64_t* waited_ms) {
  const size_t bs = config_.batch_size;
  const size_t limit = config_.buffer_memory;
  std::vector<ProducerBatch*> to_delete;
  ProducerBatch* batch = nullptr;
  bool fits = false;
  {
    MutexLock lk(mem_mu_);
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::milliseconds(std::max<int64_t>(0, config_.max_block_ms));
    while (true) {
      if (closed_.load(std::memory_order_relaxed)) {
        *error = Error::from_code(errc::kDestroyed, "the producer is closed");
        break;
      }
      if (reserve == bs && !pool_.empty()) {
        // Counted already (pool_bytes_): moves to used_ as it is.
        batch = pool_.back();
        pool_.pop_back();
        batch->charged_ = batch->bookkeeping_bytes();
        pool_bytes_ -= bs + batch->charged_;
        used_ += batch->charged_;
        fits = true;
        break;
      }
      // Pooled batches count as used memory: free some when the pool is in the way.
      while (!pool_.empty() && used_ + reserve + pool_bytes_ > limit) {
        ProducerBatch* b = pool_.back();
        pool_.pop_back();
        pool_bytes_ -= bs + b->bookkeeping_bytes();
        to_delete.push_back(b);
      }
      if (used_ + reserve + pool_bytes_ <= limit) {
        fits = true;
        break;
      }
      if (!wait) {
        *error = Error::from_code(errc::kQueueFull, "buffer.memory (" + std::to_string(limit) +
                                                        " bytes) exhausted: no room for a " + std::to_string(reserve) +
                                                        "-byte batch, and this send does not wait for memory");
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        *error = Error::from_code(errc::kQueueFull,
                                  "buffer.memory (" + std::to_string(limit) + " bytes) exhausted: no room for a " +
                                      std::to_string(reserve) + "-byte batch within max.block.ms (" +
                                      std::to_string(config_.max_block_ms) + " ms)");
        break;
      }
      waiters_.fetch_add(1, std::memory_order_relaxed);
      mem_cv_.wait_until(lk, deadline);
      waiters_.fetch_sub(1, std::memory_order_relaxed);
      *waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    }
    if (fits) {
      used_ += reserve;
      if (batch == nullptr) {
        lk.unlock();
        for (ProducerBatch* b : to_delete) delete b;
        to_delete.clear();
        batch = new ProducerBatch(this);
        lk.lock();
      }
      batch->id_ = next_batch_id_++;
      batch->reserved_ = reserve;
      batch->incomplete_prev_ = incomplete_tail_;
      batch->incomplete_next_ = nullptr;
      (incomplete_tail_ != nullptr ? incomplete_tail_->incomplete_next_ : incomplete_head_) = batch;
      incomplete_tail_ = batch;
    }
  }
  for (ProducerBatch* b : to_delete) delete b;
  return batch;
}

void RecordAccumulator::recycle(ProducerBatch* batch) {
  // Callables may own state with user destructors: drop them unlocked.
  batch->callbacks_.clear();
  if (batch->callbacks_.capacity() > 4096) batch->callbacks_.shrink_to_fit();
  if (batch->records_.capacity() > 65536) batch->records_.shrink_to_fit();
  batch->error_ = Error();
  bool keep = false;
  {
    MutexLock lk(mem_mu_);
    (batch->incomplete_prev_ != nullptr ? batch->incomplete_prev_->incomplete_next_ : incomplete_head_) =
        batch->incomplete_next_;
    (batch->incomplete_next_ != nullptr ? batch->incomplete_next_->incomplete_prev_ : incomplete_tail_) =
        batch->incomplete_prev_;
    batch->incomplete_prev_ = batch->incomplete_next_ = nullptr;
    used_ -= batch->reserved_ + batch->charged_;
    batch->charged_ = 0;
    // A pooled batch keeps counting against buffer.memory: used_ + pool
    // stays within the limit because this one was counted in used_
    // (its bookkeeping capacity only shrank since it was charged).
    if (batch->reserved_ == config_.batch_size && !closed_.load(std::memory_order_relaxed)) {
      pool_.push_back(batch);
      pool_bytes_ += batch->reserved_ + batch->bookkeeping_bytes();
      keep = true;
    }
    if (waiters_.load(std::memory_order_relaxed) > 0) mem_cv_.notify_all();
    if (flush_waiters_ > 0) flush_cv_.notify_all();
  }
  if (!keep) delete batch;
}

void RecordAccumulator::release_unused(ProducerBatch* batch) {
  batch->state_ = State::kDone;
  batch->records_.clear();
  recycle(batch);
}

size_t RecordAccumulator::buffered_bytes() const {
  MutexLock lk(mem_mu_);
  return used_;
}

size_t RecordAccumulator::available_memory() const {
  MutexLock lk(mem_mu_);
  return used_ < config_.buffer_memory ? config_.buffer_memory - used_ : 0;
}

bool RecordAccumulator::has_incomplete() const {
  MutexLock lk(mem_mu_);
  return incomplete_head_ != nullptr;
}

// ------------------------------------------------------------------ sender side

void RecordAccumulator::ready(int64_t now_ms, const LeaderFn& leader_of, ReadyResult& out) {
  out.ready_nodes.clear();
  out.unknown_leader_topics.clear();
  out.next_ready_check_delay_ms = INT64_MAX;
  const bool no_linger = linger_waived();
  const int64_t linger = config_.linger_ms;

  for_each_queue([&](PartitionQueue& q) {
    int64_t created, last_attempt;
    int attempts;
    bool full;
    {
      MutexLock lk(q.mu);
      if (q.batches.empty()) return;
      const ProducerBatch* head = q.batches.front();
      if (head->state_ == State::kSealing) return;  // its sealing thread wakes the sender
      created = head->created_ms_;
      last_attempt = head->last_attempt_ms_;
      attempts = head->attempts_;
      full = head_full(q);
    }
    // Expiry is due even for partitions without a leader.
    out.next_ready_check_delay_ms =
        std::min(out.next_ready_check_delay_ms, std::max<int64_t>(0, created + config_.delivery_timeout_ms - now_ms));
    const int32_t leader = leader_of ? leader_of(q.topic, q.partition) : -1;
    if (leader < 0) {
      auto& u = out.unknown_leader_topics;
      if (std::find(u.begin(), u.end(), q.topic) == u.end()) u.push_back(q.topic);
      return;
    }
    if (q.muted.load(std::memory_order_relaxed)) return;
    if (std::find(out.ready_nodes.begin(), out.ready_nodes.end(), leader) != out.ready_nodes.end()) return;
    const int64_t backoff = retry_backoff_ms(attempts);
    const bool backing_off = attempts > 0 && now_ms - last_attempt < backoff;
    const int64_t waited = now_ms - (attempts > 0 ? last_attempt : created);
    const int64_t time_to_wait = backing_off ? backoff : linger;
    const bool sendable = full || waited >= time_to_wait || no_linger;
    if (sendable && !backing_off) {
      out.ready_nodes.push_back(leader);
    } else {
      out.next_ready_check_delay_ms = std::min(out.next_ready_check_delay_ms, std::max<int64_t>(0, time_to_wait - waited));
    }
  });
  std::sort(out.ready_nodes.begin(), out.ready_nodes.end());
}

bool RecordAccumulator::head_full(const PartitionQueue& q) {
  return q.batches.size() > 1 || q.batches.front()->state_ != State::kOpen;
}

bool RecordAccumulator::linger_waived() const {
  return waiters_.load(std::memory_order_relaxed) > 0 || flushes_in_progress_.load(std::memory_order_relaxed) > 0 ||
         closed_.load(std::memory_order_relaxed);
}

bool RecordAccumulator::head_sendable(const PartitionQueue& q, int64_t now_ms) const {
  if (head_full(q)) return true;
  const ProducerBatch* head = q.batches.front();
  const int64_t since = head->attempts_ > 0 ? head->last_attempt_ms_ : head->created_ms_;
  return now_ms - since >= config_.linger_ms || linger_waived();
}

void RecordAccumulator::drain(int32_t node, std::span<const PartitionRef> partitions, size_t max_request_size,
                              int64_t now_ms, std::vector<BatchPtr>& out, const DrainFilter& filter,
                              bool sendable_only) {
  if (partitions.empty()) return;
  const size_t n = partitions.size();
  size_t& start = drain_index_[node];
  start %= n;
  size_t total = 0;
  bool took_any = false;
  size_t next_start = start;
  for (size_t k = 0; k < n; ++k) {
    const size_t idx = (start + k) % n;
    PartitionQueue* q = find_queue(partitions[idx].topic, partitions[idx].partition);
    if (q == nullptr || q->muted.load(std::memory_order_relaxed)) continue;
    ProducerBatch* b;
    {
      MutexLock lk(q->mu);
      if (q->batches.empty()) continue;
      b = q->batches.front();
      if (b->state_ == State::kSealing) continue;
      if (b->attempts_ > 0 && now_ms - b->last_attempt_ms_ < retry_backoff_ms(b->attempts_)) continue;
      if (sendable_only && !head_sendable(*q, now_ms)) continue;
      // Open batches count at their uncompressed size: an over-estimate
      // with compression, never an under-estimate.
      if (took_any && total + b->size_bytes() > max_request_size) break;
      if (filter && !filter(*b)) continue;
      q->batches.pop_front();
      b->state_ = State::kInFlight;  // no longer visible to appenders
    }
    if (!b->finished_) charge_bookkeeping(b);  // a lingered batch, not sealed before
    b->finish();  // no-op for sealed batches; compresses a lingered one
    b->drained_ms_ = now_ms;
    total += b->bytes_.size();
    took_any = true;
    next_start = idx + 1;
    out.emplace_back(b);
  }
  start = next_start % n;
}

void RecordAccumulator::insert_in_order(PartitionQueue& q, ProducerBatch* batch) {
  // A partition's order: creation order, then order within a split.
  auto before = [](const ProducerBatch& a, const ProducerBatch& b) {
    return a.queue_seq_ != b.queue_seq_ ? a.queue_seq_ < b.queue_seq_ : a.split_lo_ < b.split_lo_;
  };
  size_t i = 0;
  while (i < q.batches.size() && !before(*batch, *q.batches.at(i))) ++i;
  q.batches.insert(i, batch);
}

void RecordAccumulator::reenqueue(BatchPtr&& batch, int64_t now_ms) {
  ProducerBatch* b = batch.release();
  if (b == nullptr) return;
  b->finish();  // drained batches already are; keeps the invariant for any other
  b->attempts_++;
  b->last_attempt_ms_ = now_ms;
  MutexLock lk(b->queue_->mu);
  b->state_ = State::kSealed;
  insert_in_order(*b->queue_, b);
}

size_t RecordAccumulator::split_and_reenqueue(BatchPtr& batch, int64_t now_ms) {
  ProducerBatch* big = batch.get();
  if (big == nullptr || big->record_count() <= 1) return 0;
  big->finish();
  std::vector<proto::BatchSpan> spans;
  std::vector<proto::Record> records;
  std::vector<uint8_t> scratch;
  if (!proto::split_batches(big->bytes_, spans) || spans.size() != 1 ||
      !proto::decode_records(spans[0], records, scratch, SIZE_MAX) ||
      records.size() != static_cast<size_t>(big->record_count())) {
    return 0;  // cannot happen for a batch we built; leave it to the caller
  }
  // At most batch.size, and at most half the rejected batch: every split
  // shrinks, down to single records (which the broker then accepts or
  // rejects for good).
  const size_t bs = std::max(proto::kBatchHeaderSize + 1,
                             std::min(config_.batch_size, big->builder_.estimated_size() / 2));
  std::vector<ProducerBatch*> parts;
  std::vector<proto::RecordHeader> hdrs;
  for (size_t i = 0; i < records.size(); ++i) {
    const proto::Record& r = records[i];
    hdrs.assign(r.headers.begin(), r.headers.end());
    const size_t bound = proto::BatchBuilder::record_size_upper_bound(r.key ? r.key->size() : 0,
                                                                       r.value ? r.value->size() : 0, hdrs);
    if (parts.empty() || !parts.back()->has_room_for(bound, bs)) {
      // The records already hold memory (the big batch's): take it without
      // blocking the network thread, even past buffer.memory briefly.
      const size_t reserve = std::max(config_.batch_size, proto::kBatchHeaderSize + bound);
      auto* p = new ProducerBatch(this);
      p->start(big->queue_, big->topic_, big->partition_, big->queue_seq_, big->created_ms_, batch_options(), reserve);
      p->producer_id_ = big->producer_id_;
      p->producer_epoch_ = big->producer_epoch_;  // sequences: reassigned by the sender
      parts.push_back(p);
    }
    DeliveryCallback cb;
    if (i < big->callbacks_.size()) cb = std::move(big->callbacks_[i]);
    parts.back()->append(big->records_[i].timestamp, r.key, r.value, hdrs, std::move(cb));
  }
  // The parts divide the big batch's place in the partition's order: its
  // [split_lo_, split_hi_) range, so splitting a part again keeps the
  // order too.
  const uint64_t step = (big->split_hi_ - big->split_lo_) / parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    parts[i]->split_lo_ = big->split_lo_ + step * i;
    parts[i]->split_hi_ = i + 1 == parts.size() ? big->split_hi_ : parts[i]->split_lo_ + step;
  }
  {
    // The parts take the big batch's place in the incomplete list (same id:
    // a flush waiting for it waits for them).
    MutexLock lk(mem_mu_);
    ProducerBatch* after = big;
    for (ProducerBatch* p : parts) {
      p->charged_ = p->bookkeeping_bytes();
      used_ += p->reserved_ + p->charged_;
      p->id_ = big->id_;
      p->incomplete_prev_ = after;
      p->incomplete_next_ = after->incomplete_next_;
      (after->incomplete_next_ != nullptr ? after->incomplete_next_->incomplete_prev_ : incomplete_tail_) = p;
      after->incomplete_next_ = p;
      after = p;
    }
  }
  for (ProducerBatch* p : parts) {
    p->finish();
    p->attempts_ = big->attempts_ + 1;
    p->last_attempt_ms_ = now_ms;
    MutexLock lk(p->queue_->mu);
    p->state_ = State::kSealed;
    insert_in_order(*p->queue_, p);
  }
  release_unused(batch.release());  // its callbacks moved to the parts
  return parts.size();
}

std::vector<BatchPtr> RecordAccumulator::take_expired(int64_t now_ms) {
  std::vector<BatchPtr> out;
  for_each_queue([&](PartitionQueue& q) {
    MutexLock lk(q.mu);
    while (!q.batches.empty()) {
      ProducerBatch* b = q.batches.front();
      if (b->state_ == State::kSealing || !b->has_reached_delivery_timeout(now_ms, config_.delivery_timeout_ms))
        break;
      q.batches.pop_front();
      b->state_ = State::kInFlight;
      out.emplace_back(b);
    }
  });
  return out;
}

size_t RecordAccumulator::expire(int64_t now_ms) {
  size_t records = 0;
  for (BatchPtr& b : take_expired(now_ms)) {
    records += static_cast<size_t>(b->record_count());
    Error err = b->expiry_error(now_ms);
    ProducerBatch::complete(std::move(b), -1, -1, std::move(err));
  }
  return records;
}

void RecordAccumulator::mute(std::string_view topic, int32_t partition) {
  queue_for(topic, partition).muted.store(true, std::memory_order_relaxed);
}

void RecordAccumulator::unmute(std::string_view topic, int32_t partition) {
  if (PartitionQueue* q = find_queue(topic, partition)) q->muted.store(false, std::memory_order_relaxed);
}

bool RecordAccumulator::is_muted(std::string_view topic, int32_t partition) const {
  PartitionQueue* q = find_queue(topic, partition);
  return q != nullptr && q->muted.load(std::memory_order_relaxed);
}

// ------------------------------------------------------------------ flush / close

uint64_t RecordAccumulator::begin_flush() {
  flushes_in_progress_.fetch_add(1, std::memory_order_relaxed);
  MutexLock lk(mem_mu_);
  return next_batch_id_ - 1;  // every batch allocated so far
}

Error RecordAccumulator::await_flush_completion(uint64_t flush_token, int64_t timeout_ms) {
  struct EndFlush {
    std::atomic<int>& n;
    ~EndFlush() { n.fetch_sub(1, std::memory_order_relaxed); }
  } end{flushes_in_progress_};
  if (config_.executor != nullptr && config_.executor->on_executor_thread())
    return Error::from_code(errc::kState, "flush() called from a delivery callback would wait for itself");
  MutexLock lk(mem_mu_);
  ++flush_waiters_;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
  // An explicit loop rather than wait_for(pred), so that the thread-safety
  // analysis sees these reads under mem_mu_; checked once more after a
  // timeout, as wait_for(pred) does.
  auto flushed = [&]() REQUIRES(mem_mu_) { return incomplete_head_ == nullptr || incomplete_head_->id_ > flush_token; };
  bool done = flushed();
  while (!done && flush_cv_.wait_until(lk, deadline) != std::cv_status::timeout) done = flushed();
  if (!done) done = flushed();
  --flush_waiters_;
  if (!done) return Error::from_code(errc::kTimedOut, "flush: records still undelivered after " +
                                                          std::to_string(timeout_ms) + " ms");
  return Error();
}

void RecordAccumulator::close() {
  closed_.store(true);
  MutexLock lk(mem_mu_);
  mem_cv_.notify_all();
}

size_t RecordAccumulator::abort_undrained(const Error& error) {
  std::vector<BatchPtr> taken;
  bool sealing = true;
  while (sealing) {  // a batch being sealed by an appender is theirs for a moment: wait it out
    sealing = false;
    for_each_queue([&](PartitionQueue& q) {
      MutexLock lk(q.mu);
      while (!q.batches.empty()) {
        ProducerBatch* b = q.batches.front();
        if (b->state_ == State::kSealing) {
          sealing = true;
          break;
        }
        q.batches.pop_front();
        b->state_ = State::kInFlight;
        taken.emplace_back(b);
      }
    });
    if (sealing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  size_t records = 0;
  for (BatchPtr& b : taken) {
    records += static_cast<size_t>(b->record_count());
    ProducerBatch::complete(std::move(b), -1, -1, error);
  }
  return records;
}

bool RecordAccumulator::has_undrained() const {
  bool any = false;
  for_each_queue([&](PartitionQueue& q) {
    MutexLock lk(q.mu);
    any = any || !q.batches.empty();
  });
  return any;
}

size_t RecordAccumulator::queued_batch_count() const {
  size_t n = 0;
  for_each_queue([&](PartitionQueue& q) {
    MutexLock lk(q.mu);
    n += q.batches.size();
  });
  return n;
}

}  // namespace kfk::producer
