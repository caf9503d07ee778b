/* What a request that is not idempotent is owed, and what a pooled
 * connection may carry, on both transports (ctest runs this suite with
 * SALVO_TRANSPORT=native and =libcurl). The evidence is faultd's own
 * count of each key's requests: "received once" is the server's word.
 *
 * RFC 9110 9.2.2: a client SHOULD NOT automatically retry a request with a
 * non-idempotent method unless it knows the request semantics are in fact
 * idempotent, or can detect that the original request was never applied.
 * RFC 9112 9.3.1: a client that does not support pipelining (salvo does
 * not) sends no request on a connection before the previous response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static salvo_response *send_one(salvo_client *c, const char *method,
                                const char *url, int idempotent) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  req.method = method;
  req.idempotent = idempotent;
  if (strcmp(method, "GET")) {
    req.body = "order #1";
    req.body_len = 8;
  }
  return th_fetch(c, &req);
}

static void assert_ok(salvo_response *r, int status) {
  if (salvo_response_error(r) || salvo_response_status(r) != status)
    fail_msg("want %d, got %d %s: %s", status, salvo_response_status(r),
             salvo_errname(salvo_response_error(r)), salvo_response_errmsg(r));
}

static salvo_client *quick_retries(int max_retries) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = max_retries;
  cfg.retry_base = 0.01;
  return th_client(&cfg);
}

/* A request the server read and answered by closing (or resetting) a
 * pooled connection is never sent again unless it may be: the caller gets
 * an error saying the server may have processed it. */
