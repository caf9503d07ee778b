/* The cookie jar by RFC 6265, across host names: the client pins several
 * names to faultd on 127.0.0.1 (salvo_config.resolve), so that a cookie of
 * one host can be seen going, or not going, to another. Both transports
 * (ctest runs this suite with SALVO_TRANSPORT=native and =libcurl) read and
 * fill the one jar. Each cookie is set by a response faultd's /wire sends
 * byte for byte, and each check reads the Cookie field /echo saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "salvo.h"

static const char *const names[] = {
    "example.test",       "a.example.test", "b.example.test",
    "xexample.test",      "other.test",     "www.example.com",
    "shop.example.co.uk", "me.github.io",   "you.github.io"};
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* A client of cfg's (NULL: the defaults) with the names pinned. */
static salvo_client *pinned_client(salvo_config *cfg) {
  static char pins[NNAMES][128];
  static const char *list[NNAMES + 1];
  for (size_t i = 0; i < NNAMES; i++) {
    snprintf(pins[i], sizeof(pins[i]), "%s:%d:127.0.0.1", names[i],
             th_srv.port);
    list[i] = pins[i];
  }
  salvo_config dflt;
  if (!cfg) {
    salvo_config_init(&dflt);
    cfg = &dflt;
  }
  cfg->resolve = list;
  cfg->max_retries = 0;
  return th_client(cfg);
}

static salvo_client *cookie_client(const char *file) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.cookie_file = file;
  return pinned_client(&cfg);
}

/* A response from host (at path) that sets `set_cookie`. */
static void set_from(salvo_client *c, const char *host, const char *path,
                     const char *set_cookie) {
  char wire[512];
  snprintf(wire, sizeof(wire),
           "HTTP/1.1 200 OK\r\nSet-Cookie: %s\r\nContent-Length: 0\r\n\r\n",
           set_cookie);
  char *h = th_hex_of(wire, strlen(wire));
  const char *url = th_fmt("http://%s:%d%s?hex=%s", host, th_srv.port,
                           path ? path : "/wire", h);
  free(h);
  salvo_response *r = th_fetch_url(c, url);
  if (salvo_response_error(r))
    fail_msg("%s: %s", host, salvo_response_errmsg(r));
  salvo_response_free(r);
}

static int by_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The cookies a request to host and path carries, sorted, as "a=1; b=2";
 * the Cookie field must be one (RFC 6265 5.4). */
static const char *seen(salvo_client *c, const char *host, const char *path,
                        const char *own) {
  static char out[512];
  char buf[512], *parts[32];
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_fmt("http://%s:%d%s", host, th_srv.port, path);
  const char *hdrs[] = {own, NULL};
  req.headers = own ? hdrs : NULL;
  salvo_response *r = th_fetch(c, &req);
  if (salvo_response_status(r) != 200)
    fail_msg("%s%s: %s", host, path, salvo_response_errmsg(r));
  json_t *j = json_loads(salvo_response_body(r, NULL), 0, NULL);
  const char *v = json_string_value(
      json_object_get(json_object_get(j, "headers"), "cookie"));
  snprintf(buf, sizeof(buf), "%s", v ? v : "");
  size_t n = 0;
  for (char *p = strtok(buf, "; "); p && n < 32; p = strtok(NULL, "; "))
    parts[n++] = p;
  qsort(parts, n, sizeof(*parts), by_str);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++)
    snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
             i ? "; " : "", parts[i]);
  json_decref(j);
  salvo_response_free(r);
  return out;
}

#define SEEN(c, host, path) seen((c), (host), (path), NULL)

/* RFC 6265 5.3 step 6 (host-only) and 5.1.3 (domain matching: a label
 * boundary, never a bare suffix). */
static void test_domain_and_host_only(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  set_from(c, "a.example.test", NULL, "host=1; Path=/");
  set_from(c, "a.example.test", NULL, "dom=1; Domain=example.test; Path=/");
  set_from(c, "a.example.test", NULL, "dot=1; Domain=.EXAMPLE.test; Path=/");
  /* A domain the host is not in is refused (5.3 step 6). */
  set_from(c, "a.example.test", NULL, "foreign=1; Domain=other.test; Path=/");
  set_from(c, "a.example.test", NULL, "child=1; Domain=b.example.test; Path=/");
  assert_string_equal(SEEN(c, "a.example.test", "/echo"),
                      "dom=1; dot=1; host=1");
  assert_string_equal(SEEN(c, "b.example.test", "/echo"), "dom=1; dot=1");
  assert_string_equal(SEEN(c, "example.test", "/echo"), "dom=1; dot=1");
  assert_string_equal(SEEN(c, "xexample.test", "/echo"), "");
  assert_string_equal(SEEN(c, "other.test", "/echo"), "");
  salvo_client_free(c);
}

