/* One client serving several batches from several threads, and several
 * threads collecting from one batch. Run under ThreadSanitizer by make test. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static salvo_client *shared;

static int setup(void **state) {
  th_faultd_setup(state);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 16;
  return salvo_client_new(&shared, &cfg);
}

static int teardown(void **state) {
  (void)state;
  salvo_client_free(shared);
  th_faultd_teardown(state);
  return 0;
}

#define PER_THREAD 300

/* A thread, or a failure saying why it could not start (under load, a
 * sanitizer's runtime can refuse one): never a join on nothing. */
static void spawn(pthread_t *t, void *(*fn)(void *), void *arg) {
  int rc = pthread_create(t, NULL, fn, arg);
  if (rc)
    fail_msg("pthread_create: %s", strerror(rc));
}

static void *own_batch(void *arg) {
  long id = (long)(intptr_t)arg, ok = 0;
  salvo_parallel *b = th_open(shared);
  salvo_pending ps[PER_THREAD];
  for (int i = 0; i < PER_THREAD; i++) {
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/json/%ld", th_srv.port,
             id * 1000 + i);
    ps[i] = salvo_get(b, url);
  }
  for (int i = 0; i < PER_THREAD; i++) {
    salvo_response *r = salvo_pending_response(b, ps[i]);
    char want[64];
    snprintf(want, sizeof(want), "\"id\":%ld,", id * 1000 + i);
    if (r && salvo_response_status(r) == 200 &&
        strstr(salvo_response_body(r, NULL), want))
      ok++;
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  return (void *)(intptr_t)ok;
}

static void test_batches_on_many_threads(void **state) {
  (void)state;
  pthread_t th[6];
  for (long i = 0; i < 6; i++)
    spawn(&th[i], own_batch, (void *)(intptr_t)i);
  long total = 0;
  for (int i = 0; i < 6; i++) {
    void *ok;
    pthread_join(th[i], &ok);
    total += (long)(intptr_t)ok;
  }
  assert_int_equal(total, 6 * PER_THREAD);
}

typedef struct shared_batch {
  salvo_parallel *b;
  salvo_pending *ps;
  int n;
  int collected;
  int published; /* handles ps[0..published) are set */
  int submitting;
  pthread_mutex_t mtx;
} shared_batch;

static int still_submitting(shared_batch *s) {
  pthread_mutex_lock(&s->mtx);
  int v = s->submitting;
  pthread_mutex_unlock(&s->mtx);
  return v;
}

static salvo_pending any_handle(shared_batch *s, unsigned *seed) {
  salvo_pending p = {0};
  pthread_mutex_lock(&s->mtx);
  if (s->published)
    p = s->ps[rand_r(seed) % (unsigned)s->published];
  pthread_mutex_unlock(&s->mtx);
  return p;
}

/* Collectors race for the same responses: by handle and by next. Each
 * response must come out exactly once. */
static void *collector(void *arg) {
  shared_batch *s = arg;
  unsigned seed = (unsigned)(uintptr_t)pthread_self();
  int mine = 0;
  for (;;) {
    salvo_response *r;
    if (rand_r(&seed) % 2)
      r = salvo_parallel_next(s->b);
    else
      r = salvo_pending_response(s->b, any_handle(s, &seed));
    if (r) {
      mine++;
      salvo_response_free(r);
    } else if (!salvo_parallel_has_pending(s->b) && !still_submitting(s)) {
      break;
    }
  }
  pthread_mutex_lock(&s->mtx);
  s->collected += mine;
  pthread_mutex_unlock(&s->mtx);
  return NULL;
}

static void test_collectors_race_for_one_batch(void **state) {
  (void)state;
  shared_batch s = {0};
  s.n = 400;
  s.b = th_open(shared);
  s.ps = calloc((size_t)s.n, sizeof(*s.ps));
  pthread_mutex_init(&s.mtx, NULL);
  s.submitting = 1;
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    spawn(&th[i], collector, &s);
  /* Submitting while others collect. */
  for (int i = 0; i < s.n; i++) {
    salvo_pending p = salvo_get(s.b, th_url(&th_srv, "/delay/%d", i % 7));
    pthread_mutex_lock(&s.mtx);
    s.ps[s.published++] = p;
    pthread_mutex_unlock(&s.mtx);
  }
  pthread_mutex_lock(&s.mtx);
  s.submitting = 0;
  pthread_mutex_unlock(&s.mtx);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  if (s.collected != s.n) { /* what the count alone did not say */
    int refused = 0;
    for (int i = 0; i < s.published; i++)
      refused += s.ps[i].id == 0;
    fail_msg("collected %d of %d; %d published, %d of them refused (id 0); "
             "still pending: %d",
             s.collected, s.n, s.published, refused,
             salvo_parallel_has_pending(s.b));
  }
  assert_int_equal(salvo_parallel_has_pending(s.b), 0);
  salvo_parallel_close(s.b);
  pthread_mutex_destroy(&s.mtx);
  free(s.ps);
}

struct waiting_collector {
  salvo_parallel *b;
  salvo_response *got;
};

static void *wait_next(void *arg) {
  struct waiting_collector *w = arg;
  w->got = salvo_parallel_next(w->b);
  return NULL;
}

