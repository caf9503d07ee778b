/* Parallel blocks: timing, order, handles, collection, request encoding. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

/* The server saw both requests in flight at once. */
static void test_two_requests_run_in_parallel(void **state) {
  (void)state;
  json_decref(th_reset(&th_srv));
  salvo_parallel *b = th_open(th_cl);
  salvo_pending p1 = salvo_get(b, th_url(&th_srv, "/delay/300"));
  salvo_pending p2 = salvo_get(b, th_url(&th_srv, "/delay/300"));
  assert_true(p1.id && p2.id && p1.id != p2.id);
  salvo_response *r1 = salvo_pending_response(b, p1);
  salvo_response *r2 = salvo_pending_response(b, p2);
  assert_int_equal(salvo_response_error(r1), SALVO_OK);
  assert_int_equal(salvo_response_status(r1), 200);
  assert_int_equal(salvo_response_status(r2), 200);
  assert_string_equal(salvo_response_body(r1, NULL), "ok\n");
  assert_int_equal(th_stat(&th_srv, "inflight_peak"), 2);
  assert_int_equal(th_stat(&th_srv, "requests"), 2);
  salvo_response_free(r1);
  salvo_response_free(r2);
  salvo_parallel_close(b);
}

static void test_next_returns_completion_order(void **state) {
  (void)state;
  salvo_parallel *b = th_open(th_cl);
  const char *delays[] = {"400", "50", "200", "0"};
  for (int i = 0; i < 4; i++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, "/delay/%s", delays[i]);
    req.key = delays[i];
    assert_true(salvo_submit(b, &req).id != 0);
  }
  const char *want[] = {"0", "50", "200", "400"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(salvo_parallel_has_pending(b), 4 - i);
    salvo_response *r = salvo_parallel_next(b);
    assert_non_null(r);
    assert_string_equal(salvo_response_key(r), want[i]);
    salvo_response_free(r);
  }
  assert_int_equal(salvo_parallel_has_pending(b), 0);
  assert_null(salvo_parallel_next(b));
  assert_null(salvo_parallel_poll(b));
  salvo_parallel_close(b);
}

static void test_errors_only_at_collection(void **state) {
  (void)state;
  salvo_parallel *b = th_open(th_cl);
  salvo_pending bad = salvo_get(b, "ftp://127.0.0.1/file");
  salvo_request once;
  salvo_request_init(&once);
  once.url = "http://127.0.0.1:1/";
  once.max_retries = 0;
  salvo_pending refused = salvo_submit(b, &once);
  salvo_pending good = salvo_get(b, th_url(&th_srv, "/json/7"));
  assert_true(bad.id && refused.id && good.id);
  salvo_response *rg = salvo_pending_response(b, good);
  salvo_response *rr = salvo_pending_response(b, refused);
  salvo_response *rb = salvo_pending_response(b, bad);
  assert_int_equal(salvo_response_error(rg), SALVO_OK);
  assert_int_equal(salvo_response_status(rg), 200);
  assert_string_equal(salvo_response_body(rg, NULL),
                      "{\"id\":7,\"name\":\"item 7\"}");
  assert_int_equal(salvo_response_error(rr), SALVO_ECONNECT);
  assert_int_equal(salvo_response_attempts(rr), 1);
  assert_true(strlen(salvo_response_errmsg(rr)) > 0);
  assert_int_equal(salvo_response_error(rb), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(rb), "ftp"));
  assert_int_equal(salvo_response_attempts(rb), 0);
  assert_string_equal(salvo_response_url(rb), "ftp://127.0.0.1/file");
  salvo_response_free(rg);
  salvo_response_free(rr);
  salvo_response_free(rb);
  salvo_parallel_close(b);
}

