/* The configuration contract: salvo_config_init and salvo_request_init
 * give the defaults, every value after that means what it says (0 retries
 * is none), uninitialised structs are refused, and structs of an older or
 * newer size keep working. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static void test_defaults_are_documented_values(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  assert_int_equal(cfg.size, sizeof(cfg));
  assert_int_equal(cfg.concurrency, 100);
  assert_int_equal(cfg.per_host, 0);
  assert_true(cfg.timeout == 30 && cfg.connect_timeout == 10);
  assert_int_equal(cfg.max_redirects, 10);
  assert_int_equal(cfg.max_body, (size_t)64 << 20);
  assert_int_equal(cfg.rate_burst, 1);
  assert_int_equal(cfg.max_retries, 3);
  assert_true(cfg.retry_base == 0.5 && cfg.retry_max_delay == 30);
  assert_null(cfg.headers);
  assert_null(cfg.user_agent);
  assert_true(cfg.max_idle == -1 && cfg.idle_timeout == 0);
  salvo_request req;
  salvo_request_init(&req);
  assert_int_equal(req.size, sizeof(req));
  assert_int_equal(req.max_retries, SALVO_CLIENT_DEFAULT);
  assert_null(req.url);
}

/* A struct that was zeroed rather than initialised is refused, with a
 * message that says what to do. */
static void test_uninitialised_structs_are_refused(void **state) {
  (void)state;
  salvo_config zero;
  memset(&zero, 0, sizeof(zero));
  zero.concurrency = 4;
  salvo_client *c = (salvo_client *)1;
  char msg[200];
  assert_int_equal(salvo_client_new(&c, &zero), SALVO_EINVAL);
  assert_null(c);
  assert_int_equal(salvo_config_check(&zero, msg, sizeof(msg)), SALVO_EINVAL);
  assert_non_null(strstr(msg, "salvo_config_init"));
  c = th_client(NULL);
  salvo_request req;
  memset(&req, 0, sizeof(req));
  req.url = th_url(&th_srv, "/json/1");
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(r), "salvo_request_init"));
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Each value a field cannot take is refused, the field named. */
static void test_idle_fields_checked(void **state) {
  (void)state;
  struct {
    int max_idle;
    double idle_timeout;
    const char *named;
  } bad[] = {
      {-2, 0, "max_idle"}, {-1, -1, "idle_timeout"}, {0, NAN, "idle_timeout"}};
  char msg[200];
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    salvo_config cfg;
    salvo_config_init(&cfg);
    cfg.max_idle = bad[i].max_idle;
    cfg.idle_timeout = bad[i].idle_timeout;
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    if (!strstr(msg, bad[i].named))
      fail_msg("case %zu: \"%s\" does not name %s", i, msg, bad[i].named);
  }
}

/* Zero means zero: no retries (one attempt, counted by the server), no
 * redirects, a body limit of nothing. */
static void test_zero_means_zero(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  cfg.max_redirects = 0;
  salvo_client *c = th_client(&cfg);
  json_decref(th_reset(&th_srv));
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/flaky?key=zero&fail=5");
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 503);
  assert_int_equal(salvo_response_attempts(r), 1);
  salvo_response_free(r);
  json_t *st = th_stats(&th_srv);
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(st, "keys"), "zero")),
      1);
  json_decref(st);
  /* A request may ask for retries of its own, or none on a client that
   * retries. */
  req.url = th_url(&th_srv, "/flaky?key=own&fail=1");
  req.max_retries = 2;
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_attempts(r), 2);
  salvo_response_free(r);
  req.url = th_url(&th_srv, "/redirect/1");
  req.max_retries = SALVO_CLIENT_DEFAULT;
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  salvo_response_free(r);
  req.max_retries = -2;
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(r), "max_retries"));
  salvo_response_free(r);
  salvo_client_free(c);
  salvo_config_init(&cfg);
  cfg.max_body = 0;
  c = th_client(&cfg);
  req.max_retries = 0;
  req.url = th_url(&th_srv, "/json/1");
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_ETOOBIG);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A program built against an older, smaller header: the fields past its
 * size are not read, whatever the memory there holds. */
