// InterceptorChain: runs a producer's interceptors in order, isolating the
// producer from interceptors that throw.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "kfk/interceptor.h"

namespace kfk::producer {

// Where the producer internals report problems that have no caller to
// return an error to (a throwing interceptor or callback). Default: stderr.
using LogFn = std::function<void(std::string_view message)>;
void log_to_stderr(std::string_view message);

class InterceptorChain {
 public:
  explicit InterceptorChain(std::vector<std::shared_ptr<ProducerInterceptor>> interceptors = {}, LogFn log = {});

  bool empty() const { return interceptors_.empty(); }
  size_t size() const { return interceptors_.size(); }

  // Runs every on_send() in order. An interceptor that throws is logged and
  // skipped: the record continues as it was before that interceptor. Each
  // interceptor gets a copy (it could throw after moving out of its
  // argument), so a chain costs one record copy per interceptor; none at all
  // when the chain is empty.
  // Called from application threads.
  ProducerRecord on_send(ProducerRecord record) const;

  // Runs every on_acknowledgement(); exceptions are logged and swallowed.
  // Called on the callback thread.
  void on_acknowledgement(const RecordMetadata& metadata, const Error& error) const;

  // For a record that failed before it reached a batch (serialization,
  // partitioning, buffer full...): reports it to on_acknowledgement() with
  // the topic, the partition (-1 when not chosen yet) and the error.
  // `topic` is the name the metadata points at (RecordMetadata::topic: the
  // producer's own copy, valid while the producer exists).
  void on_send_error(const ProducerRecord& record, std::string_view topic, int32_t partition,
                     const Error& error) const;

  // Calls every close(), once; exceptions are logged.
  void close();

  void log(std::string_view message) const;

 private:
  std::vector<std::shared_ptr<ProducerInterceptor>> interceptors_;
  LogFn log_;
  bool closed_ = false;
};

}  // namespace kfk::producer
