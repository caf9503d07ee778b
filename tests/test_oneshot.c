/* The one-call form: order, keys, per-URL values, return types, parse
 * callbacks, sessions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static void test_keys_and_order(void **state) {
  (void)state;
  const char *delays[] = {"300", "0", "150", "50"};
  salvo_request reqs[4];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  for (int i = 0; i < 4; i++) {
    reqs[i].url = th_url(&th_srv, "/delay/%s", delays[i]);
    reqs[i].key = th_fmt("d%s", delays[i]);
  }
  salvo_results *res = salvo_parallel_requests(reqs, 4, NULL);
  assert_int_equal(salvo_results_error(res), SALVO_OK);
  assert_int_equal(salvo_results_count(res), 4);
  assert_int_equal(salvo_results_failed(res), 0);
  /* Input order, whatever the completion order. */
  for (int i = 0; i < 4; i++)
    assert_string_equal(salvo_response_key(salvo_results_at(res, i)),
                        th_fmt("d%s", delays[i]));
  assert_ptr_equal(salvo_results_get(res, "d150"), salvo_results_at(res, 2));
  assert_null(salvo_results_get(res, "nope"));
  assert_null(salvo_results_at(res, 4));
  salvo_results_free(res);
}

static void test_bad_sets_are_refused_before_sending(void **state) {
  (void)state;
  json_decref(th_reset(&th_srv));
  salvo_request reqs[3];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  for (int i = 0; i < 3; i++)
    reqs[i].url = th_url(&th_srv, "/json/%d", i);
  reqs[0].key = "a";
  reqs[1].key = "b";
  reqs[2].key = "a";
  salvo_results *res = salvo_parallel_requests(reqs, 3, NULL);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  assert_non_null(strstr(salvo_results_errmsg(res), "duplicate key \"a\""));
  assert_int_equal(salvo_results_count(res), 0);
  salvo_results_free(res);

  const char *urls[] = {th_url(&th_srv, "/json/1"), th_url(&th_srv, "/json/2")};
  const char *keys[] = {"only"};
  salvo_urls u = {0};
  u.urls = urls;
  u.count = 2;
  /* A zeroed struct, not set up by salvo_urls_init, is refused. */
  res = salvo_parallel_urls(&u, NULL);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  assert_non_null(strstr(salvo_results_errmsg(res), "salvo_urls_init"));
  salvo_results_free(res);
  salvo_urls_init(&u);
  u.urls = urls;
  u.count = 2;
  u.keys = keys;
  u.nkeys = 1;
  res = salvo_parallel_urls(&u, NULL);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  assert_non_null(strstr(salvo_results_errmsg(res), "1 keys for 2 URLs"));
  salvo_results_free(res);

  const char *const p1[] = {"a", "1", NULL};
  const char *const *params[] = {p1, p1, p1};
  u.nkeys = 0;
  u.params = params;
  u.nparams = 3;
  res = salvo_parallel_urls(&u, NULL);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  assert_non_null(strstr(salvo_results_errmsg(res), "params"));
  salvo_results_free(res);

  salvo_config bad;

  salvo_config_init(&bad);
  bad.concurrency = -3;
  res = salvo_parallel_requests(reqs, 2, &bad);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  salvo_results_free(res);
  assert_int_equal(th_stat(&th_srv, "requests"), 0);
}

static void test_failures_keep_successes(void **state) {
  (void)state;
  salvo_request reqs[6];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  reqs[0].url = th_url(&th_srv, "/json/0");
  reqs[1].url = "http://127.0.0.1:1/";
  reqs[2].url = th_url(&th_srv, "/json/2");
  reqs[3].url = "not a url";
  reqs[4].url = th_url(&th_srv, "/status/500");
  reqs[5].url = th_url(&th_srv, "/json/5");
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_results *res = salvo_parallel_requests(reqs, 6, &cfg);
  assert_int_equal(salvo_results_count(res), 6);
  assert_int_equal(salvo_results_failed(res), 2);
  assert_int_equal(salvo_response_status(salvo_results_at(res, 0)), 200);
  assert_int_equal(salvo_response_error(salvo_results_at(res, 1)),
                   SALVO_ECONNECT);
  assert_int_equal(salvo_response_status(salvo_results_at(res, 2)), 200);
  assert_int_equal(salvo_response_error(salvo_results_at(res, 3)),
                   SALVO_EINVAL);
  /* An HTTP error status is a result, not a failure. */
  assert_int_equal(salvo_response_error(salvo_results_at(res, 4)), SALVO_OK);
  assert_int_equal(salvo_response_status(salvo_results_at(res, 4)), 500);
  assert_int_equal(salvo_response_status(salvo_results_at(res, 5)), 200);
  salvo_results_free(res);
}

