#include "io/host_port.h"

#include <charconv>

namespace kfk::io {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

bool fail(std::string* why, std::string msg) {
  if (why != nullptr) *why = std::move(msg);
  return false;
}

}  // namespace

bool parse_host_port(std::string_view text, HostPort* out, std::string* why, HostPortRules rules) {
  const std::string shown(text);
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(why, "missing ']' in " + shown);
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(why, "expected [host]:port, got " + shown);
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon)
      return fail(why, "an IPv6 address needs brackets ([v6addr]:port), got " + shown);
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      has_port = true;
    }
  }
  if (host.empty() && !rules.allow_empty_host) return fail(why, "no host in " + shown);
  for (char c : host)
    if (c == ' ' || c == '/' || c == ',' || c == '[' || c == ']') return fail(why, "bad host in " + shown);
  int p = rules.default_port;
  if (!has_port && p < 0) return fail(why, "expected host:port, got " + shown);
  if (has_port) {
    if (!port.empty() && port.front() == '+') port.remove_prefix(1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size())
      return fail(why, "bad port in " + shown);
  }
  if (p < rules.min_port || p > 65535) return fail(why, "bad port in " + shown);
  out->host = std::string(host);
  out->port = p;
  return true;
}

}  // namespace kfk::io
