// Log: append, read, offset queries, truncation. Loading is in
// log_loader.cc, retention/flush in log_retention.cc, compaction in
// log_cleaner.cc.
#include "storage/log.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>

#include "storage/batch_scanner.h"

namespace kfk::broker {
namespace {

// Bound on decompressing one batch for timestamp lookups and key checks.
constexpr size_t kMaxDecompressed = 256u << 20;

}  // namespace

Log::~Log() = default;

void Log::warn(const std::string& msg) const {
  if (log_fn_) log_fn_(msg);
  else std::fprintf(stderr, "kfk storage: %s\n", msg.c_str());
}

int64_t Log::now_or_wall(int64_t now_ms) const { return now_ms != 0 ? now_ms : wall_clock_ms(); }

SegmentPtr Log::floor_segment(int64_t offset) const {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second;
}

Status Log::validate_keys_for_compaction(const proto::BatchSpan& batch) {
  if (batch.header.is_control()) return Status::Ok();
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  const char* why = nullptr;
  if (!proto::decode_records(batch, recs, scratch, kMaxDecompressed, &why))
    return Status::error(ErrorCode::CORRUPT_MESSAGE, std::string("undecodable batch: ") + (why ? why : "?"));
  for (const auto& r : recs)
    if (!r.key)
      return Status::error(ErrorCode::INVALID_RECORD, "Compacted topic cannot accept message without key (offset delta " +
                                                          std::to_string(r.offset - batch.header.base_offset) + ")");
  return Status::Ok();
}

// ------------------------------------------------------------------ append

Status Log::append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t now_ms, AppendInfo* info,
                   AppendOrigin origin) {
  AppendInfo local;
  AppendInfo& ai = info != nullptr ? *info : local;
  ai = AppendInfo{};
  std::vector<proto::BatchSpan> spans;
  const char* why = nullptr;
  size_t tail = 0;
  if (!proto::split_batches(batches, spans, &why, &tail))
    return Status::error(ErrorCode::CORRUPT_MESSAGE, why != nullptr ? why : "malformed record batches");
  if (tail != 0) return Status::error(ErrorCode::CORRUPT_MESSAGE, "trailing partial record batch");

  MutexLock lk(mu_);
  ai.log_start_offset = log_start_offset_;
  if (deleted_) return Status::error(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, "log " + dir_ + " was deleted");
  if (spans.empty()) return Status::Ok();
  const LogConfig& cfg = config_;
  if (batches.size() > static_cast<size_t>(cfg.segment_bytes))
    return Status::error(ErrorCode::RECORD_LIST_TOO_LARGE,
                         "Message batch size is " + std::to_string(batches.size()) +
                             " bytes which exceeds the maximum configured segment size of " +
                             std::to_string(cfg.segment_bytes));
  for (const auto& sp : spans) {
    const auto& h = sp.header;
    if (h.total_size() > static_cast<size_t>(cfg.max_message_bytes))
      return Status::error(ErrorCode::MESSAGE_TOO_LARGE,
                           "The record batch size is " + std::to_string(h.total_size()) +
                               " bytes which exceeds the maximum configured value of " +
                               std::to_string(cfg.max_message_bytes));
    if (h.record_count <= 0 || h.last_offset_delta != h.record_count - 1)
      return Status::error(ErrorCode::INVALID_RECORD, "record count " + std::to_string(h.record_count) +
                                                          " does not match last offset delta " +
                                                          std::to_string(h.last_offset_delta));
    if (h.is_control() && origin == AppendOrigin::kClient)
      return Status::error(ErrorCode::INVALID_RECORD, "Client produce requests must not contain control batches");
    if (cfg.compact)
      if (Status s = validate_keys_for_compaction(sp); !s.ok()) return s;
  }

  // Final offsets first (the producer-state checks need them), then the
  // checks, and only then the in-place rewrite and the write.
  const bool log_append = cfg.timestamp_type == proto::TimestampType::kLogAppendTime;
  ProducerStateManager::Append pa(producers_);
  std::vector<proto::BatchHeader> headers;
  headers.reserve(spans.size());
  int64_t off = next_offset_;
  int64_t max_ts = -1;
  int32_t count = 0;
  for (const auto& sp : spans) {
    proto::BatchHeader h = sp.header;
    h.base_offset = off;
    if (leader_epoch >= 0) h.partition_leader_epoch = leader_epoch;
    if (log_append) {
      h.max_timestamp = now_ms;
      h.attributes = static_cast<int16_t>(h.attributes | proto::batch_attr::kTimestampType);
    }
    std::optional<ControlMarker> marker;
    if (h.is_control()) marker = parse_control_marker(proto::BatchSpan{h, sp.bytes});
    std::optional<ProducerBatchInfo> dup;
    if (Status s = pa.check(h, marker, &dup); !s.ok()) return s;
    if (dup) {
      ai.duplicate = true;
      ai.base_offset = dup->first_offset;
      ai.last_offset = dup->last_offset;
      ai.max_timestamp = dup->timestamp;
      ai.log_append_time = log_append ? dup->timestamp : -1;
      return Status::Ok();
    }
    off = h.last_offset() + 1;
    count += h.record_count;
    max_ts = std::max(max_ts, h.max_timestamp);
    headers.push_back(h);
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    std::span<uint8_t> b = batches.subspan(static_cast<size_t>(spans[i].bytes.data() - batches.data()),
                                           spans[i].bytes.size());
    proto::set_batch_base_offset(b, headers[i].base_offset);
    if (leader_epoch >= 0) proto::set_batch_partition_leader_epoch(b, leader_epoch);
    if (log_append) proto::set_batch_log_append_time(b, now_ms);
  }

  // Kafka's shouldRoll: size, age (by the first batch's timestamp), index
  // space, relative offset overflow.
  bool rolled = false;
  {
    const SegmentPtr& seg = active();
    int64_t waited = seg->rolling_timestamp() >= 0 ? max_ts - seg->rolling_timestamp() : now_ms - seg->created_ms();
    if (!seg->empty() && (uint64_t{seg->size()} + batches.size() > static_cast<uint64_t>(cfg.segment_bytes) ||
                          waited > cfg.max_segment_ms() - roll_jitter_locked(cfg) ||
                          seg->index_full(cfg.max_index_entries()) ||
                          !seg->can_hold(off - 1))) {
      if (Status s = roll_locked(now_ms); !s.ok()) return s;
      rolled = true;
    }
  }
  if (cfg.preallocate) active()->reserve(static_cast<uint64_t>(cfg.segment_bytes));
  if (Status s = active()->append(batches, headers, cfg.index_interval_bytes); !s.ok()) return s;

  next_offset_ = off;
  producers_.commit(std::move(pa));
  for (const auto& h : headers)
    if (h.partition_leader_epoch >= 0) {
      if (Status s = epochs_.assign(h.partition_leader_epoch, h.base_offset); !s.ok())
        warn("could not write the leader epoch checkpoint of " + dir_ + ": " + s.message);
    }
  if (hw_follows_leo_) high_watermark_ = next_offset_;
  unflushed_messages_ += count;
  if (unflushed_messages_ >= cfg.flush_messages) {
    // flush.messages asks for an fsync on the append path (Kafka does it
    // inline too); only then is the mutex held across fsync.
    std::vector<SegmentPtr> segs;
    for (const auto& [b, s] : segments_)
      if (s->next_offset() > recovery_point_) segs.push_back(s);
    if (Status s = flush_segments(segs); s.ok()) {
      recovery_point_ = next_offset_;
      unflushed_messages_ = 0;
      last_flush_ms_ = now_ms;
    }
  }
  ai.base_offset = headers.front().base_offset;
  ai.last_offset = off - 1;
  ai.log_append_time = log_append ? now_ms : -1;
  ai.max_timestamp = max_ts;
  ai.record_count = count;
  std::function<void()> notify = rolled ? on_roll_ : nullptr;
  lk.unlock();
  if (notify) notify();
  return Status::Ok();
}

