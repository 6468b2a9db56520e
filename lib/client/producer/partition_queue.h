// PartitionQueue: one partition's batches in the RecordAccumulator, and the
// ring they live in. In a header of its own (rather than inside
// record_accumulator.cc) so that the accumulator's declarations can name the
// queue's mutex in their thread-safety annotations (REQUIRES(q.mu)).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/mutex.h"

namespace kfk::producer {

class ProducerBatch;

// A growable ring of batch pointers: the deque of one partition without
// std::deque's block allocations as batches come and go.
class BatchRing {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  ProducerBatch* front() const { return buf_[head_]; }
  ProducerBatch* back() const { return at(size_ - 1); }
  ProducerBatch* at(size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }

  void push_back(ProducerBatch* b) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = b;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
  }
  // Inserts before position i (i == size(): at the back).
  void insert(size_t i, ProducerBatch* b) {
    push_back(b);
    for (size_t j = size_ - 1; j > i; --j) slot(j) = slot(j - 1);
    slot(i) = b;
  }

 private:
  ProducerBatch*& slot(size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  void grow() {
    std::vector<ProducerBatch*> bigger(buf_.empty() ? 8 : buf_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = at(i);
    buf_.swap(bigger);
    head_ = 0;
  }

  std::vector<ProducerBatch*> buf_;  // power-of-two size
  size_t head_ = 0;
  size_t size_ = 0;
};

struct PartitionQueue {
  PartitionQueue(std::string_view t, int32_t p) : topic(t), partition(p) {}

  Mutex mu;
  const std::string topic;
  const int32_t partition;
  BatchRing batches GUARDED_BY(mu);     // oldest first; only the last may be open
  uint64_t next_seq GUARDED_BY(mu) = 0;  // queue_seq_ of the next batch
  std::atomic<bool> muted{false};
  // How many records (and callbacks) the last sealed batch took: a new
  // batch reserves that much bookkeeping up front instead of growing it
  // record by record (a 1 MB batch of 100 B records holds ~9,000 callbacks).
  std::atomic<uint32_t> last_records{0};
  std::atomic<uint32_t> last_callbacks{0};
};

}  // namespace kfk::producer
