/* One client serving several batches from several threads, and several
 * threads collecting from one batch. Run under ThreadSanitizer by make test. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void *own_batch(void *arg) {
  long id = (long)(intptr_t)arg, ok = 0;
  salvo_batch *b = salvo_parallel(shared);
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
  salvo_batch_close(b);
  return (void *)(intptr_t)ok;
}

static void test_batches_on_many_threads(void **state) {
  (void)state;
  pthread_t th[6];
  for (long i = 0; i < 6; i++)
    pthread_create(&th[i], NULL, own_batch, (void *)(intptr_t)i);
  long total = 0;
  for (int i = 0; i < 6; i++) {
    void *ok;
    pthread_join(th[i], &ok);
    total += (long)(intptr_t)ok;
  }
  assert_int_equal(total, 6 * PER_THREAD);
}

typedef struct shared_batch {
  salvo_batch *b;
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
      r = salvo_batch_next(s->b);
    else
      r = salvo_pending_response(s->b, any_handle(s, &seed));
    if (r) {
      mine++;
      salvo_response_free(r);
    } else if (!salvo_batch_has_pending(s->b) && !still_submitting(s)) {
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
  s.b = salvo_parallel(shared);
  s.ps = calloc((size_t)s.n, sizeof(*s.ps));
  pthread_mutex_init(&s.mtx, NULL);
  s.submitting = 1;
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, collector, &s);
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
    pthread_join(th[i], NULL);
  assert_int_equal(s.collected, s.n);
  assert_int_equal(salvo_batch_has_pending(s.b), 0);
  salvo_batch_close(s.b);
  pthread_mutex_destroy(&s.mtx);
  free(s.ps);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batches_on_many_threads),
      cmocka_unit_test(test_collectors_race_for_one_batch),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