static void test_stale_handles_return_null(void **state) {
  (void)state;
  salvo_parallel *b = th_open(th_cl);
  salvo_parallel *other = th_open(th_cl);
  salvo_pending p = salvo_get(b, th_url(&th_srv, "/json/1"));
  salvo_pending q = salvo_get(b, th_url(&th_srv, "/json/2"));
  salvo_response *r = salvo_pending_response(b, p);
  assert_non_null(r);
  assert_int_equal(salvo_response_pending(r).id, p.id);
  salvo_response_free(r);
  /* Delivered: stale from now on, even once its slot is reused. */
  assert_null(salvo_pending_response(b, p));
  salvo_pending p2 = salvo_get(b, th_url(&th_srv, "/json/3"));
  assert_true(p2.id != p.id);
  assert_null(salvo_pending_response(b, p));
  salvo_pending zero = {0}, forged = {0xdeadbeef00000007ull};
  assert_null(salvo_pending_response(b, zero));
  assert_null(salvo_pending_response(b, forged));
  assert_null(salvo_pending_response(other, q));
  /* Collected through next: the handle goes stale too. */
  salvo_response *a = salvo_parallel_next(b);
  salvo_response *c = salvo_parallel_next(b);
  assert_non_null(a);
  assert_non_null(c);
  assert_null(salvo_pending_response(b, q));
  assert_null(salvo_pending_response(b, p2));
  assert_null(salvo_pending_response(NULL, q));
  salvo_response_free(a);
  salvo_response_free(c);
  salvo_parallel_close(other);
  salvo_parallel_close(b);
}

/* The former names (salvo.h keeps them for one release) reach the same
 * functions, and the library still exports their symbols. */
static void test_former_names(void **state) {
  (void)state;
  salvo_batch *b = salvo_parallel(th_cl);
  assert_non_null(b);
  assert_true(salvo_batch_fd(b) >= 0);
  salvo_get(b, th_url(&th_srv, "/json/1"));
  assert_int_equal(salvo_batch_has_pending(b), 1);
  salvo_response *r = salvo_batch_next_timeout(b, 10);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  assert_null(salvo_batch_poll(b));
  assert_null(salvo_batch_next(b));
  salvo_batch_close(b);
  assert_int_equal(salvo_batch_fd(NULL), -1);
}

static void test_poll_and_fd(void **state) {
  (void)state;
  salvo_parallel *b = th_open(th_cl);
  int fd = -1;
  assert_int_equal(salvo_parallel_fd(b, &fd), SALVO_OK);
  assert_true(fd >= 0);
  assert_int_equal(salvo_parallel_fd(b, NULL), SALVO_EINVAL);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&pfd, 1, 0), 0);
  assert_null(salvo_parallel_poll(b));
  salvo_get(b, th_url(&th_srv, "/delay/100"));
  salvo_get(b, th_url(&th_srv, "/delay/100"));
  assert_null(salvo_parallel_poll(b));
  int got = 0;
  while (got < 2) {
    /* Readable means a response is ready: every wake-up collects one. The
     * second may become ready at any moment after the first, so the
     * descriptor's quiet is checked once both are in. */
    assert_int_equal(poll(&pfd, 1, 2000), 1);
    salvo_response *r;
    int this_wake = 0;
    while ((r = salvo_parallel_poll(b))) {
      assert_int_equal(salvo_response_status(r), 200);
      salvo_response_free(r);
      this_wake++;
    }
    assert_true(this_wake >= 1);
    got += this_wake;
  }
  /* Nothing ready: the descriptor is no longer readable. */
  assert_int_equal(poll(&pfd, 1, 0), 0);
  assert_int_equal(salvo_parallel_has_pending(b), 0);
  salvo_parallel_close(b);
}

