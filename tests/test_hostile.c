/* Hostile input: what a careless or malicious caller, configuration or
 * server can throw at the library gets a clear error of the right kind and
 * never leaks a secret, injects a header or carries stale state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "echo_each.h"
#include "harness.h"
#include "salvo.h"

static void assert_no_secret(salvo_response *r, const char *secret) {
  const char *url = salvo_response_url(r), *msg = salvo_response_errmsg(r);
  if (strstr(url, secret) || strstr(msg, secret))
    fail_msg("secret shown: url \"%s\", message \"%s\"", url, msg);
}

/* path on the test server, fetched with these headers. */
static salvo_response *fetch_headers(salvo_client *c, const char *path,
                                     const char *const *hdrs) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "%s", path);
  req.headers = hdrs;
  return th_fetch(c, &req);
}

/* What faultd's /echo saw of header `name` when sent hdrs (a copy). */
static char *echoed(salvo_client *c, const char *const *hdrs,
                    const char *name) {
  salvo_response *r = fetch_headers(c, "/echo", hdrs);
  json_t *j = th_echo_of(r);
  const char *v = th_jstr(j, "headers", name);
  char *out = strdup(v ? v : "(not sent)");
  json_decref(j);
  salvo_response_free(r);
  return out;
}

/* Neither a configured password nor one in the URL ever shows in a
 * response's URL (requested or final) or message. */
