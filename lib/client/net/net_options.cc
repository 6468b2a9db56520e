#include "client/net/net_options.h"

#include "kfk/version.h"

namespace kfk::net {

const char* kfk_version() { return KFK_VERSION_STRING; }

NetOptions NetOptions::from(const core::ResolvedConfig& rc) {
  NetOptions o;
  o.client_id = rc.client_id();
  o.software_version = kfk_version();
  o.bootstrap_servers = rc.bootstrap_servers();
  o.request_timeout_ms = rc.get_long("request.timeout.ms");
  o.reconnect_backoff_ms = rc.get_long("reconnect.backoff.ms");
  o.reconnect_backoff_max_ms = rc.get_long("reconnect.backoff.max.ms");
  o.connection_setup_timeout_ms = rc.get_long("socket.connection.setup.timeout.ms");
  o.connection_setup_timeout_max_ms = rc.get_long("socket.connection.setup.timeout.max.ms");
  o.connections_max_idle_ms = rc.get_long("connections.max.idle.ms");
  o.socket_send_buffer_bytes = rc.get_int("socket.send.buffer.bytes");
  o.socket_receive_buffer_bytes = rc.get_int("socket.receive.buffer.bytes");
  o.metadata_max_age_ms = rc.get_long("metadata.max.age.ms");
  o.retry_backoff_ms = rc.get_long("retry.backoff.ms");
  o.retry_backoff_max_ms = rc.get_long("retry.backoff.max.ms");
  o.allow_auto_topic_creation = rc.allow_auto_topic_creation();
  return o;
}

}  // namespace kfk::net