static void test_request_encoding(void **state) {
  (void)state;
  const char *cfg_headers[] = {"X-Client: one", "X-Shared: client", NULL};
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.headers = cfg_headers;
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);

  const char *params[] = {"q", "a b&c=d/é", "flag", SALVO_NO_VALUE, NULL};
  const char *hdrs[] = {"X-Shared: request", "X-Empty:", NULL};
  salvo_request get;
  salvo_request_init(&get);
  get.url = th_url(&th_srv, "/echo?x=1#frag");
  get.params = params;
  get.headers = hdrs;
  salvo_pending pg = salvo_submit(b, &get);

  salvo_request post;

  salvo_request_init(&post);
  post.url = th_url(&th_srv, "/echo");
  post.json = "{\"hello\":\"world\"}";
  salvo_pending pp = salvo_submit(b, &post);

  static const char raw[] = "a\0b";
  salvo_request put;
  salvo_request_init(&put);
  put.method = "PUT";
  put.url = th_url(&th_srv, "/echo");
  put.body = raw;
  put.body_len = 3;
  salvo_pending pu = salvo_submit(b, &put);

  salvo_request patch;

  salvo_request_init(&patch);
  patch.method = "PATCH";
  patch.url = th_url(&th_srv, "/echo");
  salvo_pending pa = salvo_submit(b, &patch);

  salvo_request head;

  salvo_request_init(&head);
  head.method = "HEAD";
  head.url = th_url(&th_srv, "/json/1");
  salvo_pending ph = salvo_submit(b, &head);

  salvo_response *r = salvo_pending_response(b, pg);
  json_t *j = th_body_json(r);
  assert_string_equal(th_jstr(j, "method", NULL), "GET");
  assert_string_equal(th_jstr(j, "query", NULL),
                      "x=1&q=a%20b%26c%3Dd%2F%C3%A9&flag");
  assert_string_equal(th_jstr(j, "headers", "x-client"), "one");
  assert_string_equal(th_jstr(j, "headers", "x-shared"), "request");
  assert_null(json_object_get(json_object_get(j, "headers"), "x-empty"));
  assert_string_equal(th_jstr(j, "headers", "user-agent"),
                      "salvo/" SALVO_VERSION);
  assert_string_equal(salvo_response_header(r, "content-type"),
                      "application/json");
  assert_string_equal(salvo_response_http_version(r), th_h2() ? "2" : "1.1");
  assert_true(salvo_response_total_time(r) > 0);
  assert_true(salvo_response_ttfb(r) <= salvo_response_total_time(r));
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, pp);
  j = th_body_json(r);
  assert_string_equal(th_jstr(j, "method", NULL), "POST");
  assert_string_equal(th_jstr(j, "body", NULL), "{\"hello\":\"world\"}");
  assert_string_equal(th_jstr(j, "headers", "content-type"),
                      "application/json");
  assert_null(json_object_get(json_object_get(j, "headers"), "expect"));
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, pu);
  j = th_body_json(r);
  assert_string_equal(th_jstr(j, "method", NULL), "PUT");
  assert_int_equal(json_integer_value(json_object_get(j, "body_len")), 3);
  assert_int_equal(json_string_length(json_object_get(j, "body")), 3);
  assert_memory_equal(json_string_value(json_object_get(j, "body")), raw, 3);
  /* A raw body gets no invented content type. */
  assert_null(json_object_get(json_object_get(j, "headers"), "content-type"));
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, pa);
  j = th_body_json(r);
  assert_string_equal(th_jstr(j, "method", NULL), "PATCH");
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, ph);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  size_t len = 99;
  salvo_response_body(r, &len);
  assert_int_equal(len, 0);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

