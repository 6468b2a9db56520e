// kfk::testing::BrokerRef: an in-process Kafka broker for tests.
//
// BrokerRef runs broker-ref (a small single-node Kafka broker speaking the
// real wire protocol, with real on-disk logs) on its own thread, listening
// on a TCP port, so that any client (kfk, librdkafka, kafka-python, ...)
// can talk to it like to Apache Kafka:
//
//   kfk::testing::BrokerRef::Options opts;        // fresh temp dir, any port
//   opts.config["num.partitions"] = "3";
//   std::string error;
//   auto broker = kfk::testing::BrokerRef::start(opts, &error);
//   if (!broker) { ...error... }
//   client_config["bootstrap.servers"] = broker->bootstrap_servers();
//   ...
//   broker->stop();  // or let the destructor do it
//
// The broker is a single node: it is the controller and the leader of every
// partition, replication factor 1. Topics are auto-created by Metadata
// requests unless auto.create.topics.enable=false.
//
// Installed as its own library: `pkg-config --cflags --libs kfk-broker-ref`
// (libkfk-broker-ref; it needs no libkfk, so tests of any client can embed
// it), #include <kfk-broker-ref/broker_ref.h>.
//
// Thread safety: start(), stop() and the accessors may be called from any
// thread; stop() must not race with the destructor.
//
// Signals: the broker thread blocks SIGPIPE for itself (a client vanishing
// mid-response must not kill the test process); nothing process-wide is
// changed.
#pragma once

#include <map>
#include <memory>
#include <string>

// What libkfk-broker-ref.so exports (it is built with hidden visibility).
#if defined(__GNUC__) || defined(__clang__)
#define KFK_BROKER_REF_EXPORT __attribute__((visibility("default")))
#else
#define KFK_BROKER_REF_EXPORT
#endif

namespace kfk::testing {

class KFK_BROKER_REF_EXPORT BrokerRef {
 public:
  struct Options {
    // The data directory (created if needed; reusing one continues its
    // topics and offsets). Empty: a fresh temporary directory, removed by
    // stop().
    std::string data_dir;

    // The listener. Port 0 picks a free port; see port().
    std::string host = "127.0.0.1";
    int port = 0;

    // This broker's node id (also the controller id in Metadata). A data
    // directory remembers its node id; reopening it with another fails.
    int node_id = 1;

    // Broker configuration by Kafka's key names, e.g.
    // {"auto.create.topics.enable", "false"}, {"num.partitions", "3"},
    // {"log.segment.bytes", "1048576"}, {"message.max.bytes", "2000000"}.
    // `broker-ref --help` lists every key. Unknown keys or bad values make
    // start() fail with a message naming the key.
    std::map<std::string, std::string> config;
  };

  // Opens the data directory, binds and starts serving. nullptr (and
  // *error, if given) when a config value is bad, the directory unusable or
  // the port taken.
  static std::unique_ptr<BrokerRef> start(const Options& options, std::string* error);

  // "host:port" for bootstrap.servers.
  std::string bootstrap_servers() const;
  int port() const;
  const std::string& data_dir() const;

  // Clean shutdown: stops accepting, answers requests in flight, closes the
  // logs (a later start() on the same data_dir recovers nothing). Removes
  // a temporary data directory. Idempotent.
  void stop();
  ~BrokerRef();  // stop()

  BrokerRef(const BrokerRef&) = delete;
  BrokerRef& operator=(const BrokerRef&) = delete;

 private:
  struct Impl;
  explicit BrokerRef(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kfk::testing
