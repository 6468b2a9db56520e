// Clang thread-safety annotations (Abseil/LLVM style): they let the compiler
// check which mutex guards which data. With clang and -Wthread-safety
// (meson -Dthread_safety_analysis=true, which CI builds) a read or write of a
// GUARDED_BY member without its mutex held, or a call to a REQUIRES function
// without the capability, is a compile error. Every other compiler sees
// nothing: the macros expand to nothing, so they cost nothing at run time and
// GCC builds are unaffected.
//
// std::mutex in libstdc++ carries no annotations, so annotated state is
// guarded by kfk::Mutex / kfk::SharedMutex (io/mutex.h), which do.
//
//   class Queue {
//     Mutex mu_;
//     std::vector<Item> items_ GUARDED_BY(mu_);
//     void push_locked(Item) REQUIRES(mu_);
//   };
//
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html for the rules.
#pragma once

#if defined(__clang__) && !defined(SWIG)
#define KFK_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define KFK_THREAD_ANNOTATION_(x)  // no-op: GCC and others know no such attributes
#endif

// Types.
#define CAPABILITY(x) KFK_THREAD_ANNOTATION_(capability(x))
#define SCOPED_CAPABILITY KFK_THREAD_ANNOTATION_(scoped_lockable)

// Data.
#define GUARDED_BY(x) KFK_THREAD_ANNOTATION_(guarded_by(x))
#define PT_GUARDED_BY(x) KFK_THREAD_ANNOTATION_(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) KFK_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) KFK_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// Functions: what the caller must (not) hold.
#define REQUIRES(...) KFK_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) KFK_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) KFK_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))

// Functions: what they acquire or release.
#define ACQUIRE(...) KFK_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) KFK_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) KFK_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) KFK_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) KFK_THREAD_ANNOTATION_(release_generic_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) KFK_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) KFK_THREAD_ANNOTATION_(try_acquire_shared_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) KFK_THREAD_ANNOTATION_(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) KFK_THREAD_ANNOTATION_(assert_shared_capability(x))
#define RETURN_CAPABILITY(x) KFK_THREAD_ANNOTATION_(lock_returned(x))

// Opts a function out of the analysis. Only where the locking is correct but
// beyond what the analysis can follow; say why at each use.
#define NO_THREAD_SAFETY_ANALYSIS KFK_THREAD_ANNOTATION_(no_thread_safety_analysis)
