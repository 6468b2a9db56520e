// Runs on the application thread (inside poll()), except the scratch pool's
// release, which runs wherever the last ConsumerRecords holding a buffer is
// destroyed.
#include "client/consumer/record_drain.h"

#include <algorithm>
#include <mutex>

#include "protocol/compression.h"
#include "protocol/reader.h"

namespace kfk {

namespace {
std::span<const std::byte> as_bytes(std::span<const uint8_t> s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
}  // namespace

void ConsumerRecordsBuilder::add(const std::string& topic, int32_t partition, const proto::BatchHeader& batch,
                                 const proto::Record& r) {
  ConsumerRecord& cr = out_.records_.emplace_back();
  cr.topic = topic;
  cr.partition = partition;
  cr.offset = r.offset;
  cr.timestamp = r.timestamp;
  cr.timestamp_type = batch.timestamp_type() == proto::TimestampType::kLogAppendTime ? TimestampType::kLogAppendTime
                                                                                     : TimestampType::kCreateTime;
  if (r.key) cr.key = as_bytes(*r.key);
  if (r.value) cr.value = as_bytes(*r.value);
  if (batch.partition_leader_epoch >= 0) cr.leader_epoch = batch.partition_leader_epoch;
  if (r.headers.empty()) return;
  header_ranges_.push_back({static_cast<uint32_t>(out_.records_.size() - 1), static_cast<uint32_t>(out_.headers_.size()),
                            static_cast<uint32_t>(r.headers.size())});
  for (const auto& h : r.headers) out_.headers_.push_back(ConsumerHeader{h.key, h.value});
}

void ConsumerRecordsBuilder::finish() {
  const ConsumerHeader* base = out_.headers_.data();
  for (const HeaderRange& hr : header_ranges_)
    if (hr.record < out_.records_.size())
      out_.records_[hr.record].headers = std::span<const ConsumerHeader>(base + hr.first, hr.count);
  header_ranges_.clear();
}

}  // namespace kfk

namespace kfk::consumer {

namespace {

// --- Decompression buffers ----------------------------------------------------------
// A decompressed batch lives as long as the ConsumerRecords pointing into
// it; then its buffer comes back here instead of being freed, so the next
// batch decompresses into memory that is already mapped.
class ScratchPool : public std::enable_shared_from_this<ScratchPool> {
 public:
  static constexpr size_t kMaxFree = 16;
  static constexpr size_t kMaxKeptCapacity = size_t{16} << 20;

  std::shared_ptr<std::vector<uint8_t>> get() {
    std::unique_ptr<std::vector<uint8_t>> v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        v = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!v) v = std::make_unique<std::vector<uint8_t>>();
    std::weak_ptr<ScratchPool> pool = weak_from_this();
    return std::shared_ptr<std::vector<uint8_t>>(v.release(), [pool](std::vector<uint8_t>* p) {
      std::unique_ptr<std::vector<uint8_t>> owned(p);
      if (auto live = pool.lock()) live->put(std::move(owned));
    });
  }

