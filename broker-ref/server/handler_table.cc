#include "server/handler_table.h"

#include "protocol/frame.h"

namespace kfk::broker {
namespace {

// Ordered by key. Ranges: what this broker implements (see each handler);
// the third column is Kafka 4.0's minimum (KIP-896), served when
// broker.emulated.kafka.version=4.0. Produce keeps 0 there: Kafka 4.0
// lists Produce v0-v2 in ApiVersions (librdkafka only compresses when it
// sees Produce v0, KAFKA-18659) but answers them with UNSUPPORTED_VERSION
// (handle_produce.cc).
constexpr HandlerEntry kHandlers[] = {
    {0, 0, 11, 0, handle_produce},
    {1, 0, 17, 4, handle_fetch},
    {2, 0, 10, 1, handle_list_offsets},
    {3, 0, 12, 4, handle_metadata},
    {8, 0, 9, 2, handle_offset_commit},
    {9, 0, 9, 1, handle_offset_fetch},
    {10, 0, 6, 1, handle_find_coordinator},
    {11, 0, 9, 2, handle_join_group},
    {12, 0, 4, 0, handle_heartbeat},
    {13, 0, 5, 0, handle_leave_group},
    {14, 0, 5, 0, handle_sync_group},
    {15, 0, 5, 0, handle_describe_groups},
    {16, 0, 5, 0, handle_list_groups},
    {18, 0, 4, 0, handle_api_versions},
    {19, 0, 7, 2, handle_create_topics},
    {20, 0, 6, 1, handle_delete_topics},
    {21, 0, 2, 0, handle_delete_records},
    {22, 0, 5, 0, handle_init_producer_id},
    {23, 0, 4, 2, handle_offset_for_leader_epoch},
    {32, 0, 4, 1, handle_describe_configs},
    {33, 0, 2, 0, handle_alter_configs},
    {37, 0, 3, 0, handle_create_partitions},
    {42, 0, 2, 1, handle_delete_groups},
    {44, 0, 1, 0, handle_incremental_alter_configs},
    {47, 0, 0, 0, handle_offset_delete},
    {60, 0, 1, 0, handle_describe_cluster},
};

}  // namespace

std::span<const HandlerEntry> handler_table() { return kHandlers; }

const HandlerEntry* find_handler(int16_t api_key) {
  for (const auto& h : kHandlers)
    if (h.api_key == api_key) return &h;
  return nullptr;
}

int16_t HandlerEntry::min_version_for(KafkaGeneration g) const {
  return g == KafkaGeneration::kKafka4 ? kafka4_min_version : min_version;
}

std::string check_handler_table() {
  int16_t prev = -1;
  for (const auto& h : kHandlers) {
    const proto::ApiInfo* a = proto::find_api(h.api_key);
    if (a == nullptr) return "handler for api key " + std::to_string(h.api_key) + " that the codec does not know";
    if (h.min_version < a->min_version || h.max_version > a->max_version || h.min_version > h.max_version ||
        h.kafka4_min_version < h.min_version || h.kafka4_min_version > h.max_version)
      return std::string("handler range of ") + a->name + " is outside the codec's";
    if (h.api_key <= prev) return "handler table not ordered by key";
    prev = h.api_key;
  }
  return "";
}

}  // namespace kfk::broker
