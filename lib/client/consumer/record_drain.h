// Turning buffered fetch responses into ConsumerRecords, on the application
// thread inside poll(): CRC checks (check.crcs), decompression, skipping
// control batches and aborted transactional data (read_committed), and the
// records' views into the shared buffers.
//
// This is the consumer's per-record path, so it allocates nothing per
// record: records are parsed by the codec's record walk into a vector
// reused from batch to batch, the output vector is sized once per poll,
// and decompression buffers are recycled through a small pool once the
// last ConsumerRecords using one is gone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "client/consumer/consumer_state.h"
#include "kfk/consumer.h"

namespace kfk {

// Fills a ConsumerRecords batch. Headers are gathered into one block; the
// records' header spans are set by finish() (the block may grow before).
class ConsumerRecordsBuilder {
 public:
  explicit ConsumerRecordsBuilder(ConsumerRecords& out) : out_(out) {}
  void keep_alive(std::shared_ptr<const void> owner) { out_.owners_.push_back(std::move(owner)); }
  // Room for `n` more records.
  void reserve(size_t n) { out_.records_.reserve(out_.records_.size() + n); }
  void add(const std::string& topic, int32_t partition, const proto::BatchHeader& batch, const proto::Record& r);
  void add_eof(TopicPartition tp) { out_.eof_.push_back(std::move(tp)); }
  void set_error(Error e) { out_.error_ = std::move(e); }
  size_t size() const { return out_.records_.size(); }
  void finish();

 private:
  struct HeaderRange {
    uint32_t record;  // index in records_
    uint32_t first;   // index in headers_
    uint32_t count;
  };
  ConsumerRecords& out_;
  std::vector<HeaderRange> header_ranges_;  // records with headers only
};

}  // namespace kfk

namespace kfk::consumer {

struct DrainOptions {
  bool check_crcs = true;
  bool read_committed = false;
  size_t max_decompressed = size_t{256} << 20;
};

// Hands out records of `cf` from `position` on, at most `max` of them.
// Advances `position` (past skipped batches too) and `epoch`. Returns false
// with `error` set when a batch is corrupt (position stays before it).
// `exhausted` tells whether everything in `cf` has been handed out.
// A CompletedFetch without batches is the fetcher's end-of-partition
// marker (fetcher.h): it reports the partition's end when the position is
// there.
bool drain_fetch(CompletedFetch& cf, size_t max, const DrainOptions& opts, ConsumerRecordsBuilder& out,
                 int64_t& position, std::optional<int32_t>& epoch, bool& exhausted, Error& error);

}  // namespace kfk::consumer
