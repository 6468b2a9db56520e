#include "producer_test_util.h"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

namespace kfk::producer_testing {

std::vector<ReadRecord> rdkafka_read_all(const std::string& bootstrap, const std::string& topic, int partitions,
                                         size_t expected, int timeout_ms,
                                         const std::map<std::string, std::string>& extra) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", bootstrap}, {"group.id", "kfk-readback"}, {"enable.auto.commit", "false"},
      {"log_level", "0"},               {"fetch.wait.max.ms", "100"}, {"topic.metadata.refresh.interval.ms", "500"},
  };
  for (const auto& [k, v] : extra) settings[k] = v;
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(errstr);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (rk == nullptr) throw std::runtime_error(errstr);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<ReadRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ReadRecord r;
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key != nullptr) r.key = std::string(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) r.value = std::string(static_cast<const char*>(m->payload), m->len);
      rd_kafka_timestamp_type_t tstype;
      r.timestamp = rd_kafka_message_timestamp(m, &tstype);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          std::optional<std::string> v;
          if (val != nullptr) v = std::string(static_cast<const char*>(val), size);
          r.headers.emplace_back(name, v);
        }
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

std::unique_ptr<Producer> make_producer(const std::string& bootstrap, std::map<std::string, std::string> config,
                                        ProducerOptions options) {
  Config c{{"bootstrap.servers", bootstrap}};
  for (const auto& [k, v] : config) c.set(k, v);
  std::unique_ptr<Producer> p;
  Error e = Producer::create(c, &p, std::move(options));
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  return p;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kfk::producer_testing