/* The reference's params=[{"ref": "main"}, {}]: one list per URL. */
static void test_per_url_params_and_broadcast(void **state) {
  (void)state;
  const char *urls[] = {th_url(&th_srv, "/echo"), th_url(&th_srv, "/echo?x=1")};
  const char *const main_ref[] = {"ref", "main", NULL};
  const char *const *per_url[] = {main_ref, NULL};
  const char *const shared_hdrs[] = {"X-App: MyApp/1.0",
                                     "Accept: application/json", NULL};
  const char *const *one_for_all[] = {shared_hdrs};
  salvo_urls u;
  salvo_urls_init(&u);
  u.urls = urls;
  u.count = 2;
  u.params = per_url;
  u.nparams = 2;
  u.headers = one_for_all;
  u.nheaders = 1;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.return_type = SALVO_RETURN_JSON;
  salvo_results *res = salvo_parallel_urls(&u, &cfg);
  assert_int_equal(salvo_results_error(res), SALVO_OK);
  json_t *a = salvo_response_json(salvo_results_at(res, 0), NULL);
  json_t *b = salvo_response_json(salvo_results_at(res, 1), NULL);
  assert_string_equal(th_jstr(a, "query", NULL), "ref=main");
  assert_string_equal(th_jstr(b, "query", NULL), "x=1");
  for (int i = 0; i < 2; i++) {
    json_t *j = i ? b : a;
    assert_string_equal(th_jstr(j, "headers", "x-app"), "MyApp/1.0");
    assert_string_equal(th_jstr(j, "headers", "accept"), "application/json");
  }
  salvo_results_free(res);

  /* One params list broadcast to every URL, one JSON body per URL. */
  const char *const page[] = {"page", "2", NULL};
  const char *const *broadcast[] = {page};
  const char *bodies[] = {"{\"n\":1}", "{\"n\":2}"};
  const char *posts[] = {th_url(&th_srv, "/echo"), th_url(&th_srv, "/echo")};
  salvo_urls_init(&u);
  u.urls = posts;
  u.count = 2;
  u.params = broadcast;
  u.nparams = 1;
  u.json = bodies;
  u.njson = 2;
  res = salvo_parallel_urls(&u, &cfg);
  for (int i = 0; i < 2; i++) {
    json_t *j = salvo_response_json(salvo_results_at(res, (size_t)i), NULL);
    assert_string_equal(th_jstr(j, "method", NULL), "POST");
    assert_string_equal(th_jstr(j, "query", NULL), "page=2");
    assert_string_equal(th_jstr(j, "body", NULL), bodies[i]);
  }
  salvo_results_free(res);
}

