#include "server/node_state.h"

#include <charconv>
#include <cstring>
#include <map>
#include <string_view>

#include "protocol/types.h"

namespace kfk::broker {
namespace {

constexpr const char* kMetaProperties = "meta.properties";
constexpr const char* kProducerIdBlock = "producer-id-block";

// key=value lines, # comments.
std::map<std::string, std::string> parse_properties(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

bool to_int64(const std::string& s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

Status open_data_dir(const std::string& data_dir, UniqueFd* out) {
  int fd = open_dir(data_dir);
  if (fd < 0) return io_error("open " + data_dir, errno);
  out->reset(fd);
  return Status::Ok();
}

}  // namespace

Status load_or_create_meta_properties(const std::string& data_dir, int32_t node_id, MetaProperties* out) {
  UniqueFd dfd;
  if (Status s = open_data_dir(data_dir, &dfd); !s.ok()) return s;
  int err = 0;
  auto text = read_file_at(dfd.get(), kMetaProperties, &err);
  if (text) {
    auto props = parse_properties(*text);
    int64_t stored = -1;
    if (props["cluster.id"].empty() || !to_int64(props["node.id"], &stored))
      return Status::error(ErrorCode::KAFKA_STORAGE_ERROR,
                           data_dir + "/meta.properties is unreadable (no cluster.id or node.id)");
    if (stored != node_id)
      return Status::error(ErrorCode::KAFKA_STORAGE_ERROR,
                           "Stored node id " + std::to_string(stored) + " in " + data_dir +
                               "/meta.properties doesn't match the configured node id " + std::to_string(node_id));
    out->cluster_id = props["cluster.id"];
    out->node_id = node_id;
    return Status::Ok();
  }
  if (err != ENOENT) return io_error("read " + data_dir + "/meta.properties", err);
  out->cluster_id = proto::Uuid::random().to_string();
  out->node_id = node_id;
  std::string body = "#\n#Written by broker-ref\ncluster.id=" + out->cluster_id +
                     "\nnode.id=" + std::to_string(node_id) + "\nversion=1\n";
  return write_file_atomic_at(dfd.get(), kMetaProperties, body, true);
}

Status ProducerIdManager::open(const std::string& data_dir, std::unique_ptr<ProducerIdManager>* out) {
  std::unique_ptr<ProducerIdManager> m(new ProducerIdManager());
  if (Status s = open_data_dir(data_dir, &m->dirfd_); !s.ok()) return s;
  int err = 0;
  auto text = read_file_at(m->dirfd_.get(), kProducerIdBlock, &err);
  if (text) {
    auto props = parse_properties(*text);
    int64_t start = 0;
    if (!to_int64(props["next.block.start"], &start) || start < 0)
      return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, data_dir + "/" + kProducerIdBlock + " is unreadable");
    m->next_ = m->block_end_ = start;
  } else if (err != ENOENT) {
    return io_error("read " + data_dir + "/" + kProducerIdBlock, err);
  }
  *out = std::move(m);
  return Status::Ok();
}

Status ProducerIdManager::allocate(int64_t* id) {
  if (next_ >= block_end_) {
    int64_t end = next_ + kBlockSize;
    if (Status s = write_file_atomic_at(dirfd_.get(), kProducerIdBlock,
                                        "next.block.start=" + std::to_string(end) + "\n", true);
        !s.ok())
      return s;
    block_end_ = end;
  }
  *id = next_++;
  return Status::Ok();
}

}  // namespace kfk::broker
