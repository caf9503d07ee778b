/* The contended paths of lock.h's lock. */
#define _GNU_SOURCE
#include "lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
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
