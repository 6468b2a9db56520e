// Records as the producer sees them.
//
//   kfk::ProducerRecord rec("orders", "customer-42", R"({"total": 17})");
//   rec.headers.push_back({"trace-id", "abc123"});
//   rec.timestamp = 1700000000000;        // optional; default: the time of send()
//   rec.partition = 3;                    // optional; default: the partitioner decides
//
//   kfk::ProducerRecord tombstone("orders", "customer-42", std::nullopt);  // null value
//
// Key and value are kfk::Bytes: a byte string that either owns its storage
// (moved in from a std::string or std::vector without copying, or copied from
// a view) or borrows it (Bytes::borrow: no copy at all; the caller keeps the
// memory alive until send() returns, since send() encodes the record into its
// batch before returning).
//
// The producer reports each record's outcome once, through a DeliveryCallback,
// with a RecordMetadata and a kfk::Error:
//
//   producer.send(std::move(rec), [](const kfk::RecordMetadata& md, const kfk::Error& err) {
//     if (!err.ok()) std::cerr << md.topic << ": " << err.to_string() << "\n";
//     else std::cout << md.topic << "-" << md.partition << "@" << md.offset << "\n";
//   });
#pragma once

#include "kfk/internal/require_cxx20.h"
#if KFK_INTERNAL_CXX20

#include "kfk/internal/export.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "kfk/error.h"

namespace kfk {

// A byte string: a record key or value, owned or borrowed.
class KFK_EXPORT Bytes {
 public:
  // Empty (zero bytes; not null: nullness is std::optional<Bytes>).
  Bytes() noexcept = default;

  // Owning: the container is moved in (no copy when passed an rvalue).
  Bytes(std::string s) noexcept : storage_(std::move(s)) {}
  Bytes(std::vector<uint8_t> v) noexcept : storage_(std::move(v)) {}
  Bytes(std::vector<std::byte> v) noexcept : storage_(std::move(v)) {}

  // Owning copies of a view. A null `s` is treated as empty.
  Bytes(const char* s) : storage_(std::string(s != nullptr ? s : "")) {}
  Bytes(std::string_view s) : storage_(std::string(s)) {}
  Bytes(std::span<const std::byte> s) : storage_(std::string(reinterpret_cast<const char*>(s.data()), s.size())) {}
  Bytes(std::span<const uint8_t> s) : storage_(std::string(reinterpret_cast<const char*>(s.data()), s.size())) {}

  // Borrowing: no copy. The memory must stay valid for as long as this Bytes
  // (or a ProducerRecord holding it) is used; send() is done with it when it
  // returns. make_owned() turns a borrowed Bytes into an owning one.
  static Bytes borrow(std::string_view s) noexcept { return Bytes(View{s.data(), s.size()}); }
  static Bytes borrow(std::span<const std::byte> s) noexcept {
    return Bytes(View{reinterpret_cast<const char*>(s.data()), s.size()});
  }
  static Bytes borrow(std::span<const uint8_t> s) noexcept {
    return Bytes(View{reinterpret_cast<const char*>(s.data()), s.size()});
  }

  const std::byte* data() const noexcept { return reinterpret_cast<const std::byte*>(chars()); }
  size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  std::span<const std::byte> span() const noexcept { return {data(), size()}; }
  std::span<const uint8_t> u8() const noexcept { return {reinterpret_cast<const uint8_t*>(chars()), size()}; }
  std::string_view view() const noexcept { return {chars(), size()}; }

  bool borrowed() const noexcept { return std::holds_alternative<View>(storage_); }
  // Copies borrowed bytes into owned storage; no-op when already owning.
  Bytes& make_owned() {
    if (borrowed()) storage_ = std::string(view());
    return *this;
  }

  friend bool operator==(const Bytes& a, const Bytes& b) noexcept { return a.view() == b.view(); }

 private:
  struct View {
    const char* data;
    size_t size;
  };
  explicit Bytes(View v) noexcept : storage_(v) {}
  const char* chars() const noexcept;

  std::variant<std::string, std::vector<uint8_t>, std::vector<std::byte>, View> storage_;
};

inline size_t Bytes::size() const noexcept {
  switch (storage_.index()) {
    case 0: return std::get<0>(storage_).size();
    case 1: return std::get<1>(storage_).size();
    case 2: return std::get<2>(storage_).size();
    default: return std::get<3>(storage_).size;
  }
}

inline const char* Bytes::chars() const noexcept {
  switch (storage_.index()) {
    case 0: return std::get<0>(storage_).data();
    case 1: return reinterpret_cast<const char*>(std::get<1>(storage_).data());
    case 2: return reinterpret_cast<const char*>(std::get<2>(storage_).data());
    default: return std::get<3>(storage_).data;
  }
}

// A record header. Keys are strings; a value may be null.
struct Header {
  std::string key;
  std::optional<std::string> value;

  Header() = default;
  Header(std::string k, std::optional<std::string> v) : key(std::move(k)), value(std::move(v)) {}

  friend bool operator==(const Header&, const Header&) = default;
};

// One record to send. Every field is public; the constructors cover the
// common shapes.
struct KFK_EXPORT ProducerRecord {
  std::string topic;
  std::optional<int32_t> partition;    // nullopt: the partitioner chooses
  std::optional<Bytes> key;            // nullopt: null key
  std::optional<Bytes> value;          // nullopt: null value (a tombstone on compacted topics)
  std::vector<Header> headers;
  std::optional<int64_t> timestamp;    // ms since the epoch; nullopt: the time of send()

