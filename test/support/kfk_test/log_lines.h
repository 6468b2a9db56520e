// A log sink for NetOptions::log, ProducerOptions::log or
// ConsumerOptions::log that keeps the lines; the sink shares them, so it may
// outlive this object (a client logging while it closes).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kfk::test {

class LogLines {
 public:
  std::function<void(std::string_view)> sink() const {
    return [lines = lines_](std::string_view m) {
      std::lock_guard<std::mutex> lock(lines->mu);
      lines->all.emplace_back(m);
    };
  }
  // How many lines contain `needle`.
  size_t count(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(lines_->mu);
    size_t n = 0;
    for (const auto& l : lines_->all) n += l.find(needle) != std::string::npos;
    return n;
  }

 private:
  struct Lines {
    std::mutex mu;
    std::vector<std::string> all;
  };
  std::shared_ptr<Lines> lines_ = std::make_shared<Lines>();
};

}  // namespace kfk::test