static void test_credentials_never_shown(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.username = "user";
  cfg.password = "PASSSECRET";
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, th_url(&th_srv, "/redirect/1"));
  assert_int_equal(salvo_response_status(r), 200);
  assert_int_equal(salvo_response_redirects(r), 1);
  assert_no_secret(r, "PASSSECRET");
  assert_string_equal(salvo_response_url(r), th_url(&th_srv, "/redirect/0"));
  salvo_response_free(r);
  r = th_fetch_url(
      c, th_fmt("http://u:URLSECRET@127.0.0.1:%d/redirect/1", th_srv.port));
  assert_int_equal(salvo_response_status(r), 200);
  assert_no_secret(r, "URLSECRET");
  salvo_response_free(r);
  /* The URL's own userinfo alone: one in its query is part of the
   * resource's name, kept as sent (the response's URL had lost "me:pw@"
   * there, and naming it again asked for another resource). */
  r = th_fetch_url(c, th_fmt("http://u:URLSECRET@127.0.0.1:%d/echo?next="
                             "http://me:pw@other/",
                             th_srv.port));
  assert_no_secret(r, "URLSECRET");
  assert_string_equal(salvo_response_url(r),
                      th_url(&th_srv, "/echo?next=http://me:pw@other/"));
  salvo_response_free(r);
  r = th_fetch_url(c, "http://u:URLSECRET@127.0.0.1:1/");
  assert_int_equal(salvo_response_error(r), SALVO_ECONNECT);
  assert_no_secret(r, "URLSECRET");
  assert_string_equal(salvo_response_url(r), "http://127.0.0.1:1/");
  salvo_response_free(r);
  salvo_client_free(c);
  /* A proxy's credentials, in a proxy that refuses. */
  salvo_config_init(&cfg);
  cfg.proxy = "http://pu:PROXYSECRET@127.0.0.1:1";
  cfg.max_retries = 0;
  c = th_client(&cfg);
  r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  assert_int_not_equal(salvo_response_error(r), SALVO_OK);
  assert_no_secret(r, "PROXYSECRET");
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A host name too long for DNS (over 255 bytes) fails at once, inside
 * the attempt's start, after its connect limit was set: the attempt
 * ended with that limit still in the transport's timer list, and its
 * recycled record broke the list (UBSan: a null list node on the next
 * request's timer). Each attempt fails alone, and the client goes on. */
static void test_overlong_host_fails_alone(void **state) {
  (void)state;
  char host[301];
  memset(host, 'x', 300);
  host[300] = '\0';
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 2;
  cfg.connect_timeout = 5;
  salvo_client *c = th_client(&cfg);
  for (int i = 0; i < 3; i++) {
    salvo_response *r = th_fetch_url(c, th_fmt("http://%s/", host));
    int e = salvo_response_error(r);
    if (e != SALVO_EDNS && e != SALVO_EINVAL)
      fail_msg("a 300-byte host: %s: %s", salvo_errname(e),
               salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  salvo_response *r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A header whose name is malformed, here by a space before its colon, is
 * refused with what comes before the colon and never its value: the
 * value is often a credential. */
static void test_malformed_header_hides_its_value(void **state) {
  (void)state;
  static const char *hdrs[] = {"Authorization : Bearer TOKENSECRET", NULL};
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.headers = hdrs;
  salvo_client *c = NULL;
  char msg[256];
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  salvo_config_check(&cfg, msg, sizeof(msg));
  assert_null(strstr(msg, "TOKENSECRET"));
  assert_non_null(strstr(msg, "\"Authorization \""));
  salvo_config_init(&cfg);
  c = th_client(&cfg);
  salvo_response *r = fetch_headers(c, "/echo", hdrs);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_no_secret(r, "TOKENSECRET");
  salvo_response_free(r);
  salvo_client_free(c);
}

/* What salvo_config_check says of a configuration with these headers,
 * which it must refuse. */
static const char *headers_refused(const char *const *hdrs) {
  static char msg[256];
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.headers = hdrs;
  assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
  return msg;
}

/* A header "Host:" without a value would remove the Host every request
 * must carry (RFC 9112 3.2): refused, from the client's headers and from a
 * request's, on both transports (the native one sent no Host and libcurl
 * an empty one). A Host of the caller's own is sent as given. */
static void test_host_is_never_removed(void **state) {
  (void)state;
  const char *drop[] = {"Host:", NULL}, *blank[] = {"host:  ", NULL};
  assert_non_null(strstr(headers_refused(blank), "RFC 9112 3.2"));
  salvo_client *c = th_client(NULL);
  for (int i = 0; i < 2; i++) {
    salvo_response *r = fetch_headers(c, "/echo", i ? blank : drop);
    assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
    assert_non_null(strstr(salvo_response_errmsg(r), "RFC 9112 3.2"));
    salvo_response_free(r);
  }
  const char *own[] = {"Host: salvo.test", NULL};
  char *host = echoed(c, own, "host");
  assert_string_equal(host, "salvo.test");
  free(host);
  salvo_client_free(c);
}

/* Every configured string that reaches the wire is refused with CR or LF,
 * and the message names the field. */
static void test_crlf_in_config_is_refused(void **state) {
  (void)state;
  static const char evil[] = "x\r\nX-Injected: 1";
  static const struct {
    size_t offset;
    const char *field;
  } fields[] = {
      {offsetof(salvo_config, user_agent), "user_agent"},
      {offsetof(salvo_config, username), "username"},
      {offsetof(salvo_config, password), "password"},
      {offsetof(salvo_config, bearer_token), "bearer_token"},
      {offsetof(salvo_config, proxy), "proxy"},
      {offsetof(salvo_config, ca_file), "ca_file"},
      {offsetof(salvo_config, ca_path), "ca_path"},
      {offsetof(salvo_config, client_cert), "client_cert"},
      {offsetof(salvo_config, client_key), "client_key"},
      {offsetof(salvo_config, client_key_password), "client_key_password"},
      {offsetof(salvo_config, cookie_file), "cookie_file"},
  };
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    salvo_config cfg;
    salvo_config_init(&cfg);
    *(const char **)((char *)&cfg + fields[i].offset) = evil;
    salvo_client *c = (salvo_client *)1;
    char msg[256];
    assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
    assert_null(c);
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    if (!strstr(msg, fields[i].field) || !strstr(msg, "CR or LF"))
      fail_msg("%s: message \"%s\"", fields[i].field, msg);
  }
  const char *hdrs[] = {"X-Ok: 1", "X-Bad: a\r\nX-Injected: 1", NULL};
  assert_non_null(strstr(headers_refused(hdrs), "X-Bad"));
  salvo_config cfg;
  salvo_config_init(&cfg);
  char msg[256];
  assert_int_equal(salvo_config_check(NULL, msg, sizeof(msg)), SALVO_OK);
  assert_string_equal(msg, "");
  /* The one-call form says it too. */
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/echo");
  cfg.headers = NULL;
  cfg.bearer_token = evil;
  salvo_results *res = salvo_parallel_requests(&req, 1, &cfg);
  assert_int_equal(salvo_results_error(res), SALVO_EINVAL);
  assert_non_null(strstr(salvo_results_errmsg(res), "bearer_token"));
  salvo_results_free(res);
}

/* A control other than HTAB in a value that goes into a field is refused
 * before anything is sent, the message naming the field (RFC 9110 5.5: a
 * field value is VCHAR, obs-text, SP and HTAB); DEL, ESC and the like went
 * to the server as given, on both transports. */
static void test_controls_in_field_values_refused(void **state) {
  (void)state;
  static const char *bad[] = {"a\x7f"
                              "b",
                              "a\x01"
                              "b",
                              "a\x1b"
                              "b"};
  salvo_client *c = th_client(NULL);
  json_decref(th_reset(&th_srv));
  for (size_t i = 0; i < 3; i++) {
    const char *hs[] = {th_fmt("X-Bad: %s", bad[i]), NULL};
    salvo_response *r = fetch_headers(c, "/echo", hs);
    assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
    assert_non_null(strstr(salvo_response_errmsg(r), "X-Bad"));
    assert_non_null(strstr(salvo_response_errmsg(r), "control character"));
    salvo_response_free(r);
    assert_non_null(strstr(headers_refused(hs), "control character"));
    char msg[256];
    salvo_config cfg;
    salvo_config_init(&cfg);
    cfg.user_agent = bad[i];
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    assert_non_null(strstr(msg, "user_agent contains a control character"));
    salvo_config_init(&cfg);
    cfg.bearer_token = bad[i];
    assert_int_equal(salvo_config_check(&cfg, msg, sizeof(msg)), SALVO_EINVAL);
    assert_non_null(strstr(msg, "bearer_token contains a control"));
  }
  json_t *st = th_stats(&th_srv);
  assert_int_equal(json_integer_value(json_object_get(st, "requests")), 0);
  json_decref(st);
  const char *tab[] = {"X-Tab: a\tb", NULL};
  char *v = echoed(c, tab, "x-tab");
  assert_string_equal(v, "a\tb");
  free(v);
  salvo_client_free(c);
}

/* Retry-After beyond any patience (a date past 2262, a huge number) ends
 * the retries at once, like any value over retry_max_delay. */
static void test_retry_after_far_future(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  json_decref(th_reset(&th_srv));
  const char *values[] = {"Fri,%2031%20Dec%209999%2023:59:59%20GMT",
                          "2000000000", "99999999999999999999999"};
  for (int i = 0; i < 3; i++) {
    salvo_response *r = th_fetch_url(
        c, th_url(&th_srv, "/flaky?key=far%d&fail=1&retry_after=%s", i,
                  values[i]));
    assert_int_equal(salvo_response_error(r), SALVO_OK);
    assert_int_equal(salvo_response_status(r), 503);
    assert_int_equal(salvo_response_attempts(r), 1);
    salvo_response_free(r);
  }
  json_t *st = th_stats(&th_srv);
  for (int i = 0; i < 3; i++)
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(st, "keys"), th_fmt("far%d", i))),
                     1);
  json_decref(st);
  salvo_client_free(c);
}

