// Shared by the examples: use the broker given on the command line, or start
// broker-ref (kfk's in-process test broker) on a temporary directory and a
// free port, so every example runs on its own:
//
//   ./build/examples/producer_async                  # embedded broker-ref
//   ./build/examples/producer_async kafka1:9092      # a real cluster
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "kfk/broker_ref.h"

namespace example {

class Broker {
 public:
  Broker(int argc, char** argv, std::map<std::string, std::string> config = {{"num.partitions", "3"}}) {
    if (argc > 1) {
      bootstrap_ = argv[1];
      return;
    }
    kfk::testing::BrokerRef::Options o;
    o.config = std::move(config);
    std::string error;
    embedded_ = kfk::testing::BrokerRef::start(o, &error);
    if (!embedded_) {
      std::fprintf(stderr, "could not start broker-ref: %s\n", error.c_str());
      return;
    }
    bootstrap_ = embedded_->bootstrap_servers();
    std::printf("started broker-ref on %s (data in %s)\n", bootstrap_.c_str(), embedded_->data_dir().c_str());
  }
  bool ok() const { return !bootstrap_.empty(); }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  std::string bootstrap_;
  std::unique_ptr<kfk::testing::BrokerRef> embedded_;
};

}  // namespace example
