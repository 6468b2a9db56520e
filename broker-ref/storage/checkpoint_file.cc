#include "storage/checkpoint_file.h"

#include <cerrno>
#include <charconv>

#include "storage/file_util.h"

namespace kfk::broker {

bool parse_int64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_int32(std::string_view s, int32_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status write_checkpoint_at(int dirfd, const std::string& name, int version, const std::vector<std::string>& lines,
                           bool durable) {
  std::string text = std::to_string(version) + "\n" + std::to_string(lines.size()) + "\n";
  for (const auto& l : lines) {
    text += l;
    text += '\n';
  }
  return write_file_atomic_at(dirfd, name, text, durable);
}

Status read_checkpoint_at(int dirfd, const std::string& name, int version, size_t fields,
                          std::vector<std::vector<std::string>>* entries) {
  entries->clear();
  int err = 0;
  auto text = read_file_at(dirfd, name, &err);
  if (!text) {
    if (err == ENOENT) return Status::Ok();
    return io_error("read " + name, err);
  }
  auto corrupt = [&](const std::string& why) {
    entries->clear();
    return Status::error(ErrorCode::CORRUPT_MESSAGE, "malformed checkpoint file " + name + ": " + why);
  };
  std::vector<std::string_view> lines;
  std::string_view rest(*text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 2) return corrupt("missing header lines");
  int32_t v = 0, count = 0;
  if (!parse_int32(lines[0], &v) || v != version) return corrupt("unexpected version '" + std::string(lines[0]) + "'");
  if (!parse_int32(lines[1], &count) || count < 0) return corrupt("bad entry count");
  if (lines.size() - 2 < static_cast<size_t>(count)) return corrupt("fewer entries than the count says");
  for (size_t i = 0; i < lines.size() - 2; ++i) {
    std::string_view line = lines[i + 2];
    if (i >= static_cast<size_t>(count)) {
      if (!line.empty()) return corrupt("more entries than the count says");
      continue;
    }
    std::vector<std::string> f;
    size_t pos = 0;
    while (pos <= line.size()) {
      size_t sp = line.find(' ', pos);
      if (sp == std::string_view::npos) sp = line.size();
      f.emplace_back(line.substr(pos, sp - pos));
      pos = sp + 1;
    }
    if (f.size() != fields) return corrupt("line " + std::to_string(i + 3) + " has " + std::to_string(f.size()) +
                                           " fields, expected " + std::to_string(fields));
    entries->push_back(std::move(f));
  }
  return Status::Ok();
}

Status write_offset_checkpoint_at(int dirfd, const std::string& name, const TopicPartitionOffsets& offsets,
                                  bool durable) {
  std::vector<std::string> lines;
  lines.reserve(offsets.size());
  for (const auto& [tp, off] : offsets)
    lines.push_back(tp.first + " " + std::to_string(tp.second) + " " + std::to_string(off));
  return write_checkpoint_at(dirfd, name, 0, lines, durable);
}

Status read_offset_checkpoint_at(int dirfd, const std::string& name, TopicPartitionOffsets* out) {
  out->clear();
  std::vector<std::vector<std::string>> entries;
  if (Status s = read_checkpoint_at(dirfd, name, 0, 3, &entries); !s.ok()) return s;
  for (const auto& e : entries) {
    int32_t p = 0;
    int64_t off = 0;
    if (!parse_int32(e[1], &p) || !parse_int64(e[2], &off))
      return Status::error(ErrorCode::CORRUPT_MESSAGE, "malformed checkpoint file " + name + ": bad number");
    (*out)[{e[0], p}] = off;
  }
  return Status::Ok();
}

}  // namespace kfk::broker
