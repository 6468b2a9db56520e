#include "protocol/compression.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "kfk_build_config.h"
#include "protocol/reader.h"

#if KFK_HAVE_GZIP
#include <zlib.h>
#endif
#if KFK_HAVE_LZ4
#include <lz4frame.h>
#endif
#if KFK_HAVE_ZSTD
#include <zstd.h>
#endif
#if KFK_HAVE_SNAPPY
#include <snappy.h>
#endif

namespace kfk::proto {
namespace {

bool fail(const char** why, const char* msg) {
  if (why != nullptr) *why = msg;
  return false;
}

constexpr const char* kTooLarge = "decompressed data exceeds max_output";

// Output window for bounded decompression. Memory grows geometrically as the
// decoder produces bytes, up to limit + 1 bytes of output: holding that one
// extra byte is how "more output than allowed" is noticed without trusting
// any size the (untrusted) input declares.
class BoundedOut {
 public:
  BoundedOut(std::vector<uint8_t>& v, size_t limit)
      : v_(v), start_(v.size()), cap_(limit == SIZE_MAX ? SIZE_MAX : limit + 1), limit_(limit) {}

  // Makes room for up to `want` more bytes (fewer near the cap); false when
  // no room is left at all.
  bool reserve(size_t want) {
    size_t have = v_.size() - start_;
    if (produced_ + want <= have) return true;
    if (have >= cap_) return produced_ < have;
    size_t target = std::max({produced_ + want, have * 2, size_t{4096}});
    v_.resize(start_ + std::min(target, cap_));
    return true;
  }
  uint8_t* next() { return v_.data() + start_ + produced_; }
  size_t avail() const { return v_.size() - start_ - produced_; }
  size_t budget() const { return produced_ >= limit_ ? 0 : limit_ - produced_; }
  void advance(size_t n) { produced_ += n; }
  bool over() const { return produced_ > limit_; }
  bool finish() {
    v_.resize(start_ + produced_);
    return true;
  }
  bool abort(const char** why, const char* msg) {
    v_.resize(start_);
    return fail(why, msg);
  }

