// A custom partitioner: every record of one user goes to the same
// partition, chosen from the user id embedded in the value, whatever the
// key. Registered under a name, so configuration can select it
// ("partitioner": "by-user"), like the built-in ones.
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "kfk/producer.h"

namespace {

class ByUserPartitioner : public kfk::Partitioner {
 public:
  // Called from application threads (possibly several at once): stateless.
  int32_t partition(const kfk::PartitionerContext& ctx) override {
    // Values look like "user=<id>;...".
    std::string_view v;
    if (ctx.value) v = std::string_view(reinterpret_cast<const char*>(ctx.value->data()), ctx.value->size());
    auto start = v.find("user=");
    auto end = v.find(';', start);
    std::string_view user = start == std::string_view::npos ? v : v.substr(start + 5, end - start - 5);
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : user) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    return static_cast<int32_t>(h % static_cast<uint32_t>(ctx.num_partitions));
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP_SERVERS   (e.g. localhost:9092)\n", argv[0]);
    return 2;
  }
  const std::string bootstrap = argv[1];
  kfk::Error err = kfk::register_partitioner("by-user", [] { return std::make_unique<ByUserPartitioner>(); });
  if (!err.ok()) return 1;

  std::unique_ptr<kfk::Producer> producer;
  err = kfk::Producer::create({{"bootstrap.servers", bootstrap}, {"partitioner", "by-user"}}, &producer);
  if (!err.ok()) {
    std::fprintf(stderr, "config: %s\n", err.to_string().c_str());
    return 1;
  }
  std::map<std::string, std::set<int32_t>> partitions_of_user;
  std::vector<std::pair<std::string, std::future<kfk::DeliveryResult>>> pending;
  for (int i = 0; i < 300; ++i) {
    std::string user = 'u' + std::to_string(i % 10);
    // Random keys: the key does not decide the partition here.
    pending.emplace_back(user, producer->send(kfk::ProducerRecord("activity", 'k' + std::to_string(i * 31),
                                                                  "user=" + user + ";event=" + std::to_string(i))));
  }
  for (auto& [user, f] : pending) {
    kfk::DeliveryResult r = f.get();
    if (!r.error.ok()) {
      std::fprintf(stderr, "send failed: %s\n", r.error.to_string().c_str());
      return 1;
    }
    partitions_of_user[user].insert(r.metadata.partition);
  }
  bool one_each = true;
  for (const auto& [user, parts] : partitions_of_user) {
    std::printf("%s -> partition %d%s\n", user.c_str(), *parts.begin(), parts.size() == 1 ? "" : " (and others!)");
    one_each = one_each && parts.size() == 1;
  }
  (void)producer->close(std::chrono::seconds(10));  // a demo: the partitions are what it shows
  return one_each ? 0 : 1;
}
