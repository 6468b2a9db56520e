// Helpers for tests that drive a broker-ref with librdkafka's C API: admin
// calls, a producer to explicit partitions and an assign()ing consumer.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "kfk_test/brokers.h"

namespace kfk::broker::rdk_test {

inline rd_kafka_conf_t* conf_for(const std::string& bootstrap, std::map<std::string, std::string> extra = {}) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  extra.emplace("bootstrap.servers", bootstrap);
  extra.emplace("log_level", "3");
  for (const auto& [k, v] : extra)
    REQUIRE_MESSAGE(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK, err);
  return conf;
}

// From the test-support library (kfk_test/).
using kfk::test::BrokerProcess;

// Waits for one admin result event of `type` (nullptr on timeout).
inline rd_kafka_event_t* wait_admin(rd_kafka_queue_t* q, rd_kafka_event_type_t type, int timeout_ms = 60000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 200);
    if (ev == nullptr) continue;
    if (rd_kafka_event_type(ev) == type) return ev;
    rd_kafka_event_destroy(ev);
  }
  return nullptr;
}

// CreateTopics; one error string per topic ("" when created).
inline std::map<std::string, std::string> create_topics(rd_kafka_t* rk, const std::vector<std::string>& names,
                                                        int partitions) {
  char err[512];
  std::vector<rd_kafka_NewTopic_t*> nts;
  for (const auto& n : names) nts.push_back(rd_kafka_NewTopic_new(n.c_str(), partitions, 1, err, sizeof err));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof err);
  rd_kafka_CreateTopics(rk, nts.data(), nts.size(), opts, q);
  std::map<std::string, std::string> out;
  rd_kafka_event_t* ev = wait_admin(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  REQUIRE_MESSAGE(ev != nullptr, "no CreateTopics result");
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) {
    const char* m = rd_kafka_topic_result_error_string(res[i]);
    out[rd_kafka_topic_result_name(res[i])] =
        rd_kafka_topic_result_error(res[i]) == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : (m != nullptr ? m : "error");
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  for (auto* t : nts) rd_kafka_NewTopic_destroy(t);
  return out;
}

// DeleteTopics; one error code per topic.
inline std::map<std::string, rd_kafka_resp_err_t> delete_topics(rd_kafka_t* rk, const std::vector<std::string>& names) {
  std::vector<rd_kafka_DeleteTopic_t*> dts;
  for (const auto& n : names) dts.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopics(rk, dts.data(), dts.size(), nullptr, q);
  std::map<std::string, rd_kafka_resp_err_t> out;
  rd_kafka_event_t* ev = wait_admin(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
  REQUIRE_MESSAGE(ev != nullptr, "no DeleteTopics result");
  size_t n = 0;
  const rd_kafka_topic_result_t** res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
  for (size_t i = 0; i < n; ++i) out[rd_kafka_topic_result_name(res[i])] = rd_kafka_topic_result_error(res[i]);
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  for (auto* t : dts) rd_kafka_DeleteTopic_destroy(t);
  return out;
}

}  // namespace kfk::broker::rdk_test
