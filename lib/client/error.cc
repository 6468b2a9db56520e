#include "kfk/error.h"

#include <cstdint>
#include <utility>

#include "protocol/error_codes.h"

namespace kfk {
namespace {

// The table entry for `code`, or nullptr (also for codes outside int16).
const proto::ErrorInfo* lookup(int code) {
  if (code < INT16_MIN || code > INT16_MAX) return nullptr;
  return proto::find_error(static_cast<int16_t>(code));
}

// kfk::errc must name the same codes as the protocol table.
static_assert(errc::kNone == proto::to_int(proto::ErrorCode::NONE));
static_assert(errc::kInvalidConfig == proto::to_int(proto::ErrorCode::INVALID_CLIENT_CONFIG));
static_assert(errc::kTimedOut == proto::to_int(proto::ErrorCode::TIMED_OUT));
static_assert(errc::kQueueFull == proto::to_int(proto::ErrorCode::QUEUE_FULL));
static_assert(errc::kTransport == proto::to_int(proto::ErrorCode::TRANSPORT));
static_assert(errc::kDestroyed == proto::to_int(proto::ErrorCode::DESTROYED));
static_assert(errc::kInvalidArgument == proto::to_int(proto::ErrorCode::INVALID_ARGUMENT));
static_assert(errc::kMalformedResponse == proto::to_int(proto::ErrorCode::MALFORMED_RESPONSE));
static_assert(errc::kUnsupportedFeature == proto::to_int(proto::ErrorCode::UNSUPPORTED_FEATURE));
static_assert(errc::kState == proto::to_int(proto::ErrorCode::STATE));
static_assert(errc::kFatal == proto::to_int(proto::ErrorCode::FATAL));
static_assert(errc::kWakeup == proto::to_int(proto::ErrorCode::WAKEUP));
static_assert(errc::kPurged == proto::to_int(proto::ErrorCode::PURGED));
static_assert(errc::kPartitionEof == proto::to_int(proto::ErrorCode::PARTITION_EOF));
static_assert(errc::kAllBrokersDown == proto::to_int(proto::ErrorCode::ALL_BROKERS_DOWN));
static_assert(errc::kResolve == proto::to_int(proto::ErrorCode::RESOLVE));
static_assert(errc::kMsgTimedOut == proto::to_int(proto::ErrorCode::MSG_TIMED_OUT));
static_assert(errc::kNoOffset == proto::to_int(proto::ErrorCode::NO_OFFSET));
static_assert(errc::kInterceptor == proto::to_int(proto::ErrorCode::INTERCEPTOR));
static_assert(errc::kUnknownServerError == proto::to_int(proto::ErrorCode::UNKNOWN_SERVER_ERROR));
static_assert(errc::kOffsetOutOfRange == proto::to_int(proto::ErrorCode::OFFSET_OUT_OF_RANGE));
static_assert(errc::kCorruptMessage == proto::to_int(proto::ErrorCode::CORRUPT_MESSAGE));
static_assert(errc::kUnknownTopicOrPartition == proto::to_int(proto::ErrorCode::UNKNOWN_TOPIC_OR_PARTITION));
static_assert(errc::kLeaderNotAvailable == proto::to_int(proto::ErrorCode::LEADER_NOT_AVAILABLE));
static_assert(errc::kNotLeaderOrFollower == proto::to_int(proto::ErrorCode::NOT_LEADER_OR_FOLLOWER));
static_assert(errc::kRequestTimedOut == proto::to_int(proto::ErrorCode::REQUEST_TIMED_OUT));
static_assert(errc::kMessageTooLarge == proto::to_int(proto::ErrorCode::MESSAGE_TOO_LARGE));
static_assert(errc::kNetworkException == proto::to_int(proto::ErrorCode::NETWORK_EXCEPTION));
static_assert(errc::kCoordinatorLoadInProgress == proto::to_int(proto::ErrorCode::COORDINATOR_LOAD_IN_PROGRESS));
static_assert(errc::kCoordinatorNotAvailable == proto::to_int(proto::ErrorCode::COORDINATOR_NOT_AVAILABLE));
static_assert(errc::kNotCoordinator == proto::to_int(proto::ErrorCode::NOT_COORDINATOR));
static_assert(errc::kInvalidTopicException == proto::to_int(proto::ErrorCode::INVALID_TOPIC_EXCEPTION));
static_assert(errc::kRecordListTooLarge == proto::to_int(proto::ErrorCode::RECORD_LIST_TOO_LARGE));
static_assert(errc::kNotEnoughReplicas == proto::to_int(proto::ErrorCode::NOT_ENOUGH_REPLICAS));
static_assert(errc::kNotEnoughReplicasAfterAppend == proto::to_int(proto::ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND));
static_assert(errc::kIllegalGeneration == proto::to_int(proto::ErrorCode::ILLEGAL_GENERATION));
static_assert(errc::kInconsistentGroupProtocol == proto::to_int(proto::ErrorCode::INCONSISTENT_GROUP_PROTOCOL));
static_assert(errc::kInvalidGroupId == proto::to_int(proto::ErrorCode::INVALID_GROUP_ID));
static_assert(errc::kUnknownMemberId == proto::to_int(proto::ErrorCode::UNKNOWN_MEMBER_ID));
static_assert(errc::kInvalidSessionTimeout == proto::to_int(proto::ErrorCode::INVALID_SESSION_TIMEOUT));
static_assert(errc::kRebalanceInProgress == proto::to_int(proto::ErrorCode::REBALANCE_IN_PROGRESS));
static_assert(errc::kTopicAuthorizationFailed == proto::to_int(proto::ErrorCode::TOPIC_AUTHORIZATION_FAILED));
static_assert(errc::kGroupAuthorizationFailed == proto::to_int(proto::ErrorCode::GROUP_AUTHORIZATION_FAILED));
static_assert(errc::kClusterAuthorizationFailed == proto::to_int(proto::ErrorCode::CLUSTER_AUTHORIZATION_FAILED));
static_assert(errc::kUnsupportedVersion == proto::to_int(proto::ErrorCode::UNSUPPORTED_VERSION));
static_assert(errc::kTopicAlreadyExists == proto::to_int(proto::ErrorCode::TOPIC_ALREADY_EXISTS));
static_assert(errc::kInvalidPartitions == proto::to_int(proto::ErrorCode::INVALID_PARTITIONS));
static_assert(errc::kInvalidReplicationFactor == proto::to_int(proto::ErrorCode::INVALID_REPLICATION_FACTOR));
static_assert(errc::kBrokerInvalidConfig == proto::to_int(proto::ErrorCode::INVALID_CONFIG));
static_assert(errc::kInvalidRequest == proto::to_int(proto::ErrorCode::INVALID_REQUEST));
static_assert(errc::kPolicyViolation == proto::to_int(proto::ErrorCode::POLICY_VIOLATION));
static_assert(errc::kOutOfOrderSequenceNumber == proto::to_int(proto::ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
static_assert(errc::kDuplicateSequenceNumber == proto::to_int(proto::ErrorCode::DUPLICATE_SEQUENCE_NUMBER));
static_assert(errc::kInvalidProducerEpoch == proto::to_int(proto::ErrorCode::INVALID_PRODUCER_EPOCH));
static_assert(errc::kInvalidTxnState == proto::to_int(proto::ErrorCode::INVALID_TXN_STATE));
static_assert(errc::kInvalidProducerIdMapping == proto::to_int(proto::ErrorCode::INVALID_PRODUCER_ID_MAPPING));
static_assert(errc::kInvalidTransactionTimeout == proto::to_int(proto::ErrorCode::INVALID_TRANSACTION_TIMEOUT));
static_assert(errc::kConcurrentTransactions == proto::to_int(proto::ErrorCode::CONCURRENT_TRANSACTIONS));
static_assert(errc::kTransactionalIdAuthorizationFailed == proto::to_int(proto::ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
static_assert(errc::kKafkaStorageError == proto::to_int(proto::ErrorCode::KAFKA_STORAGE_ERROR));
static_assert(errc::kSaslAuthenticationFailed == proto::to_int(proto::ErrorCode::SASL_AUTHENTICATION_FAILED));
static_assert(errc::kUnknownProducerId == proto::to_int(proto::ErrorCode::UNKNOWN_PRODUCER_ID));
static_assert(errc::kNonEmptyGroup == proto::to_int(proto::ErrorCode::NON_EMPTY_GROUP));
static_assert(errc::kGroupIdNotFound == proto::to_int(proto::ErrorCode::GROUP_ID_NOT_FOUND));
static_assert(errc::kFencedLeaderEpoch == proto::to_int(proto::ErrorCode::FENCED_LEADER_EPOCH));
static_assert(errc::kUnknownLeaderEpoch == proto::to_int(proto::ErrorCode::UNKNOWN_LEADER_EPOCH));
static_assert(errc::kUnsupportedCompressionType == proto::to_int(proto::ErrorCode::UNSUPPORTED_COMPRESSION_TYPE));
static_assert(errc::kMemberIdRequired == proto::to_int(proto::ErrorCode::MEMBER_ID_REQUIRED));
static_assert(errc::kGroupMaxSizeReached == proto::to_int(proto::ErrorCode::GROUP_MAX_SIZE_REACHED));
static_assert(errc::kFencedInstanceId == proto::to_int(proto::ErrorCode::FENCED_INSTANCE_ID));
static_assert(errc::kInvalidRecord == proto::to_int(proto::ErrorCode::INVALID_RECORD));
static_assert(errc::kUnstableOffsetCommit == proto::to_int(proto::ErrorCode::UNSTABLE_OFFSET_COMMIT));
static_assert(errc::kThrottlingQuotaExceeded == proto::to_int(proto::ErrorCode::THROTTLING_QUOTA_EXCEEDED));
static_assert(errc::kProducerFenced == proto::to_int(proto::ErrorCode::PRODUCER_FENCED));
static_assert(errc::kUnknownTopicId == proto::to_int(proto::ErrorCode::UNKNOWN_TOPIC_ID));
static_assert(errc::kFencedMemberEpoch == proto::to_int(proto::ErrorCode::FENCED_MEMBER_EPOCH));
static_assert(errc::kUnreleasedInstanceId == proto::to_int(proto::ErrorCode::UNRELEASED_INSTANCE_ID));
static_assert(errc::kUnsupportedAssignor == proto::to_int(proto::ErrorCode::UNSUPPORTED_ASSIGNOR));
static_assert(errc::kStaleMemberEpoch == proto::to_int(proto::ErrorCode::STALE_MEMBER_EPOCH));
static_assert(errc::kTransactionAbortable == proto::to_int(proto::ErrorCode::TRANSACTION_ABORTABLE));

}  // namespace

Error::Error(int code, std::string message, bool retriable, bool fatal) {
  if (code == 0) return;  // success: no message, no flags
  code_ = code;
  retriable_ = retriable;
  fatal_ = fatal;
  message_ = std::move(message);
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
  return Error(code, std::move(message), info != nullptr && info->retriable, code == errc::kFatal);
}

const char* Error::name() const {
  const proto::ErrorInfo* info = lookup(code_);
  return info ? info->name : proto::error_info(INT16_MIN).name;
}

std::string Error::to_string() const {
  if (ok()) return "OK";
  std::string s = name();
  const char* text = message_.c_str();
  if (message_.empty()) {
    const proto::ErrorInfo* info = lookup(code_);
    text = info ? info->text : "";
  }
  if (*text != '\0') {
    s += ": ";
    s += text;
  }
  return s;
}

}  // namespace kfk
