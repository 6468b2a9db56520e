#include <doctest/doctest.h>

#include <string>

#include "io/host_port.h"

using kfk::io::HostPort;
using kfk::io::HostPortRules;
using kfk::io::parse_host_port;

TEST_CASE("HostPort: host:port and [v6]:port, to_string round trip") {
  HostPort hp;
  REQUIRE(parse_host_port("broker-1.example:9093", &hp));
  CHECK(hp == HostPort{"broker-1.example", 9093});
  CHECK(hp.to_string() == "broker-1.example:9093");
  REQUIRE(parse_host_port("[::1]:9094", &hp));
  CHECK(hp == HostPort{"::1", 9094});
  CHECK(hp.to_string() == "[::1]:9094");
  REQUIRE(parse_host_port("127.0.0.1:1", &hp));
  CHECK(hp == HostPort{"127.0.0.1", 1});
  REQUIRE(parse_host_port("[fe80::1%eth0]:65535", &hp));
  CHECK(hp.host == "fe80::1%eth0");
  CHECK(hp.port == 65535);
}

TEST_CASE("HostPort: bad input is refused with a reason, and leaves the output alone") {
  HostPort hp{"keep", 7};
  for (const char* bad : {"", "host", "host:", ":9092", "::1:9092", "[::1", "[::1]9092", "[::1]:", "host:0",
                          "host:65536", "host:-1", "host:12x", "ho st:1", "a,b:1", "host:99999999999"}) {
    std::string why;
    CHECK_MESSAGE(!parse_host_port(bad, &hp, &why), bad);
    CHECK_MESSAGE(!why.empty(), bad);
  }
  CHECK(hp == HostPort{"keep", 7});
  CHECK_FALSE(parse_host_port("nohost", &hp));  // no reason asked for
}

TEST_CASE("HostPort: rules for a default port, an empty host and port 0") {
  HostPort hp;
  HostPortRules client;
  client.default_port = 9092;
  REQUIRE(parse_host_port("k3", &hp, nullptr, client));
  CHECK(hp == HostPort{"k3", 9092});
  REQUIRE(parse_host_port("[::1]", &hp, nullptr, client));
  CHECK(hp == HostPort{"::1", 9092});

  HostPortRules listener;
  listener.allow_empty_host = true;
  listener.min_port = 0;
  REQUIRE(parse_host_port(":0", &hp, nullptr, listener));
  CHECK(hp == HostPort{"", 0});
  CHECK_FALSE(parse_host_port("host", &hp, nullptr, listener));  // the port is required
}
