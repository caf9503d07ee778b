/* Across hops: redirects (RFC 9110 15.4), credentials that stay with
 * their origin, and cookies set and sent along the way, on each
 * transport alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "harness.h"
#include "salvo.h"

static const char *echo_str(json_t *j, const char *k) {
  return json_string_value(json_object_get(j, k));
}

static const char *echo_header(json_t *j, const char *name) {
  return json_string_value(
      json_object_get(json_object_get(j, "headers"), name));
}

/* RFC 9110 15.4: 301 and 302 let a user agent change POST to GET (as
 * browsers and curl do) and nothing else; 303 makes anything but HEAD a
 * GET without a body; 307 and 308 keep method and body. */
/* Every redirect followed is kept as the response it came (httpx's
 * history): its status, headers and URL, the method sent there, and no
 * body, since salvo reads past it. A streamed response has its hops,
 * redirects and final URL too: they are set as each redirect is
 * followed, before the final head hands it over (they were 0 and the
 * requested URL). */
static void test_history(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  static char buf[4096];
  for (int stream = 0; stream < 2; stream++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, "/redirect/2");
    req.stream = stream;
    salvo_response *r = th_fetch(c, &req);
    assert_int_equal(salvo_response_status(r), 200);
    assert_int_equal(salvo_response_redirects(r), 2);
    assert_string_equal(salvo_response_url(r), th_url(&th_srv, "/redirect/0"));
    assert_string_equal(salvo_response_method(r), "GET");
    for (int i = 0; i < 2; i++) {
      const salvo_response *h = salvo_response_hop(r, (size_t)i);
      assert_non_null(h);
      assert_int_equal(salvo_response_status(h), 302);
      assert_int_equal(salvo_response_error(h), SALVO_OK);
      assert_string_equal(salvo_response_url(h),
                          th_url(&th_srv, "/redirect/%d", 2 - i));
      assert_string_equal(salvo_response_header(h, "Location"),
                          th_fmt("/redirect/%d", 1 - i));
      assert_string_equal(salvo_response_method(h), "GET");
      assert_string_equal(salvo_response_http_version(h),
                          salvo_response_http_version(r));
      size_t len = 1;
      assert_string_equal(salvo_response_body(h, &len), "");
      assert_int_equal(len, 0);
    }
    assert_null(salvo_response_hop(r, 2));
    assert_int_equal(salvo_response_streamed(r), stream);
    while (stream && salvo_response_read(r, buf, sizeof(buf)) > 0)
      ;
    salvo_response_free(r);
  }
  /* A 303 after a POST: the hop answered the POST, the GET came after. */
  salvo_request post;
  salvo_request_init(&post);
  post.url = th_url(&th_srv, "/redirect-to?status=303&url=/echo");
  post.method = "POST";
  post.body = "x";
  post.body_len = 1;
  salvo_response *r = th_fetch(c, &post);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_method(r), "GET");
  assert_string_equal(salvo_response_method(salvo_response_hop(r, 0)), "POST");
  assert_int_equal(salvo_response_status(salvo_response_hop(r, 0)), 303);
  salvo_response_free(r);
  /* A URL's password shows in no hop's URL; no redirect, no hop. */
  r = th_fetch_url(
      c, th_fmt("http://u:URLSECRET@127.0.0.1:%d/redirect/1", th_srv.port));
  assert_non_null(salvo_response_hop(r, 0));
  assert_null(
      strstr(salvo_response_url(salvo_response_hop(r, 0)), "URLSECRET"));
  salvo_response_free(r);
  /* A redirect followed to where nothing answers: the error is the next
   * request's, with no status or headers of its own; the 302 is the
   * hop's. */
  r = th_fetch_url(c,
                   th_url(&th_srv, "/redirect-to?url=http://127.0.0.1:1/gone"));
  assert_int_equal(salvo_response_error(r), SALVO_ECONNECT);
  assert_int_equal(salvo_response_status(r), 0);
  assert_int_equal(salvo_response_header_count(r), 0);
  assert_string_equal(salvo_response_http_version(r), "");
  assert_string_equal(salvo_response_url(r), "http://127.0.0.1:1/gone");
  assert_int_equal(salvo_response_status(salvo_response_hop(r, 0)), 302);
  salvo_response_free(r);
  r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  assert_null(salvo_response_hop(r, 0));
  assert_null(salvo_response_method(r));
  assert_null(salvo_response_hop(NULL, 0));
  salvo_response_free(r);
  salvo_client_free(c);
  /* A retry starts its history again: each attempt went 302 then 503,
   * and the response is the last attempt's, with its one hop. */
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 2;
  cfg.retry_base = 0;
  c = th_client(&cfg);
  r = th_fetch_url(c, th_url(&th_srv, "/redirect-to?url=/status/503"));
  assert_int_equal(salvo_response_status(r), 503);
  assert_int_equal(salvo_response_attempts(r), 3);
  assert_int_equal(salvo_response_redirects(r), 1);
  assert_non_null(salvo_response_hop(r, 0));
  assert_null(salvo_response_hop(r, 1));
  assert_string_equal(salvo_response_url(r), th_url(&th_srv, "/status/503"));
  salvo_response_free(r);
  salvo_client_free(c);
}

