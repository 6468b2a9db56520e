#include <doctest/doctest.h>
#include <kfk/error.h>

TEST_CASE("kfk::Error: success, table-driven failures, local codes") {
  kfk::Error ok;
  CHECK(ok.ok());
  CHECK(std::string(ok.name()) == "NONE");
  CHECK(ok.to_string() == "OK");
  CHECK(kfk::Error::from_code(0).ok());

  auto nl = kfk::Error::from_code(kfk::errc::kNotLeaderOrFollower, "orders-3");
  CHECK_FALSE(nl.ok());
  CHECK(nl.code() == 6);
  CHECK(nl.retriable());
  CHECK_FALSE(nl.fatal());
  CHECK(std::string(nl.name()) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(nl.message().find("orders-3") != std::string::npos);
  CHECK(nl.to_string().rfind("NOT_LEADER_OR_FOLLOWER: ", 0) == 0);

  auto cfg = kfk::Error(kfk::errc::kInvalidConfig, "linger.ms: expected an integer >= 0, got 'soon'");
  CHECK(std::string(cfg.name()) == "INVALID_CLIENT_CONFIG");
  CHECK_FALSE(cfg.retriable());
  CHECK(cfg.to_string().find("linger.ms") != std::string::npos);

  auto oos = kfk::Error::from_code(kfk::errc::kOutOfOrderSequenceNumber);
  CHECK(oos.code() == 45);
  CHECK_FALSE(oos.retriable());

  auto unknown = kfk::Error::from_code(9999);
  CHECK(unknown.code() == 9999);
  CHECK(std::string(unknown.name()) == "UNKNOWN_ERROR_CODE");
  CHECK(kfk::Error::from_code(kfk::errc::kTimedOut) == kfk::Error(kfk::errc::kTimedOut, "other text"));
}
