// Kafka framing: [int32 size][header][body]. Which header version an API
// uses follows from its flexible versions (request header v2 / response
// header v1 once flexible), except that ApiVersions responses always use
// header v0 so that a client can read them before it knows the broker.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "protocol/messages.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace kfk::proto {

struct ApiInfo {
  int16_t key;
  const char* name;
  int16_t min_version;
  int16_t max_version;
  int16_t flexible_version;  // -1: never flexible
};

// Every API the codec implements, ordered by key.
std::span<const ApiInfo> all_apis();
const ApiInfo* find_api(int16_t key);  // nullptr for unknown keys

int16_t request_header_version(int16_t api_key, int16_t api_version);
int16_t response_header_version(int16_t api_key, int16_t api_version);

// Frame writing: begin_* reserves the size and writes the header,
// finish_frame() patches the size once the body is written.
size_t begin_request(Writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id,
                     const std::optional<std::string>& client_id);
size_t begin_response(Writer& w, int16_t api_key, int16_t api_version, int32_t correlation_id);
void finish_frame(Writer& w, size_t size_at);

template <class Request>
void encode_request_frame(Writer& w, const Request& req, int16_t version, int32_t correlation_id,
                          const std::optional<std::string>& client_id) {
  size_t at = begin_request(w, Request::kApiKey, version, correlation_id, client_id);
  req.encode(w, version);
  finish_frame(w, at);
}

template <class Response>
void encode_response_frame(Writer& w, const Response& resp, int16_t version, int32_t correlation_id) {
  size_t at = begin_response(w, Response::kApiKey, version, correlation_id);
  resp.encode(w, version);
  finish_frame(w, at);
}

// Reads a request header from a frame body (the size already stripped).
// For keys or versions the codec does not know, only the v1 prefix (key,
// version, correlation id, client id) is read, which every version shares:
// enough to answer ApiVersions or to log and close. `known` says whether
// the (key, version) pair is implemented.
struct ParsedRequestHeader {
  RequestHeader header;
  bool known = false;
};
bool parse_request_header(Reader& r, ParsedRequestHeader& out);

// Reads a response header (correlation id, plus tagged fields in v1).
bool parse_response_header(Reader& r, int16_t api_key, int16_t api_version, ResponseHeader& out);

}  // namespace kfk::proto
