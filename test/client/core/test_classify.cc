// core/classify.h: one answer per question about an error code, and the
// verdicts net::Call derives from them per route.
#include <doctest/doctest.h>

#include "client/core/classify.h"
#include "client/net/call.h"

using namespace kfk;
using namespace kfk::core;

TEST_CASE("classify: retriable follows Kafka's table and kfk's transport codes") {
  CHECK_FALSE(retriable(0));
  CHECK(retriable(errc::kNotLeaderOrFollower));
  CHECK(retriable(errc::kCoordinatorLoadInProgress));
  CHECK(retriable(errc::kTransport));
  CHECK(retriable(errc::kTimedOut));
  CHECK_FALSE(retriable(errc::kTopicAuthorizationFailed));
  CHECK_FALSE(retriable(errc::kDestroyed));
  CHECK_FALSE(retriable(1 << 20));  // not an int16 code
}

TEST_CASE("classify: metadata, coordinator and controller rediscovery") {
  CHECK(refreshes_metadata(errc::kNotLeaderOrFollower));
  CHECK(refreshes_metadata(errc::kFencedLeaderEpoch));
  CHECK(refreshes_metadata(errc::kUnknownTopicId));
  CHECK_FALSE(refreshes_metadata(errc::kTopicAuthorizationFailed));
  CHECK_FALSE(refreshes_metadata(errc::kNotCoordinator));

  // One answer for every user (the group member and the admin client used
  // to disagree): moved, gone, or the connection to it failed.
  CHECK(rediscovers_coordinator(errc::kNotCoordinator));
  CHECK(rediscovers_coordinator(errc::kCoordinatorNotAvailable));
  CHECK(rediscovers_coordinator(errc::kTransport));
  CHECK(rediscovers_coordinator(errc::kRequestTimedOut));
  CHECK(rediscovers_coordinator(errc::kMalformedResponse));
  CHECK_FALSE(rediscovers_coordinator(errc::kCoordinatorLoadInProgress));  // right one, still loading
  CHECK(coordinator_error(errc::kCoordinatorLoadInProgress));
  CHECK_FALSE(coordinator_error(errc::kTransport));

  CHECK(rediscovers_controller(41 /* NOT_CONTROLLER */));
  CHECK(rediscovers_controller(errc::kTransport));
  CHECK_FALSE(rediscovers_controller(errc::kTopicAlreadyExists));
}

TEST_CASE("classify: fatal, epoch bumps and transactional aborts") {
  CHECK(is_fatal(errc::kClusterAuthorizationFailed));
  CHECK(is_fatal(errc::kTransactionalIdAuthorizationFailed));
  CHECK(is_fatal(errc::kUnsupportedVersion));
  CHECK_FALSE(is_fatal(errc::kNotLeaderOrFollower));
  CHECK(needs_epoch_bump(errc::kOutOfOrderSequenceNumber));
  CHECK(needs_epoch_bump(errc::kUnknownProducerId));
  CHECK_FALSE(needs_epoch_bump(errc::kDuplicateSequenceNumber));
  CHECK(bump_refused(errc::kProducerFenced));
  CHECK_FALSE(bump_refused(errc::kCoordinatorLoadInProgress));
  CHECK(is_abortable(errc::kTransactionAbortable));
  CHECK_FALSE(is_abortable(errc::kProducerFenced));  // fenced is fatal for a transactional producer
}

TEST_CASE("classify: the verdict net::Call takes per route") {
  using net::Verdict;
  using K = net::Route::Kind;
  CHECK(net::classify_code(errc::kNotCoordinator, K::kCoordinator) == Verdict::kRediscoverCoordinator);
  CHECK(net::classify_code(errc::kTransport, K::kCoordinator) == Verdict::kRediscoverCoordinator);
  CHECK(net::classify_code(errc::kCoordinatorLoadInProgress, K::kCoordinator) == Verdict::kRetry);
  CHECK(net::classify_code(41, K::kController) == Verdict::kRefreshMetadata);
  CHECK(net::classify_code(errc::kTransport, K::kController) == Verdict::kRefreshMetadata);
  CHECK(net::classify_code(errc::kNotLeaderOrFollower, K::kLeader) == Verdict::kRefreshMetadata);
  CHECK(net::classify_code(errc::kTransport, K::kLeader) == Verdict::kRefreshMetadata);
  CHECK(net::classify_code(errc::kTransport, K::kAnyNode) == Verdict::kRetry);
  CHECK(net::classify_code(errc::kTopicAuthorizationFailed, K::kLeader) == Verdict::kFail);
  CHECK(net::classify_code(errc::kDestroyed, K::kAnyNode) == Verdict::kFail);
}
