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

// --- The record parser ----------------------------------------------------------------
// Kafka's record format (v2) with the same limits as proto::Reader (varints
// of at most 10 bytes and 64 bits, 32 bits for varint) and the same checks
// as proto::decode_records, inline for the per-record loop.

constexpr size_t kMinRecordBody = 6;  // attributes, timestamp/offset deltas, key/value lengths, header count
constexpr int32_t kMinBatchLength = static_cast<int32_t>(proto::kBatchHeaderSize - proto::kBatchLogOverhead);

inline bool get_uvarlong(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    if (shift == 63 && b > 1) return false;
    v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

inline bool get_varlong(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  uint64_t u;
  if (!get_uvarlong(p, end, u)) return false;
  out = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

inline bool get_varint(const uint8_t*& p, const uint8_t* end, int32_t& out) {
  uint32_t u;
  if (p != end && *p < 0x80) {  // the common one-byte case
    u = *p++;
  } else {
    uint64_t v;
    if (!get_uvarlong(p, end, v) || v > 0xffffffffull) return false;
    u = static_cast<uint32_t>(v);
  }
  out = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

// A nullable length-prefixed byte field.
inline bool get_bytes(const uint8_t*& p, const uint8_t* end, int32_t len, std::optional<std::span<const uint8_t>>& out) {
  if (len < 0) {
    out.reset();
    return true;
  }
  if (static_cast<size_t>(len) > static_cast<size_t>(end - p)) return false;
  out = std::span<const uint8_t>(p, static_cast<size_t>(len));
  p += len;
  return true;
}

int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

bool fail(const char** why, const char* msg) {
  if (why != nullptr) *why = msg;
  return false;
}

bool parse_records(const proto::BatchHeader& h, std::span<const uint8_t> data, std::vector<proto::Record>& out,
                   const char** why) {
  // Checked before sizing `out`: the count is untrusted.
  if (static_cast<size_t>(h.record_count) > data.size() / (kMinRecordBody + 1))
    return fail(why, "record count exceeds the records data");
  auto bad = [&](const char* msg) {
    out.clear();
    return fail(why, msg);
  };
  const bool log_append = h.timestamp_type() == proto::TimestampType::kLogAppendTime;
  out.resize(static_cast<size_t>(h.record_count));  // elements (and their header vectors) are reused
  const uint8_t* p = data.data();
  const uint8_t* const end = p + data.size();
  for (proto::Record& rec : out) {
    int32_t len;
    if (!get_varint(p, end, len)) return bad("record truncated");
    if (len < static_cast<int32_t>(kMinRecordBody) || static_cast<size_t>(len) > static_cast<size_t>(end - p))
      return bad("record length out of range");
    const uint8_t* const rend = p + len;
    rec.attributes = static_cast<int8_t>(*p++);
    int64_t ts_delta;
    int32_t offset_delta, key_len, value_len, header_count;
    if (!get_varlong(p, rend, ts_delta) || !get_varint(p, rend, offset_delta) || !get_varint(p, rend, key_len))
      return bad("record truncated or malformed");
    if (key_len < -1) return bad("record key length is negative");
    if (!get_bytes(p, rend, key_len, rec.key) || !get_varint(p, rend, value_len))
      return bad("record truncated or malformed");
    if (value_len < -1) return bad("record value length is negative");
    if (!get_bytes(p, rend, value_len, rec.value) || !get_varint(p, rend, header_count))
      return bad("record truncated or malformed");
    // Each header takes at least two bytes (two length varints).
    if (header_count < 0 || static_cast<size_t>(header_count) > static_cast<size_t>(rend - p) / 2)
      return bad("record header count out of range");
    rec.headers.clear();
    for (int32_t i = 0; i < header_count; ++i) {
      int32_t hk_len, hv_len;
      if (!get_varint(p, rend, hk_len)) return bad("record truncated or malformed");
      if (hk_len < 0) return bad("record header key is null or negative");
      if (static_cast<size_t>(hk_len) > static_cast<size_t>(rend - p)) return bad("record truncated or malformed");
      proto::RecordHeader hdr;
      hdr.key = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(hk_len));
      p += hk_len;
      if (!get_varint(p, rend, hv_len)) return bad("record truncated or malformed");
      if (hv_len < -1) return bad("record header value length is negative");
      if (hv_len >= 0) {
        if (static_cast<size_t>(hv_len) > static_cast<size_t>(rend - p)) return bad("record truncated or malformed");
        hdr.value = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(hv_len));
        p += hv_len;
      }
      rec.headers.push_back(hdr);
    }
    if (p != rend) return bad("record length does not match its fields");
    rec.offset = wrapping_add(h.base_offset, offset_delta);
    rec.timestamp = log_append ? h.max_timestamp : wrapping_add(h.base_timestamp, ts_delta);
  }
  if (p != end) return bad("records data longer than the record count says");
  return true;
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

}  // namespace

bool decode_batch(const proto::BatchSpan& batch, std::vector<proto::Record>& out, std::vector<uint8_t>& scratch,
                  size_t max_decompressed, const char** why) {
  const proto::BatchHeader& h = batch.header;
  auto bad = [&](const char* msg) {
    out.clear();
    return fail(why, msg);
  };
  if (h.magic != proto::kMagicV2) return bad("legacy message format (magic 0/1) not supported");
  if (h.batch_length < kMinBatchLength || batch.bytes.size() < h.total_size()) return bad("record batch truncated");
  if (h.record_count < 0) return bad("record batch has a negative record count");
  std::span<const uint8_t> data =
      batch.bytes.subspan(proto::kBatchHeaderSize, h.total_size() - proto::kBatchHeaderSize);
  int codec = h.attributes & proto::batch_attr::kCompressionMask;
  if (codec > static_cast<int>(proto::Compression::kZstd)) return bad("unknown compression codec");
  if (h.compression() != proto::Compression::kNone) {
    scratch.clear();
    if (!proto::decompress(h.compression(), data, scratch, max_decompressed, why)) {
      out.clear();
      return false;
    }
    data = scratch;
  }
  if (!parse_records(h, data, out, why)) {
    out.clear();
    return false;
  }
  return true;
}

namespace {

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
            decode_batch(batch, cf.records, scratch ? *scratch : unused, opts.max_decompressed, &why)) {
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
      if (!decode_batch(batch, cf.records, scratch ? *scratch : unused, opts.max_decompressed, &why)) {
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
