#include "server/server_log.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

namespace kfk::broker {

void server_log(const std::string& msg) {
  struct timeval tv;
  ::gettimeofday(&tv, nullptr);
  struct tm tm;
  ::gmtime_r(&tv.tv_sec, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%03dZ broker-ref: %s\n", ts, static_cast<int>(tv.tv_usec / 1000), msg.c_str());
}

}  // namespace kfk::broker