/* RFC 6265 5.3 step 5: a Domain that is a public suffix is refused,
 * unless it is the host itself, and then the cookie is the host's only. */
static void test_public_suffixes(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  set_from(c, "www.example.com", NULL, "tld=1; Domain=com; Path=/");
  set_from(c, "shop.example.co.uk", NULL, "cc=1; Domain=co.uk; Path=/");
  set_from(c, "me.github.io", NULL, "gh=1; Domain=github.io; Path=/");
  set_from(c, "me.github.io", NULL, "mine=1; Domain=me.github.io; Path=/");
  assert_string_equal(SEEN(c, "www.example.com", "/echo"), "");
  assert_string_equal(SEEN(c, "shop.example.co.uk", "/echo"), "");
  assert_string_equal(SEEN(c, "me.github.io", "/echo"), "mine=1");
  assert_string_equal(SEEN(c, "you.github.io", "/echo"), "");
  salvo_client_free(c);
}

/* RFC 6265 5.1.4 (path matching), 5.2.4 (a Path not starting with '/' is
 * ignored: the default path applies) and 5.1.4's default path. */
static void test_paths(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  set_from(c, "a.example.test", NULL, "p=1; Path=/echo/p");
  set_from(c, "a.example.test", NULL, "slash=1; Path=/echo/q/");
  set_from(c, "a.example.test", "/echo/d/wire", "dflt=1");
  set_from(c, "a.example.test", NULL, "rel=1; Path=relative");
  assert_string_equal(SEEN(c, "a.example.test", "/echo"), "rel=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/p"), "p=1; rel=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/p/x"), "p=1; rel=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/px"), "rel=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/q/x"), "rel=1; slash=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/q"), "rel=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/d/x"), "dflt=1; rel=1");
  salvo_client_free(c);
}

/* Secure cookies go over https only (5.4 step 1); loopback names count as
 * secure, as libcurl and browsers treat them, but a name pinned to
 * 127.0.0.1 is an ordinary name: over http a Secure cookie is neither kept
 * (RFC 6265bis 5.6 step 8) nor sent. */
static void test_secure(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  set_from(c, "a.example.test", NULL, "s=1; Secure; Path=/");
  set_from(c, "a.example.test", NULL, "plain=1; Path=/");
  assert_string_equal(SEEN(c, "a.example.test", "/echo"), "plain=1");
  set_from(c, "127.0.0.1", NULL, "ls=1; Secure; Path=/");
  assert_string_equal(SEEN(c, "127.0.0.1", "/echo"), "ls=1");
  assert_string_equal(SEEN(c, "localhost", "/echo"), "");
  salvo_client_free(c);
}

/* Max-Age (5.2.2) wins over Expires (5.2.1); a past date or Max-Age 0
 * removes; a date that does not parse (5.1.1) leaves a session cookie. */
static void test_expiry(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  const char *h = "a.example.test";
  set_from(c, h, NULL, "future=1; Expires=Wed, 09 Jun 2100 10:18:14 GMT");
  set_from(c, h, NULL, "odd=1; Expires=09-Jun-2100 10:18:14");
  set_from(c, h, NULL, "junk=1; Expires=not a date");
  set_from(c, h, NULL,
           "maxage=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 "
           "00:00:01 GMT");
  set_from(c, h, NULL, "gone=1; Path=/");
  assert_string_equal(SEEN(c, h, "/echo"),
                      "future=1; gone=1; junk=1; maxage=1; odd=1");
  set_from(c, h, NULL, "gone=x; Path=/; Expires=Sun, 06 Nov 1994 08:49:37 GMT");
  set_from(c, h, NULL, "future=x; Max-Age=0");
  assert_string_equal(SEEN(c, h, "/echo"), "junk=1; maxage=1; odd=1");
  /* Replaced in place, by name, domain and path. */
  set_from(c, h, NULL, "odd=2");
  assert_string_equal(SEEN(c, h, "/echo"), "junk=1; maxage=1; odd=2");
  salvo_client_clear_cookies(c);
  assert_string_equal(SEEN(c, h, "/echo"), "");
  assert_string_equal(SEEN(c, "b.example.test", "/echo"), "");
  salvo_client_free(c);
}

