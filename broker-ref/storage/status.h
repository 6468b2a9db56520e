// Result type of the storage layer: a Kafka error code (what the protocol
// handler puts in its response) plus a human message (error_message fields,
// logs). Storage never throws.
#pragma once

#include <string>
#include <utility>

#include "protocol/error_codes.h"

namespace kfk::broker {

using proto::ErrorCode;

struct [[nodiscard]] Status {
  ErrorCode code = ErrorCode::NONE;
  std::string message;

  bool ok() const { return code == ErrorCode::NONE; }
  int16_t kafka_code() const { return proto::to_int(code); }
  // "OFFSET_OUT_OF_RANGE: <message>", or "NONE".
  std::string to_string() const {
    std::string s = proto::error_name(code);
    if (!message.empty()) s += ": " + message;
    return s;
  }

  static Status Ok() { return {}; }
  static Status error(ErrorCode c, std::string msg) { return Status{c, std::move(msg)}; }
};

// An I/O failure: KAFKA_STORAGE_ERROR with "what: strerror(err)"; a full
// descriptor table adds the limit: "...: Too many open files (RLIMIT_NOFILE 1024)".
Status io_error(const std::string& what, int err);

}  // namespace kfk::broker