/* salvo_redirect_next: where a redirect not followed would go, by the
 * rules salvo follows with (RFC 9110 15.4; 10.2.2 for the fragment). */
static void test_redirect_next(void **state) {
  (void)state;
  char *url, *msg;
  const char *method;
  int body, same;
  assert_int_equal(salvo_redirect_next("http://127.0.0.1:8/a/b#f", "POST", 303,
                                       "../c?x=1", &url, &method, &body, &same,
                                       NULL),
                   SALVO_OK);
  assert_string_equal(url, "http://127.0.0.1:8/c?x=1#f");
  assert_string_equal(method, "GET");
  assert_true(!body && same);
  free(url);
  assert_int_equal(salvo_redirect_next("http://127.0.0.1:8/", "POST", 307,
                                       "http://localhost:8/x", &url, &method,
                                       &body, &same, NULL),
                   SALVO_OK);
  assert_string_equal(method, "POST");
  assert_true(body && !same);
  free(url);
  assert_int_equal(salvo_redirect_next("http://127.0.0.1:8/", "HEAD", 303, "/y",
                                       &url, &method, &body, &same, NULL),
                   SALVO_OK);
  assert_string_equal(method, "HEAD");
  free(url);
  assert_int_equal(salvo_redirect_next("http://127.0.0.1:8/", "GET", 200, "/y",
                                       &url, &method, &body, &same, NULL),
                   SALVO_EINVAL);
  assert_int_equal(salvo_redirect_next("http://127.0.0.1:8/", "GET", 302,
                                       "ftp://127.0.0.1/", &url, &method, &body,
                                       &same, &msg),
                   SALVO_EREDIRECT);
  assert_non_null(msg);
  free(msg);
}

/* salvo_request.follow_redirects overrides the client's, both ways, on
 * either transport; any other value is refused. */
static void test_follow_redirects_per_request(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.no_redirects = 1;
  salvo_client *never = th_client(&cfg), *always = th_client(NULL);
  salvo_request req;
  salvo_request_init(&req);
  assert_int_equal(req.follow_redirects, SALVO_CLIENT_DEFAULT);
  req.url = th_url(&th_srv, "/redirect/2");
  salvo_response *r = th_fetch(never, &req);
  assert_int_equal(salvo_response_status(r), 302);
  salvo_response_free(r);
  req.follow_redirects = 1;
  r = th_fetch(never, &req);
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_redirects(r), 2);
  salvo_response_free(r);
  req.follow_redirects = 0;
  r = th_fetch(always, &req);
  assert_int_equal(salvo_response_status(r), 302);
  assert_int_equal(salvo_response_redirects(r), 0);
  salvo_response_free(r);
  req.follow_redirects = 7;
  r = th_fetch(always, &req);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(r), "follow_redirects"));
  salvo_response_free(r);
  salvo_client_free(never);
  salvo_client_free(always);
}

