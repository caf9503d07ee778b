/* The native transport's idle pool and timer list (src/native/pool.c,
 * timers.c) on a fake clock, with fake connections behind the
 * connection vtable: no socket. LIFO reuse per origin, the LRU bound over
 * all origins, the liveness check (only for requests that must not be
 * sent twice, or after 1 ms idle), learning that an origin closes
 * quietly, timers kept in expiry order, and a streamed body's read
 * timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <cmocka.h>

#include "fake_clock.h"
#include "native/native.h"

static int alive_calls, alive_answer = 1;

static int fake_alive(salvo__nconn *c) {
  (void)c;
  alive_calls++;
  return alive_answer;
}

static const salvo__conn_ops fake_ops = {.alive = fake_alive};

typedef struct world {
  fake_clock fc;
  salvo__transport t;
  salvo__origin o[2];
  salvo__nconn c[4];
  salvo__req get, post;
  salvo__nxfer x;
} world;

static world *world_new(size_t max_idle) {
  world *w = calloc(1, sizeof(*w));
  assert_non_null(w);
  fake_clock_init(&w->fc, 10 * S_NS, 0);
  w->t.ev.clock = &w->fc.clock;
  w->t.max_idle = max_idle;
  salvo__list_init(&w->t.lru);
  salvo__list_init(&w->t.timers);
  for (int i = 0; i < 2; i++)
    salvo__list_init(&w->o[i].idle);
  for (int i = 0; i < 4; i++) {
    salvo__nconn *c = &w->c[i];
    c->state = SALVO__NC_UP;
    c->fd = -1;
    c->ops = &fake_ops;
    c->o = &w->o[i / 2 ? 1 : 0]; /* 0, 1 at origin 0; 2, 3 at origin 1 */
    c->o->nconns++;
  }
  w->get.idempotent = 1;
  w->x.o = &w->o[0];
  w->x.req = &w->get;
  alive_calls = 0;
  alive_answer = 1;
  return w;
}

static salvo__nconn *take(world *w, salvo__req *r, int origin) {
  w->x.req = r;
  w->x.o = &w->o[origin];
  w->x.t0 = w->fc.ns;
  return salvo__nat_pool_take(&w->t, &w->x);
}

static void test_lifo_per_origin(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[2], 1, w->fc.ns);
  assert_int_equal(w->t.nidle, 3);
  /* The most recent first: the likeliest to be alive. */
  assert_ptr_equal(take(w, &w->get, 0), &w->c[1]);
  assert_ptr_equal(take(w, &w->get, 0), &w->c[0]);
  assert_null(take(w, &w->get, 0));
  assert_ptr_equal(take(w, &w->get, 1), &w->c[2]);
  assert_int_equal(alive_calls, 0); /* none idle 1 ms: no system call */
  assert_int_equal(w->t.nidle, 0);
  free(w);
}

static void test_lru_bound(void **state) {
  (void)state;
  world *w = world_new(2);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[2], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  /* The third idle connection closes the oldest of all origins. */
  assert_int_equal(w->t.nidle, 2);
  assert_int_equal(w->c[0].state, SALVO__NC_FREE);
  assert_int_equal(w->o[0].nconns, 1);
  assert_ptr_equal(w->t.free_conns, &w->c[0]);
  assert_ptr_equal(take(w, &w->get, 0), &w->c[1]);
  /* Not kept (keep 0, or bytes pending): closed, never pooled. */
  salvo__nat_pool_release(&w->t, &w->c[1], 0, w->fc.ns);
  assert_int_equal(w->c[1].state, SALVO__NC_FREE);
  free(w);
}

/* idle_timeout: the connections idle longer than it close as a request
 * looks for one, or as another goes idle, those of every origin, and only
 * those; one idle exactly that long is still used. */
