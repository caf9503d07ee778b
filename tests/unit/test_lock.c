/* The one-word lock (src/lock.h): four threads counting under it lose no
 * count; a taker that finds it held sleeps (the lock says so: state 2)
 * and is woken when it is given; held and given from one thread it is
 * free again. Its condition: two threads passing a turn back and forth
 * 20,000 times never miss a wake-up (a lost one would hang: ctest's
 * limit ends it); a timed wait with nobody to wake it ends at its
 * deadline, not before. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "lock.h"

#define THREADS 4
#define ROUNDS 200000

static salvo__lock lock = SALVO__LOCK_INIT;
static long counted; /* under lock */

static void *counter(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    salvo__lock_take(&lock);
    counted++;
    salvo__lock_give(&lock);
  }
  return NULL;
}

static void test_no_count_lost(void **state) {
  (void)state;
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, counter, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(counted, (long)THREADS * ROUNDS);
  assert_int_equal(atomic_load(&lock.v), 0);
}

static atomic_int taken;

static void *taker(void *arg) {
  salvo__lock *l = arg;
  salvo__lock_take(l);
  atomic_store(&taken, 1);
  salvo__lock_give(l);
  return NULL;
}

static void test_sleeper_woken(void **state) {
  (void)state;
  salvo__lock l = SALVO__LOCK_INIT;
  salvo__lock_take(&l);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, taker, &l), 0);
  /* The taker spins, then marks the lock as having a sleeper: wait for
   * that mark (10 s at most), which proves it took the sleeping path. */
  for (int i = 0; i < 10000 && atomic_load(&l.v) != 2; i++)
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  assert_int_equal(atomic_load(&l.v), 2);
  assert_int_equal(atomic_load(&taken), 0);
  salvo__lock_give(&l);
  pthread_join(t, NULL);
  assert_int_equal(atomic_load(&taken), 1);
  assert_int_equal(atomic_load(&l.v), 0);
}

#define TURNS 20000
static salvo__lock turn_lock = SALVO__LOCK_INIT;
static salvo__cond turn_cond = SALVO__COND_INIT;
static int turn; /* whose turn: 0 or 1; under turn_lock */

static void *player(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int i = 0; i < TURNS; i++) {
    salvo__lock_take(&turn_lock);
    while (turn != me)
      salvo__cond_wait(&turn_cond, &turn_lock, -1);
    turn = !me;
    salvo__cond_broadcast(&turn_cond);
    salvo__lock_give(&turn_lock);
  }
  return NULL;
}

static void test_turns_never_lost(void **state) {
  (void)state;
  pthread_t a, b;
  assert_int_equal(pthread_create(&a, NULL, player, (void *)(intptr_t)0), 0);
  assert_int_equal(pthread_create(&b, NULL, player, (void *)(intptr_t)1), 0);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  assert_int_equal(turn, 0); /* 2 x 20,000 turns passed */
}

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_timed_wait_ends_at_deadline(void **state) {
  (void)state;
  salvo__lock l = SALVO__LOCK_INIT;
  salvo__cond c = SALVO__COND_INIT;
  int64_t deadline = mono_ns() + 20000000; /* 20 ms */
  int rc = 0;
  salvo__lock_take(&l);
  while (rc != ETIMEDOUT) /* an early return is allowed: look again */
    rc = salvo__cond_wait(&c, &l, deadline);
  salvo__lock_give(&l);
  int64_t now = mono_ns();
  if (now < deadline) {
    print_error("woke %lld ns before its deadline\n",
                (long long)(deadline - now));
    fail();
  }
  assert_int_equal(atomic_load(&l.v), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_count_lost),
      cmocka_unit_test(test_sleeper_woken),
      cmocka_unit_test(test_turns_never_lost),
      cmocka_unit_test(test_timed_wait_ends_at_deadline),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