static void test_return_types(void **state) {
  (void)state;
  salvo_request reqs[6];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  reqs[0].url = th_url(&th_srv, "/json/42");
  reqs[1].url = th_url(&th_srv, "/notjson");
  reqs[2].url = th_url(&th_srv, "/latin1");
  reqs[3].url = th_url(&th_srv, "/bytes/1024");
  reqs[4].url = th_url(&th_srv, "/status/404");
  reqs[5].url = th_url(&th_srv, "/raw?hex=5b315d");
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.return_type = SALVO_RETURN_JSON;
  salvo_results *res = salvo_parallel_requests(reqs, 6, &cfg);
  assert_int_equal(salvo_results_failed(res), 3);

  salvo_response *r = salvo_results_at(res, 0);
  json_t *j = salvo_response_json(r, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "id")), 42);
  assert_string_equal(th_jstr(j, "name", NULL), "item 42");

  /* Not JSON: a per-result error saying where, the raw body still there. */
  r = salvo_results_at(res, 1);
  assert_int_equal(salvo_response_error(r), SALVO_EPARSE);
  assert_non_null(strstr(salvo_response_errmsg(r), "line 2, column 5"));
  assert_string_equal(salvo_response_body(r, NULL), "{\"a\": 1,\n oops}");
  assert_int_equal(salvo_response_status(r), 200);
  const char *why = NULL;
  assert_null(salvo_response_json(r, &why));
  assert_non_null(strstr(why, "line 2"));
  assert_int_equal(salvo_response_error(salvo_results_at(res, 2)),
                   SALVO_EPARSE);
  assert_int_equal(salvo_response_error(salvo_results_at(res, 3)),
                   SALVO_EPARSE);
  /* A 404 is not parsed: its status is the news. */
  assert_int_equal(salvo_response_error(salvo_results_at(res, 4)), SALVO_OK);
  /* Any JSON value, not only objects. */
  j = salvo_response_json(salvo_results_at(res, 5), NULL);
  assert_true(json_is_array(j));
  salvo_results_free(res);

  cfg.return_type = SALVO_RETURN_TEXT;
  res = salvo_parallel_requests(reqs, 6, &cfg);
  assert_int_equal(salvo_results_failed(res), 0);
  size_t len;
  const char *t = salvo_response_text(salvo_results_at(res, 2), &len);
  assert_string_equal(t, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                         "e\n");
  assert_int_equal(len, strlen(t));
  /* Bytes: exactly what came. */
  salvo_response_body(salvo_results_at(res, 3), &len);
  assert_int_equal(len, 1024);
  salvo_results_free(res);

  cfg.return_type = 99;
  res = salvo_parallel_requests(reqs, 1, &cfg);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  salvo_results_free(res);
}

static void test_text_decoding(void **state) {
  (void)state;
  struct {
    const char *query, *want;
  } cases[] = {
      /* No charset: UTF-8, each invalid byte replaced. */
      {"hex=6f6bff20fe21", "ok\xef\xbf\xbd \xef\xbf\xbd!"},
      /* Overlong and surrogate forms are invalid too. */
      {"hex=c0afeda080", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                         "\xef\xbf\xbd"},
      {"hex=e282ac&ct=text/plain;%20charset=UTF-8", "\xe2\x82\xac"},
      /* Windows-1252 curly quotes, through iconv. */
      {"hex=93686994&ct=text/html;%20charset=%22windows-1252%22",
       "\xe2\x80\x9chi\xe2\x80\x9d"},
      /* Shift_JIS with a broken trailing byte. */
      {"hex=82a082a282&ct=text/plain;charset=Shift_JIS",
       "\xe3\x81\x82\xe3\x81\x84\xef\xbf\xbd"},
      {"hex=6869&ct=text/plain;charset=no-such-charset", "hi"},
      {"hex=", ""},
  };
  size_t n = sizeof(cases) / sizeof(cases[0]);
  salvo_request reqs[8];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  for (size_t i = 0; i < n; i++)
    reqs[i].url = th_url(&th_srv, "/raw?%s", cases[i].query);
  salvo_results *res = salvo_parallel_requests(reqs, n, NULL);
  for (size_t i = 0; i < n; i++) {
    const char *t = salvo_response_text(salvo_results_at(res, i), NULL);
    if (strcmp(t, cases[i].want))
      fail_msg("%s: got \"%s\"", cases[i].query, t);
  }
  salvo_results_free(res);
}

typedef struct seen {
  int calls;
} seen;

/* Extracts "id" into a malloc'd int; refuses id 3. */
static void *extract_id(salvo_response *r, void *arg, const char **error) {
  ((seen *)arg)->calls++;
  json_t *j = salvo_response_json(r, NULL);
  json_int_t id = json_integer_value(json_object_get(j, "id"));
  if (id == 3) {
    *error = "id 3 is unlucky";
    return NULL;
  }
  int *v = malloc(sizeof(*v));
  *v = (int)id;
  return v;
}

/* JSON results, each turned into its id by extract_id. */
static salvo_config parse_ids(seen *s) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.return_type = SALVO_RETURN_JSON;
  cfg.parse = extract_id;
  cfg.parse_free = free;
  cfg.parse_arg = s;
  return cfg;
}

