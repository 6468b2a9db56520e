#include "kfk/error.h"

#include <atomic>
#include <cstdint>
#include <utility>

#include "client/client_errors.h"
#include "protocol/error_codes.h"

namespace kfk {
namespace {

// The table entry for `code` (Kafka's table or the client's), or nullptr.
const proto::ErrorInfo* lookup(int code) {
  if (code >= -1 && code <= proto::kMaxKafkaErrorCode) return proto::find_error(static_cast<int16_t>(code));
  return find_client_error(code);
}

constexpr const char* kUnknownName = "UNKNOWN_ERROR_CODE";

const std::string kEmpty;

}  // namespace

// Only failures have one; success is a null Rep pointer.
struct Error::Rep {
  std::atomic<uint32_t> refs{1};
  int32_t code = 0;
  Flags flags;
  std::string message;
};

Error::Error(int code, std::string message, Flags flags) {
  if (code == 0) return;  // success: no message, no flags
  rep_ = new Rep{{1}, code, flags, std::move(message)};
}

Error::Error(const Error& other) noexcept : rep_(other.rep_) {
  if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
}

Error& Error::operator=(const Error& other) noexcept {
  if (other.rep_ != nullptr) other.rep_->refs.fetch_add(1, std::memory_order_relaxed);
  if (rep_ != nullptr) release(rep_);
  rep_ = other.rep_;
  return *this;
}

void Error::release(Rep* rep) noexcept {
  // acq_rel: whoever drops the last reference sees every other owner done.
  if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete rep;
}

Error Error::from_code(int code, std::string context) {
  if (code == 0) return Error();
  const proto::ErrorInfo* info = lookup(code);
  std::string message = info ? std::string(info->text) : "Unknown error code " + std::to_string(code);
  if (!context.empty()) {
    message += " (";
    message += context;
    message += ')';
  }
  return Error(code, std::move(message), Flags{info != nullptr && info->retriable, code == errc::kFatal, false});
}

int Error::code() const noexcept { return rep_ == nullptr ? 0 : rep_->code; }
const std::string& Error::message() const noexcept { return rep_ == nullptr ? kEmpty : rep_->message; }
bool Error::retriable() const noexcept { return rep_ != nullptr && rep_->flags.retriable; }
bool Error::fatal() const noexcept { return rep_ != nullptr && rep_->flags.fatal; }
bool Error::abortable() const noexcept { return rep_ != nullptr && rep_->flags.abortable; }

const char* Error::name() const noexcept {
  if (rep_ == nullptr) return proto::error_info(proto::ErrorCode::NONE).name;
  const proto::ErrorInfo* info = lookup(rep_->code);
  return info ? info->name : kUnknownName;
}

std::string Error::to_string() const {
  if (ok()) return "OK";
  std::string s = name();
  const char* text = rep_->message.c_str();
  if (rep_->message.empty()) {
    const proto::ErrorInfo* info = lookup(rep_->code);
    text = info ? info->text : "";
  }
  if (*text != '\0') {
    s += ": ";
    s += text;
  }
  return s;
}

}  // namespace kfk