/* A collector waiting in salvo_parallel_next while a request hangs is
 * woken by a request another thread submits that fails validation: its
 * response is ready at once, without the I/O thread, and is the one the
 * collector gets (the hanging request is still pending then). */
static void test_waiter_woken_by_an_invalid_request(void **state) {
  (void)state;
  salvo_parallel *b = th_open(shared);
  salvo_pending hang = salvo_get(b, th_url(&th_srv, "/hang"));
  assert_true(hang.id != 0);
  struct waiting_collector w = {.b = b};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, wait_next, &w), 0);
  /* Let it wait (it may also find the response already there: both are
   * the same answer). */
  nanosleep(&(struct timespec){0, 50000000}, NULL);
  salvo_pending bad = salvo_get(b, "http://127.0.0.1:0/x");
  assert_true(bad.id != 0);
  pthread_join(t, NULL); /* bounded by ctest's limit: a lost wake-up hangs */
  assert_non_null(w.got);
  assert_int_equal(salvo_response_error(w.got), SALVO_EINVAL);
  assert_int_equal(salvo_pending_ready(b, hang), 0);
  salvo_response_free(w.got);
  salvo_parallel_close(b);
}

static int count_threads(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, "Threads:", 8))
      n = atoi(line + 8);
  if (f)
    fclose(f);
  return n;
}

/* io_threads = 4: four I/O threads (the kernel counts them), origins
 * spread over them and each origin on one (its per_host cap of 2 holds,
 * faultd's peaks say), every response delivered, a single cancel and a
 * close with requests in flight on every thread. */
static void test_io_threads(void **state) {
  (void)state;
  enum { NSRV = 8, PER = 150 };
  th_server srv[NSRV];
  for (int i = 0; i < NSRV; i++)
    th_faultd_start(&srv[i], NULL);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.io_threads = 4;
  cfg.concurrency = 64;
  cfg.per_host = 2;
  int before = count_threads();
  salvo_client *c = th_client(&cfg);
  int after = count_threads();
  if (after - before != 4)
    fail_msg("threads: %d before the client, %d after", before, after);
  salvo_parallel *b = th_open(c);
  for (int i = 0; i < NSRV * PER; i++)
    salvo_get(b, th_url(&srv[i % NSRV], "/json/%d", i));
  salvo_pending hang = salvo_get(b, th_url(&srv[0], "/hang"));
  int ok = 0;
  for (int i = 0; i < NSRV * PER; i++) {
    salvo_response *r = salvo_parallel_next(b);
    ok += salvo_response_status(r) == 200;
    salvo_response_free(r);
  }
  assert_int_equal(ok, NSRV * PER);
  /* Cancelled once the server holds it (it comes after srv[0]'s others). */
  assert_int_equal(th_wait_stat(&srv[0], "inflight", 1, 30), 1);
  assert_int_equal(salvo_pending_cancel(b, hang), SALVO_OK);
  salvo_response *r = salvo_pending_response(b, hang);
  assert_int_equal(salvo_response_error(r), SALVO_ECANCELED);
  salvo_response_free(r);
  for (int i = 0; i < NSRV; i++) {
    long n = th_stat(&srv[i], "requests"),
         peak = th_stat(&srv[i], "inflight_peak");
    if (n != PER + (i == 0) || peak > 2)
      fail_msg("origin %d: %ld requests (want %d), peak %ld (at most 2)", i, n,
               PER + (i == 0), peak);
  }
  /* Closing with requests in flight on every thread: each origin holds
   * two (its cap) with two more queued. The close returns at once, every
   * held connection is closed (the servers see none in flight), and the
   * queued ones never reach a server. */
  for (int i = 0; i < NSRV * 4; i++)
    salvo_get(b, th_url(&srv[i % NSRV], "/hang"));
  for (int i = 0; i < NSRV; i++)
    assert_int_equal(th_wait_stat(&srv[i], "inflight", 2, 30), 2);
  double t0 = th_now();
  salvo_parallel_close(b);
  TH_WITHIN(th_now() - t0, 5.0, "closing a block of 32 hung requests");
  for (int i = 0; i < NSRV; i++) {
    assert_int_equal(th_wait_stat(&srv[i], "inflight", 0, 30), 0);
    long n = th_stat(&srv[i], "requests");
    if (n != PER + (i == 0) + 2)
      fail_msg("origin %d: %ld requests after the close (want %d)", i, n,
               PER + (i == 0) + 2);
  }
  salvo_client_free(c);
  for (int i = 0; i < NSRV; i++)
    th_server_stop(&srv[i]);

  salvo_config_init(&cfg);
  cfg.io_threads = 0;
  assert_int_equal(salvo_config_check(&cfg, NULL, 0), SALVO_EINVAL);
  cfg.io_threads = 65;
  assert_int_equal(salvo_config_check(&cfg, NULL, 0), SALVO_EINVAL);
  cfg.io_threads = 2;
  cfg.cookie_file = "/tmp/never-written";
  assert_int_equal(salvo_config_check(&cfg, NULL, 0), SALVO_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batches_on_many_threads),
      cmocka_unit_test(test_collectors_race_for_one_batch),
      cmocka_unit_test(test_waiter_woken_by_an_invalid_request),
      cmocka_unit_test(test_io_threads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
