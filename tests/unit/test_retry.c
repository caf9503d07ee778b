/* Retry policy and deadlines (src/retry.c, src/deadline.c) on a fake
 * clock: Retry-After in both forms (RFC 9110 10.2.3), the full-jitter
 * backoff's bounds, the at-most-once rule for unsafe methods (RFC 9110
 * 9.2.2), and the arithmetic of attempt budgets and queue limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "deadline.h"
#include "fake_clock.h"
#include "request.h"
#include "response.h"
#include "retry.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110 5.6.7's example. */
#define RFC_DATE 784111777

static void test_retry_after_forms(void **state) {
  (void)state;
  assert_int_equal(salvo__retry_after_ns("3", RFC_DATE), 3 * S_NS);
  assert_int_equal(salvo__retry_after_ns("0", RFC_DATE), 0);
  /* An HTTP-date counts from the wall clock: 120 s ahead of it. */
  assert_int_equal(
      salvo__retry_after_ns("Sun, 06 Nov 1994 08:51:37 GMT", RFC_DATE),
      120 * S_NS);
  /* A date in the past means now. */
  assert_int_equal(
      salvo__retry_after_ns("Sun, 06 Nov 1994 08:49:30 GMT", RFC_DATE), 0);
  assert_int_equal(salvo__retry_after_ns("soon", RFC_DATE), -1);
  assert_int_equal(salvo__retry_after_ns("-1", RFC_DATE), -1);
  assert_int_equal(salvo__retry_after_ns("99999999999", RFC_DATE), INT64_MAX);
}

static salvo__cfg cfg_of(double base, double max_delay) {
  salvo_config in;
  salvo_config_init(&in);
  in.retry_base = base;
  in.retry_max_delay = max_delay;
  salvo__cfg c;
  char *msg = NULL;
  assert_int_equal(salvo__cfg_resolve(&c, &in, &msg), 0);
  return c;
}

/* Retry n waits uniformly in [0, min(max, base * 2^(n-1))]: every draw
 * within, and the draws spread over it (mean within 10% of half). */
static void test_backoff_full_jitter(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(0.5, 4);
  uint64_t rng = 42;
  for (int n = 1; n <= 6; n++) {
    double ceiling = 0.5 * (double)(1 << (n - 1));
    if (ceiling > 4)
      ceiling = 4;
    double sum = 0, top = 0;
    for (int i = 0; i < 2000; i++) {
      int64_t d = salvo__retry_backoff_ns(&cfg, n, &rng);
      assert_true(d >= 0 && (double)d <= ceiling * 1e9);
      sum += (double)d;
      if ((double)d > top)
        top = (double)d;
    }
    double mean = sum / 2000 / 1e9;
    assert_true(mean > ceiling / 2 * 0.9 && mean < ceiling / 2 * 1.1);
    assert_true(top > ceiling * 1e9 * 0.95);
  }
  salvo__cfg_free(&cfg);
}

typedef struct one {
  salvo__req *r;
  salvo__pool *pool;
} one;

static one req_of(const salvo__cfg *cfg, const char *method, int status,
                  const char *retry_after) {
  salvo_request in;
  salvo_request_init(&in);
  in.method = method;
  in.url = "http://127.0.0.1:1/x";
  int err = 0;
  char *msg = NULL;
  one o = {NULL, salvo__pool_new()};
  o.r = salvo__req_new(&in, cfg, o.pool, &err, &msg);
  assert_non_null(o.r);
  salvo__req_set_response(o.r, salvo__resp_new(1, NULL, NULL, in.url));
  salvo__req_begin_attempt(o.r);
  o.r->resp->status = status;
  if (retry_after) {
    char line[256];
    int n = snprintf(line, sizeof(line), "Retry-After: %s", retry_after);
    assert_int_equal(
        salvo__resp_add_line(o.r->resp, line, 11, 13, (size_t)n - 13), 0);
  }
  return o;
}

static void one_free(one *o) {
  salvo__req_free(o->r);
  salvo__pool_release(o->pool);
}

/* A 503 with Retry-After as a date waits exactly until that date on the
 * wall clock, whatever the backoff would say; one further than
 * retry_max_delay is not waited for: that response is the answer. */
static void test_decide_retry_after(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(0.5, 300);
  fake_clock fc;
  fake_clock_init(&fc, S_NS, RFC_DATE);
  uint64_t rng = 7;
  int64_t delay = -1;
  one o = req_of(&cfg, "GET", 503, "Sun, 06 Nov 1994 08:51:37 GMT");
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, o.r, 0, 0, &delay, &rng), 1);
  assert_int_equal(delay, 120 * S_NS);
  fc.wall += 100; /* the same answer read 100 s later waits 20 s */
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, o.r, 0, 0, &delay, &rng), 1);
  assert_int_equal(delay, 20 * S_NS);
  one_free(&o);
  o = req_of(&cfg, "GET", 503, "301");
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, o.r, 0, 0, &delay, &rng), 0);
  one_free(&o);
  o = req_of(&cfg, "GET", 404, NULL); /* not a retried status */
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, o.r, 0, 0, &delay, &rng), 0);
  one_free(&o);
  salvo__cfg_free(&cfg);
}

