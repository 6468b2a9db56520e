// InitProducerId (key 22), v0-v5, idempotent producers only for now.
//
// Producer ids come from a persistent counter in the data dir (never
// reused, also across restarts), epoch 0. v3+ (KIP-360): a request naming
// a producer id this broker handed out, with its epoch, gets the same id
// with epoch + 1 (a new id when the epoch would overflow).
//
// Transactional ids fail at once and for good until the transaction
// coordinator arrives: TRANSACTIONAL_ID_AUTHORIZATION_FAILED with a message
// saying why (see handle_find_coordinator.cc for the choice of code; a
// retriable COORDINATOR_NOT_AVAILABLE made clients wait out their timeout).
#include <cstdint>

#include "protocol/error_codes.h"
#include "protocol/messages.h"
#include "server/broker.h"
#include "server/handler_table.h"
#include "server/server_log.h"

namespace kfk::broker {

HandlerResult handle_init_producer_id(RequestContext& ctx, proto::Reader& body, proto::Writer& response) {
  proto::InitProducerIdRequest req;
  if (!decode_request(ctx, body, req)) return HandlerResult::kMalformed;
  Broker& b = ctx.broker;
  proto::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req.transactional_id && !req.transactional_id->empty()) {
    resp.error_code = proto::to_int(proto::ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  } else if (ctx.api_version >= 3 && req.producer_id >= 0 && req.producer_epoch >= 0 &&
             b.producer_ids().allocated(req.producer_id) && req.producer_epoch < INT16_MAX - 1) {
    resp.producer_id = req.producer_id;
    resp.producer_epoch = static_cast<int16_t>(req.producer_epoch + 1);
  } else {
    int64_t id = -1;
    if (Status s = b.producer_ids().allocate(&id); !s.ok()) {
      server_log("cannot allocate a producer id: " + s.to_string());
      resp.error_code = proto::to_int(proto::ErrorCode::UNKNOWN_SERVER_ERROR);
    } else {
      resp.producer_id = id;
      resp.producer_epoch = 0;
    }
  }
  resp.encode(response, ctx.api_version);
  return HandlerResult::kRespond;
}

}  // namespace kfk::broker
