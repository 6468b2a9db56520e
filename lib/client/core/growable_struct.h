// Filling a public struct that may grow (ProducerMetrics, ConsumerMetrics):
// the caller says how many bytes of it its header declared, and only the
// fields within them are written. Fields are only ever appended, so a
// program built against an older header keeps working with a newer libkfk.
#pragma once

#include <cstddef>
#include <utility>

namespace kfk::core {

// Assigns `from.*field` to `out->*field` for each field lying within the
// first `size` bytes of *out.
template <class S, class... F>
void assign_within(S* out, size_t size, S&& from, F S::*... fields) {
  auto one = [&](auto field) {
    const size_t end = static_cast<size_t>(reinterpret_cast<const char*>(&(out->*field)) -
                                           reinterpret_cast<const char*>(out)) +
                       sizeof(out->*field);
    if (end <= size) out->*field = std::move(from.*field);
  };
  (one(fields), ...);
}

}  // namespace kfk::core