/* RFC 9110 9.2.2: a POST is retried only when the transport proves the
 * server never got a byte of it (unsent); a GET after any network error;
 * a POST's 503 is its answer. The attempt count bounds both. */
static void test_decide_at_most_once(void **state) {
  (void)state;
  salvo__cfg cfg = cfg_of(0.5, 30);
  fake_clock fc;
  fake_clock_init(&fc, S_NS, RFC_DATE);
  uint64_t rng = 7;
  int64_t delay;
  one post = req_of(&cfg, "POST", 0, NULL), get = req_of(&cfg, "GET", 0, NULL);
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, post.r, SALVO_EIO, 0, &delay, &rng),
      0);
  assert_true(salvo__retry_maybe_processed(post.r, SALVO_EIO, 0));
  assert_int_equal(salvo__retry_decide(&cfg, &fc.clock, post.r, SALVO_ECONNECT,
                                       1, &delay, &rng),
                   1);
  assert_false(salvo__retry_maybe_processed(post.r, SALVO_EIO, 1));
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, get.r, SALVO_EIO, 0, &delay, &rng),
      1);
  assert_false(salvo__retry_maybe_processed(get.r, SALVO_EIO, 0));
  post.r->resp->status = 503;
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, post.r, 0, 0, &delay, &rng), 0);
  /* max_retries 3 (the default): the fourth attempt's failure is final. */
  for (int i = 1; i < 4; i++)
    salvo__req_begin_attempt(get.r);
  assert_int_equal(
      salvo__retry_decide(&cfg, &fc.clock, get.r, SALVO_EIO, 0, &delay, &rng),
      0);
  one_free(&post);
  one_free(&get);
  salvo__cfg_free(&cfg);
}

/* An attempt's budget: its own timeout, cut to what is left of the
 * deadline (rounded up to a whole ms), -1 once the deadline passed. */
static void test_deadline_budget(void **state) {
  (void)state;
  int64_t now = 5 * S_NS;
  assert_int_equal(salvo__deadline_budget(0, 0, now), 0);
  assert_int_equal(salvo__deadline_budget(30000, 0, now), 30000);
  assert_int_equal(salvo__deadline_budget(30000, now + 2 * S_NS, now), 2000);
  assert_int_equal(salvo__deadline_budget(1000, now + 2 * S_NS, now), 1000);
  assert_int_equal(salvo__deadline_budget(0, now + 1, now), 1);
  assert_int_equal(salvo__deadline_budget(0, now + 2 * S_NS, now), 2000);
  assert_int_equal(salvo__deadline_budget(30000, now, now), -1);
  assert_int_equal(salvo__deadline_budget(30000, now - 1, now), -1);
}

/* A queued request stops waiting at its queue timeout (first attempt
 * only) or its deadline, whichever comes first. */
static void test_deadline_queue_limit(void **state) {
  (void)state;
  int64_t now = 5 * S_NS;
  assert_int_equal(salvo__deadline_queue_limit(0, 0, 0, now), 0);
  assert_int_equal(salvo__deadline_queue_limit(200, 0, 0, now),
                   now + 200 * MS_NS);
  assert_int_equal(salvo__deadline_queue_limit(200, 1, 0, now), 0);
  assert_int_equal(salvo__deadline_queue_limit(200, 0, now + MS_NS, now),
                   now + MS_NS);
  assert_int_equal(salvo__deadline_queue_limit(200, 2, now + S_NS, now),
                   now + S_NS);
  /* Less than 1 ms left is spent; a retry fits only if it starts before
   * the deadline. */
  assert_false(salvo__deadline_spent(0, now));
  assert_false(salvo__deadline_spent(now + MS_NS + 1, now));
  assert_true(salvo__deadline_spent(now + MS_NS, now));
  assert_true(salvo__deadline_fits(0, now, S_NS));
  assert_true(salvo__deadline_fits(now + S_NS, now, S_NS - 1));
  assert_false(salvo__deadline_fits(now + S_NS, now, S_NS));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retry_after_forms),
      cmocka_unit_test(test_backoff_full_jitter),
      cmocka_unit_test(test_decide_retry_after),
      cmocka_unit_test(test_decide_at_most_once),
      cmocka_unit_test(test_deadline_budget),
      cmocka_unit_test(test_deadline_queue_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