 private:
  std::vector<uint8_t>& v_;
  size_t start_;
  size_t cap_;
  size_t limit_;
  size_t produced_ = 0;
};

// A size the input declares is only a hint for the first allocation, and
// only up to a ratio typical data reaches; beyond that memory follows output.
[[maybe_unused]] size_t size_hint(size_t declared, size_t in_size) {
  size_t plausible = in_size > (SIZE_MAX >> 6) ? SIZE_MAX : in_size * 32 + (size_t{1} << 20);
  return std::min(declared, plausible);
}

// ---------------------------------------------------------------- gzip
#if KFK_HAVE_GZIP
template <class Out>
bool gzip_compress(int level, std::span<const uint8_t> in, Out& out, const char** why) {
  if (in.size() > UINT_MAX) return fail(why, "gzip: input too large");
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper (header + CRC32 trailer), which is
  // what Kafka's GZIPOutputStream writes.
  if (deflateInit2(&zs, level == -1 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(why, "gzip: invalid compression level");
  size_t start = out.size();
  size_t bound = deflateBound(&zs, static_cast<uLong>(in.size()));
  out.resize(start + bound);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data() + start;
  zs.avail_out = static_cast<uInt>(bound);
  int rc = deflate(&zs, Z_FINISH);
  size_t written = bound - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out.resize(start);
    return fail(why, "gzip: compression failed");
  }
  out.resize(start + written);
  return true;
}

bool gzip_decompress(std::span<const uint8_t> in, BoundedOut& bo, const char** why) {
  if (in.size() > UINT_MAX) return bo.abort(why, "gzip: input too large");
  z_stream zs{};
  // 15 + 32: accept a gzip or zlib header (auto-detected).
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return bo.abort(why, "gzip: out of memory");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (!bo.reserve(std::min<size_t>(std::max<size_t>(in.size() * 4, 16384), UINT_MAX)))
      return bo.abort(why, kTooLarge);
    size_t room = std::min<size_t>(bo.avail(), UINT_MAX);
    zs.next_out = bo.next();
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    bo.advance(room - zs.avail_out);
    if (bo.over()) return bo.abort(why, kTooLarge);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return bo.finish();
      // Concatenated members (gzip streams may be joined, as `cat a.gz b.gz`).
      if (inflateReset(&zs) != Z_OK) return bo.abort(why, "gzip: corrupt input");
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: with output room left, the input ended early.
      if (zs.avail_out > 0) return bo.abort(why, "gzip: truncated input");
      continue;
    }
    if (rc != Z_OK) return bo.abort(why, rc == Z_MEM_ERROR ? "gzip: out of memory" : "gzip: corrupt input");
    if (zs.avail_in == 0 && zs.avail_out > 0) {
      // Everything consumed, room left, stream not ended: truncated. (One more
      // call would return Z_BUF_ERROR; say so directly.)
      return bo.abort(why, "gzip: truncated input");
    }
  }
}
#endif

// ---------------------------------------------------------------- snappy
#if KFK_HAVE_SNAPPY
// The framing of xerial snappy-java's SnappyOutputStream, which the Java
// client uses: a 16-byte header, then [int32 BE length][raw block]...
constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;
constexpr size_t kXerialBlockSize = 32 * 1024;  // snappy-java's default

template <class Out>
bool snappy_compress(std::span<const uint8_t> in, Out& out) {
  size_t start = out.size();
  size_t max_block = snappy::MaxCompressedLength(kXerialBlockSize);
  size_t blocks = (in.size() + kXerialBlockSize - 1) / kXerialBlockSize;
  out.reserve(start + kXerialHeaderSize + blocks * (4 + max_block));
  out.insert(out.end(), kXerialMagic, kXerialMagic + 8);
  const uint8_t version_compat[8] = {0, 0, 0, 1, 0, 0, 0, 1};  // version 1, compatible version 1
  out.insert(out.end(), version_compat, version_compat + 8);
  for (size_t pos = 0; pos < in.size(); pos += kXerialBlockSize) {
    size_t n = std::min(kXerialBlockSize, in.size() - pos);
    size_t at = out.size();
    out.resize(at + 4 + max_block);
    size_t clen = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + pos), n, reinterpret_cast<char*>(out.data() + at + 4),
                        &clen);
    out[at] = uint8_t(clen >> 24);
    out[at + 1] = uint8_t(clen >> 16);
    out[at + 2] = uint8_t(clen >> 8);
    out[at + 3] = uint8_t(clen);
    out.resize(at + 4 + clen);
  }
  return true;
}

bool snappy_raw_block(std::span<const uint8_t> in, BoundedOut& bo, const char** why) {
  size_t len = 0;
  const char* src = reinterpret_cast<const char*>(in.data());
  if (in.empty() || !snappy::GetUncompressedLength(src, in.size(), &len))
    return bo.abort(why, "snappy: corrupt input");
  if (len > bo.budget()) return bo.abort(why, kTooLarge);
  // The densest snappy element is a 3-byte copy of 64 bytes, so a declared
  // length above 64/3 of the input is a lie: reject it before allocating.
  if (len / 64 > in.size() / 3 + 1) return bo.abort(why, "snappy: corrupt input (impossible length)");
  if (len == 0) return in.size() == 1 || bo.abort(why, "snappy: corrupt input");
  if (bo.avail() < len && !bo.reserve(len)) return bo.abort(why, kTooLarge);
  if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(bo.next())))
    return bo.abort(why, "snappy: corrupt input");
  bo.advance(len);
  return true;
}

bool snappy_decompress(std::span<const uint8_t> in, BoundedOut& bo, const char** why) {
  if (in.size() < 8 || std::memcmp(in.data(), kXerialMagic, 8) != 0) {
    if (!snappy_raw_block(in, bo, why)) return false;
    return bo.finish();
  }
  Reader r(in);
  while (!r.empty()) {
    // snappy-java appends streams by concatenation; a second header may
    // follow a block (a block length never starts with 0x82: it would be
    // negative).
    if (r.remaining() >= 8 && std::memcmp(r.current(), kXerialMagic, 8) == 0) {
      r.skip(kXerialHeaderSize);
      if (!r.ok()) return bo.abort(why, "snappy: truncated xerial header");
      continue;
    }
    int32_t n = r.i32();
    if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining())
      return bo.abort(why, "snappy: truncated or corrupt xerial block");
    if (!snappy_raw_block(r.raw(static_cast<size_t>(n)), bo, why)) return false;
  }
  return bo.finish();
}
#endif