static void test_redirects(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  static const int statuses[] = {301, 302, 303, 307, 308};
  static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE",
                                        "OPTIONS"};
  for (size_t i = 0; i < 5; i++)
    for (size_t m = 0; m < 5; m++) {
      int st = statuses[i];
      int to_get = st == 303 || ((st == 301 || st == 302) && m == 0);
      salvo_request req;
      salvo_request_init(&req);
      req.url =
          th_url(&th_srv, "/redirect-to?status=%d&url=/echo%%3Fx%%3D1", st);
      req.method = methods[m];
      req.body = "payload";
      req.body_len = 7;
      salvo_response *r = th_fetch(c, &req);
      json_t *j = th_echo_of(r);
      if (strcmp(echo_str(j, "method"), to_get ? "GET" : methods[m]) ||
          strcmp(echo_str(j, "body"), to_get ? "" : "payload"))
        fail_msg("%d after %s: %s with \"%s\"", st, methods[m],
                 echo_str(j, "method"), echo_str(j, "body"));
      assert_string_equal(echo_str(j, "query"), "x=1");
      assert_int_equal(salvo_response_redirects(r), 1);
      assert_string_equal(salvo_response_url(r), th_url(&th_srv, "/echo?x=1"));
      json_decref(j);
      salvo_response_free(r);
    }
  /* HEAD stays HEAD, even after a 303. */
  salvo_request head;
  salvo_request_init(&head);
  head.url = th_url(&th_srv, "/redirect-to?status=303&url=/bytes/10");
  head.method = "HEAD";
  salvo_response *r = th_fetch(c, &head);
  assert_int_equal(salvo_response_status(r), 200);
  assert_string_equal(salvo_response_header(r, "Content-Length"), "10");
  salvo_response_free(r);
  /* The limit. */
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_redirects = 3;
  cfg.max_retries = 0;
  salvo_client *c3 = th_client(&cfg);
  r = th_fetch_url(c3, th_url(&th_srv, "/redirect/3"));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  r = th_fetch_url(c3, th_url(&th_srv, "/redirect/4"));
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  /* The last head came whole: its status is the response's, on every
   * transport (the native one gave 0, libcurl's the 302). */
  assert_int_equal(salvo_response_status(r), 302);
  assert_string_equal(salvo_response_header(r, "Location"), "/redirect/0");
  salvo_response_free(r);
  /* A redirect to a scheme salvo does not speak. */
  r = th_fetch_url(c3, th_url(&th_srv, "/redirect-to?url=ftp://127.0.0.1/x"));
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  salvo_response_free(r);
  salvo_client_free(c3);
  /* no_redirects returns the 3xx itself. */
  salvo_config_init(&cfg);
  cfg.no_redirects = 1;
  c3 = th_client(&cfg);
  r = th_fetch_url(c3, th_url(&th_srv, "/redirect/2"));
  assert_int_equal(salvo_response_status(r), 302);
  assert_string_equal(salvo_response_header(r, "Location"), "/redirect/1");
  salvo_response_free(r);
  salvo_client_free(c3);
  salvo_client_free(c);
}

/* A POST answered 302 by a server that closes after it: the GET that
 * follows goes on another connection, and each answer is the server's.
 * The native transport read on the closed connection after the hop had
 * begun (its slot taken by the new one, still dialing: recv on -1,
 * "Recv failure: Bad file descriptor"), and a GET hop that found its
 * reused connection closed was not sent again, being a POST's ("the
 * server may have processed this POST"): about one in ten failed. Each
 * POST reaches the server once (faultd counts its key). */
