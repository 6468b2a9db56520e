// Per-data-dir broker identity and counters, kept next to the logs:
//
//   <data-dir>/meta.properties     cluster.id / node.id / version=1, as Kafka
//                                  writes it (the cluster id is generated once
//                                  and stays stable across restarts)
//   <data-dir>/producer-id-block   next.block.start=N: producer ids are handed
//                                  out in blocks of 1000; a block is persisted
//                                  before its first id is used, so no id is
//                                  ever given out twice, even after a crash
//
// Thread ownership: opened before the loop starts, then used on the loop
// thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/file_util.h"
#include "storage/status.h"

namespace kfk::broker {

struct MetaProperties {
  std::string cluster_id;
  int32_t node_id = -1;
};

// Reads meta.properties, or creates it with a fresh cluster id. Fails when
// the stored node.id differs from `node_id` (Kafka refuses that too).
Status load_or_create_meta_properties(const std::string& data_dir, int32_t node_id, MetaProperties* out);

class ProducerIdManager {
 public:
  static constexpr int64_t kBlockSize = 1000;

  static Status open(const std::string& data_dir, std::unique_ptr<ProducerIdManager>* out);
  // The next unused producer id (persisting a new block when needed).
  Status allocate(int64_t* id);
  // True for ids this broker has handed out (now or in an earlier run).
  bool allocated(int64_t id) const { return id >= 0 && id < next_; }

 private:
  ProducerIdManager() = default;
  UniqueFd dirfd_;
  int64_t next_ = 0;
  int64_t block_end_ = 0;  // persisted next.block.start
};

}  // namespace kfk::broker
