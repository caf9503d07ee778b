/* The scheduler (src/scheduler.c) on a fake clock: the token bucket's
 * exact pacing, concurrency and per-origin caps, queue limits, and a
 * request back from its backoff ahead of later ones. No socket, no
 * sleep: time moves when the test says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "fake_clock.h"
#include "scheduler.h"

#define N 64

typedef struct world {
  fake_clock fc;
  salvo__cfg cfg;
  salvo__sched *s;
  salvo__sched_entry e[N];
} world;

static world *world_new(void (*tune)(salvo_config *)) {
  world *w = calloc(1, sizeof(*w));
  assert_non_null(w);
  fake_clock_init(&w->fc, 1000 * S_NS, 1700000000);
  salvo_config in;
  salvo_config_init(&in);
  if (tune)
    tune(&in);
  char *msg = NULL;
  assert_int_equal(salvo__cfg_resolve(&w->cfg, &in, &msg), 0);
  w->s = salvo__sched_new(&w->cfg, &w->fc.clock);
  assert_non_null(w->s);
  return w;
}

static void world_free(world *w) {
  salvo__sched_free(w->s);
  salvo__cfg_free(&w->cfg);
  free(w);
}

static int idx(world *w, salvo__sched_entry *e) { return (int)(e - w->e); }

static void add(world *w, int i, const char *origin, int64_t limit) {
  assert_int_equal(salvo__sched_add(w->s, &w->e[i], origin,
                                    salvo__hash_n(origin, strlen(origin)),
                                    limit, w->fc.ns),
                   0);
}

/* Runs the clock to the scheduler's next deadline and its timers, as the
 * engine's loop does (late by `lag` ns, as a woken thread is), and records the
 * time of each start. Returns the number of starts. */
static int run(world *w, int want, int64_t lag, int64_t *at) {
  int n = 0;
  while (n < want) {
    salvo__sched_entry *e;
    while (n < want && (e = salvo__sched_next(w->s, w->fc.ns))) {
      at[n++] = w->fc.ns;
      salvo__sched_release(w->s, e); /* it ends at once */
    }
    int64_t d = salvo__sched_deadline(w->s);
    if (n < want) {
      assert_true(d > w->fc.ns); /* never a busy loop */
      w->fc.ns = d + lag;
      salvo__sched_entry *u;
      assert_null(salvo__sched_expire(w->s, w->fc.ns, &u));
      assert_null(u);
    }
  }
  return n;
}

static void rate_10(salvo_config *c) { c->rate_limit = 10; }

/* rate_limit 10/s, burst 1: the first start at once, then one every
 * 100 ms to the nanosecond's rounding, whatever the loop's lag. */
static void test_rate_paces_exactly(void **state) {
  (void)state;
  world *w = world_new(rate_10);
  for (int i = 0; i < 50; i++)
    add(w, i, "http://a:80", 0);
  int64_t at[50], t0 = w->fc.ns;
  assert_int_equal(run(w, 50, 0, at), 50);
  for (int i = 0; i < 50; i++) {
    int64_t want = t0 + i * 100 * MS_NS;
    assert_true(at[i] >= want - 2 && at[i] <= want + 2);
  }
  world_free(w);
}

/* A loop that wakes late (70 us, a sleeping thread's wake-up) loses no
 * rate: the half token of slack absorbs it, so 50 starts still take 4.9 s
 * of the clock plus at most the lag of each wait, and no window of 1 s
 * ever holds more than rate + burst + 0.5 starts. */
static void test_rate_absorbs_lag(void **state) {
  (void)state;
  world *w = world_new(rate_10);
  for (int i = 0; i < 50; i++)
    add(w, i, "http://a:80", 0);
  int64_t at[50], t0 = w->fc.ns, lag = 70000;
  run(w, 50, lag, at);
  int64_t span = at[49] - t0;
  assert_true(span >= 4900 * MS_NS - 50 * lag && span <= 4900 * MS_NS + lag);
  for (int i = 0; i < 50; i++) {
    int in_window = 0;
    for (int j = i; j < 50 && at[j] < at[i] + S_NS; j++)
      in_window++;
    assert_true(in_window <= 11); /* 10/s * 1 s + burst 1 (+ 0.5) */
  }
  world_free(w);
}

static void burst_5(salvo_config *c) {
  c->rate_limit = 10;
  c->rate_burst = 5;
}

