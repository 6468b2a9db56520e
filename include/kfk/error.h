// kfk::Error: the result of every kfk operation that can fail.
//
// An Error is either success (code 0, empty message) or a failure carrying
//   - a code: a Kafka protocol error code (1, 2, ... as the broker sent it,
//     -1 for UNKNOWN_SERVER_ERROR) or a local, client-side code (-100 and
//     below, see kfk::errc);
//   - a name: the code's symbolic name ("NOT_LEADER_OR_FOLLOWER",
//     "TIMED_OUT"), "NONE" for success;
//   - a human-readable message;
//   - retriable(): trying the same operation again may succeed (the client
//     already retries these internally where it makes sense);
//   - fatal(): the client instance can no longer be used and must be closed
//     (for example a fenced transactional producer).
//
//   kfk::Error err = ...;  // any kfk call that can fail
//   if (!err.ok()) std::cerr << err.to_string() << "\n";
//   // e.g. "TIMED_OUT: Operation timed out (flush)"
//   if (err.code() == kfk::errc::kTopicAuthorizationFailed) { ... }
//
// Error has no conversion to bool: write `err.ok()` or `!err.ok()`.
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <cstdint>
#include <string>

namespace kfk {

class KFK_EXPORT Error {
 public:
  // Success.
  Error() = default;
  static Error success() { return Error(); }

  // A failure with the given code and message. A code of 0 makes a success
  // (the message and flags are then dropped).
  Error(int code, std::string message, bool retriable = false, bool fatal = false);

  // A failure described by kfk's error table: retriable() as the table says
  // (Kafka's classification for Kafka codes), fatal() only for errc::kFatal,
  // message() the code's standard text followed by " (context)" when context
  // is not empty. from_code(0) is success. An unknown code gives an error
  // named "UNKNOWN_ERROR_CODE" that keeps the code.
  static Error from_code(int code, std::string context = {});

  bool ok() const { return code_ == 0; }
  int code() const { return code_; }
  // "NONE" for success, the table name otherwise ("NOT_LEADER_OR_FOLLOWER",
  // "TIMED_OUT"), "UNKNOWN_ERROR_CODE" for a code the table does not know.
  // The pointer is to static storage.
  const char* name() const;
  // Empty for success.
  const std::string& message() const { return message_; }
  bool retriable() const { return retriable_; }
  bool fatal() const { return fatal_; }

  // "OK" for success, otherwise "NAME: message" (the code's standard text
  // stands in for an empty message).
  std::string to_string() const;

  // Two errors are equal when their codes are equal; the message and the
  // flags are not compared.
  bool operator==(const Error& other) const { return code_ == other.code_; }