  ProducerRecord() = default;
  // No key.
  ProducerRecord(std::string t, std::optional<Bytes> v) : topic(std::move(t)), value(std::move(v)) {}
  ProducerRecord(std::string t, std::optional<Bytes> k, std::optional<Bytes> v)
      : topic(std::move(t)), key(std::move(k)), value(std::move(v)) {}
  // A fixed partition.
  ProducerRecord(std::string t, int32_t p, std::optional<Bytes> k, std::optional<Bytes> v)
      : topic(std::move(t)), partition(p), key(std::move(k)), value(std::move(v)) {}

  ProducerRecord& add_header(std::string k, std::optional<std::string> v) {
    headers.emplace_back(std::move(k), std::move(v));
    return *this;
  }

  // Makes borrowed key/value bytes owned (for keeping the record beyond the
  // lifetime of the memory it borrows).
  ProducerRecord& make_owned() {
    if (key) key->make_owned();
    if (value) value->make_owned();
    return *this;
  }
};

// What the broker said about one sent record.
struct RecordMetadata {
  // Points at the producer's own copy of the topic name: valid while the
  // producer exists. Copy it (std::string(md.topic)) to keep it longer.
  std::string_view topic;
  int32_t partition = -1;
  // The record's offset; -1 when unknown (acks=0, or the record failed).
  int64_t offset = -1;
  // CreateTime topics: the record's timestamp. LogAppendTime topics: the
  // broker's append time. -1 when the record failed.
  int64_t timestamp = -1;
  // Bytes of the serialized key / value; -1 for a null key / value.
  int32_t serialized_key_size = -1;
  int32_t serialized_value_size = -1;

  bool has_offset() const { return offset >= 0; }
};

// Called once per record with its outcome. A move-only callable: any
// function object invocable as f(const RecordMetadata&, const Error&), held
// without a heap allocation when it is at most kInlineSize bytes and
// nothrow-movable (a lambda capturing a few pointers, a shared_ptr or a
// std::function all fit). Empty by default; an empty callback is skipped.
//
// The producer runs callbacks on its callback thread, one at a time, in
// record order within a partition. A callback should be quick: a slow one
// delays later callbacks (never the network). Exceptions thrown by a
// callback are caught and logged.
class KFK_EXPORT DeliveryCallback {
 public:
  static constexpr size_t kInlineSize = 48;

  DeliveryCallback() noexcept = default;
  DeliveryCallback(std::nullptr_t) noexcept {}

  template <class F, class D = std::decay_t<F>>
    requires(!std::is_same_v<D, DeliveryCallback> && std::is_invocable_v<D&, const RecordMetadata&, const Error&>)
  DeliveryCallback(F&& f) {  // NOLINT: implicit on purpose, like std::function
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D>) {
      if (f == nullptr) return;  // a null function pointer makes an empty callback
    }
    if constexpr (kStoredInline<D>) {
      ::new (static_cast<void*>(buf_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* p = new D(std::forward<F>(f));
      std::memcpy(buf_, &p, sizeof p);
      ops_ = &kHeapOps<D>;
    }
  }

  DeliveryCallback(DeliveryCallback&& other) noexcept { take(other); }
  DeliveryCallback& operator=(DeliveryCallback&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  DeliveryCallback(const DeliveryCallback&) = delete;
  DeliveryCallback& operator=(const DeliveryCallback&) = delete;
  ~DeliveryCallback() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }
  void operator()(const RecordMetadata& md, const Error& err) { ops_->invoke(buf_, md, err); }
  void reset() noexcept {
    if (ops_ != nullptr) ops_->destroy(buf_);
    ops_ = nullptr;
  }

 private:
  struct Ops {
    void (*invoke)(void* self, const RecordMetadata&, const Error&);
    void (*move)(void* dst, void* src) noexcept;  // move-constructs into dst, destroys src
    void (*destroy)(void* self) noexcept;
  };
  template <class D>
  static constexpr bool kStoredInline = sizeof(D) <= kInlineSize && alignof(D) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<D>;
  template <class D>
  static constexpr Ops kInlineOps = {
      [](void* s, const RecordMetadata& md, const Error& e) { (*std::launder(static_cast<D*>(s)))(md, e); },
      [](void* d, void* s) noexcept {
        D* src = std::launder(static_cast<D*>(s));
        ::new (d) D(std::move(*src));
        src->~D();
      },
      [](void* s) noexcept { std::launder(static_cast<D*>(s))->~D(); },
  };
  template <class D>
  static D* heap_ptr(void* s) noexcept {
    D* p;
    std::memcpy(&p, s, sizeof p);
    return p;
  }
  template <class D>
  static constexpr Ops kHeapOps = {
      [](void* s, const RecordMetadata& md, const Error& e) { (*heap_ptr<D>(s))(md, e); },
      [](void* d, void* s) noexcept { std::memcpy(d, s, sizeof(D*)); },
      [](void* s) noexcept { delete heap_ptr<D>(s); },
  };

  void take(DeliveryCallback& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(buf_, other.buf_);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buf_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace kfk

#endif  // KFK_INTERNAL_CXX20
