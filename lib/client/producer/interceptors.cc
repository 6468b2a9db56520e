#include "client/producer/interceptors.h"

#include <cstdio>
#include <exception>
#include <string>

namespace kfk::producer {
namespace {

std::string what_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

void log_to_stderr(std::string_view message) {
  std::fprintf(stderr, "kfk producer: %.*s\n", static_cast<int>(message.size()), message.data());
}

InterceptorChain::InterceptorChain(std::vector<std::shared_ptr<ProducerInterceptor>> interceptors, LogFn log)
    : interceptors_(std::move(interceptors)), log_(std::move(log)) {
  std::erase(interceptors_, nullptr);
}

void InterceptorChain::log(std::string_view message) const {
  if (log_)
    log_(message);
  else
    log_to_stderr(message);
}

ProducerRecord InterceptorChain::on_send(ProducerRecord record) const {
  for (size_t i = 0; i < interceptors_.size(); ++i) {
    try {
      record = interceptors_[i]->on_send(ProducerRecord(record));
    } catch (...) {
      log("interceptor #" + std::to_string(i) + " on_send() threw (skipped, record sent unchanged by it): " +
          what_of(std::current_exception()));
    }
  }
  return record;
}

void InterceptorChain::on_acknowledgement(const RecordMetadata& metadata, const Error& error) const {
  for (size_t i = 0; i < interceptors_.size(); ++i) {
    try {
      interceptors_[i]->on_acknowledgement(metadata, error);
    } catch (...) {
      log("interceptor #" + std::to_string(i) + " on_acknowledgement() threw: " +
          what_of(std::current_exception()));
    }
  }
}

void InterceptorChain::on_send_error(const ProducerRecord& record, std::string_view topic, int32_t partition,
                                     const Error& error) const {
  if (interceptors_.empty()) return;
  RecordMetadata md;
  md.topic = topic;
  md.partition = record.partition.value_or(partition);
  md.serialized_key_size = record.key ? static_cast<int32_t>(record.key->size()) : -1;
  md.serialized_value_size = record.value ? static_cast<int32_t>(record.value->size()) : -1;
  on_acknowledgement(md, error);
}

void InterceptorChain::close() {
  if (closed_) return;
  closed_ = true;
  for (size_t i = 0; i < interceptors_.size(); ++i) {
    try {
      interceptors_[i]->close();
    } catch (...) {
      log("interceptor #" + std::to_string(i) + " close() threw: " + what_of(std::current_exception()));
    }
  }
}

}  // namespace kfk::producer
