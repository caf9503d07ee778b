/* Every fault the test server can inject yields its documented error, and
 * never disturbs the requests around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static void test_fault_endpoints(void **state) {
  (void)state;
  struct {
    const char *path;
    int err;
    int status;
  } cases[] = {
      {"/reset/1000", SALVO_EIO, 200},
      {"/reset/200000", SALVO_EIO, 200},
      {"/short/1000", SALVO_EIO, 200},
      {"/close", SALVO_EIO, 0},
      {"/bad/status", SALVO_EPROTO, 0},
      {"/bad/header", SALVO_EPROTO, -1},
      {"/bad/length", SALVO_EPROTO, -1},
      {"/garbage", SALVO_EPROTO, 0},
      {"/hang", SALVO_ETIMEDOUT, 0},
      {"/drip/1000?interval=20", SALVO_ETIMEDOUT, 200},
      {"/redirect-to?url=ftp://127.0.0.1/x", SALVO_EREDIRECT, -1},
      {"/status/503", SALVO_OK, 503},
      {"/status/404", SALVO_OK, 404},
      {"/drip/5?interval=10", SALVO_OK, 200},
      {"/chunked/100000", SALVO_OK, 200},
  };
  size_t n = sizeof(cases) / sizeof(cases[0]);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.timeout = 0.5;
  cfg.max_retries = 0; /* one attempt each: retries are test_flow's */
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_pending ps[32];
  /* Each fault next to a healthy sibling. */
  salvo_pending ok[32];
  for (size_t i = 0; i < n; i++) {
    ps[i] = salvo_get(b, th_url(&th_srv, "%s", cases[i].path));
    ok[i] = salvo_get(b, th_url(&th_srv, "/json/%zu", i));
  }
  for (size_t i = 0; i < n; i++) {
    salvo_response *r = salvo_pending_response(b, ps[i]);
    if (salvo_response_error(r) != cases[i].err)
      fail_msg("%s: expected %s, got %s (%s)", cases[i].path,
               salvo_errname(cases[i].err),
               salvo_errname(salvo_response_error(r)),
               salvo_response_errmsg(r));
    if (cases[i].status >= 0)
      assert_int_equal(salvo_response_status(r), cases[i].status);
    if (cases[i].err)
      assert_true(strlen(salvo_response_errmsg(r)) > 0);
    /* A body the close cut short is named in the same words by both
     * transports (libcurl's own are "transfer closed with N bytes
     * remaining to read"). */
    if (!strncmp(cases[i].path, "/short/", 7) && !th_h2())
      assert_string_equal(salvo_response_errmsg(r),
                          "connection closed before the end of the body");
    if (!cases[i].err)
      assert_string_equal(salvo_response_errmsg(r), "");
    salvo_response_free(r);
    r = salvo_pending_response(b, ok[i]);
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_parallel_close(b);
  salvo_client_free(c);
}

static void test_refused_and_dns(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.connect_timeout = 5;
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_pending refused = salvo_get(b, "http://127.0.0.1:1/");
  salvo_pending dns = salvo_get(b, "http://no-such-host.invalid/");
  salvo_response *r = salvo_pending_response(b, refused);
  assert_int_equal(salvo_response_error(r), SALVO_ECONNECT);
  /* In the same words on every transport, naming the cause (libcurl's
   * own: "... after 0 ms: Couldn't connect to server"). */
  assert_string_equal(salvo_response_errmsg(r),
                      "Failed to connect to 127.0.0.1 port 1: Connection "
                      "refused");
  salvo_response_free(r);
  r = salvo_pending_response(b, dns);
  assert_int_equal(salvo_response_error(r), SALVO_EDNS);
  assert_non_null(strstr(salvo_response_errmsg(r), "no-such-host.invalid"));
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* A connect that runs out of connect_timeout, or of the attempt's limit
 * while it connects, is SALVO_ETIMEDOUT in the same words on every
 * transport ("Connection timed out after N milliseconds", libcurl's; the
 * Python package reads them as httpx's ConnectTimeout; the native
 * transport said "Operation timed out" of the second). The port's
 * listener never accepts and its queue is full, so Linux drops the SYNs:
 * the connect neither succeeds nor fails. */
static void test_connect_timeout_said_alike(void **state) {
  (void)state;
  int fill, port = 0, l = th_stalled_listener("127.0.0.1", &port, &fill);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  for (int attempt_limit = 0; attempt_limit < 2; attempt_limit++) {
    cfg.connect_timeout = attempt_limit ? 10 : 0.3;
    cfg.timeout = attempt_limit ? 0.3 : 30;
    salvo_client *c = th_client(&cfg);
    salvo_response *r = th_fetch_url(c, th_fmt("http://127.0.0.1:%d/", port));
    assert_int_equal(salvo_response_error(r), SALVO_ETIMEDOUT);
    if (strncmp(salvo_response_errmsg(r), "Connection timed out after ", 27))
      fail_msg("connect timeout (%s's limit) said as \"%s\"",
               attempt_limit ? "the attempt" : "the connect",
               salvo_response_errmsg(r));
    salvo_response_free(r);
    salvo_client_free(c);
  }
  close(fill);
  close(l);
}

/* A server that accepts and never answers: the timeout fires, not before
 * its time, while the other requests complete first. */
static void test_timeout_is_accurate(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b = th_open(c);
  salvo_request hang;
  salvo_request_init(&hang);
  hang.url = th_url(&th_srv, "/hang");
  hang.timeout = 0.4;
  hang.max_retries = 0;
  double t0 = th_now();
  salvo_submit(b, &hang);
  for (int i = 0; i < 20; i++)
    salvo_get(b, th_url(&th_srv, "/delay/10"));
  for (int i = 0; i < 20; i++) {
    salvo_response *r = salvo_parallel_next(b);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
  }
  salvo_response *r = salvo_parallel_next(b);
  double dt = th_now() - t0;
  assert_int_equal(salvo_response_error(r), SALVO_ETIMEDOUT);
  assert_true(dt >= 0.39);
  TH_WITHIN(dt, 1.2, "a 0.4 s timeout");
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fault_endpoints),
      cmocka_unit_test(test_refused_and_dns),
      cmocka_unit_test(test_connect_timeout_said_alike),
      cmocka_unit_test(test_timeout_is_accurate),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
