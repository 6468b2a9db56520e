#include "consumer_test_util.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace kfk::consumer_testing {

Msg copy_of(const ConsumerRecord& r) {
  Msg m;
  m.topic = std::string(r.topic);
  m.partition = r.partition;
  m.offset = r.offset;
  if (r.key) m.key = std::string(r.key_view());
  if (r.value) m.value = std::string(r.value_view());
  for (auto& h : r.headers)
    m.headers.emplace_back(std::string(h.key), h.value ? std::optional<std::string>(std::string(*h.value)) : std::nullopt);
  m.timestamp = r.timestamp;
  return m;
}

namespace {
struct DrCtx {
  std::mutex mu;
  std::map<int, std::pair<int32_t, int64_t>> where;  // index -> partition, offset
  int failed = 0;
};

void dr_cb(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* pair = static_cast<std::pair<DrCtx*, int>*>(m->_private);
  std::lock_guard<std::mutex> lock(pair->first->mu);
  if (m->err != 0)
    pair->first->failed++;
  else
    pair->first->where[pair->second] = {m->partition, m->offset};
  delete pair;
}

std::string value_for(int i) {
  std::string v;
  size_t len = 1 + static_cast<size_t>(i * 37) % 300;
  for (size_t k = 0; k < len; ++k) v.push_back(static_cast<char>('a' + (i + k) % 26));
  return v;
}
}  // namespace

std::vector<Msg> produce(const std::string& bootstrap, const std::string& topic, int count, const std::string& codec,
                         int32_t partition, int64_t base_ts) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(errstr);
  };
  set("bootstrap.servers", bootstrap);
  set("compression.codec", codec);
  set("linger.ms", "5");
  set("log_level", "0");
  set("partitioner", "murmur2_random");
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) throw std::runtime_error(errstr);
  DrCtx ctx;
  std::vector<Msg> out;
  for (int i = 0; i < count; ++i) {
    Msg m;
    m.topic = topic;
    if (i % 7 != 0) m.key = "key-" + std::to_string(i);
    if (i % 11 != 0) m.value = value_for(i);
    m.headers = {{"i", std::to_string(i)}, {"null", std::nullopt}};
    m.timestamp = base_ts + i;
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(2);
    rd_kafka_header_add(hdrs, "i", -1, m.headers[0].second->data(), static_cast<ssize_t>(m.headers[0].second->size()));
    rd_kafka_header_add(hdrs, "null", -1, nullptr, 0);
    auto* opaque = new std::pair<DrCtx*, int>(&ctx, i);
    rd_kafka_resp_err_t err;
    void* kp = m.key ? const_cast<char*>(m.key->data()) : nullptr;
    size_t kl = m.key ? m.key->size() : 0;
    void* vp = m.value ? const_cast<char*>(m.value->data()) : nullptr;
    size_t vl = m.value ? m.value->size() : 0;
    for (;;) {
      err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(kp, kl), RD_KAFKA_V_VALUE(vp, vl),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(m.timestamp),
          RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(rk, 10);
    }
    if (err != 0) {
      rd_kafka_headers_destroy(hdrs);
      delete opaque;
      rd_kafka_destroy(rk);
      throw std::runtime_error(std::string("producev: ") + rd_kafka_err2str(err));
    }
    out.push_back(std::move(m));
  }
  rd_kafka_flush(rk, 30000);
  rd_kafka_destroy(rk);
  if (ctx.failed != 0 || ctx.where.size() != out.size())
    throw std::runtime_error("librdkafka failed to deliver " + std::to_string(out.size() - ctx.where.size()) + " records");
  for (auto& [i, po] : ctx.where) {
    out[static_cast<size_t>(i)].partition = po.first;
    out[static_cast<size_t>(i)].offset = po.second;
  }
  return out;
}

Config consumer_config(const std::string& bootstrap, std::map<std::string, std::string> extra) {
  Config c{{"bootstrap.servers", bootstrap},
           {"auto.offset.reset", "earliest"},
           {"request.timeout.ms", "5000"},
           {"retry.backoff.ms", "20"},
           {"reconnect.backoff.ms", "20"},
           {"reconnect.backoff.max.ms", "200"},
           {"fetch.max.wait.ms", "100"},
           {"session.timeout.ms", "6000"},
           {"heartbeat.interval.ms", "300"}};
  for (auto& [k, v] : extra) c.set(k, v);
  return c;
}

std::vector<Msg> drain(Consumer& c, size_t want, int ms) {
  std::vector<Msg> out;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (out.size() < want && std::chrono::steady_clock::now() < end) {
    ConsumerRecords recs = c.poll(std::chrono::milliseconds(100));
    if (!recs.error().ok()) {
      MESSAGE("poll: ", recs.error().to_string());
      if (recs.error().fatal()) break;
      continue;
    }
    for (auto& r : recs) out.push_back(copy_of(r));
  }
  return out;
}

struct Poller::Impl {
  Consumer* c;
  std::function<void(const Msg&)> on_msg;
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  std::vector<Msg> msgs;
  std::thread t;
};

Poller::Poller(Consumer* c, std::function<void(const Msg&)> on_msg) : impl_(std::make_unique<Impl>()) {
  impl_->c = c;
  impl_->on_msg = std::move(on_msg);
  Impl* im = impl_.get();
  im->t = std::thread([im] {
    while (!im->stop) {
      ConsumerRecords recs = im->c->poll(std::chrono::milliseconds(50));
      for (auto& r : recs) {
        Msg m = copy_of(r);
        if (im->on_msg) im->on_msg(m);
        std::lock_guard<std::mutex> lock(im->mu);
        im->msgs.push_back(std::move(m));
      }
    }
  });
}

Poller::~Poller() { stop(); }

void Poller::stop() {
  impl_->stop = true;
  if (impl_->t.joinable()) impl_->t.join();
}

std::vector<Msg> Poller::messages() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->msgs;
}

size_t Poller::count() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->msgs.size();
}

std::unique_ptr<Consumer> make_consumer(const Config& config, ConsumerOptions options) {
  std::unique_ptr<Consumer> c;
  Error e = Consumer::create(config, &c, std::move(options));
  REQUIRE_MESSAGE(e.ok(), e.to_string());
  return c;
}

}  // namespace kfk::consumer_testing
