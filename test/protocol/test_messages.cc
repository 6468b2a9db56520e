// Every generated message in every version: round trip with non-default
// values in every field, absent fields not written, unknown tagged fields
// kept, and every truncation / random corruption rejected without a crash.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "protocol/api_list.h"
#include "protocol/frame.h"
#include "protocol/messages_testing.h"

using namespace kfk::proto;

namespace {

template <class T>
std::vector<uint8_t> encode(const T& m, int16_t v) {
  Writer w;
  m.encode(w, v);
  return w.flatten();
}

template <class T>
void check_message(uint64_t salt) {
  for (int16_t v = T::kMinVersion; v <= T::kMaxVersion; ++v) {
    const std::string name = T::kName;
    CAPTURE(name);
    CAPTURE(v);
    T original;
    testing::fill(original, v, salt);
    const auto bytes = encode(original, v);

    // Round trip: decoding consumes exactly the encoding and gives back
    // every field.
    Reader r(bytes.data(), bytes.size());
    T decoded;
    decoded.decode(r, v);
    REQUIRE_MESSAGE(r.ok(), r.error());
    CHECK(r.empty());
    CHECK(decoded == original);
    CHECK(encode(decoded, v) == bytes);

    // A message holding values for every field of every version encodes
    // to the same bytes: fields absent in v are not written.
    T full;
    for (int16_t any = T::kMinVersion; any <= T::kMaxVersion; ++any) testing::fill(full, any, salt);
    CHECK(encode(full, v) == bytes);

    // Unknown tagged fields survive decode + encode unchanged.
    if (T::kFlexibleVersion >= 0 && v >= T::kFlexibleVersion) {
      T tagged = original;
      tagged.unknown_tagged_fields.push_back(TaggedField{4000, Bytes{1, 2, 3}});
      auto tb = encode(tagged, v);
      Reader tr(tb.data(), tb.size());
      T back;
      back.decode(tr, v);
      CHECK(tr.ok());
      CHECK(back == tagged);
      CHECK(encode(back, v) == tb);
    }

    // Every truncation fails cleanly.
    for (size_t n = 0; n < bytes.size(); ++n) {
      Reader tr(bytes.data(), n);
      T t;
      t.decode(tr, v);
      if (tr.ok()) FAIL_CHECK("truncation to " << n << " of " << bytes.size() << " bytes decoded without error");
    }

    // Random corruption never crashes; whatever decodes re-encodes.
    std::mt19937 rng(static_cast<uint32_t>(salt * 131 + static_cast<uint64_t>(v)));
    for (int i = 0; i < 64 && !bytes.empty(); ++i) {
      auto bad = bytes;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
      Reader br(bad.data(), bad.size());
      T t;
      t.decode(br, v);
      if (br.ok()) (void)encode(t, v);
    }
  }
}

}  // namespace

TEST_CASE("every API message round-trips in every version") {
#define KFK_CHECK_API(Name, key, lo, hi, flex)    \
  SUBCASE(#Name) {                                \
    check_message<Name##Request>(key * 7 + 1);    \
    check_message<Name##Response>(key * 7 + 2);   \
    CHECK(Name##Request::kApiKey == key);         \
    CHECK(Name##Request::kMinVersion == lo);      \
    CHECK(Name##Request::kMaxVersion == hi);      \
    CHECK(Name##Response::kFlexibleVersion == flex); \
  }
  KFK_PROTOCOL_APIS(KFK_CHECK_API)
#undef KFK_CHECK_API
}

TEST_CASE("every data format round-trips in every version") {
#define KFK_CHECK_DATA(Name) \
  SUBCASE(#Name) { check_message<Name>(99); }
  KFK_PROTOCOL_DATA(KFK_CHECK_DATA)
#undef KFK_CHECK_DATA
}

TEST_CASE("the codec implements every API the design names") {
  const int16_t required[] = {18, 3, 0, 1, 2, 10, 11, 14, 12, 13, 8, 9, 15, 16, 42, 47, 22, 24,
                              25, 26, 28, 27, 19, 20, 37, 21, 32, 33, 44, 17, 36, 23, 60, 61, 68};
  for (int16_t key : required) {
    CAPTURE(key);
    CHECK(find_api(key) != nullptr);
  }
}

TEST_CASE("header versions follow flexible versions; ApiVersions responses stay v0") {
  CHECK(request_header_version(0, 8) == 1);   // Produce v8: classic
  CHECK(request_header_version(0, 9) == 2);   // Produce v9: flexible
  CHECK(response_header_version(0, 9) == 1);
  CHECK(request_header_version(18, 3) == 2);  // ApiVersions v3 request: flexible header
  CHECK(response_header_version(18, 3) == 0); // ...but its response header is always v0
  CHECK(response_header_version(18, 4) == 0);
}

TEST_CASE("request frames carry size, header and body") {
  MetadataRequest req;
  req.topics.emplace();
  req.topics->emplace_back().name = "orders";
  Writer w;
  encode_request_frame(w, req, 9, 77, std::string("kfk-test"));
  auto bytes = w.flatten();
  Reader r(bytes.data(), bytes.size());
  CHECK(r.i32() == static_cast<int32_t>(bytes.size() - 4));
  ParsedRequestHeader h;
  REQUIRE(parse_request_header(r, h));
  CHECK(h.known);
  CHECK(h.header.request_api_key == 3);
  CHECK(h.header.request_api_version == 9);
  CHECK(h.header.correlation_id == 77);
  CHECK(h.header.client_id == std::optional<std::string>("kfk-test"));
  MetadataRequest back;
  back.decode(r, 9);
  CHECK(r.ok());
  CHECK(r.empty());
  CHECK(back == req);
}

TEST_CASE("an unknown API key still yields the v1 header prefix") {
  Writer w;
  w.i16(999);
  w.i16(3);
  w.i32(5);
  w.nullable_string(std::string("x"), false);
  auto bytes = w.flatten();
  Reader r(bytes.data(), bytes.size());
  ParsedRequestHeader h;
  REQUIRE(parse_request_header(r, h));
  CHECK_FALSE(h.known);
  CHECK(h.header.request_api_key == 999);
  CHECK(h.header.correlation_id == 5);
}
