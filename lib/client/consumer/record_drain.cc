// Runs on the application thread (inside poll()).
#include "client/consumer/record_drain.h"

#include <algorithm>

#include "protocol/reader.h"

namespace kfk {

namespace {
std::span<const std::byte> as_bytes(std::span<const uint8_t> s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
}  // namespace

void ConsumerRecordsBuilder::add(const std::string& topic, int32_t partition, const proto::BatchHeader& batch,
                                 const proto::Record& r) {
  ConsumerRecord cr;
  cr.topic = topic;
  cr.partition = partition;
  cr.offset = r.offset;
  cr.timestamp = r.timestamp;
  cr.timestamp_type = batch.timestamp_type() == proto::TimestampType::kLogAppendTime ? TimestampType::kLogAppendTime
                                                                                     : TimestampType::kCreateTime;
  if (r.key) cr.key = as_bytes(*r.key);
  if (r.value) cr.value = as_bytes(*r.value);
  if (batch.partition_leader_epoch >= 0) cr.leader_epoch = batch.partition_leader_epoch;
  header_ranges_.emplace_back(static_cast<uint32_t>(out_.headers_.size()), static_cast<uint32_t>(r.headers.size()));
  for (const auto& h : r.headers) {
    ConsumerHeader ch;
    ch.key = h.key;
    ch.value = h.value;
    out_.headers_.push_back(ch);
  }
  out_.records_.push_back(cr);
}

void ConsumerRecordsBuilder::finish() {
  const ConsumerHeader* base = out_.headers_.data();
  for (size_t i = 0; i < header_ranges_.size() && i < out_.records_.size(); ++i) {
    auto [first, count] = header_ranges_[i];
    out_.records_[i].headers = count == 0 ? std::span<const ConsumerHeader>()
                                          : std::span<const ConsumerHeader>(base + first, count);
  }
  header_ranges_.clear();
}

}  // namespace kfk

namespace kfk::consumer {

namespace {
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
}  // namespace

bool drain_fetch(CompletedFetch& cf, size_t max, const DrainOptions& opts, ConsumerRecordsBuilder& out,
                 int64_t& position, std::optional<int32_t>& epoch, bool& exhausted, Error& error) {
  size_t added = 0;
  bool kept_frame = false;
  exhausted = false;
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
      if (h.compression() != proto::Compression::kNone) scratch = std::make_shared<std::vector<uint8_t>>();
      std::vector<uint8_t> unused;
      if (h.is_control()) {
        skip = true;
        if (opts.read_committed && proto::decode_records(batch, cf.records, scratch ? *scratch : unused,
                                                         opts.max_decompressed, &why)) {
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
      if (cf.scratch) out.keep_alive(cf.scratch);
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
  exhausted = cf.batch_index >= cf.batches.size();
  if (exhausted) position = std::max(position, cf.next_offset);
  return true;
}

}  // namespace kfk::consumer