/* A caller's own Cookie header goes in the same field as the jar's, and
 * only to the origin asked for. */
static void test_one_cookie_field(void **state) {
  (void)state;
  salvo_client *c = cookie_client(NULL);
  set_from(c, "a.example.test", NULL, "jar=1; Path=/");
  set_from(c, "b.example.test", NULL, "bjar=1; Path=/");
  assert_string_equal(seen(c, "a.example.test", "/echo", "Cookie: mine=2"),
                      "jar=1; mine=2");
  /* Redirected to another origin: its own cookies, not the caller's. */
  const char *to =
      th_fmt("/redirect-to?url=http://b.example.test:%d/echo", th_srv.port);
  assert_string_equal(seen(c, "a.example.test", to, "Cookie: mine=2"),
                      "bjar=1");
  salvo_client_free(c);
}

/* The jar outlives the client in a cookie file, in curl's format. */
static void test_cookie_file(void **state) {
  (void)state;
  char path[] = "/tmp/salvo-cookies-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "# Netscape HTTP Cookie File\n"
             ".example.test\tTRUE\t/\tFALSE\t0\tloaded\t1\n"
             "#HttpOnly_a.example.test\tFALSE\t/\tFALSE\t4102444800\tho\t1\n");
  fclose(f);
  salvo_client *c = cookie_client(path);
  assert_string_equal(SEEN(c, "b.example.test", "/echo"), "loaded=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo"), "ho=1; loaded=1");
  set_from(c, "a.example.test", NULL, "new=1; Max-Age=3600; Path=/");
  salvo_client_free(c);
  c = cookie_client(path);
  assert_string_equal(SEEN(c, "a.example.test", "/echo"),
                      "ho=1; loaded=1; new=1");
  salvo_client_free(c);
  unlink(path);
}

/* The jar's lines as salvo_client_cookies gives them; freed by the next
 * call. */
static const char *jar_lines(salvo_client *c) {
  static char *last;
  free(last);
  assert_int_equal(salvo_client_cookies(c, &last), SALVO_OK);
  assert_non_null(last);
  return last;
}

/* What servers set is read back as a cookie file's lines, oldest first,
 * and a line given is sent where it matches, as if a server had set it:
 * replaced by name, domain and path, removed by a past expiry (RFC 6265
 * 5.3 steps 11-12). faultd's /echo is the evidence of what was sent. */
static void test_read_and_set_the_jar(void **state) {
  (void)state;
  salvo_client *c = pinned_client(NULL);
  assert_string_equal(jar_lines(c), "");
  set_from(c, "a.example.test", NULL, "host=1; Path=/");
  set_from(c, "a.example.test", NULL,
           "dom=2; Domain=example.test; Path=/echo/p");
  set_from(c, "a.example.test", NULL,
           "late=3; Secure; Expires=Wed, 09 Jun 2100 10:18:14 GMT");
  assert_string_equal(jar_lines(c),
                      "a.example.test\tFALSE\t/\tFALSE\t0\thost\t1\n"
                      ".example.test\tTRUE\t/echo/p\tFALSE\t0\tdom\t2\n");
  /* (Secure over http is not kept: test_secure.) */
  assert_int_equal(
      salvo_client_cookie_set(c, "other.test\tFALSE\t/\tFALSE\t0\tmine\tv1"),
      SALVO_OK);
  assert_int_equal(
      salvo_client_cookie_set(
          c, "#HttpOnly_.example.test\tTRUE\t/\tFALSE\t4102444800\tall\t1"),
      SALVO_OK);
  assert_string_equal(SEEN(c, "other.test", "/echo"), "mine=v1");
  assert_string_equal(SEEN(c, "b.example.test", "/echo"), "all=1");
  assert_string_equal(SEEN(c, "a.example.test", "/echo/p"),
                      "all=1; dom=2; host=1");
  assert_int_equal(
      salvo_client_cookie_set(c, "other.test\tFALSE\t/\tFALSE\t0\tmine\tv2"),
      SALVO_OK);
  assert_string_equal(SEEN(c, "other.test", "/echo"), "mine=v2");
  assert_int_equal(
      salvo_client_cookie_set(c, ".example.test\tTRUE\t/\tFALSE\t1\tall\tx"),
      SALVO_OK);
  assert_string_equal(SEEN(c, "b.example.test", "/echo"), "");
  assert_string_equal(jar_lines(c),
                      "a.example.test\tFALSE\t/\tFALSE\t0\thost\t1\n"
                      ".example.test\tTRUE\t/echo/p\tFALSE\t0\tdom\t2\n"
                      "other.test\tFALSE\t/\tFALSE\t0\tmine\tv2\n");
  salvo_client_clear_cookies(c);
  assert_string_equal(jar_lines(c), "");
  salvo_client_free(c);
}

