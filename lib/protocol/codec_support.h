// Helpers shared by the generated encoders and decoders.
#pragma once

#include <algorithm>

#include "protocol/reader.h"
#include "protocol/types.h"
#include "protocol/writer.h"

namespace kfk::proto {

// Writes a flexible-version tagged-field section: the fields this codec
// knows (already encoded, non-default ones only) merged with the unknown
// ones kept from decoding, in ascending tag order as the protocol requires.
inline void write_tagged_fields(Writer& w, TaggedFields known, const TaggedFields& unknown) {
  if (known.empty() && unknown.empty()) {
    w.uvarint(0);
    return;
  }
  known.insert(known.end(), unknown.begin(), unknown.end());
  std::stable_sort(known.begin(), known.end(),
                   [](const TaggedField& a, const TaggedField& b) { return a.tag < b.tag; });
  w.uvarint(known.size());
  for (const auto& f : known) {
    w.uvarint(f.tag);
    w.uvarint(f.data.size());
    w.raw(f.data.data(), f.data.size());
  }
}

}  // namespace kfk::proto

namespace kfk::proto {

// Keeps the rest of `t` (one tagged field's bytes) as an unknown field.
inline void keep_unknown_tag(Reader& t, uint32_t tag, TaggedFields& unknown) {
  auto s = t.raw(t.remaining());
  unknown.push_back(TaggedField{tag, Bytes(s.begin(), s.end())});
}

// Reads a tagged-field section of a struct that has no known tags.
inline void read_tagged_fields(Reader& r, TaggedFields& unknown) {
  unknown.clear();
  const uint32_t count = r.uvarint();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    const uint32_t tag = r.uvarint();
    Reader t = r.sub(r.uvarint());
    keep_unknown_tag(t, tag, unknown);
  }
}

}  // namespace kfk::proto
