// ThreadSanitizer builds only (-Dsanitizers=thread): C11 threads, mutexes
// and condition variables routed through pthreads, for librdkafka, and
// libuv's raw close syscall through close().
//
// librdkafka starts its threads with C11 thrd_create(). glibc (2.34 on)
// implements it by calling its internal pthread_create directly, past the
// interceptor through which ThreadSanitizer learns of new threads, and
// clang 14's runtime has no thrd_create interceptor: the first allocation on
// such a thread crashes inside TSan's allocator (its thread state was never
// set up). Defined in the test executable, these functions take precedence
// over glibc's for librdkafka.so and go through the intercepted pthread
// calls, so TSan knows those threads and their joins. Nothing else changes:
// the thread runs the same function with the same argument.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

struct kfk_thrd_start {
  thrd_start_t fn;
  void* arg;
};

static void* kfk_thrd_trampoline(void* p) {
  struct kfk_thrd_start s = *(struct kfk_thrd_start*)p;
  free(p);
  return (void*)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  struct kfk_thrd_start* s = malloc(sizeof *s);
  if (s == NULL) return thrd_nomem;
  s->fn = fn;
  s->arg = arg;
  int rc = pthread_create(thr, NULL, kfk_thrd_trampoline, s);
  if (rc != 0) {
    free(s);
    return rc == EAGAIN ? thrd_nomem : thrd_error;
  }
  return thrd_success;
}

int thrd_join(thrd_t thr, int* res) {
  void* out = NULL;
  if (pthread_join(thr, &out) != 0) return thrd_error;
  if (res != NULL) *res = (int)(intptr_t)out;
  return thrd_success;
}

int thrd_detach(thrd_t thr) { return pthread_detach(thr) == 0 ? thrd_success : thrd_error; }

// Mutexes and condition variables likewise: glibc's mtx_*/cnd_* call its
// internal pthread functions, past TSan's interceptors, so TSan would see
// no ordering between librdkafka's threads and the application's (a message
// written by a broker thread and read after rd_kafka_consumer_poll()
// returned it would look like a race). glibc's mtx_t and cnd_t have the
// layout of pthread_mutex_t and pthread_cond_t, as its own C11 functions
// rely on.
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is a pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is a pthread_cond_t");

static int kfk_thrd_result(int rc) {
  switch (rc) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
  }
}

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init((pthread_mutex_t*)m, &attr);
  pthread_mutexattr_destroy(&attr);
  return kfk_thrd_result(rc);
}
int mtx_lock(mtx_t* m) { return kfk_thrd_result(pthread_mutex_lock((pthread_mutex_t*)m)); }
int mtx_trylock(mtx_t* m) { return kfk_thrd_result(pthread_mutex_trylock((pthread_mutex_t*)m)); }
int mtx_timedlock(mtx_t* restrict m, const struct timespec* restrict ts) {
  return kfk_thrd_result(pthread_mutex_timedlock((pthread_mutex_t*)m, ts));
}
int mtx_unlock(mtx_t* m) { return kfk_thrd_result(pthread_mutex_unlock((pthread_mutex_t*)m)); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy((pthread_mutex_t*)m); }

int cnd_init(cnd_t* c) { return kfk_thrd_result(pthread_cond_init((pthread_cond_t*)c, NULL)); }
int cnd_signal(cnd_t* c) { return kfk_thrd_result(pthread_cond_signal((pthread_cond_t*)c)); }
int cnd_broadcast(cnd_t* c) { return kfk_thrd_result(pthread_cond_broadcast((pthread_cond_t*)c)); }
int cnd_wait(cnd_t* c, mtx_t* m) { return kfk_thrd_result(pthread_cond_wait((pthread_cond_t*)c, (pthread_mutex_t*)m)); }
int cnd_timedwait(cnd_t* restrict c, mtx_t* restrict m, const struct timespec* restrict ts) {
  return kfk_thrd_result(pthread_cond_timedwait((pthread_cond_t*)c, (pthread_mutex_t*)m, ts));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy((pthread_cond_t*)c); }

// libuv closes descriptors with syscall(SYS_close, fd) (uv__close_nocancel),
// past TSan's close() interceptor: TSan would never learn that a socket is
// gone and would report the next user of its number (a data file a broker
// opens, another connection's socket) as racing with the old one. The
// executable's syscall() sends SYS_close through close(), which TSan sees,
// and every other call to the C library's.
long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a0 = va_arg(ap, long), a1 = va_arg(ap, long), a2 = va_arg(ap, long);
  long a3 = va_arg(ap, long), a4 = va_arg(ap, long), a5 = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_close) return close((int)a0);
  // Looked up once; atomics, since any thread may be first (libstdc++'s
  // futex waits come through here too).
  static long (*libc_syscall)(long, ...) = NULL;
  long (*real)(long, ...) = __atomic_load_n(&libc_syscall, __ATOMIC_ACQUIRE);
  if (real == NULL) {
    real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    __atomic_store_n(&libc_syscall, real, __ATOMIC_RELEASE);
  }
  return real(number, a0, a1, a2, a3, a4, a5);
}
