// librdkafka's mock cluster in a process of its own, for tests in which the
// mock itself may abort (librdkafka 2.0.2's mock asserts on some client
// behaviour, which would otherwise take the whole test binary down).
//
// Usage: mock_cluster_process BROKERS TOPIC PARTITIONS
// Prints the bootstrap list on one line, then serves until its standard
// input closes (the test holds the other end, so the process never outlives
// the test).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s BROKERS TOPIC PARTITIONS\n", argv[0]);
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, atoi(argv[1]));
  if (!mc || rd_kafka_mock_topic_create(mc, argv[2], atoi(argv[3]), 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    fprintf(stderr, "mock cluster setup failed\n");
    return 1;
  }
  printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