static void test_bad_input_is_einval(void **state) {
  (void)state;
  salvo_parallel *b = th_open(th_cl);
  const char *crlf[] = {"X-Evil: a\r\nInjected: yes", NULL};
  const char *nocolon[] = {"NoColonHere", NULL};
  const char *badname[] = {"Bad Name: x", NULL};
  struct {
    const char *method, *url;
    const char *const *headers;
  } cases[] = {
      {NULL, NULL, NULL},
      {NULL, "", NULL},
      {NULL, "127.0.0.1/no-scheme", NULL},
      {NULL, "gopher://127.0.0.1/", NULL},
      {NULL, "http:///no-host", NULL},
      {NULL, "http://127.0.0.1:99999/", NULL},
      {NULL, "http://127.0.0.1:12ab/", NULL},
      {NULL, "http://127.0.0.1/a b", NULL},
      {NULL, "http://127.0.0.1/a\nb", NULL},
      {NULL, "http://[::1/", NULL},
      /* Neither an IPv6 address nor a host name: EINVAL from both
       * transports (the native one asked the DNS for "zz" and "a%20b"). */
      {NULL, "http://[zz]/", NULL},
      {NULL, "http://[fe80::1%25eth0]/", NULL},
      {NULL, "http://a%20b/", NULL},
      /* An IPv4 address libcurl reads as inet_aton does (127.0.0.1) and
       * the native resolver as a name: refused by both. */
      {NULL, "http://127.1:1/", NULL},
      {"GE T", "http://127.0.0.1/", NULL},
      {"", "http://127.0.0.1/", NULL},
      {"GET\r\n", "http://127.0.0.1/", NULL},
      {NULL, "http://127.0.0.1/", crlf},
      {NULL, "http://127.0.0.1/", nocolon},
      {NULL, "http://127.0.0.1/", badname},
  };
  size_t n = sizeof(cases) / sizeof(cases[0]);
  salvo_pending ps[32];
  for (size_t i = 0; i < n; i++) {
    salvo_request req;
    salvo_request_init(&req);
    req.method = cases[i].method;
    req.url = cases[i].url;
    req.headers = cases[i].headers;
    ps[i] = salvo_submit(b, &req);
    assert_true(ps[i].id != 0);
  }
  salvo_pending good = salvo_get(b, th_url(&th_srv, "/status/204"));
  for (size_t i = 0; i < n; i++) {
    salvo_response *r = salvo_pending_response(b, ps[i]);
    if (salvo_response_error(r) != SALVO_EINVAL)
      fail_msg(
          "case %zu (%s): got %s: %s", i, cases[i].url ? cases[i].url : "NULL",
          salvo_errname(salvo_response_error(r)), salvo_response_errmsg(r));
    assert_int_equal(salvo_response_status(r), 0);
    salvo_response_free(r);
  }
  salvo_response *r = salvo_pending_response(b, good);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 204);
  salvo_response_free(r);
  /* No request or no batch: not submitted at all. */
  assert_int_equal(salvo_submit(b, NULL).id, 0);
  assert_int_equal(salvo_submit(NULL, NULL).id, 0);
  assert_int_equal(salvo_get(NULL, "http://127.0.0.1/").id, 0);
  salvo_parallel_close(b);
}

static void test_bad_config_is_einval(void **state) {
  (void)state;
  salvo_client *c = (salvo_client *)1;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = -1;
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  assert_null(c);
  cfg.concurrency = 0; /* zero slots would run nothing */
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  cfg.concurrency = 1;
  cfg.http_version = 42;
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  const char *bad[] = {"X-Ok: 1", "X-Bad: a\nb", NULL};
  cfg.http_version = 0;
  cfg.headers = bad;
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  assert_int_equal(salvo_client_new(NULL, NULL), SALVO_EINVAL);
  salvo_client_free(NULL);
  salvo_parallel_close(NULL);
  salvo_response_free(NULL);
  assert_string_equal(salvo_strerror(SALVO_ETIMEDOUT), "operation timed out");
  assert_string_equal(salvo_errname(SALVO_ECONNECT), "ECONNECT");
  assert_string_equal(salvo_errname(12345), "EUNKNOWN");
}

static void test_default_client_and_user_data(void **state) {
  (void)state;
  salvo_parallel *b = th_open(NULL);
  assert_non_null(b);
  int tag;
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/status/418");
  req.user_data = &tag;
  salvo_response *r = salvo_pending_response(b, salvo_submit(b, &req));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 418);
  assert_ptr_equal(salvo_response_user_data(r), &tag);
  assert_null(salvo_response_key(r));
  salvo_response_free(r);
  salvo_parallel_close(b);
}

