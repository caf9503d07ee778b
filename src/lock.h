/*
 * A lock of one word for critical sections of a few dozen instructions
 * that make no system call: the slab's, a parallel block's. Uncontended,
 * taking and giving it are one atomic instruction each, where a pthread
 * mutex's pair cost 57 instructions (glibc 2.36: a call each, the
 * mutex's kind dispatched). Contended, a taker spins briefly, then sleeps
 * on a futex, as a mutex does. The three states are those of Drepper's
 * "Futexes Are Tricky" (its third mutex): 0 free, 1 held, 2 held with a
 * sleeper perhaps. A condition to wait for under it (salvo__cond) is a
 * count that wakers bump, so that a wake-up between a waiter's giving the
 * lock and its sleep is never lost.
 */
#ifndef SALVO_LOCK_H
#define SALVO_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct salvo__lock {
  atomic_int v;
} salvo__lock;

#define SALVO__LOCK_INIT                                                       \
  { 0 }

/* The contended paths, out of line. */
void salvo__lock_wait(salvo__lock *l);
void salvo__lock_wake(salvo__lock *l);

static inline void salvo__lock_take(salvo__lock *l) {
  int free_ = 0;
  if (!atomic_compare_exchange_strong_explicit(
          &l->v, &free_, 1, memory_order_acquire, memory_order_relaxed))
    salvo__lock_wait(l);
}

static inline void salvo__lock_give(salvo__lock *l) {
  if (atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2)
    salvo__lock_wake(l);
}

typedef struct salvo__cond {
  atomic_uint seq;
} salvo__cond;

#define SALVO__COND_INIT                                                       \
  { 0 }

/* Gives l (held), sleeps until a broadcast or until deadline
 * (CLOCK_MONOTONIC ns; -1 for ever), and takes l again: 0, or ETIMEDOUT.
 * It may return early for no reason: the caller looks again. */
int salvo__cond_wait(salvo__cond *c, salvo__lock *l, int64_t deadline);
/* Wakes every waiter of c. What they wait for must have changed under
 * their lock; the call itself may come after the lock is given (no waiter
 * can then be between looking and sleeping unseen: it read the count
 * under the lock, before the change). */
void salvo__cond_broadcast(salvo__cond *c);

#endif /* SALVO_LOCK_H */
