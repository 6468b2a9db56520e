// Waiting in tests: poll a condition until it holds or a deadline passes.
// Tests assert on outcomes, never on how long something took; the deadline
// only bounds a test that would otherwise hang.
#pragma once

#include <cstdint>
#include <functional>

namespace kfk::test {

// Polls `pred` (on the calling thread, every few milliseconds) until it is
// true or `ms` pass; the last evaluation's result.
bool eventually(const std::function<bool()>& pred, int ms = 10000);

// Milliseconds on the steady clock.
int64_t now_ms();

}  // namespace kfk::test
