// A temporary directory, removed with everything in it when the object goes.
#pragma once

#include <string>

namespace kfk::test {

class TempDir {
 public:
  // /tmp/<prefix>-XXXXXX; fails the test when it cannot be created.
  explicit TempDir(const std::string& prefix = "kfk-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // <path>/<name> (not created).
  std::string sub(const std::string& name) const { return path + "/" + name; }

  std::string path;
};

}  // namespace kfk::test