int64_t Log::roll_jitter_locked(const LogConfig& cfg) {
  const int64_t base = active()->base_offset();
  if (base != jitter_segment_) {
    jitter_segment_ = base;
    const int64_t bound = std::min(cfg.segment_jitter_ms, cfg.segment_ms);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    roll_jitter_ms_ = bound > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(bound)) : 0;
  }
  return roll_jitter_ms_;
}

Status Log::roll_locked(int64_t now_ms) {
  (void)active()->seal();
  SegmentPtr seg;
  if (Status s = LogSegment::create(pdir_, next_offset_, "", now_or_wall(now_ms), &seg); !s.ok()) return s;
  segments_[next_offset_] = std::move(seg);
  // Kafka snapshots producer state at every roll, so loading replays at
  // most one segment.
  UniqueFd dfd = pdir_->open();
  if (Status s = producers_.write_snapshot(dfd.get(), next_offset_); !s.ok())
    warn("could not write a producer snapshot in " + dir_ + ": " + s.message);
  ProducerStateManager::retain_latest_snapshots(dfd.get(), 2);
  // The rolled segment is complete: the maintenance thread fsyncs it and
  // advances the recovery point (Kafka flushes rolled segments async).
  pending_flush_offset_ = next_offset_;
  return Status::Ok();
}

