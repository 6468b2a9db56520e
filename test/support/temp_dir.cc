#include "kfk_test/temp_dir.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <system_error>
#include <vector>

namespace kfk::test {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  REQUIRE_MESSAGE(::mkdtemp(buf.data()) != nullptr, "mkdtemp " << tmpl << " failed");
  path = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace kfk::test
