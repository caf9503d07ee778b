/* HTTP through a parallel block: redirects, the cookie jar, compression,
 * proxies, max_body and repeated response headers, each proved by what
 * the server received and sent. */
#include <poll.h>
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

static void test_max_body(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_body = 1000;
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_pending big = salvo_get(b, th_url(&th_srv, "/bytes/1001"));
  salvo_pending chunked = salvo_get(b, th_url(&th_srv, "/chunked/5000"));
  salvo_pending fits = salvo_get(b, th_url(&th_srv, "/bytes/1000"));
  salvo_pending huge = salvo_get(b, th_url(&th_srv, "/bytes/100000000000"));
  salvo_response *r = salvo_pending_response(b, big);
  assert_int_equal(salvo_response_error(r), SALVO_ETOOBIG);
  salvo_response_free(r);
  r = salvo_pending_response(b, chunked);
  assert_int_equal(salvo_response_error(r), SALVO_ETOOBIG);
  assert_non_null(strstr(salvo_response_errmsg(r), "max_body"));
  salvo_response_free(r);
  r = salvo_pending_response(b, huge);
  assert_int_equal(salvo_response_error(r), SALVO_ETOOBIG);
  salvo_response_free(r);
  r = salvo_pending_response(b, fits);
  size_t len;
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  salvo_response_body(r, &len);
  assert_int_equal(len, 1000);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

static void test_redirects(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.bearer_token = "s3cret";
  salvo_client *c = th_client(&cfg);
  salvo_parallel *b = th_open(c);
  salvo_pending three = salvo_get(b, th_url(&th_srv, "/redirect/3"));
  salvo_pending eleven = salvo_get(b, th_url(&th_srv, "/redirect/11"));
  salvo_pending ten = salvo_get(b, th_url(&th_srv, "/redirect/10"));
  salvo_pending same =
      salvo_get(b, th_url(&th_srv, "/redirect-to?url=/echo&status=307"));
  salvo_pending cross =
      salvo_get(b, th_url(&th_srv, "/redirect-to?url=http://localhost:%d/echo",
                          th_srv.port));
  salvo_pending ftp =
      salvo_get(b, th_url(&th_srv, "/redirect-to?url=ftp://127.0.0.1/x"));
  /* A Location whose host no name holds: refused as a request's URL is,
   * by both transports alike (a space was encoded into "a%20b", which
   * the native transport looked up in the DNS and libcurl refused). */
  salvo_pending spaced =
      salvo_get(b, th_url(&th_srv, "/redirect-to?url=http://a%%20b/"));
  salvo_pending pct =
      salvo_get(b, th_url(&th_srv, "/redirect-to?url=http://a%%2520b/"));

  salvo_response *r = salvo_pending_response(b, three);
  assert_int_equal(salvo_response_status(r), 200);
  assert_non_null(strstr(salvo_response_url(r), "/redirect/0"));
  assert_int_equal(salvo_response_redirects(r), 3);
  json_t *j = th_body_json(r);
  assert_string_equal(th_jstr(j, "headers", "authorization"), "Bearer s3cret");
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, ten);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  r = salvo_pending_response(b, eleven);
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  salvo_response_free(r);

  r = salvo_pending_response(b, same);
  j = th_body_json(r);
  assert_string_equal(th_jstr(j, "headers", "authorization"), "Bearer s3cret");
  json_decref(j);
  salvo_response_free(r);

  /* Another host name: the credentials stay behind. */
  r = salvo_pending_response(b, cross);
  assert_int_equal(salvo_response_status(r), 200);
  assert_non_null(strstr(salvo_response_url(r), "localhost"));
  j = th_body_json(r);
  assert_null(th_jstr(j, "headers", "authorization"));
  json_decref(j);
  salvo_response_free(r);

  r = salvo_pending_response(b, ftp);
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  salvo_response_free(r);
  r = salvo_pending_response(b, spaced);
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  assert_int_equal(salvo_response_status(r), 302);
  assert_non_null(strstr(salvo_response_errmsg(r), "whitespace"));
  salvo_response_free(r);
  r = salvo_pending_response(b, pct);
  assert_int_equal(salvo_response_error(r), SALVO_EREDIRECT);
  assert_non_null(strstr(salvo_response_errmsg(r), "host name holding '%'"));
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);

  cfg.no_redirects = 1;
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_OK);
  b = th_open(c);
  r = salvo_pending_response(b, salvo_get(b, th_url(&th_srv, "/redirect/3")));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 302);
  assert_string_equal(salvo_response_header(r, "Location"), "/redirect/2");
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
}

