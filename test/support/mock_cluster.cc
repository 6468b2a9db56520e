#include "kfk_test/mock_cluster.h"

#include <doctest/doctest.h>

namespace kfk::test {

MockCluster::MockCluster(int brokers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE_MESSAGE(rk_ != nullptr, errstr);
  mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
  REQUIRE_MESSAGE(mc_ != nullptr, "rd_kafka_mock_cluster_new failed");
  // Debian's librdkafka 2.0.2 mock writes a malformed LeaderEpoch in
  // ListOffsets v4-v5 answers: cap that API instead of bending the client.
  rd_kafka_mock_set_apiversion(mc_, 2 /* ListOffsets */, 0, 3);
}

MockCluster::~MockCluster() {
  if (mc_ != nullptr) rd_kafka_mock_cluster_destroy(mc_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

void MockCluster::create_topic(const std::string& name, int partitions, int replication) {
  rd_kafka_mock_topic_create(mc_, name.c_str(), partitions, replication);
}

}  // namespace kfk::test
