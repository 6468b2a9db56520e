// Exponential backoff with jitter, as the Java client's ExponentialBackoff:
// backoff(n) = initial * 2^min(n, log2(max/initial)) * U(1 - jitter, 1 + jitter).
// With max < initial the backoff stays at `initial`. Used for reconnects
// (reconnect.backoff.*), connection setup timeouts and retries
// (retry.backoff.*); broker-ref's future outbound connections too. Not
// thread-safe (one per owner thread).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace kfk::io {

class ExponentialBackoff {
 public:
  ExponentialBackoff(int64_t initial_ms, int64_t max_ms, double jitter = 0.2, double multiplier = 2.0)
      : initial_(initial_ms < 0 ? 0 : initial_ms), jitter_(jitter), multiplier_(multiplier) {
    exp_max_ = max_ms > initial_ ? std::log(static_cast<double>(max_ms) / static_cast<double>(initial_ > 0 ? initial_ : 1)) /
                                       std::log(multiplier_)
                                 : 0.0;
  }

  // The wait after `attempts` consecutive failures (0 for the first retry).
  int64_t backoff_ms(int64_t attempts) {
    if (initial_ == 0) return 0;
    double exp = std::min(static_cast<double>(attempts < 0 ? 0 : attempts), exp_max_);
    double term = static_cast<double>(initial_) * std::pow(multiplier_, exp);
    double factor = jitter_ > 0 ? std::uniform_real_distribution<double>(1 - jitter_, 1 + jitter_)(rng()) : 1.0;
    return static_cast<int64_t>(factor * term);
  }

 private:
  static std::mt19937_64& rng() {
    thread_local std::mt19937_64 g{std::random_device{}()};
    return g;
  }

  int64_t initial_;
  double jitter_;
  double multiplier_;
  double exp_max_ = 0;
};

}  // namespace kfk::io