static void test_post_redirected_by_a_closing_server(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  json_decref(th_reset(&th_srv));
  const char *wire = "HTTP/1.1 302 Found\r\nLocation: /echo/after\r\n"
                     "Content-Length: 0\r\n\r\n";
  char *hex = th_hex_of(wire, strlen(wire));
  char *url = strdup(th_url(&th_srv, "/wire?key=p302&hex=%s", hex));
  free(hex);
  enum { N = 200 };
  for (int i = 0; i < N; i++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = url;
    req.method = "POST";
    req.body = "x";
    req.body_len = 1;
    salvo_response *r = th_fetch(c, &req);
    if (salvo_response_error(r))
      fail_msg("request %d of %d: %s: %s", i + 1, N,
               salvo_errname(salvo_response_error(r)),
               salvo_response_errmsg(r));
    json_t *j = th_echo_of(r);
    assert_string_equal(echo_str(j, "method"), "GET");
    json_decref(j);
    salvo_response_free(r);
  }
  json_t *st = th_stats(&th_srv);
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(st, "keys"), "p302")),
      N);
  json_decref(st);
  free(url);
  salvo_client_free(c);
}

/* A redirect with two Location fields that differ is not followed: a
 * Location is one URI (RFC 9110 10.2.2), and the native transport went
 * to the last, libcurl's to the first. The same one twice is followed. */
static void test_two_locations(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  static const char *const wires[] = {
      "HTTP/1.1 302 Found\r\nLocation: /echo/a\r\nLocation: /echo/b\r\n"
      "Content-Length: 0\r\n\r\n",
      "HTTP/1.1 302 Found\r\nLocation: /echo/a\r\nLocation: /echo/a\r\n"
      "Content-Length: 0\r\n\r\n"};
  for (int i = 0; i < 2; i++) {
    char *hex = th_hex_of(wires[i], strlen(wires[i]));
    salvo_response *r = th_fetch_url(c, th_url(&th_srv, "/wire?hex=%s", hex));
    free(hex);
    if (i == 0) {
      assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
      assert_non_null(strstr(salvo_response_errmsg(r), "two Location"));
    } else {
      json_t *j = th_echo_of(r);
      assert_string_equal(echo_str(j, "path"), "/echo/a");
      json_decref(j);
    }
    salvo_response_free(r);
  }
  salvo_client_free(c);
}

/* Credentials, and a Host of the caller's own, go to the origin asked
 * for, and not to another one a redirect leads to. */
static void test_credentials(void **state) {
  (void)state;
  th_server other;
  th_faultd_start(&other, NULL);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.username = "aladdin";
  cfg.password = "opensesame";
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, th_url(&th_srv, "/redirect/1"));
  json_t *j = th_echo_of(r);
  assert_string_equal(echo_header(j, "authorization"),
                      "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
  json_decref(j);
  salvo_response_free(r);
  r = th_fetch_url(
      c, th_url(&th_srv, "/redirect-to?url=%s", th_url(&other, "/echo")));
  j = th_echo_of(r);
  assert_null(echo_header(j, "authorization"));
  json_decref(j);
  salvo_response_free(r);
  /* A Host of the caller's own names the origin asked for: the next one
   * gets its own (RFC 9112 3.2), as httpx sends it. */
  const char *own[] = {"Host: salvo.test", NULL};
  for (int cross = 0; cross < 2; cross++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, "/redirect-to?url=%s",
                     cross ? th_url(&other, "/echo") : "/echo");
    req.headers = own;
    r = th_fetch(c, &req);
    j = th_echo_of(r);
    assert_string_equal(echo_header(j, "host"),
                        cross ? th_fmt("127.0.0.1:%d", other.port)
                              : "salvo.test");
    json_decref(j);
    salvo_response_free(r);
  }
  salvo_client_free(c);

  salvo_config_init(&cfg);
  cfg.bearer_token = "tok123";
  const char *hdrs[] = {"X-Mine: 1", NULL};
  cfg.headers = hdrs;
  c = th_client(&cfg);
  r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  j = th_echo_of(r);
  assert_string_equal(echo_header(j, "authorization"), "Bearer tok123");
  assert_string_equal(echo_header(j, "x-mine"), "1");
  assert_string_equal(echo_header(j, "host"),
                      th_fmt("127.0.0.1:%d", th_srv.port));
  json_decref(j);
  salvo_response_free(r);
  salvo_client_free(c);
  th_server_stop(&other);
}

static int by_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The cookies a request to url carries, sorted: libcurl sends the newest
 * first, the native transport the oldest (RFC 6265 5.4), and servers may
 * not depend on either. */
