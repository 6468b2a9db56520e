// kfk::Error: the result of every kfk operation that can fail.
//
// An Error is either success (code 0, empty message) or a failure carrying
//   - a code: a Kafka protocol error code (1, 2, ... as the broker sent it,
//     -1 for UNKNOWN_SERVER_ERROR) or a local, client-side code (-100 and
//     below); kfk/errc.h names every one (errc::kNotLeaderOrFollower,
//     errc::kTimedOut, ...);
//   - a name: the code's symbolic name ("NOT_LEADER_OR_FOLLOWER",
//     "TIMED_OUT"), "NONE" for success;
//   - a human-readable message;
//   - retriable(): trying the same operation again may succeed (the client
//     already retries these internally where it makes sense);
//   - fatal(): the client instance can no longer be used and must be closed
//     (for example a fenced transactional producer);
//   - abortable(): the current transaction can no longer commit and must be
//     aborted, after which the producer is usable again (librdkafka's
//     txn_requires_abort). No kfk call reports it yet: transactions are not
//     available (kfk/config.h, transactional.id).
//
//   kfk::Error err = ...;  // any kfk call that can fail
//   if (!err.ok()) std::cerr << err.to_string() << "\n";
//   // e.g. "TIMED_OUT: Operation timed out (flush)"
//   if (err.code() == kfk::errc::kTopicAuthorizationFailed) { ... }
//
// Error is [[nodiscard]]: dropping the Error a call returns draws a compiler
// warning. Where ignoring a failure is right, say so with a cast and a
// comment: `(void)consumer->commit_sync();  // best effort at shutdown`.
// Error has no conversion to bool: write `err.ok()` or `!err.ok()`.
//
// Cost: an Error is one pointer. Success is a null pointer: making, copying,
// moving, testing and destroying a success never allocates. A failure keeps
// its code, flags and message in one immutable block, shared by the copies
// of the Error (copying a failure counts a reference; it never copies the
// message).
//
// Thread safety: an Error never changes once made. Several threads may call
// const methods on one Error, and threads may hold copies of the same Error,
// without synchronization; assigning to an Error that another thread may be
// reading needs external synchronization, as for any value.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <cstdint>
#include <string>
#include <utility>

#include "kfk/errc.h"

namespace kfk {

// Exported like KFK_EXPORT (spelled as a standard attribute here, since a GNU
// __attribute__ cannot follow [[nodiscard]]).
class [[nodiscard, gnu::visibility("default")]] Error {
 public:
  // The flags of a failure (see retriable(), fatal() and abortable()):
  //   kfk::Error(errc::kState, "...", kfk::Error::Flags{.abortable = true})
  struct Flags {
    bool retriable = false;
    bool fatal = false;
    bool abortable = false;
  };

  // Success.
  Error() noexcept = default;
  static Error success() noexcept { return Error(); }

  // A failure with the given code, message and flags. A code of 0 makes a
  // success (the message and flags are then dropped).
  Error(int code, std::string message, Flags flags);
  Error(int code, std::string message, bool retriable = false, bool fatal = false)
      : Error(code, std::move(message), Flags{retriable, fatal, false}) {}

  // A failure described by kfk's error tables: retriable() as the table says
  // (Kafka's classification for Kafka codes), fatal() only for errc::kFatal,
  // abortable() false, message() the code's standard text followed by
  // " (context)" when context is not empty. from_code(0) is success. An
  // unknown code gives an error named "UNKNOWN_ERROR_CODE" that keeps the
  // code.
  static Error from_code(int code, std::string context = {});

  Error(const Error& other) noexcept;
  Error(Error&& other) noexcept : rep_(other.rep_) { other.rep_ = nullptr; }
  Error& operator=(const Error& other) noexcept;
  Error& operator=(Error&& other) noexcept {
    Rep* old = rep_;
    rep_ = other.rep_;
    other.rep_ = nullptr;
    if (old != nullptr && old != rep_) release(old);
    return *this;
  }
  ~Error() {
    if (rep_ != nullptr) release(rep_);
  }

  bool ok() const noexcept { return rep_ == nullptr; }
  int code() const noexcept;
  // "NONE" for success, the table name otherwise ("NOT_LEADER_OR_FOLLOWER",
  // "TIMED_OUT"), "UNKNOWN_ERROR_CODE" for a code the tables do not know.
  // The pointer is to static storage.
  const char* name() const noexcept;
  // Empty for success. The reference is valid as long as this Error (or a
  // copy of it) lives.
  const std::string& message() const noexcept;
  bool retriable() const noexcept;
  bool fatal() const noexcept;
  bool abortable() const noexcept;

  // "OK" for success, otherwise "NAME: message" (the code's standard text
  // stands in for an empty message).
  std::string to_string() const;

  // Two errors are equal when their codes are equal; the message and the
  // flags are not compared.
  bool operator==(const Error& other) const noexcept { return code() == other.code(); }

 private:
  struct Rep;  // a failure's code, flags and message (lib/client/error.cc)
  static void release(Rep* rep) noexcept;

  Rep* rep_ = nullptr;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