/* A line that is no cookie is refused, whole, and the jar is as it was:
 * nothing a Cookie field cannot carry gets in (RFC 6265 4.1.1: no ';' in
 * a value, no '=' in a name, no controls). */
static void test_bad_lines_refused(void **state) {
  (void)state;
  salvo_client *c = pinned_client(NULL);
  static const char *const bad[] = {
      "",
      "# Netscape HTTP Cookie File",
      "other.test\tFALSE\t/\tFALSE\t0\tname",
      "other.test\tFALSE\t/\tFALSE\t0\tname\tvalue\r\nX-Evil: 1",
      "other.test\tFALSE\t/\tFALSE\t0\tname\tvalue\n",
      "other.test\tFALSE\t/\tFALSE\t0\tna=me\tvalue",
      "other.test\tFALSE\t/\tFALSE\t0\t\tvalue",
      "other.test\tFALSE\t/\tFALSE\t0\tname\tva;lue",
      "other.test\tFALSE\t/\tFALSE\tsoon\tname\tvalue",
      "other.test\tFALSE\trelative\tFALSE\t0\tname\tvalue",
      "\tFALSE\t/\tFALSE\t0\tname\tvalue",
      "other.test\tFALSE\t/\tFALSE\t0\tname\tva\x01lue",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (salvo_client_cookie_set(c, bad[i]) != SALVO_EINVAL)
      fail_msg("line %zu (%s) was not refused", i, bad[i]);
  assert_int_equal(salvo_client_cookie_set(c, NULL), SALVO_EINVAL);
  assert_int_equal(salvo_client_cookie_set(NULL, "x"), SALVO_EINVAL);
  char *out = (char *)"untouched";
  assert_int_equal(salvo_client_cookies(NULL, &out), SALVO_EINVAL);
  assert_null(out);
  assert_int_equal(salvo_client_cookies(c, NULL), SALVO_EINVAL);
  assert_string_equal(jar_lines(c), "");
  assert_string_equal(SEEN(c, "other.test", "/echo"), "");
  salvo_client_free(c);
  /* Without a jar: nothing to read, nowhere to store. */
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.no_cookies = 1;
  c = pinned_client(&cfg);
  assert_int_equal(
      salvo_client_cookie_set(c, "other.test\tFALSE\t/\tFALSE\t0\tname\tvalue"),
      SALVO_EINVAL);
  assert_string_equal(jar_lines(c), "");
  salvo_client_free(c);
}

/* With two I/O threads each has its own jar: a cookie set goes to both,
 * so every origin it matches sends it whichever thread runs it. */
static void test_set_on_every_io_thread(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.io_threads = 2;
  salvo_client *c = pinned_client(&cfg);
  /* Origins on both threads, by salvo_url_shard. */
  int shard[NNAMES], on[2] = {0, 0};
  for (size_t i = 0; i < 3; i++) {
    shard[i] =
        salvo_url_shard(th_fmt("http://%s:%d/", names[i], th_srv.port), 2);
    on[shard[i]]++;
  }
  assert_true(on[0] && on[1]);
  assert_int_equal(salvo_client_cookie_set(
                       c, ".example.test\tTRUE\t/\tFALSE\t0\teverywhere\t1"),
                   SALVO_OK);
  for (size_t i = 0; i < 3; i++)
    if (strcmp(SEEN(c, names[i], "/echo"), "everywhere=1"))
      fail_msg("%s (I/O thread %d) did not send the cookie", names[i],
               shard[i]);
  assert_string_equal(jar_lines(c),
                      ".example.test\tTRUE\t/\tFALSE\t0\teverywhere\t1\n"
                      ".example.test\tTRUE\t/\tFALSE\t0\teverywhere\t1\n");
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_domain_and_host_only),
      cmocka_unit_test(test_public_suffixes),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_secure),
      cmocka_unit_test(test_expiry),
      cmocka_unit_test(test_one_cookie_field),
      cmocka_unit_test(test_cookie_file),
      cmocka_unit_test(test_read_and_set_the_jar),
      cmocka_unit_test(test_bad_lines_refused),
      cmocka_unit_test(test_set_on_every_io_thread),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
