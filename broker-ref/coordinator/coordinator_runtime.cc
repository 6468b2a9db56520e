#include "coordinator/coordinator_runtime.h"

#include <cerrno>

#include "protocol/error_codes.h"
#include "server/server_log.h"
#include "storage/file_util.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;

constexpr size_t kLoadChunk = 1 << 20;
constexpr size_t kMaxDecompressed = 64u << 20;

// Next code point of UTF-8 at s[i] (advancing i); U+FFFD for malformed input.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size()) {
    ++i;
    return 0xFFFD;
  }
  if (len == 1) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  i += static_cast<size_t>(len);
  return cp;
}

}  // namespace

int32_t java_string_hash(std::string_view s) {
  uint32_t h = 0;  // unsigned: Java's int arithmetic wraps
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = next_code_point(s, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = 31 * h + (0xD800 + (cp >> 10));
      h = 31 * h + (0xDC00 + (cp & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return static_cast<int32_t>(h);
}

CoordinatorRuntime::CoordinatorRuntime(uv_loop_t* loop, CoordinatorRuntimeOptions options, LocalController& controller,
                                       ReplicaManager& replicas, std::function<void(int32_t, size_t)> on_append)
    : loop_(loop),
      options_(std::move(options)),
      controller_(controller),
      replicas_(replicas),
      on_append_(std::move(on_append)),
      states_(static_cast<size_t>(std::max(1, options_.num_partitions)), PartitionState::kUnloaded),
      // Run on the loop thread.
      deadline_timer_(std::make_unique<io::Timer>(loop_,
                                                  [this] {
                                                    if (shard_ != nullptr) shard_->on_deadline();
                                                  })),
      post_timer_(std::make_unique<io::Timer>(loop_, [this] { run_posted(); })) {}

CoordinatorRuntime::~CoordinatorRuntime() { close(); }

void CoordinatorRuntime::close() {
  deadline_timer_.reset();
  post_timer_.reset();
}

void CoordinatorRuntime::warn(const std::string& msg) const { server_log(options_.name + ": " + msg); }

int32_t CoordinatorRuntime::partition_for(std::string_view key) const {
  int32_t h = java_string_hash(key);
  int32_t abs = h == INT32_MIN ? 0 : (h < 0 ? -h : h);  // Kafka's Utils.abs
  return abs % options_.num_partitions;
}

Status CoordinatorRuntime::ensure_topic() {
  if (controller_.image().topic(options_.topic)) return Status::Ok();
  return controller_.create_topic(options_.topic, options_.num_partitions, options_.topic_overrides, false, nullptr);
}

CoordinatorRuntime::PartitionState CoordinatorRuntime::state(int32_t partition) const {
  if (partition < 0 || static_cast<size_t>(partition) >= states_.size()) return PartitionState::kUnloaded;
  return states_[static_cast<size_t>(partition)];
}

ErrorCode CoordinatorRuntime::check(int32_t partition) const {
  switch (state(partition)) {
    case PartitionState::kLoaded: return ErrorCode::NONE;
    case PartitionState::kLoading: return ErrorCode::COORDINATOR_LOAD_IN_PROGRESS;
    case PartitionState::kUnloaded: break;
  }
  return ErrorCode::NOT_COORDINATOR;
}

Status CoordinatorRuntime::load(int32_t partition) {
  if (state(partition) != PartitionState::kUnloaded) return Status::Ok();
  if (partition < 0 || partition >= options_.num_partitions)
    return Status::error(ErrorCode::INVALID_REQUEST, options_.topic + " has no partition " + std::to_string(partition));
  ErrorCode e = ErrorCode::NONE;
  Partition* part = replicas_.leader(options_.topic, partition, &e);
  // The topic does not exist yet: nothing to replay (it is created here).
  if (part == nullptr && e != ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
    return Status::error(ErrorCode::NOT_COORDINATOR, options_.topic + "-" + std::to_string(partition) +
                                                         " is not led by this node");
  states_[static_cast<size_t>(partition)] = PartitionState::kLoading;
  if (part != nullptr)
    if (Status s = replay(partition, part->log()); !s.ok()) {
      states_[static_cast<size_t>(partition)] = PartitionState::kUnloaded;
      if (shard_) shard_->on_unloaded(partition);
      return s;
    }
  states_[static_cast<size_t>(partition)] = PartitionState::kLoaded;
  if (shard_) shard_->on_loaded(partition);
  return Status::Ok();
}

void CoordinatorRuntime::unload(int32_t partition) {
  if (state(partition) == PartitionState::kUnloaded) return;
  states_[static_cast<size_t>(partition)] = PartitionState::kUnloaded;
  if (shard_) shard_->on_unloaded(partition);
}

Status CoordinatorRuntime::load_all() {
  for (int32_t p = 0; p < options_.num_partitions; ++p)
    if (Status s = load(p); !s.ok()) return s;
  return Status::Ok();
}

// Reads the log from its start to its end, whole batches at a time, and
// hands every record of every data batch to the shard.
Status CoordinatorRuntime::replay(int32_t partition, Log& log) {
  const std::string where = options_.topic + "-" + std::to_string(partition);
  std::vector<uint8_t> buf;
  std::vector<proto::BatchSpan> spans;
  std::vector<proto::Record> recs;
  std::vector<uint8_t> scratch;
  int64_t offset = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  while (offset < end) {
    ReadResult rr = log.read(offset, kLoadChunk, true);
    if (!rr.status.ok()) return rr.status;
    if (rr.size == 0) break;
    buf.resize(rr.size);
    int64_t n = pread_full(rr.fd, buf.data(), rr.size, rr.position);
    if (n != static_cast<int64_t>(rr.size)) return io_error("reading " + where, n < 0 ? errno : EIO);
    const char* why = nullptr;
    size_t tail = 0;
    if (!proto::split_batches(buf, spans, &why, &tail) || spans.empty())
      return Status::error(ErrorCode::CORRUPT_MESSAGE, where + ": " + (why ? why : "no whole batch"));
    for (const auto& sp : spans) {
      int64_t next = sp.header.base_offset + sp.header.last_offset_delta + 1;
      if (next > offset) offset = next;
      if (sp.header.is_control()) continue;  // transaction markers: no transactions yet
      if (!proto::decode_records(sp, recs, scratch, kMaxDecompressed, &why)) {
        warn(where + ": skipping an undecodable batch: " + (why ? why : "?"));
        continue;
      }
      for (const auto& r : recs)
        if (shard_ && !shard_->replay(partition, r))
          warn(where + " offset " + std::to_string(r.offset) + ": skipping an unknown or undecodable record");
    }
  }
  return Status::Ok();
}

Status CoordinatorRuntime::append(int32_t partition, const std::vector<CoordinatorRecord>& records, int64_t now_ms) {
  if (records.empty()) return Status::Ok();
  if (Status s = ensure_topic(); !s.ok()) return s;
  ErrorCode e = ErrorCode::NONE;
  Partition* part = replicas_.leader(options_.topic, partition, &e);
  // Kafka's mapping of append errors for coordinators.
  if (part == nullptr)
    return Status::error(e == ErrorCode::NOT_LEADER_OR_FOLLOWER ? ErrorCode::NOT_COORDINATOR
                                                                : ErrorCode::COORDINATOR_NOT_AVAILABLE,
                         options_.topic + "-" + std::to_string(partition) + ": " + proto::error_name(e));
  proto::BatchBuilder b(proto::BatchBuilder::Options{});
  for (const auto& kv : records) {
    std::optional<std::span<const uint8_t>> v;
    if (kv.value) v = std::span<const uint8_t>(*kv.value);
    b.append(kv.timestamp, std::span<const uint8_t>(kv.key), v);
  }
  std::vector<uint8_t> batch = b.release();
  AppendInfo info;
  if (Status s = part->append_as_leader(batch, now_ms, &info); !s.ok()) return s;
  if (on_append_) on_append_(partition, batch.size());
  return Status::Ok();
}

void CoordinatorRuntime::schedule(uint64_t due_ms) {
  if (deadline_timer_ == nullptr || stopped_) return;
  uint64_t t = now();
  deadline_timer_->start(static_cast<int64_t>(due_ms > t ? due_ms - t : 0));
}

void CoordinatorRuntime::cancel_deadline() {
  if (deadline_timer_) deadline_timer_->stop();
}

void CoordinatorRuntime::run_posted() {
  auto fns = std::move(posted_);
  posted_.clear();
  for (auto& f : fns) f();
}

void CoordinatorRuntime::post(std::function<void()> fn) {
  posted_.push_back(std::move(fn));
  if (post_timer_ != nullptr) post_timer_->start(0);
}

void CoordinatorRuntime::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  run_posted();
  if (deadline_timer_) deadline_timer_->stop();
  if (post_timer_) post_timer_->stop();
}

}  // namespace kfk::broker
