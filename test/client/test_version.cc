// kfk/version.h: the macros and kfk::version() come from one version.
#include <doctest/doctest.h>

#include <string>

#include "kfk/version.h"

TEST_CASE("version: kfk::version() is KFK_VERSION_STRING, made of the MAJOR.MINOR.PATCH macros") {
  CHECK(std::string(kfk::version()) == KFK_VERSION_STRING);
  CHECK(std::string(KFK_VERSION_STRING) == std::to_string(KFK_VERSION_MAJOR) + "." +
                                               std::to_string(KFK_VERSION_MINOR) + "." +
                                               std::to_string(KFK_VERSION_PATCH));
}
