// librdkafka's in-process mock cluster (brokers 1..n on loopback ports), an
// independent peer for the client tests: leaders can be moved and errors
// and delays injected through get() and rdkafka_mock.h.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

namespace kfk::test {

class MockCluster {
 public:
  // Fails the test when the cluster cannot be created.
  explicit MockCluster(int brokers = 3);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  rd_kafka_mock_cluster_t* get() const { return mc_; }
  // "host:port,host:port,..." for bootstrap.servers.
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc_); }
  void create_topic(const std::string& name, int partitions, int replication = 1);

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
};

}  // namespace kfk::test