static void test_parse_callback(void **state) {
  (void)state;
  seen s = {0};
  salvo_config cfg = parse_ids(&s);
  salvo_request reqs[6];
  th_requests_init(reqs, sizeof(reqs) / sizeof(reqs[0]));
  for (int i = 0; i < 5; i++)
    reqs[i].url = th_url(&th_srv, "/json/%d", i);
  reqs[5].url = th_url(&th_srv, "/status/503");
  reqs[5].max_retries = 0;
  salvo_results *res = salvo_parallel_requests(reqs, 6, &cfg);
  /* Once per successful response, not for the 503. */
  assert_int_equal(s.calls, 5);
  assert_int_equal(salvo_results_failed(res), 1);
  for (int i = 0; i < 5; i++) {
    salvo_response *r = salvo_results_at(res, (size_t)i);
    if (i == 3) {
      assert_int_equal(salvo_response_error(r), SALVO_ECALLBACK);
      assert_non_null(strstr(salvo_response_errmsg(r), "id 3 is unlucky"));
      assert_null(salvo_response_value(r));
    } else {
      assert_int_equal(*(int *)salvo_response_value(r), i);
    }
  }
  assert_null(salvo_response_value(salvo_results_at(res, 5)));
  salvo_results_free(res); /* frees the values: ASan checks */
}

static void test_full_response(void **state) {
  (void)state;
  salvo_request req;
  salvo_request_init(&req);
  req.url =
      th_url(&th_srv, "/redirect-to?url=/cookies/set%%3Fa%%3D1%%26b%%3D2");
  salvo_results *res = salvo_parallel_requests(&req, 1, NULL);
  salvo_response *r = salvo_results_at(res, 0);
  assert_int_equal(salvo_response_status(r), 200);
  assert_non_null(strstr(salvo_response_url(r), "/cookies/set?a=1&b=2"));
  assert_string_equal(salvo_response_http_version(r), th_h2() ? "2" : "1.1");
  assert_true(salvo_response_total_time(r) > 0);
  assert_true(salvo_response_ttfb(r) > 0);
  size_t cookies = 0;
  for (size_t i = 0; i < salvo_response_header_count(r); i++) {
    const char *name, *value;
    salvo_response_header_at(r, i, &name, &value);
    cookies += !strcasecmp(name, "Set-Cookie"); /* HTTP/2: lowercase */
  }
  assert_int_equal(cookies, 2);
  salvo_results_free(res);
}

static const char *cookie_seen(salvo_results *res, size_t i) {
  json_t *j = salvo_response_json(salvo_results_at(res, i), NULL);
  return th_jstr(j, "headers", "cookie");
}

static void test_session_keeps_cookies(void **state) {
  (void)state;
  salvo_request set, echo;
  salvo_request_init(&set);
  salvo_request_init(&echo);
  set.url = th_url(&th_srv, "/cookies/set?session=abc");
  echo.url = th_url(&th_srv, "/echo");
  salvo_client *c = th_client(NULL);
  salvo_results *r1 = salvo_client_parallel_requests(c, &set, 1);
  salvo_results *r2 = salvo_client_parallel_requests(c, &echo, 1);
  assert_non_null(cookie_seen(r2, 0));
  assert_string_equal(cookie_seen(r2, 0), "session=abc");
  assert_int_equal(salvo_client_clear_cookies(c), SALVO_OK);
  salvo_results *r3 = salvo_client_parallel_requests(c, &echo, 1);
  assert_null(cookie_seen(r3, 0));
  salvo_results_free(r1);
  salvo_results_free(r2);
  salvo_results_free(r3);
  salvo_client_free(c);

  /* Two temporary clients share nothing. */
  r1 = salvo_parallel_requests(&set, 1, NULL);
  r2 = salvo_parallel_requests(&echo, 1, NULL);
  assert_int_equal(salvo_response_status(salvo_results_at(r1, 0)), 200);
  assert_null(cookie_seen(r2, 0));
  salvo_results_free(r1);
  salvo_results_free(r2);
  assert_int_equal(salvo_client_clear_cookies(NULL), SALVO_EINVAL);
}