static const char *cookie_seen(salvo_client *c, const char *url) {
  static char seen[256];
  char buf[256], *parts[16];
  size_t n = 0;
  salvo_response *r = th_fetch_url(c, url);
  assert_int_equal(salvo_response_attempts(r), 1);
  json_t *j = th_echo_of(r);
  const char *v = echo_header(j, "cookie");
  snprintf(buf, sizeof(buf), "%s", v ? v : "");
  for (char *p = strtok(buf, "; "); p && n < 16; p = strtok(NULL, "; "))
    parts[n++] = p;
  qsort(parts, n, sizeof(*parts), by_str);
  seen[0] = '\0';
  for (size_t i = 0; i < n; i++)
    snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s",
             i ? "; " : "", parts[i]);
  json_decref(j);
  salvo_response_free(r);
  return seen;
}

/* A request that must succeed in one attempt. */
static void fetch_ok(salvo_client *c, const char *url) {
  salvo_response *r = th_fetch_url(c, url);
  if (salvo_response_error(r))
    fail_msg("%s: %s", url, salvo_response_errmsg(r));
  assert_int_equal(salvo_response_attempts(r), 1);
  salvo_response_free(r);
}

/* One jar per client, whichever transport serves a request: URLs with
 * userinfo always go through libcurl, the others through the native
 * transport unless libcurl is forced. */
static void test_cookies_shared(void **state) {
  (void)state;
  salvo_client *c = th_strict_client(NULL);
  char *curl_base = strdup(th_fmt("http://u:p@127.0.0.1:%d", th_srv.port));
  fetch_ok(c, th_url(&th_srv, "/cookies/set?a=1"));
  assert_string_equal(cookie_seen(c, th_fmt("%s/echo", curl_base)), "a=1");
  fetch_ok(c, th_fmt("%s/cookies/set?b=2", curl_base));
  assert_string_equal(cookie_seen(c, th_url(&th_srv, "/echo")), "a=1; b=2");
  /* Replaced, then removed by an expiry in the past. */
  fetch_ok(c, th_url(&th_srv, "/cookies/set?a=3"));
  assert_string_equal(cookie_seen(c, th_fmt("%s/echo", curl_base)), "a=3; b=2");
  /* /wire through libcurl removes b, with a Max-Age of 0. */
  char *h =
      th_hex_of("HTTP/1.1 200 OK\r\nSet-Cookie: b=x; Max-Age=0; Path=/\r\n"
                "Content-Length: 0\r\n\r\n",
                74);
  fetch_ok(c, th_fmt("%s/wire?hex=%s", curl_base, h));
  free(h);
  assert_string_equal(cookie_seen(c, th_url(&th_srv, "/echo")), "a=3");
  /* And through the native transport (or libcurl, when forced): a cookie
   * for another path stays away; a Secure one goes to loopback hosts,
   * which both treat as secure. */
  h = th_hex_of("HTTP/1.1 200 OK\r\nSet-Cookie: p=1; Path=/elsewhere\r\n"
                "Set-Cookie: s=1; Secure\r\nContent-Length: 0\r\n\r\n",
                97);
  fetch_ok(c, th_url(&th_srv, "/wire?hex=%s", h));
  free(h);
  assert_string_equal(cookie_seen(c, th_fmt("%s/echo", curl_base)), "a=3; s=1");
  assert_string_equal(cookie_seen(c, th_url(&th_srv, "/echo")), "a=3; s=1");
  salvo_client_clear_cookies(c);
  assert_string_equal(cookie_seen(c, th_url(&th_srv, "/echo")), "");
  assert_string_equal(cookie_seen(c, th_fmt("%s/echo", curl_base)), "");
  free(curl_base);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_redirects),
      cmocka_unit_test(test_post_redirected_by_a_closing_server),
      cmocka_unit_test(test_two_locations),
      cmocka_unit_test(test_follow_redirects_per_request),
      cmocka_unit_test(test_history),
      cmocka_unit_test(test_redirect_next),
      cmocka_unit_test(test_credentials),
      cmocka_unit_test(test_cookies_shared),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