static void test_client_free_closes_open_batches(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_parallel *b1 = th_open(c);
  salvo_parallel *b2 = th_open(c);
  for (int i = 0; i < 20; i++) {
    salvo_get(b1, th_url(&th_srv, "/hang"));
    salvo_get(b2, th_url(&th_srv, "/json/%d", i));
  }
  salvo_response *r = salvo_parallel_next(b2);
  assert_non_null(r);
  salvo_response_free(r);
  double t0 = th_now();
  salvo_client_free(c); /* no leak (ASan says), no hang */
  TH_WITHIN(th_now() - t0, 3.0, "salvo_client_free with 20 hanging");
}

/* A response made by the caller reads as a received one: status,
 * headers (trimmed, in order, any case), body, text by its charset, JSON,
 * URL; and what no server could have sent is refused whole. */
static void test_response_made_by_caller(void **state) {
  (void)state;
  const char *hdrs[] = {"Content-Type: application/json; charset=latin-1",
                        "X-Two:  spaced\t", "x-two: again", NULL};
  salvo_response *r = NULL;
  assert_int_equal(salvo_response_new(&r, 201, hdrs, "{\"a\":\"\xe9\"}", 10,
                                      "http://made.test/x"),
                   SALVO_OK);
  assert_int_equal(salvo_response_status(r), 201);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_string_equal(salvo_response_http_version(r), "1.1");
  assert_int_equal(salvo_response_header_count(r), 3);
  assert_string_equal(salvo_response_header(r, "x-TWO"), "spaced");
  const char *name, *value;
  assert_int_equal(salvo_response_header_at(r, 2, &name, &value), 0);
  assert_string_equal(name, "x-two");
  assert_string_equal(value, "again");
  size_t len;
  assert_memory_equal(salvo_response_body(r, &len), "{\"a\":\"\xe9\"}", 10);
  assert_int_equal(len, 10);
  assert_string_equal(salvo_response_text(r, NULL), "{\"a\":\"\xc3\xa9\"}");
  assert_string_equal(salvo_response_url(r), "http://made.test/x");
  assert_int_equal(salvo_response_attempts(r), 0);
  assert_int_equal(salvo_response_redirects(r), 0);
  assert_int_equal(salvo_response_read_fd(r), -1);
  salvo_response_free(r);
  assert_int_equal(salvo_response_new(&r, 204, NULL, NULL, 0, NULL), SALVO_OK);
  assert_int_equal(salvo_response_header_count(r), 0);
  salvo_response_free(r);
  static const char *const bad[][2] = {{"Bad Name: x", NULL},
                                       {"NoColon", NULL},
                                       {"X: a\r\nY: b", NULL},
                                       {": empty name", NULL},
                                       {"X: bell\a", NULL}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    r = (salvo_response *)1;
    if (salvo_response_new(&r, 200, bad[i], "", 0, NULL) != SALVO_EINVAL || r)
      fail_msg("header %s was not refused", bad[i][0]);
  }
  assert_int_equal(salvo_response_new(&r, 99, NULL, NULL, 0, NULL),
                   SALVO_EINVAL);
  assert_int_equal(salvo_response_new(&r, 1000, NULL, NULL, 0, NULL),
                   SALVO_EINVAL);
  assert_int_equal(salvo_response_new(&r, 200, NULL, NULL, 5, NULL),
                   SALVO_EINVAL);
  assert_int_equal(salvo_response_new(NULL, 200, NULL, NULL, 0, NULL),
                   SALVO_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_response_made_by_caller),
      cmocka_unit_test(test_two_requests_run_in_parallel),
      cmocka_unit_test(test_next_returns_completion_order),
      cmocka_unit_test(test_errors_only_at_collection),
      cmocka_unit_test(test_stale_handles_return_null),
      cmocka_unit_test(test_poll_and_fd),
      cmocka_unit_test(test_former_names),
      cmocka_unit_test(test_request_encoding),
      cmocka_unit_test(test_bad_input_is_einval),
      cmocka_unit_test(test_bad_config_is_einval),
      cmocka_unit_test(test_default_client_and_user_data),
      cmocka_unit_test(test_client_free_closes_open_batches),
  };
  return cmocka_run_group_tests(tests, th_client_setup, th_client_teardown);
}