// -------------------------------------------------------------------- read

ReadResult Log::read(int64_t offset, size_t max_bytes, bool min_one_batch, int64_t max_offset) const {
  ReadResult r;
  MutexLock lk(mu_);
  r.log_start_offset = log_start_offset_;
  r.log_end_offset = next_offset_;
  r.high_watermark = high_watermark_;
  if (offset < log_start_offset_ || offset > next_offset_) {
    r.status = Status::error(ErrorCode::OFFSET_OUT_OF_RANGE,
                             "Received request for offset " + std::to_string(offset) + ", but we only have log " +
                                 "segments in the range " + std::to_string(log_start_offset_) + " to " +
                                 std::to_string(next_offset_) + ".");
    return r;
  }
  const int64_t bound = max_offset < 0 ? next_offset_ : std::min(max_offset, next_offset_);
  if (offset >= bound) return r;
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end() && it->first < bound; ++it) {
    const SegmentPtr& seg = it->second;
    std::optional<LogSegment::BatchPos> first;
    if (Status s = seg->find_batch(offset, &first); !s.ok()) {
      r.status = s;
      return r;
    }
    if (!first) continue;  // compaction left no batch at or after `offset` here
    uint32_t max_pos = seg->size();
    if (bound < seg->next_offset()) {
      std::optional<LogSegment::BatchPos> b;
      if (Status s = seg->find_batch(bound, &b); !s.ok()) {
        r.status = s;
        return r;
      }
      if (b) max_pos = b->position;
    }
    if (first->position >= max_pos) return r;
    const uint32_t start = first->position;
    const uint64_t avail = max_pos - start;
    uint64_t size = 0;
    if (first->size > max_bytes) {
      if (min_one_batch) {
        size = first->size;
      } else {
        // Kafka returns the partial batch; the client reports it as too large.
        size = std::min<uint64_t>(max_bytes, avail);
        r.first_batch_incomplete = size > 0;
      }
    } else if (avail <= max_bytes) {
      size = avail;
    } else {
      uint32_t end = start;
      if (Status s = seg->whole_batches_end(start, static_cast<uint32_t>(start + max_bytes), &end); !s.ok()) {
        r.status = s;
        return r;
      }
      size = end - start;
    }
    if (Status s = seg->log_file(&r.file); !s.ok()) {
      r.status = s;
      return r;
    }
    r.fd = r.file->get();
    r.position = start;
    r.size = static_cast<size_t>(size);
    return r;
  }
  return r;
}

// ----------------------------------------------------------------- offsets

int64_t Log::log_start_offset() const {
  MutexLock lk(mu_);
  return log_start_offset_;
}
int64_t Log::log_end_offset() const {
  MutexLock lk(mu_);
  return next_offset_;
}
int64_t Log::high_watermark() const {
  MutexLock lk(mu_);
  return high_watermark_;
}
void Log::set_high_watermark(int64_t offset) {
  MutexLock lk(mu_);
  high_watermark_ = std::clamp(offset, log_start_offset_, next_offset_);
}
int64_t Log::last_stable_offset() const {
  MutexLock lk(mu_);
  int64_t fu = producers_.first_unstable_offset();
  return fu >= 0 ? std::min(fu, high_watermark_) : high_watermark_;
}
int64_t Log::recovery_point() const {
  MutexLock lk(mu_);
  return recovery_point_;
}

Status Log::offset_for_timestamp(int64_t ts, TimestampOffset* out) const {
  MutexLock lk(mu_);
  return offset_for_timestamp_locked(ts, out);
}

