// ThreadSanitizer builds only (-Dsanitizers=thread): C11 thread creation and
// joining routed through pthreads, for librdkafka.
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
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

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