/* With one connection slot, a request that fails before anything comes
 * back carries no status, version or URL of the request before it. */
static void test_failure_carries_nothing_stale(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = 1;
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  size_t n = 9u << 20;
  char *huge = malloc(n + 64);
  int len = snprintf(huge, 64, "http://127.0.0.1:%d/echo?x=", th_srv.port);
  memset(huge + len, 'a', n);
  huge[len + (int)n] = '\0';
  const char *after[] = {huge, "http://127.0.0.1:1/"};
  int want[] = {SALVO_EINVAL, SALVO_ECONNECT};
  for (int i = 0; i < 2; i++) {
    salvo_response *r = th_fetch_url(c, th_url(&th_srv, "/status/404"));
    assert_int_equal(salvo_response_status(r), 404);
    salvo_response_free(r);
    r = th_fetch_url(c, after[i]);
    assert_int_equal(salvo_response_error(r), want[i]);
    assert_int_equal(salvo_response_status(r), 0);
    assert_string_equal(salvo_response_http_version(r), "");
    assert_int_equal(salvo_response_header_count(r), 0);
    assert_int_equal(salvo_response_redirects(r), 0);
    if (i == 0)
      assert_non_null(strstr(salvo_response_errmsg(r), "too large"));
    salvo_response_free(r);
  }
  free(huge);
  salvo_client_free(c);
}

/* A NULL where a value belongs is refused, never read as the end of the
 * list; SALVO_NO_VALUE sends a name alone. */
