// libFuzzer target: any bytes as a request frame body (header + body).
// Decoding must never crash, read out of bounds or allocate wildly; what
// decodes must re-encode, and re-encoding is stable after one round.
#include <cstdint>
#include <cstdlib>

#include "protocol/api_list.h"
#include "protocol/frame.h"

using namespace kfk::proto;

namespace {

template <class Request>
void exercise(Reader& r, int16_t version) {
  Request req;
  req.decode(r, version);
  if (!r.ok()) return;
  Writer w1;
  req.encode(w1, version);
  auto once = w1.flatten();
  Reader r2(once.data(), once.size());
  Request again;
  again.decode(r2, version);
  if (!r2.ok() || !r2.empty()) abort();  // our own encoding must decode
  Writer w2;
  again.encode(w2, version);
  if (w2.flatten() != once) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  ParsedRequestHeader h;
  if (!parse_request_header(r, h) || !h.known) return 0;
  const int16_t v = h.header.request_api_version;
  switch (h.header.request_api_key) {
#define KFK_FUZZ_CASE(Name, key, lo, hi, flex) \
  case key:                                    \
    exercise<Name##Request>(r, v);             \
    break;
    KFK_PROTOCOL_APIS(KFK_FUZZ_CASE)
#undef KFK_FUZZ_CASE
    default:
      break;
  }
  return 0;
}
