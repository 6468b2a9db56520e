// Produce (key 0), v0-v11. Record batches (magic 2) at every version; on
// v0-v2 also magic 0/1 message sets, converted to one record batch first
// (legacy_message_sets.h), as Kafka 3.x. Emulating Kafka 4.0
// (broker.emulated.kafka.version), v0-v2 are refused with
// UNSUPPORTED_VERSION, as Kafka 4.0 (which still lists them in ApiVersions,
// KAFKA-18659). Per partition: this node must lead it (the partition layer
// answers UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER; Produce
// never creates topics, as Kafka), the records are validated
// (produce_validation.h), then Partition::append_as_leader stamps the
// leader epoch of the metadata image and Log::append assigns offsets in
// place in the request buffer and checks the idempotent producer's state
// (duplicates answer with the original offsets). Produce carries no
// current leader epoch (Kafka's has none), so there is no epoch fencing
// here. acks: 0 no response (and, as Kafka, a failed acks=0 request closes
// the connection so the producer notices), 1 and -1 answer after the
// append (the ISR is this node alone: -1 == 1, but min.insync.replicas
// above the ISR size fails with NOT_ENOUGH_REPLICAS); other values:
// INVALID_REQUIRED_ACKS.
// Internal topics (__consumer_offsets, __transaction_state) are written
// by the broker only: INVALID_TOPIC_EXCEPTION, as Kafka.
// Transactions are not supported yet: transactional requests and batches
// get INVALID_REQUEST.
#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"
#include "server/legacy_message_sets.h"
#include "server/produce_topic_config.h"
#include "server/produce_validation.h"
#include "storage/file_util.h"

namespace kfk::broker {
namespace {

using proto::ErrorCode;
using proto::ProduceResponse;
using PartitionResponse = ProduceResponse::PartitionProduceResponse;

PartitionResponse error_response(int32_t index, const Status& s) {
  PartitionResponse r;
  r.index = index;
  r.error_code = s.kafka_code();
  r.base_offset = -1;
  r.log_append_time_ms = -1;
  r.log_start_offset = -1;
  if (!s.message.empty()) r.error_message = s.message;
  return r;
}

}  // namespace

HandlerResult handle_produce(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::ProduceRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  const int16_t v = ctx.api_version;
  const int64_t now = wall_clock_ms();
  ProduceResponse resp;
  std::string first_error;

  Status request_error;
  if (req.acks != 0 && req.acks != 1 && req.acks != -1)
    request_error = Status::error(ErrorCode::INVALID_REQUIRED_ACKS, "Invalid required acks " + std::to_string(req.acks));
  else if (v < 3 && b.emulated_kafka() == KafkaGeneration::kKafka4)
    request_error = Status::error(ErrorCode::UNSUPPORTED_VERSION,
                                  "Produce v" + std::to_string(v) +
                                      " is not supported by Kafka 4.0 (KIP-896), which broker-ref emulates "
                                      "(broker.emulated.kafka.version=4.0)");
  else if (req.transactional_id)
    request_error = Status::error(ErrorCode::INVALID_REQUEST,
                                  "transactions not supported yet (broker-ref has no transaction coordinator)");

  for (const auto& topic : req.topic_data) {
    ProduceResponse::TopicProduceResponse tr;
    tr.name = topic.name;
    for (const auto& pd : topic.partition_data) {
      const std::string tp = topic.name + "-" + std::to_string(pd.index);
      Status st = request_error;
      Partition* part = nullptr;
      // As Kafka: only the broker itself writes internal topics.
      if (st.ok() && Broker::is_internal_topic(topic.name))
        st = Status::error(ErrorCode::INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic " + topic.name);
      if (st.ok()) {
        ErrorCode e = ErrorCode::NONE;
        part = b.replicas().leader(topic.name, pd.index, &e);
        if (part == nullptr) st = ReplicaManager::lookup_error(e);
      }
      if (st.ok() && pd.records.is_null()) st = Status::error(ErrorCode::INVALID_RECORD, "null records");
      LogConfig cfg;
      if (st.ok()) {
        cfg = part->log().config();
        st = part->check_min_isr(req.acks, cfg);
      }
      std::vector<RecordError> record_errors;
      std::vector<uint8_t> converted;  // a legacy message set, as one record batch
      std::span<const uint8_t> records(pd.records.data(), pd.records.size());
      if (st.ok() && v <= 2 && (records_magic(records) == 0 || records_magic(records) == 1)) {
        st = convert_legacy_message_set(records, cfg.max_message_bytes, &converted);
        records = converted;
      }
      if (st.ok()) {
        ProduceValidation val = validate_produce_records(records, v, cfg, tp);
        st = val.status;
        record_errors = std::move(val.record_errors);
        if (st.ok()) st = check_timestamp_bounds(records, cfg, now, &record_errors);
      }
      PartitionResponse pr;
      if (st.ok()) {
        // The records view points into the request frame, which we own and
        // may rewrite (base offsets, leader epoch, LogAppendTime).
        const uint8_t* p = pd.records.data();
        size_t off = pd.records.size() == 0 ? 0 : static_cast<size_t>(p - ctx.frame.data());
        std::span<uint8_t> batches =
            converted.empty() ? ctx.frame.subspan(off, pd.records.size()) : std::span(converted);
        std::vector<uint8_t> recompressed;  // compression.type: the topic's codec
        st = recompress_to_topic_codec(batches, cfg, &recompressed);
        if (!recompressed.empty()) batches = recompressed;
        AppendInfo info;
        if (st.ok()) st = part->append_as_leader(batches, now, &info);
        if (st.ok()) {
          pr.index = pd.index;
          pr.base_offset = info.base_offset;
          pr.log_append_time_ms = info.log_append_time;
          pr.log_start_offset = info.log_start_offset;
          if (!info.duplicate && info.record_count > 0) b.fetch_waiters().notify(topic.name, pd.index, batches.size());
        }
      }
      if (!st.ok()) {
        pr = error_response(pd.index, st);
        for (auto& e : record_errors) {
          ProduceResponse::BatchIndexAndErrorMessage be;
          be.batch_index = e.batch_index;
          be.batch_index_error_message = e.message;
          pr.record_errors.push_back(std::move(be));
        }
        if (first_error.empty()) first_error = tp + ": " + st.to_string();
      }
      tr.partition_responses.push_back(std::move(pr));
    }
    resp.responses.push_back(std::move(tr));
  }

  if (req.acks == 0) {
    if (first_error.empty()) return HandlerResult::kNoResponse;
    ctx.close_reason = "acks=0 produce failed (closing so the producer notices): " + first_error;
    return HandlerResult::kClose;
  }
  resp.encode(response, v);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