static void test_unsafe_sent_once(void **state) {
  (void)state;
  salvo_client *c = quick_retries(3);
  static const struct {
    const char *method, *mode;
  } unsafe[] = {{"POST", "close"}, {"POST", "reset"}, {"PATCH", "close"}};
  for (size_t i = 0; i < 3; i++) {
    /* The connection goes back to the pool, then carries the next one. */
    salvo_response *r = send_one(c, "POST", th_url(&th_srv, "/echo"), 0);
    assert_ok(r, 200);
    salvo_response_free(r);
    const char *key = th_fmt("unsafe%zu", i);
    r = send_one(
        c, unsafe[i].method,
        th_url(&th_srv, "/flaky?key=%s&fail=1&mode=%s", key, unsafe[i].mode),
        0);
    if (salvo_response_error(r) != SALVO_EIO)
      fail_msg("%s: want EIO, got %s", unsafe[i].method,
               salvo_errname(salvo_response_error(r)));
    assert_int_equal(salvo_response_attempts(r), 1);
    assert_non_null(strstr(salvo_response_errmsg(r), "may have processed"));
    assert_int_equal(th_key_count(&th_srv, key), 1);
    salvo_response_free(r);
  }
  /* A GET goes again on a new connection, within the same attempt (the
   * first went on a pooled one), and so does a POST the caller says is
   * idempotent. */
  salvo_response *r = send_one(
      c, "GET", th_url(&th_srv, "/flaky?key=get&fail=1&mode=close"), 0);
  assert_ok(r, 200);
  assert_int_equal(th_key_count(&th_srv, "get"), 2);
  salvo_response_free(r);
  r = send_one(c, "POST", th_url(&th_srv, "/flaky?key=idem&fail=1&mode=close"),
               1);
  assert_ok(r, 200);
  assert_int_equal(th_key_count(&th_srv, "idem"), 2);
  salvo_response_free(r);
  salvo_client_free(c);

  /* With retries off, nothing changes for the unsafe one. */
  c = quick_retries(0);
  salvo_response_free(send_one(c, "POST", th_url(&th_srv, "/echo"), 0));
  r = send_one(c, "POST",
               th_url(&th_srv, "/flaky?key=noretry&fail=1&mode=close"), 0);
  assert_int_equal(salvo_response_error(r), SALVO_EIO);
  assert_int_equal(th_key_count(&th_srv, "noretry"), 1);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A request that never left (no connection, no name) is retried whatever
 * its method: the server cannot have processed it. */
static void test_unsafe_retried_when_unsent(void **state) {
  (void)state;
  salvo_client *c = quick_retries(2);
  salvo_response *r = send_one(c, "POST", "http://127.0.0.1:1/order", 0);
  assert_int_equal(salvo_response_error(r), SALVO_ECONNECT);
  assert_int_equal(salvo_response_attempts(r), 3);
  salvo_response_free(r);
  r = send_one(c, "PATCH", "http://no-such-host.invalid/order", 0);
  assert_int_equal(salvo_response_error(r), SALVO_EDNS);
  assert_int_equal(salvo_response_attempts(r), 3);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A server that closes every connection after its response, without
 * saying so: each request costs a connection and nothing more: no time
 * limit waited out (the attempt limit is 5 s and no retries are allowed),
 * the concurrency of 1 held while a request goes again, and no request
 * received twice. */
static void test_quiet_close(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 1;
  cfg.max_retries = 0;
  cfg.timeout = 5;
  salvo_client *c = th_client(&cfg);
  enum { N = 60 };
  for (int m = 0; m < 2; m++) {
    const char *method = m ? "POST" : "GET";
    json_decref(th_reset(&th_srv));
    salvo_parallel *b = th_open(c);
    salvo_request reqs[N];
    th_requests_init(reqs, N);
    for (int i = 0; i < N; i++) {
      reqs[i].url = th_url(&th_srv, "/flaky?key=%s%d&close=1", method, i);
      reqs[i].method = method;
      reqs[i].user_data = (void *)(intptr_t)i;
      salvo_submit(b, &reqs[i]);
    }
    int ok = 0;
    salvo_response *r;
    while ((r = salvo_parallel_next(b))) {
      const char *key =
          th_fmt("%s%d", method, (int)(intptr_t)salvo_response_user_data(r));
      long seen = th_key_count(&th_srv, key);
      if (!salvo_response_error(r)) {
        assert_int_equal(salvo_response_status(r), 200);
        assert_int_equal(salvo_response_attempts(r), 1);
        assert_int_equal(seen, 1);
        ok++;
      } else {
        /* Only a POST may fail, when its write crossed the server's
         * close; it was then received at most once. */
        if (m == 0 || salvo_response_error(r) != SALVO_EIO)
          fail_msg("%s %s: %s", method, key, salvo_response_errmsg(r));
        assert_true(seen <= 1);
      }
      salvo_response_free(r);
    }
    salvo_parallel_close(b);
    if (m == 0)
      assert_int_equal(ok, N);
    else if (ok < N / 2)
      fail_msg("only %d of %d POSTs succeeded", ok, N);
    json_t *st = th_stats(&th_srv);
    assert_int_equal(json_integer_value(json_object_get(st, "inflight_peak")),
                     1);
    assert_true(json_integer_value(json_object_get(st, "requests")) <= N);
    json_decref(st);
  }
  salvo_client_free(c);
}

/* A server that answers an upload early (413, 401) and closes, with or
 * without reading the rest: its answer is the result, the body is not
 * sent again (RFC 9112 9.5: a client SHOULD monitor the connection for an
 * error response while it is transmitting the request). */
static void test_early_answer(void **state) {
  (void)state;
  salvo_client *c = quick_retries(3);
  size_t n = 4u << 20;
  char *body = malloc(n);
  memset(body, 'u', n);
  static const char *const methods[] = {"PUT", "POST"};
  for (int drain = 0; drain < 2; drain++)
    for (int m = 0; m < 2; m++) {
      const char *key = th_fmt("early%d%d", drain, m);
      salvo_request req;
      salvo_request_init(&req);
      req.url = th_url(&th_srv, "/early?key=%s&status=%d&drain=%d", key,
                       drain ? 413 : 401, drain);
      req.method = methods[m];
      req.body = body;
      req.body_len = n;
      salvo_response *r = th_fetch(c, &req);
      long sent = th_key_count(&th_srv, key);
      if (drain) { /* the server reads on: its answer always arrives */
        assert_ok(r, 413);
        assert_int_equal(salvo_response_attempts(r), 1);
        assert_int_equal(sent, 1);
      } else if (salvo_response_error(r)) {
        /* Reset with the body unread, the kernel drops an answer the
         * client had not read yet (a busy machine): the POST is then an
         * error saying it may have been processed, never sent twice. */
        assert_int_equal(m, 1);
        assert_int_equal(sent, 1);
        assert_non_null(strstr(salvo_response_errmsg(r), "may have"));
      } else {
        /* Read in time, or (a PUT) sent again after a lost answer. */
        assert_ok(r, 401);
        assert_true(salvo_response_attempts(r) >= sent);
        if (m == 1 && sent != 1)
          fail_msg("a POST was sent %ld times", sent);
      }
      if (!salvo_response_error(r))
        assert_string_equal(salvo_response_body(r, NULL), "refused early\n");
      salvo_response_free(r);
    }
  /* The connection that carried a cut-short body is not used again. */
  salvo_response *r = send_one(c, "POST", th_url(&th_srv, "/echo"), 0);
  assert_ok(r, 200);
  salvo_response_free(r);
  free(body);
  salvo_client_free(c);
}

/* A response nobody asked for, on an idle pooled connection, closes that
 * connection and never answers the next request: sent in the same write
 * as the response before it, or later while the connection is idle. */
static void test_unsolicited(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  for (int late = 0; late < 2; late++)
    for (int m = 0; m < 2; m++) {
      json_decref(th_reset(&th_srv));
      salvo_response *r = th_fetch_url(
          c, th_url(&th_srv, "/unsolicited?delay=%d", late ? 30 : 0));
      assert_ok(r, 200);
      assert_string_equal(salvo_response_body(r, NULL), "ok\n");
      salvo_response_free(r);
      if (th_wait_stat(&th_srv, "unsolicited", 1, 10) != 1)
        fail_msg("late %d: faultd sent nothing unasked", late);
      r = send_one(c, m ? "POST" : "GET", th_url(&th_srv, "/echo"), 0);
      assert_ok(r, 200);
      if (strncmp(salvo_response_body(r, NULL), "{\"method\":", 10))
        fail_msg("late %d, %s: the next request got \"%s\"", late,
                 m ? "POST" : "GET", salvo_response_body(r, NULL));
      salvo_response_free(r);
      /* The /_stats request of th_wait_stat came on a connection of its
       * own: the two requests took two. */
      assert_int_equal(th_stat(&th_srv, "conns_total"), 2);
    }
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unsafe_sent_once),
      cmocka_unit_test(test_unsafe_retried_when_unsent),
      cmocka_unit_test(test_quiet_close),
      cmocka_unit_test(test_early_answer),
      cmocka_unit_test(test_unsolicited),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