static void test_idle_timeout(void **state) {
  (void)state;
  world *w = world_new(8);
  w->t.idle_ns = 3 * S_NS;
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[2], 1, w->fc.ns);
  w->fc.ns += 2 * S_NS;
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  w->fc.ns += S_NS; /* c0 and c2 idle 3 s, c1 1 s */
  assert_ptr_equal(take(w, &w->get, 0), &w->c[1]);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  assert_int_equal(w->t.nidle, 3);
  w->fc.ns += 1; /* c0 and c2 past it */
  assert_ptr_equal(take(w, &w->get, 0), &w->c[1]);
  assert_int_equal(w->c[0].state, SALVO__NC_FREE);
  assert_int_equal(w->c[2].state, SALVO__NC_FREE); /* another origin's */
  assert_int_equal(w->t.nidle, 0);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[3], 1, w->fc.ns + 4 * S_NS);
  assert_int_equal(w->c[1].state, SALVO__NC_FREE); /* closed as c3 came */
  assert_int_equal(w->t.nidle, 1);
  /* The expired ones were closed unchecked; c1, idle 1 s when first
   * taken, was checked then (test_idle_check's rule). */
  assert_int_equal(alive_calls, 1);
  free(w);
}

/* A GET on a connection idle under 1 ms takes it without a check; after
 * 1 ms it is checked, and a dead one is closed and the next tried. */
static void test_idle_check(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  w->fc.ns += SALVO__NAT_IDLE_CHECK_NS; /* exactly 1 ms: not yet */
  assert_ptr_equal(take(w, &w->get, 0), &w->c[1]);
  assert_int_equal(alive_calls, 0);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  w->fc.ns += 2 * SALVO__NAT_IDLE_CHECK_NS;
  alive_answer = 0; /* both died unseen */
  assert_null(take(w, &w->get, 0));
  assert_int_equal(alive_calls, 2);
  assert_int_equal(w->c[0].state, SALVO__NC_FREE);
  assert_int_equal(w->c[1].state, SALVO__NC_FREE);
  free(w);
}

/* A POST checks even a fresh idle connection (RFC 9110 9.2.2: it must
 * not be sent twice, so it must not cross a close). */
static void test_unsafe_always_checked(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  assert_ptr_equal(take(w, &w->post, 0), &w->c[0]);
  assert_int_equal(alive_calls, 1);
  free(w);
}

/* A connection the server closed within 1 s of its last response marks
 * the origin as closing quietly: from then on a POST takes a new
 * connection rather than race the close; a GET still reuses. */
static void test_quick_close_learned(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  salvo__nat_pool_release(&w->t, &w->c[1], 1, w->fc.ns);
  w->fc.ns += SALVO__NAT_QUICK_CLOSE_NS - 1;
  salvo__nat_pool_stirred(&w->t, &w->c[1], EPOLLRDHUP);
  assert_int_equal(w->c[1].state, SALVO__NC_FREE);
  assert_int_equal(w->o[0].closes_quietly, 1);
  assert_null(take(w, &w->post, 0));
  assert_int_equal(alive_calls, 0);
  assert_ptr_equal(take(w, &w->get, 0), &w->c[0]);
  free(w);
}

/* A close long after the last response (an idle timeout) teaches
 * nothing. */
static void test_slow_close_is_normal(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nat_pool_release(&w->t, &w->c[0], 1, w->fc.ns);
  w->fc.ns += SALVO__NAT_QUICK_CLOSE_NS;
  salvo__nat_pool_stirred(&w->t, &w->c[0], EPOLLRDHUP);
  assert_int_equal(w->o[0].closes_quietly, 0);
  assert_int_equal(w->t.nidle, 0);
  free(w);
}

/* Attempt timers: ordered by expiry whatever the insertion order, moved
 * when their deadline changes, gone when finished. */