static void test_older_config_size(void **state) {
  (void)state;
  salvo_config cfg;
  memset(&cfg, 0xAB, sizeof(cfg));
  size_t old = offsetof(salvo_config, return_type);
  salvo_config_init_size(&cfg, old);
  assert_int_equal(cfg.size, old);
  cfg.concurrency = 2;
  salvo_client *c = th_client(&cfg); /* the garbage past `old` is ignored */
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/json/1");
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_null(salvo_response_value(r)); /* no parse callback was read */
  salvo_response_free(r);
  salvo_client_free(c);
  /* Built before max_retries existed: the client retries by default, and
   * so does a request that predates its own max_retries. */
  salvo_config_init_size(&cfg, offsetof(salvo_config, max_retries));
  cfg.max_retries = 0; /* past its size: never read */
  c = th_client(&cfg);
  salvo_request_init_size(&req, offsetof(salvo_request, max_retries));
  req.max_retries = 0;
  req.url = th_url(&th_srv, "/flaky?key=older&fail=2");
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_attempts(r), 3);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A program built against a newer, larger header: the library reads what
 * it knows, and arrays of requests are walked by the caller's size. */
static void test_newer_struct_sizes(void **state) {
  (void)state;
  struct newer_config {
    salvo_config cfg;
    char future[64];
  } nc;
  salvo_config_init_size(&nc.cfg, sizeof(nc));
  assert_int_equal(nc.cfg.size, sizeof(nc));
  assert_int_equal(nc.cfg.max_retries, 3);
  nc.cfg.concurrency = 3;
  memset(nc.future, 0x5A, sizeof(nc.future));
  salvo_client *c = th_client(&nc.cfg);
  struct newer_request {
    salvo_request req;
    char future[40];
  } reqs[3];
  for (int i = 0; i < 3; i++) {
    salvo_request_init_size(&reqs[i].req, sizeof(reqs[i]));
    memset(reqs[i].future, 0x5A, sizeof(reqs[i].future));
    reqs[i].req.url = th_url(&th_srv, "/json/%d", i);
    reqs[i].req.key = th_fmt("k%d", i);
  }
  salvo_results *res = salvo_client_parallel_requests(c, &reqs[0].req, 3);
  assert_int_equal(salvo_results_error(res), SALVO_OK);
  assert_int_equal(salvo_results_failed(res), 0);
  for (int i = 0; i < 3; i++) {
    salvo_response *r = salvo_results_get(res, th_fmt("k%d", i));
    assert_non_null(r);
    assert_string_equal(salvo_response_url(r), th_url(&th_srv, "/json/%d", i));
  }
  salvo_results_free(res);
  salvo_client_free(c);
}

/* One spelling of the transports for the configuration's environment
 * variable, the command and Python. */
static void test_transport_parse(void **state) {
  (void)state;
  int t = -1;
  assert_int_equal(salvo_transport_parse("auto", &t), SALVO_OK);
  assert_int_equal(t, SALVO_TRANSPORT_AUTO);
  assert_int_equal(salvo_transport_parse("native", &t), SALVO_OK);
  assert_int_equal(t, SALVO_TRANSPORT_NATIVE);
  assert_int_equal(salvo_transport_parse("libcurl", &t), SALVO_OK);
  assert_int_equal(t, SALVO_TRANSPORT_LIBCURL);
  t = -1;
  assert_int_equal(salvo_transport_parse("curl", &t), SALVO_EINVAL);
  assert_int_equal(salvo_transport_parse("Native", &t), SALVO_EINVAL);
  assert_int_equal(salvo_transport_parse(NULL, &t), SALVO_EINVAL);
  assert_int_equal(t, -1); /* untouched on failure */
}

/* 32-bit FNV-1a of "scheme://host:port" modulo n, whatever the path, the case
 * of the host or an explicit default port (the value computed apart:
 * "http://a.test:80" is 242 of 1000 and 3 of 7). */
static void test_url_shard(void **state) {
  (void)state;
  assert_int_equal(salvo_url_shard("http://a.test/", 1000), 242);
  assert_int_equal(salvo_url_shard("http://A.TEST:80/x?y#z", 1000), 242);
  assert_int_equal(salvo_url_shard("http://a.test/other", 7), 3);
  assert_int_not_equal(salvo_url_shard("https://a.test/", 1000), 242);
  for (unsigned n = 1; n < 50; n++) {
    int s = salvo_url_shard("https://b.test:8443/", n);
    assert_true(s >= 0 && (unsigned)s < n);
  }
  assert_int_equal(salvo_url_shard("http://a.test/", 0), SALVO_EINVAL);
  assert_int_equal(salvo_url_shard("ftp://a.test/", 7), SALVO_EINVAL);
  assert_int_equal(salvo_url_shard(NULL, 7), SALVO_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults_are_documented_values),
      cmocka_unit_test(test_uninitialised_structs_are_refused),
      cmocka_unit_test(test_idle_fields_checked),
      cmocka_unit_test(test_zero_means_zero),
      cmocka_unit_test(test_older_config_size),
      cmocka_unit_test(test_newer_struct_sizes),
      cmocka_unit_test(test_transport_parse),
      cmocka_unit_test(test_url_shard),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