 private:
  void put(std::unique_ptr<std::vector<uint8_t>> v) {
    if (v->capacity() > kMaxKeptCapacity) return;
    v->clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(v));
  }
  std::mutex mu_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> free_;
};

std::shared_ptr<std::vector<uint8_t>> scratch_buffer() {
  static const std::shared_ptr<ScratchPool> pool = std::make_shared<ScratchPool>();
  return pool->get();
}

// The type of a control batch's marker (the key of its record: version
// int16, type int16); nullopt when unreadable.
std::optional<proto::ControlType> control_type(const std::vector<proto::Record>& records) {
  if (records.empty() || !records.front().key || records.front().key->size() < 4) return std::nullopt;
  proto::Reader r(*records.front().key);
  r.i16();
  int16_t type = r.i16();
  if (!r.ok()) return std::nullopt;
  return static_cast<proto::ControlType>(type);
}

// At most `max`: the records left in `cf` (an upper bound for what one
// drain hands out).
size_t records_left(const CompletedFetch& cf, size_t max) {
  size_t n = cf.batch_decoded ? cf.records.size() - std::min(cf.record_index, cf.records.size()) : 0;
  for (size_t i = cf.batch_index + (cf.batch_decoded ? 1 : 0); i < cf.batches.size() && n < max; ++i)
    n += static_cast<size_t>(std::max(cf.batches[i].header.record_count, 0));
  return std::min(n, max);
}

int64_t current_batch_last_offset(const CompletedFetch& cf) { return cf.batches[cf.batch_index].header.last_offset(); }

// The record vector of a used-up CompletedFetch, for the next one: its
// elements (and their header vectors) are reused instead of rebuilt.
thread_local std::vector<proto::Record> spare_records;

bool drain_records(CompletedFetch& cf, size_t max, const DrainOptions& opts, ConsumerRecordsBuilder& out,
                   int64_t& position, std::optional<int32_t>& epoch, bool& exhausted, Error& error) {
  exhausted = false;
  if (cf.batches.empty() || cf.fetch_offset > position) {
    // The end-of-partition marker (reported only where it was found), or
    // data that no longer joins the position (something before it was
    // dropped): nothing to hand out.
    exhausted = true;
    if (cf.batches.empty() && cf.fetch_offset <= position) out.add_eof(cf.tp);
    return true;
  }
  size_t added = 0;
  bool kept_frame = false;
  out.reserve(records_left(cf, max));
  while (added < max) {
    if (cf.batch_index >= cf.batches.size()) {
      exhausted = true;
      position = std::max(position, cf.next_offset);
      return true;
    }
    const proto::BatchSpan& batch = cf.batches[cf.batch_index];
    const proto::BatchHeader& h = batch.header;
    if (!cf.batch_decoded) {
      if (h.last_offset() < position) {  // before the fetch offset (a compressed batch arrives whole)
        cf.batch_index++;
        continue;
      }
      if (opts.check_crcs && !proto::verify_batch_crc(batch.bytes)) {
        error = Error::from_code(errc::kCorruptMessage, "record batch at offset " + std::to_string(h.base_offset) +
                                                            " of " + cf.tp.to_string() + " failed its CRC check");
        return false;
      }
      if (opts.read_committed) {
        while (cf.aborted_index < cf.aborted.size() && cf.aborted[cf.aborted_index].first_offset <= h.last_offset())
          cf.aborted_producers.insert(cf.aborted[cf.aborted_index++].producer_id);
      }
      bool skip = false;
      const char* why = nullptr;
      std::shared_ptr<std::vector<uint8_t>> scratch;
      if (h.compression() != proto::Compression::kNone) scratch = scratch_buffer();
      std::vector<uint8_t> unused;
      if (h.is_control()) {
        skip = true;
        if (opts.read_committed &&
            proto::decode_records(batch, cf.records, scratch ? *scratch : unused, opts.max_decompressed, &why)) {
          if (control_type(cf.records) == proto::ControlType::kAbort) cf.aborted_producers.erase(h.producer_id);
        }
      } else if (opts.read_committed && h.is_transactional() && cf.aborted_producers.count(h.producer_id) != 0) {
        skip = true;
      }
      if (skip) {
        position = std::max(position, h.last_offset() + 1);
        cf.batch_index++;
        continue;
      }
      if (!proto::decode_records(batch, cf.records, scratch ? *scratch : unused, opts.max_decompressed, &why)) {
        error = Error::from_code(errc::kCorruptMessage, "record batch at offset " + std::to_string(h.base_offset) +
                                                            " of " + cf.tp.to_string() + ": " +
                                                            (why != nullptr ? why : "undecodable"));
        return false;
      }
      cf.scratch = std::move(scratch);
      if (cf.scratch && added > 0) out.keep_alive(cf.scratch);  // added == 0: kept below
      cf.record_index = 0;
      cf.batch_decoded = true;
    }
    if (cf.record_index >= cf.records.size()) {
      // Past the whole batch, even when compaction left gaps at its end.
      position = std::max(position, h.last_offset() + 1);
      cf.batch_index++;
      cf.batch_decoded = false;
      cf.scratch.reset();
      continue;
    }
    const proto::Record& r = cf.records[cf.record_index++];
    if (r.offset < position) continue;
    if (!kept_frame) {
      out.keep_alive(cf.frame);
      out.keep_alive(cf.topic);
      kept_frame = true;
    }
    if (cf.scratch && added == 0) out.keep_alive(cf.scratch);
    out.add(*cf.topic, cf.tp.partition, h, r);
    position = r.offset + 1;
    if (h.partition_leader_epoch >= 0) epoch = h.partition_leader_epoch;
    ++added;
  }
  if (cf.batch_decoded && cf.record_index >= cf.records.size()) {  // the batch ended with the last record taken
    position = std::max(position, current_batch_last_offset(cf) + 1);
    cf.batch_index++;
    cf.batch_decoded = false;
    cf.scratch.reset();
  }
  exhausted = cf.batch_index >= cf.batches.size();
  if (exhausted) position = std::max(position, cf.next_offset);
  return true;
}

}  // namespace

bool drain_fetch(CompletedFetch& cf, size_t max, const DrainOptions& opts, ConsumerRecordsBuilder& out,
                 int64_t& position, std::optional<int32_t>& epoch, bool& exhausted, Error& error) {
  if (!cf.batch_decoded && cf.records.capacity() == 0) cf.records.swap(spare_records);
  bool ok = drain_records(cf, max, opts, out, position, epoch, exhausted, error);
  if ((exhausted || !ok) && cf.records.capacity() > spare_records.capacity()) spare_records.swap(cf.records);
  return ok;
}

}  // namespace kfk::consumer