static void test_timer_order(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nxfer x[4];
  memset(x, 0, sizeof(x));
  int64_t at[4] = {300, 100, 400, 200};
  for (int i = 0; i < 4; i++) {
    x[i].deadline = at[i];
    salvo__nat_timer_update(&w->t, &x[i]);
  }
  assert_ptr_equal(salvo__nat_timer_first(&w->t), &x[1]);
  x[1].cdeadline = 50; /* its connect limit comes sooner */
  salvo__nat_timer_update(&w->t, &x[1]);
  assert_ptr_equal(salvo__nat_timer_first(&w->t), &x[1]);
  assert_int_equal(x[1].tkey, 50);
  x[1].cdeadline = 0;
  x[1].finished = 1; /* ended: it waits for nothing */
  salvo__nat_timer_update(&w->t, &x[1]);
  assert_ptr_equal(salvo__nat_timer_first(&w->t), &x[3]);
  int64_t prev = 0;
  int n = 0;
  for (salvo__list *l = w->t.timers.next; l != &w->t.timers; l = l->next) {
    salvo__nxfer *y = salvo__container_of(l, salvo__nxfer, in_timers);
    assert_true(y->tkey >= prev);
    prev = y->tkey;
    n++;
  }
  assert_int_equal(n, 3);
  for (int i = 0; i < 4; i++)
    salvo__nat_timer_remove(&x[i]);
  assert_null(salvo__nat_timer_first(&w->t));
  free(w);
}

/* A streamed body's read timeout (timers.c): armed at the hand-over for
 * the attempt's timeout; a piece of the body moves only its time, and the
 * timer follows once it comes due; out when no piece came within the
 * timeout; stopped while the reader is full, and whole again when it
 * resumes. */
static void test_read_timer(void **state) {
  (void)state;
  world *w = world_new(8);
  salvo__nxfer *x = &w->x;
  w->get.attempt_timeout_ms = 1000;
  x->handed_over = 1;
  int64_t t0 = w->fc.ns;
  salvo__nat_read_timer(&w->t, x);
  assert_ptr_equal(salvo__nat_timer_first(&w->t), x);
  assert_int_equal(x->tkey, t0 + 1000 * MS_NS);
  w->fc.ns += 600 * MS_NS; /* a piece of the body */
  x->tbody = w->fc.ns;
  assert_int_equal(x->tkey, t0 + 1000 * MS_NS);
  w->fc.ns = x->tkey; /* due: not out, moved */
  assert_false(salvo__nat_read_timed_out(&w->t, x, w->fc.ns));
  assert_int_equal(x->tkey, t0 + 1600 * MS_NS);
  w->fc.ns = x->tkey - 1; /* nothing since: out once the timeout is up */
  assert_false(salvo__nat_read_timed_out(&w->t, x, w->fc.ns));
  w->fc.ns = x->tkey;
  assert_true(salvo__nat_read_timed_out(&w->t, x, w->fc.ns));
  /* The reader is full: however long, no timer. */
  x->paused = 1;
  w->fc.ns += 60 * S_NS;
  assert_false(salvo__nat_read_timed_out(&w->t, x, w->fc.ns));
  assert_null(salvo__nat_timer_first(&w->t));
  x->paused = 0; /* it read: a whole timeout from now */
  salvo__nat_read_timer(&w->t, x);
  assert_int_equal(x->tkey, w->fc.ns + 1000 * MS_NS);
  /* No timeout: no timer. */
  w->get.attempt_timeout_ms = 0;
  salvo__nat_read_timer(&w->t, x);
  assert_null(salvo__nat_timer_first(&w->t));
  free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifo_per_origin),
      cmocka_unit_test(test_lru_bound),
      cmocka_unit_test(test_idle_check),
      cmocka_unit_test(test_idle_timeout),
      cmocka_unit_test(test_unsafe_always_checked),
      cmocka_unit_test(test_quick_close_learned),
      cmocka_unit_test(test_slow_close_is_normal),
      cmocka_unit_test(test_timer_order),
      cmocka_unit_test(test_read_timer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
