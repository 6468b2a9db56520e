// kfk's local error codes: conditions the client itself raises, which never
// travel on the wire (a timeout, a full queue, a lost connection, ...).
//
// KFK_CLIENT_ERRORS below is the single source for them, as
// KFK_PROTO_ERRORS (lib/protocol/error_codes.h) is for Kafka's codes: the
// lookup table in client_errors.cc is expanded from it, and the public
// kfk/errc.h (errc::kTimedOut, ...) is generated from both tables at build
// time by lib/client/gen_errc.py. broker-ref does not see these codes.
//
// The codes are negative, -100 and below, so they can never collide with a
// Kafka code (-1 and 0 and up). A code keeps its value forever; a new
// condition takes the next free code. Names are Kafka-style UPPER_SNAKE and
// must not repeat a Kafka name: Kafka's INVALID_CONFIG (40) is a broker-side
// configuration, the client's own is INVALID_CLIENT_CONFIG; Kafka's
// UNSUPPORTED_VERSION (35) is a broker's answer, the client finding no
// version it shares with a broker is NO_COMMON_API_VERSION.
#pragma once

#include <span>

#include "protocol/error_codes.h"

// X(NAME, code, retriable, "text")
#define KFK_CLIENT_ERRORS(X)                                                                      \
  X(INVALID_CLIENT_CONFIG, -100, false, "Invalid configuration")                                  \
  X(TIMED_OUT, -101, true, "Operation timed out")                                                 \
  X(QUEUE_FULL, -102, true, "Local queue is full")                                                \
  X(TRANSPORT, -103, true, "Connection to the broker failed or was closed")                       \
  X(DESTROYED, -104, false, "Client closed")                                                      \
  X(INVALID_ARGUMENT, -105, false, "Invalid argument")                                            \
  X(MALFORMED_RESPONSE, -106, false, "Malformed response from the broker")                        \
  X(UNSUPPORTED_FEATURE, -107, false, "Feature not supported by the broker or by this build")     \
  X(STATE, -108, false, "Operation not valid in the current state")                               \
  X(FATAL, -109, false, "The client is in a fatal state")                                         \
  X(WAKEUP, -110, false, "Poll interrupted by wakeup()")                                          \
  X(PURGED, -111, false, "Record purged before delivery, e.g. at close")                          \
  X(PARTITION_EOF, -112, false, "Reached the end of the partition")                               \
  X(ALL_BROKERS_DOWN, -113, true, "All brokers are down")                                         \
  X(RESOLVE, -114, true, "Host name resolution failed")                                           \
  X(MSG_TIMED_OUT, -115, false, "Record not delivered within delivery.timeout.ms")                \
  X(NO_OFFSET, -116, false, "No committed offset and auto.offset.reset=none")                     \
  X(INTERCEPTOR, -117, false, "An interceptor failed")                                            \
  X(NO_COMMON_API_VERSION, -118, false, "The broker and kfk share no version of the API")         \

namespace kfk {

// The highest and the lowest local code.
inline constexpr int kMaxClientErrorCode = -100;
inline constexpr int kMinClientErrorCode = -118;

// Every entry, in descending order of code (-100, -101, ...).
std::span<const proto::ErrorInfo> all_client_errors();

// The entry for a local `code`, or nullptr if it is not one.
const proto::ErrorInfo* find_client_error(int code);

}  // namespace kfk
