// Concise timestamped log lines on stderr ("2024-05-01T12:00:00.123Z
// broker-ref: ..."). Thread-safe: one fprintf per line.
#pragma once

#include <string>

namespace kfk::broker {

void server_log(const std::string& msg);

}  // namespace kfk::broker
