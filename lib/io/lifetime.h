// Lifetime: the one idiom for callbacks that can outlive the loop-owned
// object that scheduled them (a request's answer, a posted function, a
// timer's or a listener's callback).
//
//   class Fetcher {
//     void send_fetch() {
//       nc_.send(node, std::move(req), [this, alive = lifetime_.weak()](const Error& e, auto& r) {
//         if (!alive.alive()) return;  // the Fetcher stopped or is gone
//         on_fetch_response(e, r);
//       });
//     }
//     io::Lifetime lifetime_;  // ended by stop() or the destructor
//   };
//
// The owner holds a Lifetime and ends it (end(), or its destructor) before
// its state stops being usable; a callback holds a Lifetime::Weak and runs
// the owner's code only while alive(). Objects shared by their callbacks
// (net::Call, admin operations) keep themselves alive with shared_ptr
// instead and hold a Weak of their owner (net::CallSpec::owner).
//
// Threads: callbacks read alive() on the owner's loop thread; end() may run
// on any thread (an admin operation is released by the application), and a
// Weak may be copied and destroyed anywhere. An owner whose state the
// callbacks touch must still end its lifetime on the loop thread, before
// that state goes (alive() is checked once, at the callback's start).
#pragma once

#include <atomic>
#include <memory>
#include <utility>

namespace kfk::io {

class Lifetime {
 public:
  // A callback's view of its owner's lifetime.
  class Weak {
   public:
    Weak() = default;  // never alive
    bool alive() const {
      std::shared_ptr<const std::atomic<bool>> token = token_.lock();
      return token != nullptr && token->load(std::memory_order_acquire);
    }

   private:
    friend class Lifetime;
    explicit Weak(std::weak_ptr<const std::atomic<bool>> token) : token_(std::move(token)) {}
    std::weak_ptr<const std::atomic<bool>> token_;
  };

  Lifetime() = default;
  ~Lifetime() { end(); }
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  // From now on every Weak of this lifetime reports !alive().
  void end() { token_->store(false, std::memory_order_release); }
  bool ended() const { return !token_->load(std::memory_order_acquire); }
  Weak weak() const { return Weak(token_); }

 private:
  std::shared_ptr<std::atomic<bool>> token_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace kfk::io
