// HostPort: a network address as Kafka configurations write it ("host:port",
// "[v6addr]:port"), for the client's bootstrap servers and broker addresses
// and for broker-ref's listeners. Plain value type, any thread.
#pragma once

#include <string>
#include <string_view>

namespace kfk::io {

struct HostPort {
  std::string host;  // without brackets for IPv6
  int port = 0;
  bool operator==(const HostPort&) const = default;
  std::string to_string() const;  // "host:port", "[v6]:port"
};

// What parse_host_port accepts beyond "host:port" and "[v6addr]:port".
struct HostPortRules {
  int default_port = -1;          // for a bare "host"; -1: the port is required
  bool allow_empty_host = false;  // ":9092" (a listener on every interface)
  int min_port = 1;               // 0 lets a listener ask for any free port
};

// Parses `text` (no scheme prefix, no surrounding spaces). A bare IPv6
// address needs brackets ("::1:9092" is refused: which colon is the port's?).
// On failure returns false and, when `why` is given, says what is wrong.
bool parse_host_port(std::string_view text, HostPort* out, std::string* why = nullptr, HostPortRules rules = {});

}  // namespace kfk::io
