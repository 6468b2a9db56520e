// Helpers for the admin tests: an Admin with short timeouts and backoffs,
// and a librdkafka producer to put records into a cluster (the admin tests
// must not depend on kfk's own producer).
#pragma once

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kfk/admin.h"

namespace kfk::admin_testing {

inline std::unique_ptr<Admin> make_admin(const std::string& bootstrap,
                                         std::vector<std::pair<std::string, std::string>> extra = {}) {
  Config c{{"bootstrap.servers", bootstrap},
           {"client.id", "kfk-admin-test"},
           {"request.timeout.ms", "5000"},
           {"retry.backoff.ms", "20"},
           {"retry.backoff.max.ms", "200"},
           {"reconnect.backoff.ms", "20"},
           {"reconnect.backoff.max.ms", "200"},
           {"default.api.timeout.ms", "15000"}};
  for (auto& [k, v] : extra) c.set(k, v);
  std::unique_ptr<Admin> a;
  Error err = Admin::create(c, &a);
  REQUIRE_MESSAGE(err.ok(), err.to_string());
  return a;
}

// Produces `values` to topic-partition with the given timestamps (ms; 0:
// now) through librdkafka and waits until every record is acknowledged.
inline void rdkafka_produce(const std::string& bootstrap, const std::string& topic, int32_t partition,
                            const std::vector<std::string>& values, const std::vector<int64_t>& timestamps = {}) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof errstr);
  int failed = 0;
  rd_kafka_conf_set_opaque(conf, &failed);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++*static_cast<int*>(opaque);
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  REQUIRE_MESSAGE(rk != nullptr, errstr);
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t ts = i < timestamps.size() ? timestamps[i] : 0;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(const_cast<char*>(values[i].data()), values[i].size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  CHECK(rd_kafka_flush(rk, 15000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  CHECK(rd_kafka_outq_len(rk) == 0);
  CHECK(failed == 0);
  rd_kafka_destroy(rk);
}

}  // namespace kfk::admin_testing