namespace {

// Reads and decodes the batch at `position`.
Status read_records(const LogSegment& seg, int fd, uint32_t position, const proto::BatchHeader& h,
                    std::vector<uint8_t>& buf, std::vector<uint8_t>& scratch, std::vector<proto::Record>& recs) {
  buf.resize(h.total_size());
  if (pread_full(fd, buf.data(), buf.size(), position) != static_cast<int64_t>(buf.size()))
    return io_error("read " + seg.file_name(LogSegment::kLogExt), errno);
  const char* why = nullptr;
  if (!proto::decode_records(proto::BatchSpan{h, buf}, recs, scratch, kMaxDecompressed, &why))
    return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, "undecodable batch in " +
                                                             seg.file_name(LogSegment::kLogExt) + ": " + (why ? why : "?"));
  return Status::Ok();
}

}  // namespace

Status Log::offset_for_timestamp_locked(int64_t ts, TimestampOffset* out) const {
  *out = TimestampOffset{};
  if (ts == kEarliestTimestamp || ts == kEarliestLocalTimestamp) {
    *out = {log_start_offset_, -1, epochs_.epoch_for_offset(log_start_offset_)};
    return Status::Ok();
  }
  if (ts == kLatestTimestamp) {
    *out = {next_offset_, -1, epochs_.latest_epoch().value_or(-1)};
    return Status::Ok();
  }
  if (ts == kMaxTimestamp) return max_timestamp_offset_locked(out);
  if (ts < 0) return Status::Ok();

  std::vector<uint8_t> buf, scratch;
  std::vector<proto::Record> recs;
  for (const auto& [base, seg] : segments_) {
    if (seg->max_timestamp() < ts || seg->next_offset() <= log_start_offset_) continue;
    // Time index -> offset -> offset index -> position, then scan.
    int64_t from = std::max(seg->time_index().lookup(ts).offset, log_start_offset_);
    FileHandle fd;
    if (Status s = seg->log_file(&fd); !s.ok()) return s;
    BatchScanner sc(fd->get(), seg->offset_index().lookup(from).position, seg->size());
    for (;;) {
      BatchScanner::Step st = sc.next(false);
      if (st == BatchScanner::Step::kError) return io_error("read " + seg->file_name(".log"), sc.error_number());
      if (st != BatchScanner::Step::kBatch) break;
      const proto::BatchHeader h = sc.header();
      if (h.max_timestamp < ts || h.last_offset() < log_start_offset_) continue;
      if (Status s = read_records(*seg, fd->get(), static_cast<uint32_t>(sc.position()), h, buf, scratch, recs); !s.ok()) return s;
      for (const auto& rec : recs) {
        if (rec.offset >= log_start_offset_ && rec.timestamp >= ts) {
          *out = {rec.offset, rec.timestamp, h.partition_leader_epoch};
          return Status::Ok();
        }
      }
    }
  }
  return Status::Ok();
}

Status Log::max_timestamp_offset_locked(TimestampOffset* out) const {
  const LogSegment* best = nullptr;
  for (const auto& [base, seg] : segments_)
    if (seg->max_timestamp() >= 0 && (best == nullptr || seg->max_timestamp() > best->max_timestamp())) best = seg.get();
  if (best == nullptr) return Status::Ok();
  std::optional<LogSegment::BatchPos> pos;
  if (Status s = best->find_batch(best->offset_of_max_timestamp(), &pos); !s.ok()) return s;
  if (!pos) return Status::Ok();
  FileHandle fd;
  if (Status s = best->log_file(&fd); !s.ok()) return s;
  std::vector<uint8_t> buf, scratch;
  std::vector<proto::Record> recs;
  if (Status s = read_records(*best, fd->get(), pos->position, pos->header, buf, scratch, recs); !s.ok()) return s;
  for (const auto& rec : recs) {
    if (rec.timestamp == best->max_timestamp()) {
      *out = {rec.offset, rec.timestamp, pos->header.partition_leader_epoch};
      return Status::Ok();
    }
  }
  // Timestamps only in the header (e.g. an empty batch kept by compaction).
  *out = {pos->header.last_offset(), best->max_timestamp(), pos->header.partition_leader_epoch};
  return Status::Ok();
}

Status Log::delete_records_before(int64_t offset, int64_t* new_log_start_offset) {
  MutexLock lk(mu_);
  if (offset == -1) offset = high_watermark_;
  if (offset < 0 || offset > high_watermark_) {
    return Status::error(ErrorCode::OFFSET_OUT_OF_RANGE,
                         "Cannot increment the log start offset to " + std::to_string(offset) + " of " + dir_ +
                             " since it is outside [0, high watermark " + std::to_string(high_watermark_) + "]");
  }
  if (offset > log_start_offset_) {
    log_start_offset_ = offset;
    if (Status s = epochs_.truncate_from_start(offset); !s.ok()) warn("leader epoch checkpoint: " + s.message);
    cleaner_checkpoint_ = std::max(cleaner_checkpoint_, offset);
  }
  if (new_log_start_offset != nullptr) *new_log_start_offset = log_start_offset_;
  return Status::Ok();
}

