#include "server/fetch_read.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "protocol/error_codes.h"
#include "server/broker.h"
#include "server/legacy_message_sets.h"
#include "storage/file_records.h"

namespace kfk::broker {

using proto::ErrorCode;

namespace {

// Fetch v0-v3 (only served emulating Kafka 3.9): the slice read from the
// log, down-converted to the magic the version implies (v0-v1: 0, v2-v3:
// 1), as Kafka 3.x. The converted bytes are this response's own.
Status down_convert(const proto::Records& slice, int16_t version, proto::Records* out) {
  std::vector<uint8_t> file_bytes;
  std::span<const uint8_t> bytes(slice.data(), slice.is_external() ? 0 : slice.size());
  if (const FileRecords* file = FileRecords::of(slice)) {
    file_bytes.resize(slice.size());
    int64_t n = file->read(file_bytes.data(), file_bytes.size());
    if (n != static_cast<int64_t>(file_bytes.size()))
      return Status::error(ErrorCode::KAFKA_STORAGE_ERROR, std::string("reading the log for down-conversion: ") +
                                                               (n < 0 ? std::strerror(errno) : "short read"));
    bytes = file_bytes;
  }
  auto converted = std::make_shared<std::vector<uint8_t>>();
  if (Status s = down_convert_batches(bytes, version <= 1 ? 0 : 1, converted.get()); !s.ok()) return s;
  *out = proto::Records::view(converted->data(), converted->size(), converted);
  return Status::Ok();
}

}  // namespace

std::vector<PartitionFetch> read_fetch_targets(Broker& b, const FetchParams& params,
                                               const std::vector<FetchTarget>& targets, size_t* total_bytes,
                                               bool* any_error) {
  std::vector<PartitionFetch> out(targets.size());
  *total_bytes = 0;
  *any_error = false;
  size_t left = static_cast<size_t>(std::max(0, std::min(params.max_bytes, b.fetch_max_bytes())));
  bool min_one_batch = params.version >= 3;
  // One image answers the whole request.
  std::shared_ptr<const MetadataImage> image = b.metadata_snapshot();
  for (size_t i = 0; i < targets.size(); ++i) {
    const FetchTarget& t = targets[i];
    PartitionFetch& pf = out[i];
    auto fail = [&](ErrorCode code) {
      pf = PartitionFetch{};
      pf.error = proto::to_int(code);
      *any_error = true;
    };
    std::string_view name = t.topic;
    if (!t.topic_id.is_zero()) {
      // The id decides: a topic deleted and recreated under the same name
      // is another topic.
      const TopicImage* topic = image->topic_by_id(t.topic_id);
      if (topic == nullptr) {
        fail(ErrorCode::UNKNOWN_TOPIC_ID);
        continue;
      }
      name = topic->name;
    }
    // Consumers and followers alike read from the leader only (no KIP-392
    // preferred read replica), after the leader epoch check.
    ErrorCode lookup = ErrorCode::NONE;
    Partition* part = b.replicas().local(name, t.partition, t.current_leader_epoch, true, &lookup);
    if (part == nullptr) {
      fail(lookup);
      continue;
    }
    Log* log = &part->log();
    // message.downconversion.enable=false: a consumer that needs magic 0/1
    // gets UNSUPPORTED_VERSION instead of converted data (Kafka 3.x).
    if (params.version <= 3 && !params.from_follower && !log->config().message_downconversion_enable) {
      fail(ErrorCode::UNSUPPORTED_VERSION);
      continue;
    }
    int64_t max_offset = params.from_follower ? -1
                         : params.isolation_level == 1 ? log->last_stable_offset()
                                                       : log->high_watermark();
    size_t limit = std::min(left, static_cast<size_t>(std::max(0, t.max_bytes)));
    ReadResult rr = log->read(t.fetch_offset, limit, min_one_batch, max_offset);
    if (!rr.status.ok()) {
      fail(rr.status.code);
      continue;
    }
    pf.high_watermark = rr.high_watermark;
    pf.last_stable_offset = std::min(log->last_stable_offset(), rr.high_watermark);
    pf.log_start_offset = rr.log_start_offset;
    pf.records = rr.records();
    if (params.version <= 3) {
      if (Status s = down_convert(rr.records(), params.version, &pf.records); !s.ok()) {
        fail(s.code);
        continue;
      }
    }
    if (rr.size > 0) {
      min_one_batch = false;
      left -= std::min(left, rr.size);
      *total_bytes += rr.size;
    }
  }
  return out;
}

void add_fetch_partition(proto::FetchResponse& resp, const FetchParams& params, const FetchTarget& target,
                         PartitionFetch&& data) {
  const bool by_id = params.version >= 13;
  if (resp.responses.empty() || (by_id ? !(resp.responses.back().topic_id == target.topic_id)
                                       : resp.responses.back().topic != target.topic)) {
    proto::FetchResponse::FetchableTopicResponse tr;
    tr.topic = target.topic;
    tr.topic_id = target.topic_id;
    resp.responses.push_back(std::move(tr));
  }
  proto::FetchResponse::PartitionData pd;
  pd.partition_index = target.partition;
  pd.error_code = data.error;
  pd.high_watermark = data.high_watermark;
  pd.last_stable_offset = data.last_stable_offset;
  pd.log_start_offset = data.log_start_offset;
  // read_uncommitted: null, as Kafka; read_committed: none aborted yet.
  if (params.isolation_level == 0) pd.aborted_transactions = std::nullopt;
  pd.preferred_read_replica = -1;
  pd.records = std::move(data.records);
  resp.responses.back().partitions.push_back(std::move(pd));
}

}  // namespace kfk::broker