/* burst 5: five start at once, then the rate rules. */
static void test_rate_burst(void **state) {
  (void)state;
  world *w = world_new(burst_5);
  for (int i = 0; i < 10; i++)
    add(w, i, "http://a:80", 0);
  int64_t at[10], t0 = w->fc.ns;
  run(w, 10, 0, at);
  for (int i = 0; i < 5; i++)
    assert_true(at[i] == t0);
  for (int i = 5; i < 10; i++)
    assert_true(at[i] > t0 && at[i] <= t0 + (i - 4) * 100 * MS_NS + 2);
  world_free(w);
}

static void caps(salvo_config *c) {
  c->concurrency = 3;
  c->per_host = 2;
}

/* concurrency 3 and per_host 2 hold together; a release lets exactly one
 * more start, from the origin that has room, in submission order. */
static void test_caps(void **state) {
  (void)state;
  world *w = world_new(caps);
  for (int i = 0; i < 4; i++)
    add(w, i, "http://a:80", 0);
  for (int i = 4; i < 8; i++)
    add(w, i, "http://b:80", 0);
  salvo__sched_entry *run_[8];
  int n = 0, per[2] = {0, 0};
  salvo__sched_entry *e;
  while ((e = salvo__sched_next(w->s, w->fc.ns)))
    run_[n++] = e, per[idx(w, e) >= 4]++;
  assert_int_equal(n, 3);
  assert_true(per[0] <= 2 && per[1] <= 2);
  /* Release one of a's: a has room again, and its next is entry 2. */
  int a_first = idx(w, run_[0]) < 4 ? 0 : (idx(w, run_[1]) < 4 ? 1 : 2);
  salvo__sched_release(w->s, run_[a_first]);
  e = salvo__sched_next(w->s, w->fc.ns);
  assert_non_null(e);
  assert_null(salvo__sched_next(w->s, w->fc.ns));
  assert_int_equal(salvo__sched_deadline(w->s), -1); /* nothing timed */
  world_free(w);
}

static void one_at_a_time(salvo_config *c) { c->concurrency = 1; }

/* A queue limit hands the entry back at its time, not a nanosecond
 * before; the others keep their order. */
static void test_queue_limit(void **state) {
  (void)state;
  world *w = world_new(one_at_a_time);
  add(w, 0, "http://a:80", 0);
  add(w, 1, "http://a:80", w->fc.ns + 500 * MS_NS);
  add(w, 2, "http://a:80", 0);
  salvo__sched_entry *first = salvo__sched_next(w->s, w->fc.ns), *u;
  assert_int_equal(idx(w, first), 0);
  assert_int_equal(salvo__sched_deadline(w->s), w->fc.ns + 500 * MS_NS);
  w->fc.ns += 500 * MS_NS - 1;
  assert_null(salvo__sched_expire(w->s, w->fc.ns, &u));
  w->fc.ns += 1;
  salvo__sched_entry *x = salvo__sched_expire(w->s, w->fc.ns, &u);
  assert_non_null(x);
  assert_int_equal(idx(w, x), 1);
  assert_null(x->next);
  assert_null(u);
  salvo__sched_release(w->s, first);
  assert_int_equal(idx(w, salvo__sched_next(w->s, w->fc.ns)), 2);
  world_free(w);
}

/* A parked entry (backoff) comes back at its time and goes ahead of the
 * entries submitted after it. */
static void test_backoff_goes_first(void **state) {
  (void)state;
  world *w = world_new(one_at_a_time);
  add(w, 0, "http://a:80", 0);
  salvo__sched_entry *e = salvo__sched_next(w->s, w->fc.ns), *u;
  assert_int_equal(idx(w, e), 0);
  add(w, 1, "http://a:80", 0);
  add(w, 2, "http://a:80", 0);
  salvo__sched_release(w->s, e);
  assert_int_equal(salvo__sched_park(w->s, e, w->fc.ns + 200 * MS_NS), 0);
  salvo__sched_entry *one = salvo__sched_next(w->s, w->fc.ns);
  assert_int_equal(idx(w, one), 1); /* the slot is free while it waits */
  w->fc.ns = salvo__sched_deadline(w->s);
  assert_null(salvo__sched_expire(w->s, w->fc.ns, &u));
  assert_non_null(u);
  assert_int_equal(idx(w, u), 0);
  add(w, 0, "http://a:80", 0); /* the engine queues it again */
  salvo__sched_release(w->s, one);
  assert_int_equal(idx(w, salvo__sched_next(w->s, w->fc.ns)), 0);
  world_free(w);
}