static void test_ten_thousand_in_one_call(void **state) {
  (void)state;
  enum { N = 10000 };
  salvo_request *reqs = calloc(N, sizeof(*reqs));
  th_requests_init(reqs, N);
  char(*urls)[64] = calloc(N, 64);
  char(*keys)[16] = calloc(N, 16);
  for (int i = 0; i < N; i++) {
    snprintf(urls[i], 64, "http://127.0.0.1:%d/json/%d", th_srv.port, i);
    snprintf(keys[i], 16, "k%d", i);
    reqs[i].url = urls[i];
    reqs[i].key = keys[i];
  }
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 64;
  cfg.return_type = SALVO_RETURN_JSON;
  double t0 = th_now();
  salvo_results *res = salvo_parallel_requests(reqs, N, &cfg);
  double dt = th_now() - t0;
  print_message("10,000 requests in one call: %.3f s\n", dt);
  assert_int_equal(salvo_results_count(res), N);
  assert_int_equal(salvo_results_failed(res), 0);
  for (int i = 0; i < N; i += 97) {
    json_t *j = salvo_response_json(salvo_results_at(res, (size_t)i), NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), i);
  }
  json_t *j = salvo_response_json(salvo_results_get(res, "k9999"), NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "id")), 9999);
  salvo_results_free(res);
  free(reqs);
  free(urls);
  free(keys);
}

/* The batch API applies the client's return type and parse callback too,
 * on the collecting thread. */
static void test_batch_collection_converts(void **state) {
  (void)state;
  seen s = {0};
  salvo_config cfg = parse_ids(&s);
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_pending p = salvo_get(b, th_url(&th_srv, "/json/7"));
  salvo_get(b, th_url(&th_srv, "/notjson"));
  salvo_response *r = salvo_pending_response(b, p);
  assert_int_equal(*(int *)salvo_response_value(r), 7);
  salvo_response_free(r);
  r = salvo_parallel_next(b);
  assert_int_equal(salvo_response_error(r), SALVO_EPARSE);
  salvo_response_free(r);
  assert_int_equal(s.calls, 1);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

/* The one-call form on a client of the caller's: two calls share its
 * cookie jar (the second sends what the first was given) and its
 * connections (the server counts one). */
static void test_client_parallel_urls(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  salvo_client *c = th_client(&cfg);
  json_decref(th_reset(&th_srv));
  const char *set[] = {th_url(&th_srv, "/cookies/set?team=salvo")};
  salvo_urls u;
  salvo_urls_init(&u);
  u.urls = set;
  u.count = 1;
  salvo_results *res = salvo_client_parallel_urls(c, &u);
  assert_int_equal(salvo_results_error(res), SALVO_OK);
  assert_int_equal(salvo_response_status(salvo_results_at(res, 0)), 200);
  salvo_results_free(res);
  const char *echo[] = {th_url(&th_srv, "/echo")};
  u.urls = echo;
  res = salvo_client_parallel_urls(c, &u);
  json_error_t je;
  size_t n;
  const char *body = salvo_response_body(salvo_results_at(res, 0), &n);
  json_t *j = json_loadb(body, n, 0, &je);
  assert_non_null(j);
  assert_string_equal(th_jstr(j, "headers", "cookie"), "team=salvo");
  json_decref(j);
  salvo_results_free(res);
  assert_int_equal(th_stat(&th_srv, "conns_total"), 1);
  salvo_client_free(c);
}

/* salvo_response_elapsed spans every attempt and the wait between them
 * (Retry-After: 1), where total_time is the last attempt's alone. */
static void test_elapsed_spans_attempts(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  salvo_response *r =
      th_fetch_url(c, th_url(&th_srv, "/flaky?key=el&fail=1&retry_after=1"));
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_attempts(r), 2);
  double el = salvo_response_elapsed(r), last = salvo_response_total_time(r);
  if (!(el >= 1.0 && last < el - 0.9))
    fail_msg("elapsed %.3f s, last attempt %.3f s: the elapsed time must "
             "hold the 1 s wait",
             el, last);
  salvo_response_free(r);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys_and_order),
      cmocka_unit_test(test_bad_sets_are_refused_before_sending),
      cmocka_unit_test(test_failures_keep_successes),
      cmocka_unit_test(test_per_url_params_and_broadcast),
      cmocka_unit_test(test_return_types),
      cmocka_unit_test(test_text_decoding),
      cmocka_unit_test(test_parse_callback),
      cmocka_unit_test(test_full_response),
      cmocka_unit_test(test_session_keeps_cookies),
      cmocka_unit_test(test_ten_thousand_in_one_call),
      cmocka_unit_test(test_batch_collection_converts),
      cmocka_unit_test(test_client_parallel_urls),
      cmocka_unit_test(test_elapsed_spans_attempts),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