static void test_params_never_dropped(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  const char *bad[] = {"a", NULL, "b", "2", NULL};
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/echo");
  req.params = bad;
  salvo_response *r = th_fetch(c, &req);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(r), "params"));
  assert_non_null(strstr(salvo_response_errmsg(r), "\"a\""));
  salvo_response_free(r);
  const char *good[] = {"a", SALVO_NO_VALUE, "b", "2", "c", "", NULL};
  req.params = good;
  r = th_fetch(c, &req);
  json_t *j = json_loads(salvo_response_body(r, NULL), 0, NULL);
  assert_string_equal(json_string_value(json_object_get(j, "query")),
                      "a&b=2&c=");
  json_decref(j);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* Each fault gets the error kind that says whose it is. */
static void test_error_kinds(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  /* A server's 1 MB header line: a malformed response, not our memory. */
  salvo_response *r =
      th_fetch_url(c, th_url(&th_srv, "/bad/big-header/1000000"));
  if (salvo_response_error(r) != SALVO_EPROTO)
    fail_msg("1 MB header: %s: %s", salvo_errname(salvo_response_error(r)),
             salvo_response_errmsg(r));
  assert_non_null(strstr(salvo_response_errmsg(r), "header"));
  salvo_response_free(r);
  /* A 1 MB URL: the caller's input, refused with its size. */
  char *big = malloc(1100000);
  int len = snprintf(big, 64, "http://127.0.0.1:%d/echo?x=", th_srv.port);
  memset(big + len, 'a', 1000000);
  big[len + 1000000] = '\0';
  r = th_fetch_url(c, big);
  assert_int_equal(salvo_response_error(r), SALVO_EINVAL);
  assert_non_null(strstr(salvo_response_errmsg(r), "too large"));
  salvo_response_free(r);
  /* Just under the limit goes through. */
  big[len + 990000] = '\0';
  r = th_fetch_url(c, big);
  assert_int_equal(salvo_response_error(r), SALVO_OK);
  assert_int_equal(salvo_response_status(r), 200);
  salvo_response_free(r);
  free(big);
  salvo_client_free(c);
  /* A proxy URL with CR/LF is the caller's mistake, not a DNS failure. */
  cfg.proxy = "http://a\r\nb:1";
  char msg[128];
  assert_int_equal(salvo_client_new(&c, &cfg), SALVO_EINVAL);
  salvo_config_check(&cfg, msg, sizeof(msg));
  assert_non_null(strstr(msg, "proxy"));
}

/* A response exactly as spelled, through faultd's /wire (X-Wire). */
static salvo_response *wire(salvo_client *c, const char *bytes, size_t n) {
  char *hex = th_hex_of(bytes, n);
  char *xw = malloc(strlen(hex) + 16);
  sprintf(xw, "X-Wire: %s", hex);
  const char *hdrs[] = {xw, NULL};
  salvo_response *r = fetch_headers(c, "/wire", hdrs);
  free(xw);
  free(hex);
  return r;
}

/* Heads of 300 KiB in lines under the line limit are refused alike by
 * both transports (libcurl's own limit is 300 KiB; salvo's 256 KiB comes
 * first); a body whose charset glibc's iconv reads past U+10FFFF still
 * comes out as valid UTF-8 text. */