/* Entries back from backoffs in a scrambled order all go ahead of later
 * ones and among themselves by submission (they wait in a heap by
 * sequence, not a list walked per retry). */
static void test_backoffs_return_in_order(void **state) {
  (void)state;
  world *w = world_new(one_at_a_time);
  for (int i = 0; i < N; i++)
    add(w, i, "http://a:80", 0);
  for (int i = 0; i < N / 2; i++) { /* the first half fail and back off */
    salvo__sched_entry *e = salvo__sched_next(w->s, w->fc.ns);
    assert_int_equal(idx(w, e), i);
    salvo__sched_release(w->s, e);
    int64_t wait = (int64_t)((i * 7) % (N / 2) + 1) * MS_NS; /* scrambled */
    assert_int_equal(salvo__sched_park(w->s, e, w->fc.ns + wait), 0);
  }
  w->fc.ns += (N / 2 + 1) * MS_NS;
  salvo__sched_entry *u, *back[N];
  int nb = 0;
  assert_null(salvo__sched_expire(w->s, w->fc.ns, &u));
  for (; u; u = u->next)
    back[nb++] = u;
  assert_int_equal(nb, N / 2);
  for (int i = 0; i < nb; i++) /* the engine queues them again */
    add(w, idx(w, back[i]), "http://a:80", 0);
  for (int i = 0; i < N; i++) {
    salvo__sched_entry *e = salvo__sched_next(w->s, w->fc.ns);
    assert_int_equal(idx(w, e), i);
    salvo__sched_release(w->s, e);
  }
  assert_null(salvo__sched_next(w->s, w->fc.ns));
  world_free(w);
}

static void per_host_rate(salvo_config *c) { c->per_host_rate = 5; }

/* per_host_rate 5/s paces each origin on its own: two origins start two
 * requests each at once-and-200-ms, not one every 100 ms. */
static void test_per_host_rate(void **state) {
  (void)state;
  world *w = world_new(per_host_rate);
  for (int i = 0; i < 3; i++)
    add(w, i, "http://a:80", 0);
  for (int i = 3; i < 6; i++)
    add(w, i, "http://b:80", 0);
  int64_t at[6], t0 = w->fc.ns;
  run(w, 6, 0, at);
  assert_true(at[0] == t0 && at[1] == t0);
  assert_true(at[2] >= t0 + 200 * MS_NS && at[2] <= t0 + 200 * MS_NS + 2);
  assert_true(at[3] == at[2]);
  assert_true(at[4] >= t0 + 400 * MS_NS && at[4] <= t0 + 400 * MS_NS + 2);
  assert_true(at[5] == at[4]);
  world_free(w);
}

static void per_host_rate_1(salvo_config *c) { c->per_host_rate = 1; }

/* A crawl of many origins keeps the table bounded by dropping idle ones
 * (past 4,096), but never one whose rate still holds it back: origin a,
 * its token spent, then 6,000 others, each run and released; a's next
 * request still waits its second (per_host_rate 1/s). It started at once,
 * a's spent bucket forgotten with a. */
static void test_idle_origins_dropped_not_their_pace(void **state) {
  (void)state;
  world *w = world_new(per_host_rate_1);
  int64_t t0 = w->fc.ns, at[1];
  add(w, 0, "http://a:80", 0);
  assert_int_equal(run(w, 1, 0, at), 1);
  assert_int_equal(at[0], t0);
  char origin[64];
  for (int i = 0; i < 6000; i++) {
    snprintf(origin, sizeof(origin), "http://h%d:80", i);
    memset(&w->e[1], 0, sizeof(w->e[1])); /* a fresh request's entry */
    add(w, 1, origin, 0);
    salvo__sched_entry *e = salvo__sched_next(w->s, w->fc.ns);
    assert_ptr_equal(e, &w->e[1]);
    salvo__sched_release(w->s, e);
  }
  add(w, 2, "http://a:80", 0);
  assert_int_equal(run(w, 1, 0, at), 1);
  assert_true(at[0] >= t0 + 1000 * MS_NS);
  world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rate_paces_exactly),
      cmocka_unit_test(test_rate_absorbs_lag),
      cmocka_unit_test(test_rate_burst),
      cmocka_unit_test(test_caps),
      cmocka_unit_test(test_queue_limit),
      cmocka_unit_test(test_backoff_goes_first),
      cmocka_unit_test(test_backoffs_return_in_order),
      cmocka_unit_test(test_per_host_rate),
      cmocka_unit_test(test_idle_origins_dropped_not_their_pace),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