 private:
  int32_t code_ = 0;
  bool retriable_ = false;
  bool fatal_ = false;
  std::string message_;
};

// Error codes a program commonly checks. The full list, with names and texts,
// is Apache Kafka's protocol error table; every Kafka code may appear in
// Error::code().
namespace errc {

inline constexpr int kNone = 0;

// --- Local (client-side) codes ----------------------------------------------
// Raised by kfk itself; never sent by a broker.
inline constexpr int kInvalidConfig = -100;       // invalid client configuration (INVALID_CLIENT_CONFIG)
inline constexpr int kTimedOut = -101;            // operation timed out (retriable)
inline constexpr int kQueueFull = -102;           // producer queue full (retriable)
inline constexpr int kTransport = -103;           // connection failed or closed (retriable)
inline constexpr int kDestroyed = -104;           // the client was closed
inline constexpr int kInvalidArgument = -105;
inline constexpr int kMalformedResponse = -106;   // a broker response could not be parsed
inline constexpr int kUnsupportedFeature = -107;  // not supported by the broker or this build
inline constexpr int kState = -108;               // operation not valid in the current state
inline constexpr int kFatal = -109;               // the client is in a fatal state
inline constexpr int kWakeup = -110;              // poll interrupted by wakeup()
inline constexpr int kPurged = -111;              // record purged before delivery, e.g. at close
inline constexpr int kPartitionEof = -112;        // reached the end of a partition
inline constexpr int kAllBrokersDown = -113;      // no broker reachable (retriable)
inline constexpr int kResolve = -114;             // host name resolution failed (retriable)
inline constexpr int kMsgTimedOut = -115;         // delivery.timeout.ms expired
inline constexpr int kNoOffset = -116;            // no committed offset and auto.offset.reset=none
inline constexpr int kInterceptor = -117;         // an interceptor failed

// --- Kafka protocol codes ---------------------------------------------------
inline constexpr int kUnknownServerError = -1;
inline constexpr int kOffsetOutOfRange = 1;
inline constexpr int kCorruptMessage = 2;
inline constexpr int kUnknownTopicOrPartition = 3;
inline constexpr int kLeaderNotAvailable = 5;
inline constexpr int kNotLeaderOrFollower = 6;
inline constexpr int kRequestTimedOut = 7;
inline constexpr int kMessageTooLarge = 10;
inline constexpr int kNetworkException = 13;
inline constexpr int kCoordinatorLoadInProgress = 14;
inline constexpr int kCoordinatorNotAvailable = 15;
inline constexpr int kNotCoordinator = 16;
inline constexpr int kInvalidTopicException = 17;
inline constexpr int kRecordListTooLarge = 18;
inline constexpr int kNotEnoughReplicas = 19;
inline constexpr int kNotEnoughReplicasAfterAppend = 20;
inline constexpr int kIllegalGeneration = 22;
inline constexpr int kInconsistentGroupProtocol = 23;
inline constexpr int kInvalidGroupId = 24;
inline constexpr int kUnknownMemberId = 25;
inline constexpr int kInvalidSessionTimeout = 26;
inline constexpr int kRebalanceInProgress = 27;
inline constexpr int kTopicAuthorizationFailed = 29;
inline constexpr int kGroupAuthorizationFailed = 30;
inline constexpr int kClusterAuthorizationFailed = 31;
inline constexpr int kUnsupportedVersion = 35;
inline constexpr int kTopicAlreadyExists = 36;
inline constexpr int kInvalidPartitions = 37;
inline constexpr int kInvalidReplicationFactor = 38;
inline constexpr int kBrokerInvalidConfig = 40;  // Kafka: INVALID_CONFIG (broker-side config)
inline constexpr int kInvalidRequest = 42;
inline constexpr int kPolicyViolation = 44;
inline constexpr int kOutOfOrderSequenceNumber = 45;
inline constexpr int kDuplicateSequenceNumber = 46;
inline constexpr int kInvalidProducerEpoch = 47;
inline constexpr int kInvalidTxnState = 48;
inline constexpr int kInvalidProducerIdMapping = 49;
inline constexpr int kInvalidTransactionTimeout = 50;
inline constexpr int kConcurrentTransactions = 51;
inline constexpr int kTransactionalIdAuthorizationFailed = 53;
inline constexpr int kKafkaStorageError = 56;
inline constexpr int kSaslAuthenticationFailed = 58;
inline constexpr int kUnknownProducerId = 59;
inline constexpr int kNonEmptyGroup = 68;
inline constexpr int kGroupIdNotFound = 69;
inline constexpr int kFencedLeaderEpoch = 74;
inline constexpr int kUnknownLeaderEpoch = 75;
inline constexpr int kUnsupportedCompressionType = 76;
inline constexpr int kMemberIdRequired = 79;
inline constexpr int kGroupMaxSizeReached = 81;
inline constexpr int kFencedInstanceId = 82;
inline constexpr int kInvalidRecord = 87;
inline constexpr int kUnstableOffsetCommit = 88;
inline constexpr int kThrottlingQuotaExceeded = 89;
inline constexpr int kProducerFenced = 90;
inline constexpr int kUnknownTopicId = 100;
inline constexpr int kFencedMemberEpoch = 110;
inline constexpr int kUnreleasedInstanceId = 111;
inline constexpr int kUnsupportedAssignor = 112;
inline constexpr int kStaleMemberEpoch = 113;
inline constexpr int kTransactionAbortable = 120;

}  // namespace errc
}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
