#include "client/net/network_thread.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace kfk::net {

NetworkThread::NetworkThread() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, &NetworkThread::on_async);
  async_.data = this;
}

NetworkThread::~NetworkThread() {
  stop();
}

void NetworkThread::start() {
  MutexLock lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

bool NetworkThread::post(std::function<void()> fn) {
  {
    MutexLock lock(mu_);
    if (!started_ || stopping_) return false;
    queue_.push_back(std::move(fn));
  }
  uv_async_send(&async_);  // coalesces: one wakeup drains everything queued
  return true;
}

void NetworkThread::stop() {
  MutexLock stop_lock(stop_mu_);
  if (stopped_) return;
  if (in_loop_thread()) {
    std::fprintf(stderr, "kfk: a client was closed from its own network thread (e.g. inside a callback)\n");
    std::abort();
  }
  bool was_started;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    was_started = started_;
  }
  if (was_started) {
    uv_async_send(&async_);
    thread_.join();
  } else {
    // Never started: close the async handle on this thread and finish.
    io::LoopThreadScope on_loop(&loop_);
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop_);
  stopped_ = true;
}

bool NetworkThread::running() const {
  MutexLock lock(mu_);
  return started_ && !stopping_;
}

void NetworkThread::add_stop_hook(std::function<void()> hook) {
  KFK_DCHECK_ON_LOOP(&loop_);
  stop_hooks_.push_back(std::move(hook));
}

void NetworkThread::on_async(uv_async_t* a) { static_cast<NetworkThread*>(a->data)->drain(); }

// Runs on the network thread.
void NetworkThread::drain() {
  while (true) {
    std::vector<std::function<void()>> batch;
    bool stopping;
    {
      MutexLock lock(mu_);
      batch.swap(queue_);
      stopping = stopping_;
    }
    if (batch.empty()) {
      if (stopping && !hooks_ran_) {
        hooks_ran_ = true;
        // Hooks may register more hooks or post nothing (post is refused now).
        while (!stop_hooks_.empty()) {
          auto hook = std::move(stop_hooks_.back());
          stop_hooks_.pop_back();
          hook();
        }
        uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
      }
      return;
    }
    for (auto& fn : batch) fn();
  }
}

// Runs on the network thread.
void NetworkThread::run() {
  // A broker closing mid-write must give EPIPE, not kill the process:
  // libuv does not ignore SIGPIPE, so block it for this thread only.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
  io::LoopThreadScope on_loop(&loop_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Anything an owner forgot to close: close it so the loop can be freed.
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
}

}  // namespace kfk::net