// ---------------------------------------------------------------- lz4
#if KFK_HAVE_LZ4
struct Lz4Dctx {
  LZ4F_dctx* ctx = nullptr;
  Lz4Dctx() {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) ctx = nullptr;
  }
  ~Lz4Dctx() {
    if (ctx != nullptr) LZ4F_freeDecompressionContext(ctx);
  }
};

template <class Out>
bool lz4_compress(int level, std::span<const uint8_t> in, Out& out, const char** why) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  // What the Java client (and librdkafka) write: independent 64 KiB blocks,
  // no content size; the Java reader decodes each block on its own.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level == -1 ? 0 : level;
  size_t start = out.size();
  size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  out.resize(start + bound);
  size_t n = LZ4F_compressFrame(out.data() + start, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(start);
    return fail(why, "lz4: compression failed");
  }
  out.resize(start + n);
  return true;
}

bool lz4_decompress(std::span<const uint8_t> in, BoundedOut& bo, const char** why) {
  // A context per thread: creating one costs an allocation per batch.
  thread_local Lz4Dctx dctx;
  if (dctx.ctx == nullptr) return bo.abort(why, "lz4: out of memory");
  LZ4F_resetDecompressionContext(dctx.ctx);  // a previous call may have failed mid-frame
  constexpr size_t kBlockMax = 64 * 1024;    // room for a whole block lets LZ4F decode in place
  size_t pos = 0;
  size_t hint = 1;  // LZ4F's "bytes expected next"; 0 right after a complete frame
  int stalls = 0;
  while (pos < in.size() || hint != 0) {
    if (!bo.reserve(std::max(kBlockMax, in.size() * 3))) return bo.abort(why, kTooLarge);
    size_t dst = bo.avail();
    size_t src = in.size() - pos;
    hint = LZ4F_decompress(dctx.ctx, bo.next(), &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) return bo.abort(why, "lz4: corrupt input");
    pos += src;
    bo.advance(dst);
    if (bo.over()) return bo.abort(why, kTooLarge);
    // No progress although there was room: the input ends inside a frame.
    if (dst == 0 && src == 0) {
      if (pos == in.size() || ++stalls > 8) return bo.abort(why, "lz4: truncated input");
    } else {
      stalls = 0;
    }
  }
  return bo.finish();
}
#endif

// ---------------------------------------------------------------- zstd
#if KFK_HAVE_ZSTD
struct ZstdCtx {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdCtx() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
// Contexts are large and costly to set up; keep one pair per thread.
ZstdCtx& zstd_ctx() {
  thread_local ZstdCtx ctx;
  return ctx;
}

template <class Out>
bool zstd_compress(int level, std::span<const uint8_t> in, Out& out, const char** why) {
  ZSTD_CCtx* c = zstd_ctx().c;
  if (c == nullptr) return fail(why, "zstd: out of memory");
  ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level == -1 ? ZSTD_CLEVEL_DEFAULT : level)))
    return fail(why, "zstd: invalid compression level");
  size_t start = out.size();
  size_t bound = ZSTD_compressBound(in.size());
  out.resize(start + bound);
  size_t n = ZSTD_compress2(c, out.data() + start, bound, in.data(), in.size());
  if (ZSTD_isError(n)) {
    out.resize(start);
    return fail(why, "zstd: compression failed");
  }
  out.resize(start + n);
  return true;
}

