// Error classification: what the client does about an error code, as named
// predicates (franz-go's errors.go). One place decides, so the producer,
// the consumer, the group member and the admin client agree. Every
// predicate takes a Kafka or local code (kfk::errc) and reads a table or a
// switch: no message is formatted to read a flag (hot paths call these).
//
// Pure functions; any thread.
//
//   retriable             trying the same request again may succeed
//                         (Kafka's RetriableException family plus kfk's
//                         transport, timeout and resolve codes)
//   refreshes_metadata    cached leaders / topics are suspect: refresh the
//                         metadata before retrying (InvalidMetadataException)
//   coordinator_error     a coordinator-level answer (moved, not available,
//                         loading): retry, maybe after rediscovery
//   rediscovers_coordinator
//                         forget the cached coordinator and look it up
//                         again: it moved or is gone, or the connection to
//                         it failed (librdkafka's rd_kafka_coord_req rules)
//   rediscovers_controller the controller moved or the connection failed
//   is_transport_failure  the request did not get an answer (connection,
//                         timeout, unparsable answer)
//   is_fatal              the producer instance can no longer be used
//   needs_epoch_bump      the idempotent producer's sequence state is lost
//                         at the broker (KIP-360)
//   bump_refused          an InitProducerId bump the broker will not do for
//                         this id: ask for a new id instead
//   is_abortable          a transactional producer must abort the current
//                         transaction, then may go on (KIP-1050's
//                         TransactionAbortableException and the codes Java's
//                         TransactionManager maps to an abortable error)
#pragma once

#include "client/client_errors.h"
#include "kfk/error.h"
#include "protocol/error_codes.h"

namespace kfk::core {

inline bool retriable(int code) {
  if (code <= kMaxClientErrorCode) {
    const proto::ErrorInfo* local = find_client_error(code);
    return local != nullptr && local->retriable;
  }
  return code != 0 && code <= INT16_MAX && proto::is_retriable(static_cast<int16_t>(code));
}

inline bool refreshes_metadata(int code) {
  switch (code) {
    case errc::kUnknownTopicOrPartition:
    case errc::kLeaderNotAvailable:
    case errc::kNotLeaderOrFollower:
    case 9:   // REPLICA_NOT_AVAILABLE
    case 41:  // NOT_CONTROLLER
    case errc::kKafkaStorageError:
    case errc::kFencedLeaderEpoch:
    case errc::kUnknownLeaderEpoch:
    case errc::kUnknownTopicId:
    case 103:  // INCONSISTENT_TOPIC_ID
      return true;
    default:
      return false;
  }
}

inline bool is_transport_failure(int code) {
  switch (code) {
    case errc::kTransport:
    case errc::kResolve:
    case errc::kTimedOut:
    case errc::kAllBrokersDown:
    case errc::kRequestTimedOut:
    case errc::kNetworkException:
    // An answer kfk cannot parse: the connection is closed, as if broken.
    case errc::kMalformedResponse:
      return true;
    default:
      return false;
  }
}

inline bool coordinator_error(int code) {
  return code == errc::kNotCoordinator || code == errc::kCoordinatorNotAvailable ||
         code == errc::kCoordinatorLoadInProgress;
}

// COORDINATOR_LOAD_IN_PROGRESS is not here: the coordinator is right, only
// not ready yet.
inline bool rediscovers_coordinator(int code) {
  return code == errc::kNotCoordinator || code == errc::kCoordinatorNotAvailable || is_transport_failure(code);
}

inline bool rediscovers_controller(int code) { return code == 41 /* NOT_CONTROLLER */ || is_transport_failure(code); }

inline bool is_fatal(int code) {
  return code == errc::kClusterAuthorizationFailed || code == errc::kTransactionalIdAuthorizationFailed ||
         code == errc::kUnsupportedVersion || code == errc::kNoCommonApiVersion || code == errc::kFatal;
}

inline bool needs_epoch_bump(int code) {
  return code == errc::kOutOfOrderSequenceNumber || code == errc::kUnknownProducerId ||
         code == errc::kInvalidProducerEpoch;
}

inline bool bump_refused(int code) {
  return code == errc::kInvalidProducerEpoch || code == errc::kProducerFenced || code == errc::kUnknownProducerId ||
         code == errc::kInvalidProducerIdMapping;
}

inline bool is_abortable(int code) {
  return code == errc::kTransactionAbortable || code == errc::kTopicAuthorizationFailed ||
         code == errc::kGroupAuthorizationFailed || code == 55 /* OPERATION_NOT_ATTEMPTED */ ||
         code == errc::kUnknownProducerId;
}

}  // namespace kfk::core