static void test_cookie_jar_per_client(void **state) {
  (void)state;
  salvo_client *c1, *c2, *off;
  salvo_config no;
  salvo_config_init(&no);
  no.no_cookies = 1;
  assert_int_equal(salvo_client_new(&c1, NULL), SALVO_OK);
  assert_int_equal(salvo_client_new(&c2, NULL), SALVO_OK);
  assert_int_equal(salvo_client_new(&off, &no), SALVO_OK);
  salvo_response_free(
      th_fetch_url(c1, th_url(&th_srv, "/cookies/set?a=1&b=two")));
  salvo_response_free(th_fetch_url(off, th_url(&th_srv, "/cookies/set?a=1")));
  salvo_response *r = th_fetch_url(c1, th_url(&th_srv, "/echo"));
  json_t *j = th_body_json(r);
  const char *cookie = th_jstr(j, "headers", "cookie");
  assert_non_null(cookie);
  assert_non_null(strstr(cookie, "a=1"));
  assert_non_null(strstr(cookie, "b=two"));
  json_decref(j);
  salvo_response_free(r);
  salvo_response *r2 = th_fetch_url(c2, th_url(&th_srv, "/echo"));
  j = th_body_json(r2);
  assert_null(th_jstr(j, "headers", "cookie"));
  json_decref(j);
  salvo_response_free(r2);
  salvo_response *r3 = th_fetch_url(off, th_url(&th_srv, "/echo"));
  j = th_body_json(r3);
  assert_null(th_jstr(j, "headers", "cookie"));
  json_decref(j);
  salvo_response_free(r3);
  salvo_client_free(c1);
  salvo_client_free(c2);
  salvo_client_free(off);
}

static void test_compression(void **state) {
  (void)state;
  salvo_response *r = th_fetch_url(th_cl, th_url(&th_srv, "/gzip"));
  assert_string_equal(salvo_response_body(r, NULL), "compressed hello\n");
  salvo_response_free(r);
  r = th_fetch_url(th_cl, th_url(&th_srv, "/echo"));
  json_t *j = th_body_json(r);
  assert_non_null(strstr(th_jstr(j, "headers", "accept-encoding"), "gzip"));
  json_decref(j);
  salvo_response_free(r);
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.no_compression = 1;
  salvo_client *c = th_client(&cfg);
  r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  j = th_body_json(r);
  assert_null(th_jstr(j, "headers", "accept-encoding"));
  json_decref(j);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* The request target is the URL's as given, dot segments and all, on
 * every transport: libcurl removed them ("/a/./b/../c" went as "/a/c")
 * where the native transport sent them, so one URL was two requests. RFC
 * 3986 5.2.4 removes them when a reference is resolved (a redirect's
 * Location), not from the URL a caller asks for. */
static void test_target_sent_as_given(void **state) {
  (void)state;
  const char *target = "/echo/a/./b/../c/%2e%2e/d?x=../y";
  salvo_response *r = th_fetch_url(th_cl, th_url(&th_srv, "%s", target));
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  json_t *j = th_body_json(r);
  assert_string_equal(th_jstr(j, "target", NULL), target);
  json_decref(j);
  salvo_response_free(r);
}

/* UTF-8 text in a URL's path, query and fragment goes percent-encoded
 * (RFC 3986 2.1; RFC 9112 3.2's request-target is ASCII), as browsers,
 * curl and httpx send it, and the response's URL says so: the native
 * transport sent the raw bytes where libcurl encoded them, so one URL was
 * two requests. Params are encoded as before. */
static void test_utf8_target_percent_encoded(void **state) {
  (void)state;
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/echo/\xc3\xbc?q=\xc3\xa9#fr\xc3\xa4g");
  const char *params[] = {"p", "\xc3\xb6", NULL};
  salvo_response *r = th_fetch(th_cl, &req);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  json_t *j = th_body_json(r);
  assert_string_equal(th_jstr(j, "target", NULL), "/echo/%C3%BC?q=%C3%A9");
  json_decref(j);
  assert_string_equal(salvo_response_url(r),
                      th_url(&th_srv, "/echo/%%C3%%BC?q=%%C3%%A9#fr%%C3%%A4g"));
  salvo_response_free(r);
  req.params = params;
  r = th_fetch(th_cl, &req);
  j = th_body_json(r);
  assert_string_equal(th_jstr(j, "target", NULL),
                      "/echo/%C3%BC?q=%C3%A9&p=%C3%B6");
  json_decref(j);
  salvo_response_free(r);
}

/* A PUT, POST or PATCH without a body says Content-Length: 0 (RFC 9110
 * 8.6: a user agent SHOULD, where the method gives content a meaning; a
 * PATCH said nothing, and a server may answer 411) and no type, on every
 * transport: libcurl added its form type
 * (application/x-www-form-urlencoded) where the native transport added
 * none. */
static void test_bodiless_put_has_no_type(void **state) {
  (void)state;
  const char *methods[] = {"PUT", "POST", "PATCH"};
  for (size_t i = 0; i < 3; i++) {
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, "/echo");
    req.method = methods[i];
    salvo_response *r = th_fetch(th_cl, &req);
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    json_t *j = th_body_json(r);
    assert_string_equal(th_jstr(j, "method", NULL), methods[i]);
    assert_string_equal(th_jstr(j, "headers", "content-length"), "0");
    assert_null(th_jstr(j, "headers", "content-type"));
    json_decref(j);
    salvo_response_free(r);
  }
}

