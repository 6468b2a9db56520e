#include "server/fetch_waiters.h"

namespace kfk::broker {

FetchWaiters::FetchWaiters(uv_loop_t* loop)
    : loop_(loop), timer_(std::make_unique<io::Timer>(loop, [this] { on_timer(); })) {}

FetchWaiters::~FetchWaiters() { close(); }

void FetchWaiters::close() { timer_.reset(); }

void FetchWaiters::add(const std::vector<TopicPartition>& partitions, int64_t bytes_have, int64_t bytes_needed,
                       int64_t max_wait_ms, std::function<void()> done) {
  uint64_t id = next_id_++;
  Waiter w;
  w.partitions = partitions;
  w.bytes_have = bytes_have;
  w.bytes_needed = bytes_needed;
  w.deadline = uv_now(loop_) + static_cast<uint64_t>(max_wait_ms < 0 ? 0 : max_wait_ms);
  w.done = std::move(done);
  for (const auto& tp : w.partitions) by_partition_[tp].insert(id);
  deadlines_.emplace(w.deadline, id);
  waiters_.emplace(id, std::move(w));
  arm();
}

void FetchWaiters::notify(std::string_view topic, int32_t partition, size_t bytes) {
  auto it = by_partition_.find(TopicPartition{std::string(topic), partition});
  if (it == by_partition_.end()) return;
  for (uint64_t id : it->second) {
    Waiter& w = waiters_.at(id);
    w.bytes_have += static_cast<int64_t>(bytes);
    if (w.bytes_have >= w.bytes_needed) ready_.insert(id);
  }
  if (!ready_.empty()) arm();
}

void FetchWaiters::finish(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  Waiter w = std::move(it->second);
  waiters_.erase(it);
  for (const auto& tp : w.partitions) {
    auto p = by_partition_.find(tp);
    if (p == by_partition_.end()) continue;
    p->second.erase(id);
    if (p->second.empty()) by_partition_.erase(p);
  }
  for (auto d = deadlines_.lower_bound(w.deadline); d != deadlines_.end() && d->first == w.deadline; ++d)
    if (d->second == id) {
      deadlines_.erase(d);
      break;
    }
  ready_.erase(id);
  // Last: the callback may add new waiters.
  if (w.done) w.done();
}

void FetchWaiters::complete_all() {
  while (!waiters_.empty()) finish(waiters_.begin()->first);
}

void FetchWaiters::arm() {
  if (timer_ == nullptr) return;
  uint64_t now = uv_now(loop_);
  uint64_t due;
  if (!ready_.empty()) due = 0;
  else if (!deadlines_.empty()) due = deadlines_.begin()->first > now ? deadlines_.begin()->first - now : 0;
  else {
    timer_->stop();
    return;
  }
  timer_->start(static_cast<int64_t>(due));
}

// Runs on the loop thread.
void FetchWaiters::on_timer() {
  uint64_t now = uv_now(loop_);
  std::vector<uint64_t> due(ready_.begin(), ready_.end());
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it) due.push_back(it->second);
  for (uint64_t id : due) finish(id);
  arm();
}

}  // namespace kfk::broker