static void test_big_heads_and_odd_charsets(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  size_t line = 60000, n = 0;
  char *head = malloc(6 * line + 200);
  n += (size_t)sprintf(head, "HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 5; i++) {
    n += (size_t)sprintf(head + n, "X-Big-%d: ", i);
    memset(head + n, 'h', line);
    n += line;
    n += (size_t)sprintf(head + n, "\r\n");
  }
  n += (size_t)sprintf(head + n, "Content-Length: 2\r\n\r\nok");
  salvo_response *r = wire(c, head, n);
  if (salvo_response_error(r) != SALVO_EPROTO)
    fail_msg("300 KiB head: %s: %s", salvo_errname(salvo_response_error(r)),
             salvo_response_errmsg(r));
  assert_non_null(strstr(salvo_response_errmsg(r), "too large"));
  salvo_response_free(r);
  free(head);
  static const char odd[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
                            "charset=UTF-16\r\nContent-Length: 5\r\n\r\n"
                            "\xff\xdb\x00\xdc\x01";
  r = wire(c, odd, sizeof(odd) - 1);
  size_t tl;
  const char *text = salvo_response_text(r, &tl);
  assert_int_equal(salvo_utf8_valid(text, tl), tl);
  salvo_response_free(r);
  salvo_client_free(c);
}

/* A response whose first field line starts with whitespace (obs-fold
 * with nothing to fold onto: RFC 9112 5.2) is refused, after a response
 * with headers on the same client and as a redirect's second hop. libcurl
 * before 8.1.0 unfolds such a line onto the last header of the handle's
 * previous transfer, freed by then (curl issue 11101): a handle used
 * twice read freed memory (AddressSanitizer) or corrupted the heap. */
static void test_folded_line_after_a_response(void **state) {
  (void)state;
  static const char plain[] = "HTTP/1.1 200 OK\r\nX-Before: aaaaaaaaaaaaaaaa"
                              "\r\nContent-Length: 2\r\n\r\nok";
  static const char folded[] = "HTTP/1.1 200 OK\r\n X-Fold: b\r\nContent-"
                               "Length: 2\r\n\r\nok";
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  cfg.concurrency = 1; /* one transfer at a time: the same handle again */
  salvo_client *c = th_client(&cfg);
  for (int i = 0; i < 8; i++) {
    salvo_response *r = wire(c, plain, sizeof(plain) - 1);
    assert_int_equal(salvo_response_status(r), 200);
    salvo_response_free(r);
    r = wire(c, folded, sizeof(folded) - 1);
    if (salvo_response_error(r) != SALVO_EPROTO)
      fail_msg("folded first line, round %d: %s: %s", i,
               salvo_errname(salvo_response_error(r)),
               salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  /* The second hop of a redirect runs on the first hop's handle. */
  char *hex = th_hex_of(folded, sizeof(folded) - 1);
  salvo_response *r = th_fetch_url(
      c, th_url(&th_srv, "/redirect-to?url=/wire%%3Fhex%%3D%s", hex));
  assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
  salvo_response_free(r);
  free(hex);
  salvo_client_free(c);
}

#define SIDE 32

/* A status line naming HTTP/2 on an HTTP/1.1 connection is refused, and
 * changes nothing in how the client uses its other connections to that
 * server. libcurl 7.88 takes it for a server that multiplexes, and would
 * then send the next requests on HTTP/1.1 connections still waiting for
 * their answers (RFC 9112 9.3.2 pipelining, which salvo never does), where
 * answers reach the wrong requests: 1 in about 3,000 mutated responses
 * under load swapped two requests' results. faultd counts a request that
 * came before the answer ahead of it was written: none may, and every
 * answer is its own request's. */
static void test_h2_status_line_changes_nothing(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  static const char h2[] = "HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok";
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  cfg.concurrency = SIDE;
  cfg.timeout = 10; /* an answer taken by another request: not 30 s */
  salvo_client *c = th_client(&cfg);
  /* Connections to the server stay open in the pool while the line
   * comes: libcurl keeps what it learnt of a server as long as it has
   * one. */
  echo_each(c, th_fmt("http://127.0.0.1:%d", th_srv.port), 4);
  salvo_response *r = wire(c, h2, sizeof(h2) - 1);
  assert_int_equal(salvo_response_error(r), SALVO_EPROTO);
  salvo_response_free(r);
  json_decref(th_reset(&th_srv));
  echo_each(c, th_fmt("http://127.0.0.1:%d", th_srv.port), SIDE);
  long piped = th_stat(&th_srv, "pipelined");
  if (piped)
    fail_msg("%ld of %d requests sent before the answer ahead of them", piped,
             SIDE);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_big_heads_and_odd_charsets),
      cmocka_unit_test(test_folded_line_after_a_response),
      cmocka_unit_test(test_h2_status_line_changes_nothing),
      cmocka_unit_test(test_credentials_never_shown),
      cmocka_unit_test(test_malformed_header_hides_its_value),
      cmocka_unit_test(test_overlong_host_fails_alone),
      cmocka_unit_test(test_crlf_in_config_is_refused),
      cmocka_unit_test(test_controls_in_field_values_refused),
      cmocka_unit_test(test_host_is_never_removed),
      cmocka_unit_test(test_retry_after_far_future),
      cmocka_unit_test(test_failure_carries_nothing_stale),
      cmocka_unit_test(test_params_never_dropped),
      cmocka_unit_test(test_error_kinds),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