Status Log::truncate_to(int64_t offset) {
  std::vector<SegmentPtr> removed;
  {
    MutexLock lk(mu_);
    if (offset < 0) return Status::error(ErrorCode::OFFSET_OUT_OF_RANGE, "cannot truncate to a negative offset");
    if (offset >= next_offset_) return Status::Ok();
    ++generation_;
    if (offset <= segments_.begin()->first) {
      // Everything goes: start over at `offset`.
      for (auto& [b, seg] : segments_) {
        (void)seg->change_suffix(LogSegment::kDeletedSuffix);
        removed.push_back(seg);
      }
      segments_.clear();
      SegmentPtr seg;
      if (Status s = LogSegment::create(pdir_, offset, "", wall_clock_ms(), &seg); !s.ok()) return s;
      segments_[offset] = std::move(seg);
      log_start_offset_ = offset;
    } else {
      for (auto it = segments_.upper_bound(offset); it != segments_.end();) {
        (void)it->second->change_suffix(LogSegment::kDeletedSuffix);
        removed.push_back(it->second);
        it = segments_.erase(it);
      }
      uint32_t cut = 0;
      if (Status s = active()->truncate_to(offset, &cut); !s.ok()) return s;
    }
    next_offset_ = active()->next_offset();
    log_start_offset_ = std::min(log_start_offset_, next_offset_);
    high_watermark_ = std::min(high_watermark_, next_offset_);
    recovery_point_ = std::min(recovery_point_, next_offset_);
    pending_flush_offset_ = std::min(pending_flush_offset_, next_offset_);
    cleaner_checkpoint_ = std::min(cleaner_checkpoint_, next_offset_);
    if (Status s = epochs_.truncate_from_end(next_offset_); !s.ok()) warn("leader epoch checkpoint: " + s.message);
    if (Status s = rebuild_producer_state_locked(next_offset_); !s.ok()) return s;
  }
  for (auto& seg : removed) seg->remove_files();
  return Status::Ok();
}

std::pair<int32_t, int64_t> Log::end_offset_for_epoch(int32_t epoch) const {
  MutexLock lk(mu_);
  return epochs_.end_offset_for(epoch, next_offset_);
}

std::optional<int32_t> Log::latest_epoch() const {
  MutexLock lk(mu_);
  return epochs_.latest_epoch();
}

std::vector<EpochEntry> Log::leader_epochs() const {
  MutexLock lk(mu_);
  return epochs_.entries();
}

std::optional<ProducerEntry> Log::producer(int64_t producer_id) const {
  MutexLock lk(mu_);
  const ProducerEntry* e = producers_.find(producer_id);
  if (e == nullptr) return std::nullopt;
  return *e;
}

size_t Log::producer_count() const {
  MutexLock lk(mu_);
  return producers_.entries().size();
}

// ------------------------------------------------------------------ config

void Log::set_config(const LogConfig& config) {
  MutexLock lk(mu_);
  if (config.compact && !config_.compact) clean_due_ms_ = 0;
  config_ = config;
}

LogConfig Log::config() const {
  MutexLock lk(mu_);
  return config_;
}

int64_t Log::size_bytes() const {
  MutexLock lk(mu_);
  int64_t n = 0;
  for (const auto& [b, s] : segments_) n += s->size();
  return n;
}

std::vector<SegmentInfo> Log::segments() const {
  MutexLock lk(mu_);
  std::vector<SegmentInfo> out;
  for (const auto& [b, s] : segments_)
    out.push_back(SegmentInfo{b, s->next_offset(), s->size(), s->max_timestamp(), s->offset_index().entries(),
                              s->time_index().entries()});
  return out;
}

void Log::set_roll_listener(std::function<void()> fn) {
  MutexLock lk(mu_);
  on_roll_ = std::move(fn);
}

void Log::mark_deleted() {
  MutexLock lk(mu_);
  deleted_ = true;
  pdir_->mark_gone();
}

bool Log::deleted() const {
  MutexLock lk(mu_);
  return deleted_;
}

}  // namespace kfk::broker