bool zstd_decompress(std::span<const uint8_t> in, BoundedOut& bo, const char** why) {
  ZSTD_DCtx* d = zstd_ctx().d;
  if (d == nullptr) return bo.abort(why, "zstd: out of memory");
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  // With room for the declared content size, zstd decodes in one pass
  // straight into the output; the hint is capped (see size_hint).
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  size_t first = in.size() * 4;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR)
    first = size_hint(declared > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(declared), in.size());
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t ret = 1;
  int stalls = 0;
  bool first_round = true;
  while (ib.pos < ib.size || ret != 0) {
    if (!bo.reserve(first_round ? std::max<size_t>(first, 1) : ZSTD_DStreamOutSize())) return bo.abort(why, kTooLarge);
    first_round = false;
    size_t in_before = ib.pos;
    ZSTD_outBuffer ob{bo.next(), bo.avail(), 0};
    ret = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(ret)) return bo.abort(why, "zstd: corrupt input");
    bo.advance(ob.pos);
    if (bo.over()) return bo.abort(why, kTooLarge);
    if (ob.pos == 0 && ib.pos == in_before && ob.size > 0) {
      // No progress with output room: the input ends inside a frame.
      if (ib.pos == ib.size || ++stalls > 8) return bo.abort(why, "zstd: truncated input");
    } else {
      stalls = 0;
    }
  }
  return bo.finish();
}
#endif

}  // namespace

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

bool parse_compression(std::string_view name, Compression& out) {
  static constexpr Compression kAll[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                         Compression::kLz4, Compression::kZstd};
  for (Compression c : kAll) {
    if (name == compression_name(c)) {
      out = c;
      return true;
    }
  }
  return false;
}

bool compression_available(Compression c) {
  switch (c) {
    case Compression::kNone: return true;
    case Compression::kGzip: return KFK_HAVE_GZIP;
    case Compression::kSnappy: return KFK_HAVE_SNAPPY;
    case Compression::kLz4: return KFK_HAVE_LZ4;
    case Compression::kZstd: return KFK_HAVE_ZSTD;
  }
  return false;
}

namespace {
// Out: std::vector<uint8_t>, or UninitBytes (the producer's batches: the
// codecs' worst-case room is then not zero-filled before they write it).
template <class Out>
bool compress_into(Compression c, [[maybe_unused]] int level, std::span<const uint8_t> in, Out& out,
                   const char** why) {
  switch (c) {
    case Compression::kNone:
      out.insert(out.end(), in.begin(), in.end());
      return true;
    case Compression::kGzip:
#if KFK_HAVE_GZIP
      return gzip_compress(level, in, out, why);
#else
      break;
#endif
    case Compression::kSnappy:
#if KFK_HAVE_SNAPPY
      return snappy_compress(in, out);
#else
      break;
#endif
    case Compression::kLz4:
#if KFK_HAVE_LZ4
      return lz4_compress(level, in, out, why);
#else
      break;
#endif
    case Compression::kZstd:
#if KFK_HAVE_ZSTD
      return zstd_compress(level, in, out, why);
#else
      break;
#endif
    default:
      return fail(why, "unknown compression codec");
  }
  return fail(why, "compression codec not available in this build");
}
}  // namespace

bool compress(Compression c, int level, std::span<const uint8_t> in, std::vector<uint8_t>& out, const char** why) {
  return compress_into(c, level, in, out, why);
}

bool compress(Compression c, int level, std::span<const uint8_t> in, UninitBytes& out, const char** why) {
  return compress_into(c, level, in, out, why);
}

bool decompress(Compression c, std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t max_output,
                const char** why) {
  BoundedOut bo(out, max_output);
  switch (c) {
    case Compression::kNone:
      if (in.size() > max_output) return fail(why, kTooLarge);
      out.insert(out.end(), in.begin(), in.end());
      return true;
    case Compression::kGzip:
#if KFK_HAVE_GZIP
      return gzip_decompress(in, bo, why);
#else
      break;
#endif
    case Compression::kSnappy:
#if KFK_HAVE_SNAPPY
      return snappy_decompress(in, bo, why);
#else
      break;
#endif
    case Compression::kLz4:
#if KFK_HAVE_LZ4
      return lz4_decompress(in, bo, why);
#else
      break;
#endif
    case Compression::kZstd:
#if KFK_HAVE_ZSTD
      return zstd_decompress(in, bo, why);
#else
      break;
#endif
    default:
      return fail(why, "unknown compression codec");
  }
  return fail(why, "compression codec not available in this build");
}

}  // namespace kfk::proto
