// Producer interceptors: see (and possibly change) every record before it is
// sent, and see every record's outcome. Typical uses: tracing headers,
// metrics, auditing.
//
//   class TraceInterceptor : public kfk::ProducerInterceptor {
//    public:
//     kfk::ProducerRecord on_send(kfk::ProducerRecord record) override {
//       record.add_header("trace-id", current_trace_id());
//       return record;
//     }
//     void on_acknowledgement(const kfk::RecordMetadata& md, const kfk::Error& err) override {
//       if (!err.ok()) failures_.fetch_add(1);
//     }
//    private:
//     std::atomic<int64_t> failures_{0};
//   };
//
// A producer runs its interceptors in the order they were configured: each
// on_send() gets what the previous one returned. An interceptor that throws
// is logged and skipped (the record continues as the previous interceptor
// left it); an interceptor can never make a send fail. The same holds for
// on_acknowledgement() and close().
//
// Interceptors run on the producer's own threads and must be quick: on_send()
// runs inside send(), on the application thread (several at once when the
// application sends from several threads: make it thread-safe);
// on_acknowledgement() runs on the callback thread, just before the record's
// own callback (also for records that failed before being sent).
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include "kfk/error.h"
#include "kfk/record.h"

namespace kfk {

class KFK_EXPORT ProducerInterceptor {
 public:
  virtual ~ProducerInterceptor() = default;

  // Called from application threads, before the record is partitioned and
  // serialized into its batch. Return the record to send (the argument,
  // changed or not, or a new one). The record's partition and key may be
  // changed here and are honoured.
  virtual ProducerRecord on_send(ProducerRecord record) { return record; }

  // Called on the callback thread once per record with its outcome:
  // metadata (the topic and, when known, the partition are always set; the
  // offset is -1 on failure) and the error (ok() on success).
  virtual void on_acknowledgement(const RecordMetadata& metadata, const Error& error) {
    (void)metadata;
    (void)error;
  }

  // Called once when the producer closes.
  virtual void close() {}
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