/* A header's value goes without whitespace after it, the client's and
 * the request's alike, on every transport (a field value has none, RFC
 * 9110 5.5; over HTTP/2 it makes the request malformed, RFC 9113 8.2.1):
 * the native transport sent it over HTTP/1.1 and libcurl over both. A
 * value of whitespace alone goes as given. */
static void test_header_values_sent_trimmed(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  const char *client_headers[] = {"X-C: c \t", NULL};
  cfg.headers = client_headers;
  salvo_client *c = th_client(&cfg);
  salvo_request req;
  salvo_request_init(&req);
  const char *headers[] = {"X-R:  r  ", "X-In: a  b ", NULL};
  req.url = th_url(&th_srv, "/echo");
  req.headers = headers;
  salvo_response *r = th_fetch(c, &req);
  json_t *j = th_echo_of(r);
  assert_string_equal(th_jstr(j, "headers", "x-c"), "c");
  assert_string_equal(th_jstr(j, "headers", "x-r"), "r");
  assert_string_equal(th_jstr(j, "headers", "x-in"), "a  b");
  json_decref(j);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* faultd answers a proxy's requests itself: a name that resolves nowhere
 * works only if the request really goes through the proxy. */
static void test_proxy(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.proxy = th_fmt("http://127.0.0.1:%d", th_srv.port);
  cfg.bearer_token = "tok";
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, "http://no-such-host.invalid/echo?x=1");
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  json_t *j = th_body_json(r);
  assert_string_equal(th_jstr(j, "target", NULL),
                      "http://no-such-host.invalid/echo?x=1");
  assert_string_equal(th_jstr(j, "headers", "host"), "no-such-host.invalid");
  assert_string_equal(th_jstr(j, "headers", "authorization"), "Bearer tok");
  json_decref(j);
  salvo_response_free(r);
  salvo_client_free(c);
  /* Without the proxy the name does not resolve. */
  r = th_fetch_url(th_cl, "http://no-such-host.invalid/echo");
  assert_int_equal(salvo_response_error(r), SALVO_EDNS);
  salvo_response_free(r);
}

static void test_response_headers_with_repeats(void **state) {
  (void)state;
  salvo_response *r =
      th_fetch_url(th_cl, th_url(&th_srv, "/cookies/set?x=1&y=2&z=3"));
  size_t n = salvo_response_header_count(r), cookies = 0;
  assert_true(n >= 5);
  for (size_t i = 0; i < n; i++) {
    const char *name, *value;
    assert_int_equal(salvo_response_header_at(r, i, &name, &value), 0);
    if (!strcasecmp(name, "Set-Cookie")) /* HTTP/2 sends it lowercase */
      cookies++;
  }
  assert_int_equal(cookies, 3);
  assert_string_equal(salvo_response_header(r, "SET-COOKIE"), "x=1; Path=/");
  assert_null(salvo_response_header(r, "X-Missing"));
  assert_int_equal(salvo_response_header_at(r, n, NULL, NULL), SALVO_EINVAL);
  salvo_response_free(r);
}

/* A name is found only whole (RFC 9110 5.1: case-insensitive), never as
 * a prefix of a kept name or a kept name as a prefix of it, down to the
 * last header, whose bytes end the store: a lookup longer than it must
 * not read past them (ASan). */
static void test_header_found_by_whole_name_only(void **state) {
  (void)state;
  static const char wire[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                             "Content-Type: a/b\r\nX-E:\r\nX-A: v\r\n\r\n";
  char *h = th_hex_of(wire, sizeof(wire) - 1);
  salvo_response *r = th_fetch_url(th_cl, th_url(&th_srv, "/wire?hex=%s", h));
  free(h);
  assert_int_equal(salvo_response_error(r), 0);
  assert_string_equal(salvo_response_header(r, "x-a"), "v");
  assert_string_equal(salvo_response_header(r, "X-E"), "");
  assert_string_equal(salvo_response_header(r, "CONTENT-TYPE"), "a/b");
  assert_string_equal(salvo_response_header(r, "content-length"), "0");
  const char *absent[] = {"Content",
                          "Content-Typ",
                          "Content-Type-X",
                          "X",
                          "X-",
                          "X-AB",
                          "X-A-Longer-Than-Anything-Kept-Here",
                          "X-E-"};
  for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
    if (salvo_response_header(r, absent[i]))
      fail_msg("\"%s\" found as \"%s\"", absent[i],
               salvo_response_header(r, absent[i]));
  salvo_response_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_body),
      cmocka_unit_test(test_redirects),
      cmocka_unit_test(test_cookie_jar_per_client),
      cmocka_unit_test(test_compression),
      cmocka_unit_test(test_target_sent_as_given),
      cmocka_unit_test(test_utf8_target_percent_encoded),
      cmocka_unit_test(test_bodiless_put_has_no_type),
      cmocka_unit_test(test_header_values_sent_trimmed),
      cmocka_unit_test(test_proxy),
      cmocka_unit_test(test_response_headers_with_repeats),
      cmocka_unit_test(test_header_found_by_whole_name_only),
  };
  return cmocka_run_group_tests(tests, th_client_setup, th_client_teardown);
}
