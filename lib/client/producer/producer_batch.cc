#include "client/producer/producer_batch.h"

#include <exception>
#include <string>

#include "client/producer/callback_executor.h"
#include "client/producer/record_accumulator.h"

namespace kfk::producer {

void BatchRecycler::operator()(ProducerBatch* batch) const noexcept {
  if (batch == nullptr) return;
  // Dropped without complete() (a sender torn down mid-request, say): the
  // records still get their callbacks.
  ProducerBatch::complete(BatchPtr(batch), -1, -1,
                          Error::from_code(errc::kPurged, "batch dropped by the sender before completion"));
}

ProducerBatch::ProducerBatch(RecordAccumulator* owner) : owner_(owner), builder_(proto::BatchBuilder::Options{}) {}

void ProducerBatch::start(PartitionQueue* queue, std::string_view topic, int32_t partition, uint64_t queue_seq,
                          int64_t now_ms, const proto::BatchBuilder::Options& options, size_t reserved) {
  queue_ = queue;
  topic_ = topic;
  partition_ = partition;
  state_ = State::kOpen;
  finished_ = false;
  builder_.reset(options);  // keeps the buffers of a pooled batch
  builder_.reserve(reserved);
  bytes_ = {};
  records_.clear();
  callbacks_.clear();
  queue_seq_ = queue_seq;
  split_lo_ = 0;
  split_hi_ = kSplitRange;
  reserved_ = reserved;
  created_ms_ = now_ms;
  drained_ms_ = -1;
  last_attempt_ms_ = now_ms;
  attempts_ = 0;
  producer_id_ = options.producer_id;
  producer_epoch_ = options.producer_epoch;
  base_sequence_ = options.base_sequence;
  base_offset_ = -1;
  log_append_time_ = -1;
  error_ = Error();
}

void ProducerBatch::append(int64_t timestamp, std::optional<std::span<const uint8_t>> key,
                           std::optional<std::span<const uint8_t>> value,
                           std::span<const proto::RecordHeader> headers, DeliveryCallback&& callback) {
  builder_.append(timestamp, key, value, headers);
  records_.push_back(RecordInfo{timestamp, key ? static_cast<int32_t>(key->size()) : -1,
                                value ? static_cast<int32_t>(value->size()) : -1});
  if (callback) {
    // Sparse: batches whose records carry no callback keep this empty.
    if (callbacks_.size() + 1 < records_.size()) callbacks_.resize(records_.size() - 1);
    callbacks_.push_back(std::move(callback));
  }
}

void ProducerBatch::finish() {
  if (finished_) return;
  bytes_ = builder_.finish();
  finished_ = true;
  // Producer state set before the bytes existed (BatchBuilder takes it only
  // at reset()): patch it in now.
  if (producer_id_ != -1 || producer_epoch_ != -1 || base_sequence_ != -1) {
    set_producer_state(producer_id_, producer_epoch_, base_sequence_);
  }
}

int32_t ProducerBatch::last_sequence() const {
  if (base_sequence_ < 0) return -1;
  // As Kafka's DefaultRecordBatch: sequences wrap from INT32_MAX to 0.
  int64_t s = int64_t{base_sequence_} + record_count() - 1;
  if (s > INT32_MAX) s -= int64_t{INT32_MAX} + 1;
  return static_cast<int32_t>(s);
}

void ProducerBatch::set_producer_state(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  producer_id_ = producer_id;
  producer_epoch_ = producer_epoch;
  base_sequence_ = base_sequence;
  if (finished_) {
    // bytes_ views the builder's own (non-const) buffer.
    std::span<uint8_t> raw(const_cast<uint8_t*>(bytes_.data()), bytes_.size());
    proto::set_batch_producer(raw, producer_id, producer_epoch, base_sequence);
  }
}

Error ProducerBatch::expiry_error(int64_t now_ms) const {
  return Error::from_code(errc::kMsgTimedOut, "Expiring " + std::to_string(record_count()) + " record(s) for " +
                                                  std::string(topic_) + "-" + std::to_string(partition_) + ": " +
                                                  std::to_string(now_ms - created_ms_) +
                                                  " ms has passed since batch creation");
}

void ProducerBatch::complete(BatchPtr&& batch, int64_t base_offset, int64_t log_append_time, Error error) {
  ProducerBatch* b = batch.release();
  if (b == nullptr) return;
  b->base_offset_ = base_offset;
  b->log_append_time_ = log_append_time;
  b->error_ = std::move(error);
  b->state_ = State::kDone;
  if (CallbackExecutor* ex = b->owner_->config().executor)
    ex->submit(&ProducerBatch::run_completion_thunk, b);
  else
    b->run_completion();
}

void ProducerBatch::run_completion() {
  const InterceptorChain* chain = owner_->config().interceptors;
  if (chain != nullptr && chain->empty()) chain = nullptr;
  if (chain != nullptr || !callbacks_.empty()) {
    const bool ok = error_.ok();
    RecordMetadata md;
    md.topic = topic_;
    md.partition = partition_;
    for (size_t i = 0; i < records_.size(); ++i) {
      const RecordInfo& r = records_[i];
      md.offset = ok && base_offset_ >= 0 ? base_offset_ + static_cast<int64_t>(i) : -1;
      md.timestamp = ok ? (log_append_time_ >= 0 ? log_append_time_ : r.timestamp) : -1;
      md.serialized_key_size = r.key_size;
      md.serialized_value_size = r.value_size;
      if (chain != nullptr) chain->on_acknowledgement(md, error_);
      if (i < callbacks_.size() && callbacks_[i]) {
        try {
          callbacks_[i](md, error_);
        } catch (const std::exception& e) {
          owner_->log(std::string("delivery callback threw: ") + e.what());
        } catch (...) {
          owner_->log("delivery callback threw a non-std::exception");
        }
      }
    }
  }
  owner_->recycle(this);
}

}  // namespace kfk::producer
