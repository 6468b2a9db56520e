// The broker's API table: one entry per implemented API with the version
// range this broker serves, which depends on the emulated Kafka generation
// (broker.emulated.kafka.version: 3.9 serves min_version and up, 4.0
// kafka4_min_version and up). ApiVersions answers from it, so what is
// advertised is exactly what is implemented; every range lies within the
// codec's (checked by check_handler_table()). Requests outside the range
// close the connection, as Kafka's (ApiVersions excepted).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "server/broker_config.h"
#include "server/request_context.h"

namespace kfk::broker {

using HandlerFn = HandlerResult (*)(RequestContext& ctx, proto::Reader& body, proto::Writer& response);

struct HandlerEntry {
  int16_t api_key;
  int16_t min_version;         // Kafka 3.x's (and the codec's)
  int16_t max_version;
  int16_t kafka4_min_version;  // Kafka 4.0's (KIP-896)
  HandlerFn fn;

  int16_t min_version_for(KafkaGeneration g) const;
};

std::span<const HandlerEntry> handler_table();
const HandlerEntry* find_handler(int16_t api_key);
// "" when every range is within the codec's; else what is wrong.
std::string check_handler_table();

// One per API (handle_<api>.cc).
HandlerResult handle_api_versions(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_metadata(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_produce(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_fetch(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_list_offsets(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_init_producer_id(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_create_topics(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_delete_topics(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_create_partitions(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_delete_records(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_describe_configs(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_alter_configs(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_incremental_alter_configs(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_describe_cluster(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_offset_for_leader_epoch(RequestContext&, proto::Reader&, proto::Writer&);
// Group coordinator APIs (group/group_coordinator.h).
HandlerResult handle_find_coordinator(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_join_group(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_sync_group(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_heartbeat(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_leave_group(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_offset_commit(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_offset_fetch(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_describe_groups(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_list_groups(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_delete_groups(RequestContext&, proto::Reader&, proto::Writer&);
HandlerResult handle_offset_delete(RequestContext&, proto::Reader&, proto::Writer&);

// The ApiVersions answer to an unsupported ApiVersions version: v0 with
// UNSUPPORTED_VERSION and the full table (as Kafka, so old clients learn
// which versions to use).
void encode_unsupported_api_versions(KafkaGeneration g, proto::Writer& response);

}  // namespace kfk::broker
