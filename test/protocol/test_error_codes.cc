#include <doctest/doctest.h>

#include <climits>
#include <cstring>
#include <set>
#include <string>

#include "protocol/error_codes.h"

using namespace kfk::proto;

TEST_CASE("error table: unique codes and names, dense range") {
  std::set<int> codes;
  std::set<std::string> names;
  for (const ErrorInfo& e : all_errors()) {
    CHECK(codes.insert(e.code).second);
    CHECK(names.insert(e.name).second);
    REQUIRE(e.name != nullptr);
    REQUIRE(e.text != nullptr);
    CHECK(std::strlen(e.name) > 0);
    if (e.code != 0) CHECK(std::strlen(e.text) > 0);
    // Every entry is found by its own code.
    CHECK(find_error(e.code) == &e);
  }
  for (int c = -1; c <= kMaxKafkaErrorCode; ++c) CHECK(find_error(static_cast<int16_t>(c)) != nullptr);
  CHECK(all_errors().size() == codes.size());
  CHECK(all_errors().size() == static_cast<size_t>(kMaxKafkaErrorCode + 2));
  // Kafka's codes only: the client's local codes (-100 and below) are the
  // client's (lib/client/client_errors.h, test/client/test_error.cc).
  for (const ErrorInfo& e : all_errors()) CHECK(e.code >= -1);
}

TEST_CASE("error table: Kafka codes") {
  CHECK(to_int(ErrorCode::UNKNOWN_SERVER_ERROR) == -1);
  CHECK(to_int(ErrorCode::NONE) == 0);
  CHECK(to_int(ErrorCode::OFFSET_OUT_OF_RANGE) == 1);
  CHECK(to_int(ErrorCode::CORRUPT_MESSAGE) == 2);
  CHECK(to_int(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION) == 3);
  CHECK(to_int(ErrorCode::NOT_LEADER_OR_FOLLOWER) == 6);
  CHECK(to_int(ErrorCode::MESSAGE_TOO_LARGE) == 10);
  CHECK(to_int(ErrorCode::NOT_COORDINATOR) == 16);
  CHECK(to_int(ErrorCode::REBALANCE_IN_PROGRESS) == 27);
  CHECK(to_int(ErrorCode::INVALID_CONFIG) == 40);
  CHECK(to_int(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER) == 45);
  CHECK(to_int(ErrorCode::INVALID_PRODUCER_EPOCH) == 47);
  CHECK(to_int(ErrorCode::UNKNOWN_PRODUCER_ID) == 59);
  CHECK(to_int(ErrorCode::FENCED_INSTANCE_ID) == 82);
  CHECK(to_int(ErrorCode::PRODUCER_FENCED) == 90);
  CHECK(to_int(ErrorCode::UNKNOWN_TOPIC_ID) == 100);
  CHECK(to_int(ErrorCode::FENCED_MEMBER_EPOCH) == 110);
  CHECK(to_int(ErrorCode::STALE_MEMBER_EPOCH) == 113);
  CHECK(to_int(ErrorCode::TRANSACTION_ABORTABLE) == 120);
  CHECK(to_int(ErrorCode::SHARE_SESSION_LIMIT_REACHED) == 133);

  const ErrorInfo& nl = error_info(6);
  CHECK(nl.code == 6);
  CHECK(std::string(nl.name) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(nl.retriable);

  CHECK(std::string(error_info(ErrorCode::REQUEST_TIMED_OUT).text) == "The request timed out.");
  CHECK(std::string(error_info(0).text).empty());
}

TEST_CASE("error table: retriable classification") {
  for (ErrorCode c : {ErrorCode::CORRUPT_MESSAGE, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                      ErrorCode::LEADER_NOT_AVAILABLE, ErrorCode::NOT_LEADER_OR_FOLLOWER,
                      ErrorCode::REQUEST_TIMED_OUT, ErrorCode::REPLICA_NOT_AVAILABLE,
                      ErrorCode::NETWORK_EXCEPTION, ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
                      ErrorCode::COORDINATOR_NOT_AVAILABLE, ErrorCode::NOT_COORDINATOR,
                      ErrorCode::NOT_ENOUGH_REPLICAS, ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                      ErrorCode::NOT_CONTROLLER, ErrorCode::CONCURRENT_TRANSACTIONS,
                      ErrorCode::KAFKA_STORAGE_ERROR, ErrorCode::FETCH_SESSION_ID_NOT_FOUND,
                      ErrorCode::INVALID_FETCH_SESSION_EPOCH, ErrorCode::LISTENER_NOT_FOUND,
                      ErrorCode::FENCED_LEADER_EPOCH, ErrorCode::UNKNOWN_LEADER_EPOCH,
                      ErrorCode::OFFSET_NOT_AVAILABLE, ErrorCode::PREFERRED_LEADER_NOT_AVAILABLE,
                      ErrorCode::ELIGIBLE_LEADERS_NOT_AVAILABLE, ErrorCode::UNSTABLE_OFFSET_COMMIT,
                      ErrorCode::THROTTLING_QUOTA_EXCEEDED, ErrorCode::UNKNOWN_TOPIC_ID,
                      ErrorCode::INCONSISTENT_TOPIC_ID}) {
    CAPTURE(error_name(c));
    CHECK(is_retriable(c));
  }
  for (ErrorCode c : {ErrorCode::UNKNOWN_SERVER_ERROR, ErrorCode::NONE, ErrorCode::OFFSET_OUT_OF_RANGE,
                      ErrorCode::MESSAGE_TOO_LARGE, ErrorCode::REBALANCE_IN_PROGRESS,
                      ErrorCode::ILLEGAL_GENERATION, ErrorCode::UNKNOWN_MEMBER_ID,
                      ErrorCode::TOPIC_AUTHORIZATION_FAILED, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                      ErrorCode::DUPLICATE_SEQUENCE_NUMBER, ErrorCode::INVALID_PRODUCER_EPOCH,
                      ErrorCode::UNKNOWN_PRODUCER_ID, ErrorCode::PRODUCER_FENCED,
                      ErrorCode::FENCED_INSTANCE_ID, ErrorCode::TRANSACTION_ABORTABLE}) {
    CAPTURE(error_name(c));
    CHECK_FALSE(is_retriable(c));
  }
}

TEST_CASE("error table: unknown codes") {
  for (int c : {-2, -99, -100, -101, -118, 134, 999, INT16_MAX, INT16_MIN}) {
    CAPTURE(c);
    CHECK(find_error(static_cast<int16_t>(c)) == nullptr);
    const ErrorInfo& e = error_info(static_cast<int16_t>(c));
    CHECK(std::string(e.name) == "UNKNOWN_ERROR_CODE");
    CHECK_FALSE(e.retriable);
    CHECK(std::string(error_name(static_cast<int16_t>(c))) == "UNKNOWN_ERROR_CODE");
    CHECK_FALSE(is_retriable(static_cast<int16_t>(c)));
  }
}

TEST_CASE("error_name") {
  CHECK(std::string(error_name(0)) == "NONE");
  CHECK(std::string(error_name(-1)) == "UNKNOWN_SERVER_ERROR");
  CHECK(std::string(error_name(3)) == "UNKNOWN_TOPIC_OR_PARTITION");
  CHECK(std::string(error_name(ErrorCode::UNKNOWN_PRODUCER_ID)) == "UNKNOWN_PRODUCER_ID");
  CHECK(std::string(error_name(40)) == "INVALID_CONFIG");
  CHECK(std::string(error_name(-101)) == "UNKNOWN_ERROR_CODE");  // a client-local code
}
