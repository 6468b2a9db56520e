#include <doctest/doctest.h>
#include <kfk/error.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "client/client_errors.h"
#include "protocol/error_codes.h"

TEST_CASE("kfk::Error: success, table-driven failures, local codes") {
  kfk::Error ok;
  CHECK(ok.ok());
  CHECK(std::string(ok.name()) == "NONE");
  CHECK(ok.to_string() == "OK");
  CHECK(kfk::Error::from_code(0).ok());

  auto nl = kfk::Error::from_code(kfk::errc::kNotLeaderOrFollower, "orders-3");
  CHECK_FALSE(nl.ok());
  CHECK(nl.code() == 6);
  CHECK(nl.retriable());
  CHECK_FALSE(nl.fatal());
  CHECK(std::string(nl.name()) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(nl.message().find("orders-3") != std::string::npos);
  CHECK(nl.to_string().rfind("NOT_LEADER_OR_FOLLOWER: ", 0) == 0);

  auto cfg = kfk::Error(kfk::errc::kInvalidClientConfig, "linger.ms: expected an integer >= 0, got 'soon'");
  CHECK(std::string(cfg.name()) == "INVALID_CLIENT_CONFIG");
  CHECK_FALSE(cfg.retriable());
  CHECK(cfg.to_string().find("linger.ms") != std::string::npos);

  auto oos = kfk::Error::from_code(kfk::errc::kOutOfOrderSequenceNumber);
  CHECK(oos.code() == 45);
  CHECK_FALSE(oos.retriable());

  auto unknown = kfk::Error::from_code(9999);
  CHECK(unknown.code() == 9999);
  CHECK(std::string(unknown.name()) == "UNKNOWN_ERROR_CODE");
  CHECK(kfk::Error::from_code(kfk::errc::kTimedOut) == kfk::Error(kfk::errc::kTimedOut, "other text"));
}

// --- Allocation counting -----------------------------------------------------
// The test binary's global operator new counts the calls made on a thread
// while that thread has counting on (nothing else changes: it allocates with
// malloc as the default does).
namespace {
thread_local bool t_counting = false;
thread_local long t_allocations = 0;

struct CountAllocations {
  CountAllocations() {
    t_allocations = 0;
    t_counting = true;
  }
  ~CountAllocations() { t_counting = false; }
  long count() const { return t_allocations; }
};
}  // namespace

// Sanitizer runtimes own operator new (a replacement would not link, and
// would hide their allocations): the allocation test is skipped there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KFK_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define KFK_TEST_SANITIZED 1
#endif
#endif
#ifndef KFK_TEST_SANITIZED
#define KFK_TEST_SANITIZED 0
void* operator new(std::size_t n) {
  if (t_counting) ++t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

// --- The Error type's promises ------------------------------------------------

static_assert(sizeof(kfk::Error) == sizeof(void*), "an Error is one pointer");
static_assert(std::is_nothrow_default_constructible_v<kfk::Error>);
static_assert(std::is_nothrow_copy_constructible_v<kfk::Error>);
static_assert(std::is_nothrow_move_constructible_v<kfk::Error>);
static_assert(std::is_nothrow_copy_assignable_v<kfk::Error>);
static_assert(std::is_nothrow_move_assignable_v<kfk::Error>);
static_assert(std::is_nothrow_destructible_v<kfk::Error>);

namespace {
kfk::Error succeed() { return kfk::Error::success(); }
}  // namespace

TEST_CASE("kfk::Error: success never allocates" * doctest::skip(KFK_TEST_SANITIZED)) {
  long n = 0;
  {
    CountAllocations counting;
    kfk::Error a;
    kfk::Error b = succeed();
    kfk::Error c = kfk::Error::from_code(0);
    kfk::Error d(a);
    kfk::Error e(std::move(b));
    c = d;
    d = std::move(e);
    bool all_ok = a.ok() && c.ok() && d.ok() && a.code() == 0 && a.message().empty() && !a.retriable() &&
                  !a.fatal() && !a.abortable() && std::string_view(a.name()) == "NONE" && a == c;
    CHECK(all_ok);
    n = counting.count();
  }
  CHECK(n == 0);

  // The counter does count: a failure allocates its one shared block, and a
  // copy of it does not allocate again.
  {
    CountAllocations counting;
    kfk::Error f(kfk::errc::kTimedOut, "x");
    const long made = counting.count();
    kfk::Error g = f;
    CHECK(made >= 1);
    CHECK(counting.count() == made);
    CHECK(g.code() == kfk::errc::kTimedOut);
  }
}

TEST_CASE("kfk::Error: copies share one failure; moves leave success behind") {
  kfk::Error f(kfk::errc::kState, "a message long enough to live on the heap, not in a small string");
  kfk::Error copy = f;
  CHECK(copy.message().data() == f.message().data());  // shared, not copied
  CHECK(copy.code() == kfk::errc::kState);
  kfk::Error moved = std::move(copy);
  CHECK(copy.ok());  // NOLINT(bugprone-use-after-move): the documented moved-from state
  CHECK(moved.message() == f.message());
  moved = kfk::Error();
  CHECK(moved.ok());
  CHECK(f.message().find("small string") != std::string::npos);  // the others' drops left it alive
  kfk::Error& same = f;
  f = same;  // self-assignment keeps it
  CHECK(f.code() == kfk::errc::kState);

  // Copies held and dropped on several threads at once (ThreadSanitizer's
  // business when it runs; here: nothing lost, nothing freed early).
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([f] {
      for (int i = 0; i < 10000; ++i) {
        kfk::Error local = f;
        kfk::Error other(local);
        local = other;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(f.message().find("heap") != std::string::npos);
}

TEST_CASE("kfk::Error: flags; abortable() only when asked for") {
  kfk::Error plain(kfk::errc::kState, "s");
  CHECK_FALSE(plain.retriable());
  CHECK_FALSE(plain.fatal());
  CHECK_FALSE(plain.abortable());

  kfk::Error abortable(kfk::errc::kTransactionAbortable, "the transaction must be aborted",
                       kfk::Error::Flags{.abortable = true});
  CHECK(abortable.abortable());
  CHECK_FALSE(abortable.retriable());
  CHECK_FALSE(abortable.fatal());
  CHECK(kfk::Error(abortable).abortable());  // copies keep the flags

  kfk::Error all(kfk::errc::kState, "all", kfk::Error::Flags{.retriable = true, .fatal = true, .abortable = true});
  CHECK((all.retriable() && all.fatal() && all.abortable()));
  CHECK(kfk::Error(kfk::errc::kTimedOut, "r", true).retriable());
  CHECK(kfk::Error(kfk::errc::kFatal, "f", false, true).fatal());
  CHECK_FALSE(kfk::Error(kfk::errc::kFatal, "f", false, true).abortable());

  // Code 0 is success whatever the flags.
  kfk::Error none(0, "ignored", kfk::Error::Flags{.retriable = true, .fatal = true, .abortable = true});
  CHECK(none.ok());
  CHECK_FALSE(none.abortable());
  CHECK(none.message().empty());

  // The tables never make an abortable error (nothing is transactional yet),
  // not even Kafka's TRANSACTION_ABORTABLE; fatal() only for kFatal.
  for (int code : {kfk::errc::kTransactionAbortable, kfk::errc::kProducerFenced, kfk::errc::kTimedOut,
                   kfk::errc::kFatal}) {
    CAPTURE(code);
    CHECK_FALSE(kfk::Error::from_code(code).abortable());
    CHECK(kfk::Error::from_code(code).fatal() == (code == kfk::errc::kFatal));
  }
}

TEST_CASE("errc: the generated constants carry the tables' codes and names") {
  struct Spot {
    int constant;
    int code;
    const char* name;
  };
  const Spot spots[] = {
      {kfk::errc::kUnknownServerError, -1, "UNKNOWN_SERVER_ERROR"},
      {kfk::errc::kNone, 0, "NONE"},
      {kfk::errc::kOffsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE"},
      {kfk::errc::kNotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER"},
      {kfk::errc::kInvalidTopicException, 17, "INVALID_TOPIC_EXCEPTION"},
      {kfk::errc::kUnsupportedVersion, 35, "UNSUPPORTED_VERSION"},
      {kfk::errc::kBrokerInvalidConfig, 40, "INVALID_CONFIG"},  // the one name exception
      {kfk::errc::kKafkaStorageError, 56, "KAFKA_STORAGE_ERROR"},
      {kfk::errc::kProducerFenced, 90, "PRODUCER_FENCED"},
      {kfk::errc::kTransactionAbortable, 120, "TRANSACTION_ABORTABLE"},
      {kfk::errc::kShareSessionLimitReached, 133, "SHARE_SESSION_LIMIT_REACHED"},  // newest in the table
      {kfk::errc::kInvalidClientConfig, -100, "INVALID_CLIENT_CONFIG"},
      {kfk::errc::kTimedOut, -101, "TIMED_OUT"},
      {kfk::errc::kQueueFull, -102, "QUEUE_FULL"},
      {kfk::errc::kTransport, -103, "TRANSPORT"},
      {kfk::errc::kDestroyed, -104, "DESTROYED"},
      {kfk::errc::kFatal, -109, "FATAL"},
      {kfk::errc::kWakeup, -110, "WAKEUP"},
      {kfk::errc::kMsgTimedOut, -115, "MSG_TIMED_OUT"},
      {kfk::errc::kInterceptor, -117, "INTERCEPTOR"},
      {kfk::errc::kNoCommonApiVersion, -118, "NO_COMMON_API_VERSION"},
  };
  for (const Spot& s : spots) {
    CAPTURE(s.name);
    CHECK(s.constant == s.code);
    CHECK(std::string(kfk::Error::from_code(s.constant).name()) == s.name);
  }
  // Every code of both tables is known to Error under the table's name.
  using Table = std::span<const kfk::proto::ErrorInfo>;
  for (Table table : {kfk::proto::all_errors(), kfk::all_client_errors()})
    for (const kfk::proto::ErrorInfo& e : table) {
      CAPTURE(e.name);
      CHECK(std::string(kfk::Error::from_code(e.code).name()) == e.name);
      CHECK(kfk::Error::from_code(e.code).retriable() == e.retriable);
    }
}

TEST_CASE("client-local codes: their own table, apart from Kafka's") {
  std::set<std::string> kafka_names;
  for (const kfk::proto::ErrorInfo& e : kfk::proto::all_errors()) kafka_names.insert(e.name);
  int expected = kfk::kMaxClientErrorCode;
  for (const kfk::proto::ErrorInfo& e : kfk::all_client_errors()) {
    CAPTURE(e.name);
    CHECK(e.code == expected--);  // dense, from -100 down
    CHECK(e.code <= -100);
    CHECK(kfk::proto::find_error(static_cast<int16_t>(e.code)) == nullptr);  // not in the codec's table
    CHECK(kafka_names.count(e.name) == 0);
    CHECK(kfk::find_client_error(e.code) == &e);
    CHECK(std::strlen(e.text) > 0);
  }
  CHECK(expected + 1 == kfk::kMinClientErrorCode);
  CHECK(kfk::find_client_error(-99) == nullptr);
  CHECK(kfk::find_client_error(kfk::kMinClientErrorCode - 1) == nullptr);
  CHECK(kfk::find_client_error(6) == nullptr);

  // The local "no common version" is not Kafka's UNSUPPORTED_VERSION.
  CHECK(kfk::errc::kNoCommonApiVersion != kfk::errc::kUnsupportedVersion);
  CHECK(kfk::errc::kInvalidClientConfig != kfk::errc::kBrokerInvalidConfig);

  // Retriable local codes (moved here from the codec's table test).
  for (int c : {kfk::errc::kTimedOut, kfk::errc::kQueueFull, kfk::errc::kTransport, kfk::errc::kAllBrokersDown,
                kfk::errc::kResolve}) {
    CAPTURE(c);
    CHECK(kfk::Error::from_code(c).retriable());
  }
  for (int c : {kfk::errc::kInvalidClientConfig, kfk::errc::kDestroyed, kfk::errc::kFatal, kfk::errc::kMsgTimedOut,
                kfk::errc::kNoCommonApiVersion}) {
    CAPTURE(c);
    CHECK_FALSE(kfk::Error::from_code(c).retriable());
  }
}
