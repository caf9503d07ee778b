/* The contended paths of lock.h's lock, and its condition. */
#define _GNU_SOURCE
#include "lock.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Spins before sleeping: a holder's critical section is shorter than a
 * futex round trip. */
#define SPINS 100

void salvo__lock_wait(salvo__lock *l) {
  for (int i = 0; i < SPINS; i++) {
    int free_ = 0;
    if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_weak_explicit(
            &l->v, &free_, 1, memory_order_acquire, memory_order_relaxed))
      return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  /* Marked as having a sleeper (2), whoever holds it wakes one on giving. */
  while (atomic_exchange_explicit(&l->v, 2, memory_order_acquire) != 0)
    syscall(SYS_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

void salvo__lock_wake(salvo__lock *l) {
  syscall(SYS_futex, &l->v, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int salvo__cond_wait(salvo__cond *c, salvo__lock *l, int64_t deadline) {
  unsigned seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
  struct timespec at, *tp = NULL;
  if (deadline >= 0) {
    at.tv_sec = (time_t)(deadline / 1000000000);
    at.tv_nsec = (long)(deadline % 1000000000);
    tp = &at;
  }
  salvo__lock_give(l);
  /* An absolute time on CLOCK_MONOTONIC (FUTEX_WAIT_BITSET's own): a
   * wall-clock step neither stretches nor cuts the wait. */
  long rc = syscall(SYS_futex, &c->seq, FUTEX_WAIT_BITSET_PRIVATE, seq, tp,
                    NULL, FUTEX_BITSET_MATCH_ANY);
  int err = rc < 0 ? errno : 0;
  salvo__lock_take(l);
  return err == ETIMEDOUT ? ETIMEDOUT : 0;
}

void salvo__cond_broadcast(salvo__cond *c) {
  atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
  syscall(SYS_futex, &c->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}
