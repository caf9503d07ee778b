/* The cookie jar (src/cookie.c) on a fake wall clock, RFC 6265: Max-Age
 * and Expires (5.2.1, 5.2.2: Max-Age wins), domain matching and host-only
 * cookies (5.1.3, 5.3 step 6), path matching (5.1.4), Secure (5.4 step 1),
 * public suffixes (5.3 step 5), replacement (5.3 step 11), one Cookie
 * field per request (5.4), controls (4.1.1), and cookie files checked
 * line by line and written oldest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cookie.h"
#include "cookie_date.h"
#include "fake_clock.h"

#define NOW 1700000000

static fake_clock fc;

static salvo__jar *jar(void) {
  fake_clock_init(&fc, S_NS, NOW);
  salvo__jar *j = salvo__jar_new(&fc.clock);
  assert_non_null(j);
  return j;
}

static void set(salvo__jar *j, const char *url, const char *v) {
  assert_int_equal(salvo__jar_set(j, url, v, strlen(v)), 0);
}

/* The Cookie field for url, "" when none; static storage. */
static const char *cookie_for(salvo__jar *j, const char *url) {
  static char out[512];
  salvo__buf b = {0};
  assert_int_equal(salvo__jar_header(j, url, NULL, &b), 0);
  size_t n = b.len < sizeof(out) - 1 ? b.len : sizeof(out) - 1;
  memcpy(out, b.p ? b.p : "", n);
  out[n] = 0;
  salvo__buf_free(&b);
  return out;
}

static void test_max_age_expires_on_the_clock(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://a.example/", "s=1; Max-Age=60");
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: s=1\r\n");
  fc.wall += 59;
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: s=1\r\n");
  fc.wall += 1; /* expiry-time reached: gone (5.4 step 1) */
  assert_string_equal(cookie_for(j, "http://a.example/"), "");
  salvo__jar_free(j);
}

static void test_max_age_wins_over_expires(void **state) {
  (void)state;
  salvo__jar *j = jar();
  /* Expires long past, Max-Age 10 s: Max-Age decides (5.3 step 3). */
  set(j, "http://a.example/",
      "s=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=10");
  assert_int_equal(salvo__jar_count(j), 1);
  /* Expires alone, in the past: not stored. */
  set(j, "http://a.example/", "t=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT");
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: s=1\r\n");
  /* Max-Age=0 removes a stored cookie. */
  set(j, "http://a.example/", "s=1; Max-Age=0");
  assert_int_equal(salvo__jar_count(j), 0);
  salvo__jar_free(j);
}

/* Of several Expires and Path attributes the last decides (RFC 6265 5.3
 * steps 3 and 7), an Expires that is no date being ignored (5.2.1) and a
 * Path not from '/' standing for the default path (5.2.4); the jar kept
 * the first Expires and passed over such a Path. */
static void test_last_attribute_decides(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://a.example/d/p",
      "e=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; "
      "Expires=Wed, 01 Jan 2098 00:00:00 GMT; Expires=never");
  assert_string_equal(cookie_for(j, "http://a.example/d/x"), "Cookie: e=1\r\n");
  set(j, "http://a.example/d/p",
      "e=1; Expires=Wed, 01 Jan 2098 00:00:00 GMT; "
      "Expires=Sun, 06 Nov 1994 08:49:37 GMT");
  assert_string_equal(cookie_for(j, "http://a.example/d/x"), "");
  set(j, "http://a.example/d/p", "p=1; Path=/; Path=rel");
  assert_string_equal(cookie_for(j, "http://a.example/d/x"), "Cookie: p=1\r\n");
  assert_string_equal(cookie_for(j, "http://a.example/other"), "");
  set(j, "http://a.example/d/p", "q=1; Path=/d/p; Path=");
  assert_string_equal(cookie_for(j, "http://a.example/d/x"),
                      "Cookie: p=1; q=1\r\n");
  salvo__jar_free(j);
}

static void test_domain_and_host_only(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://www.example.com/", "host=1");
  set(j, "http://www.example.com/", "dom=1; Domain=example.com");
  assert_string_equal(cookie_for(j, "http://www.example.com/"),
                      "Cookie: host=1; dom=1\r\n");
  /* A host-only cookie stays with its host; a Domain one reaches its
   * subdomains and the domain itself. */
  assert_string_equal(cookie_for(j, "http://api.example.com/"),
                      "Cookie: dom=1\r\n");
  assert_string_equal(cookie_for(j, "http://example.com/"),
                      "Cookie: dom=1\r\n");
  assert_string_equal(cookie_for(j, "http://badexample.com/"), "");
  /* A foreign Domain is ignored, and a public suffix too. */
  set(j, "http://www.example.com/", "x=1; Domain=other.org");
  set(j, "http://www.example.com/", "y=1; Domain=com");
  set(j, "http://a.github.io/", "z=1; Domain=github.io");
  assert_int_equal(salvo__jar_count(j), 2);
  salvo__jar_free(j);
}

static void test_path_match(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://a.example/", "p=1; Path=/docs");
  assert_string_equal(cookie_for(j, "http://a.example/docs"),
                      "Cookie: p=1\r\n");
  assert_string_equal(cookie_for(j, "http://a.example/docs/x"),
                      "Cookie: p=1\r\n");
  assert_string_equal(cookie_for(j, "http://a.example/docsx"), "");
  assert_string_equal(cookie_for(j, "http://a.example/"), "");
  /* No Path: the default path is the request's directory (5.1.4). */
  set(j, "http://a.example/dir/page", "q=1");
  assert_string_equal(cookie_for(j, "http://a.example/dir/other"),
                      "Cookie: q=1\r\n");
  assert_string_equal(cookie_for(j, "http://a.example/elsewhere"), "");
  salvo__jar_free(j);
}

static void test_secure(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://a.example/", "s=1; Secure"); /* not from http (5.4) */
  assert_int_equal(salvo__jar_count(j), 0);
  set(j, "https://a.example/", "s=1; Secure");
  assert_string_equal(cookie_for(j, "https://a.example/"), "Cookie: s=1\r\n");
  assert_string_equal(cookie_for(j, "http://a.example/"), "");
  salvo__jar_free(j);
}

static void test_replace_and_clear(void **state) {
  (void)state;
  salvo__jar *j = jar();
  set(j, "http://a.example/", "s=1");
  set(j, "http://a.example/", "s=2");
  assert_int_equal(salvo__jar_count(j), 1);
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: s=2\r\n");
  salvo__jar_clear(j);
  assert_int_equal(salvo__jar_count(j), 0);
  assert_string_equal(cookie_for(j, "http://a.example/"), "");
  salvo__jar_free(j);
}

static void test_cookie_date(void **state) {
  (void)state;
  /* RFC 6265 5.1.1's algorithm: the three date forms of RFC 9110 and
   * the two-digit years it maps. */
  int64_t t = 784111777;
  assert_int_equal(salvo__cookie_date("Sun, 06 Nov 1994 08:49:37 GMT", 29), t);
  assert_int_equal(salvo__cookie_date("Sunday, 06-Nov-94 08:49:37 GMT", 30), t);
  assert_int_equal(salvo__cookie_date("Sun Nov  6 08:49:37 1994", 24), t);
  assert_int_equal(salvo__cookie_date("not a date", 10), -1);
  assert_int_equal(salvo__cookie_date("Sun, 32 Nov 1994 08:49:37 GMT", 29), -1);
}

static void test_max_age_strict_and_past_64_bits(void **state) {
  (void)state;
  salvo__jar *j = jar();
  /* Past 64 bits: as long as time goes, not a sum that wraps into the
   * past (it was undefined behaviour, and the cookie was dropped). */
  set(j, "http://a.example/", "big=1; Max-Age=99999999999999999999");
  /* RFC 6265 5.2.2: a value that does not start with a DIGIT or '-', or
   * holds a non-DIGIT after it, is ignored: a session cookie. */
  set(j, "http://a.example/", "plus=1; Max-Age=+5");
  set(j, "http://a.example/", "frac=1; Max-Age=5.5");
  fc.wall += 3600;
  assert_string_equal(cookie_for(j, "http://a.example/"),
                      "Cookie: big=1; plus=1; frac=1\r\n");
  salvo__jar_free(j);
}

static void test_controls_refuse_the_line(void **state) {
  (void)state;
  salvo__jar *j = jar();
  /* RFC 6265 4.1.1 allows no control in a Set-Cookie line (6265bis 5.6
   * ignores the line); a tab in a path would not survive a cookie file's
   * tab-separated fields. */
  set(j, "http://a.example/", "a=1; Path=/\x01");
  set(j, "http://a.example/", "b=1; Path=/x\ty");
  set(j, "http://a.example/", "c=1; Domain=a.example\x7f");
  set(j, "http://a.example/", "d=1\x0b");
  assert_int_equal(salvo__jar_count(j), 0);
  set(j, "http://a.example/", "e=1;\tPath=/");
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: e=1\r\n");
  salvo__jar_free(j);
}

static void test_host_after_the_last_at(void **state) {
  (void)state;
  salvo__jar *j = jar();
  /* The request goes to a.example (url.c reads the host after the last
   * '@'): its cookies are a.example's, kept and sent as such. */
  set(j, "http://u@other.example@a.example/", "s=1");
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: s=1\r\n");
  assert_string_equal(cookie_for(j, "http://u@x@a.example/"),
                      "Cookie: s=1\r\n");
  assert_string_equal(cookie_for(j, "http://other.example/"), "");
  salvo__jar_free(j);
}

/* A cookie file holding text, its path in `path` (64 bytes). */
static void cookie_file(char *path, const char *text) {
  snprintf(path, 64, "/tmp/salvo-cookie-test.%ld", (long)getpid());
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_file_lines_checked(void **state) {
  (void)state;
  char path[64];
  /* Lines a Set-Cookie could not have stored are skipped: a CR, another
   * control or a ';' would reach the Cookie field; an empty name or
   * domain, a path not from '/', an expiry not in digits. */
  cookie_file(path, "a.example\tFALSE\t/\tFALSE\t0\tgood\t1\n"
                    "a.example\tFALSE\t/\tFALSE\t0\tcr\t1\rX-Evil: 1\n"
                    "a.example\tFALSE\t/\tFALSE\t0\tsemi\t1; admin=1\n"
                    "a.example\tFALSE\t/\tFALSE\t0\t\t1\n"
                    ".\tTRUE\t/\tFALSE\t0\tnodomain\t1\n"
                    "a.example\tFALSE\tx\tFALSE\t0\tpath\t1\n"
                    "a.example\tFALSE\t/\tFALSE\t12abc\texp\t1\n");
  salvo__jar *j = jar();
  assert_int_equal(salvo__jar_load(j, path), 0);
  unlink(path);
  assert_int_equal(salvo__jar_count(j), 1);
  assert_string_equal(cookie_for(j, "http://a.example/"), "Cookie: good=1\r\n");
  salvo__jar_free(j);
}

static void test_saved_oldest_first(void **state) {
  (void)state;
  char path[64];
  cookie_file(path, "");
  salvo__jar *j = jar();
  set(j, "http://a.example/", "a=1");
  set(j, "http://a.example/", "b=1");
  set(j, "http://a.example/", "c=1");
  set(j, "http://a.example/", "a=1; Max-Age=0"); /* c takes a's place */
  set(j, "http://a.example/", "d=1");
  const char *want = "Cookie: b=1; c=1; d=1\r\n"; /* by creation (5.4) */
  assert_string_equal(cookie_for(j, "http://a.example/"), want);
  assert_int_equal(salvo__jar_save(j, path), 0);
  salvo__jar *again = jar();
  assert_int_equal(salvo__jar_load(again, path), 0);
  unlink(path);
  assert_string_equal(cookie_for(again, "http://a.example/"), want);
  salvo__jar_free(again);
  salvo__jar_free(j);
}

/* A server that sets cookie after cookie fills the jar to its bound
 * (3,000) and no further: each one past it takes the oldest's place, so
 * memory stays bounded whatever a hostile server sends (RFC 6265 6.1
 * lets a user agent evict). */
/* The Cookie field for url with the request's own (mine) in b, as a
 * string; for fields too long for cookie_for's buffer. */
static const char *field(salvo__jar *j, const char *url, const char *mine,
                         salvo__buf *b) {
  b->len = 0;
  assert_int_equal(salvo__jar_header(j, url, mine, b), 0);
  assert_int_equal(salvo__buf_reserve(b, 1), 0);
  b->p[b->len] = '\0';
  return b->p;
}

static void test_bounded_by_the_oldest(void **state) {
  (void)state;
  salvo__jar *j = jar();
  char v[32];
  for (int i = 0; i < 3005; i++) {
    snprintf(v, sizeof(v), "c%d=%d", i, i);
    set(j, "http://a.example/", v);
  }
  assert_int_equal(salvo__jar_count(j), 3000);
  salvo__buf b = {0};
  const char *f = field(j, "http://a.example/", NULL, &b);
  assert_non_null(strstr(f, "Cookie: c5=5; c6=6;"));
  assert_non_null(strstr(f, "; c3004=3004\r\n"));
  assert_null(strstr(f, "c4=4"));
  salvo__buf_free(&b);
  salvo__jar_free(j);
}

/* A request's own Cookie field comes first and alone when the jar has
 * nothing for its URL, and with the jar's after it when it has. */
static void test_own_cookie_field(void **state) {
  (void)state;
  salvo__jar *j = jar();
  salvo__buf b = {0};
  assert_string_equal(field(j, "http://a.example/", "x=1", &b),
                      "Cookie: x=1\r\n");
  set(j, "http://a.example/", "a=1");
  assert_string_equal(field(j, "http://a.example/", "x=1", &b),
                      "Cookie: x=1; a=1\r\n");
  salvo__buf_free(&b);
  salvo__jar_free(j);
}

/* The lines leave out what expired on the clock, whatever the jar still
 * holds, and a line given with a past expiry removes its cookie. */
static void test_lines_on_the_clock(void **state) {
  (void)state;
  salvo__jar *j = jar();
  salvo__buf b = {0};
  assert_int_equal(salvo__jar_lines(j, &b), 0);
  assert_string_equal(b.p, "");
  set(j, "http://a.example/", "s=1; Max-Age=60");
  assert_int_equal(
      salvo__jar_add_line(j, ".b.example\tTRUE\t/x\tTRUE\t0\tkept\ta b"), 0);
  b.len = 0;
  assert_int_equal(salvo__jar_lines(j, &b), 0);
  assert_string_equal(b.p, "a.example\tFALSE\t/\tFALSE\t1700000060\ts\t1\n"
                           ".b.example\tTRUE\t/x\tTRUE\t0\tkept\ta b\n");
  fc.wall += 60;
  b.len = 0;
  assert_int_equal(salvo__jar_lines(j, &b), 0);
  assert_string_equal(b.p, ".b.example\tTRUE\t/x\tTRUE\t0\tkept\ta b\n");
  assert_int_equal(
      salvo__jar_add_line(j, ".b.example\tTRUE\t/x\tTRUE\t5\tkept\tgone"), 0);
  assert_int_equal(salvo__jar_count(j), 1); /* s, expired, not yet swept */
  b.len = 0;
  assert_int_equal(salvo__jar_lines(j, &b), 0);
  assert_string_equal(b.p, "");
  assert_int_equal(salvo__jar_add_line(j, "a.example\tFALSE\t/"), SALVO_EINVAL);
  salvo__buf_free(&b);
  salvo__jar_free(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_age_expires_on_the_clock),
      cmocka_unit_test(test_max_age_wins_over_expires),
      cmocka_unit_test(test_last_attribute_decides),
      cmocka_unit_test(test_domain_and_host_only),
      cmocka_unit_test(test_path_match),
      cmocka_unit_test(test_secure),
      cmocka_unit_test(test_replace_and_clear),
      cmocka_unit_test(test_cookie_date),
      cmocka_unit_test(test_max_age_strict_and_past_64_bits),
      cmocka_unit_test(test_controls_refuse_the_line),
      cmocka_unit_test(test_host_after_the_last_at),
      cmocka_unit_test(test_file_lines_checked),
      cmocka_unit_test(test_saved_oldest_first),
      cmocka_unit_test(test_lines_on_the_clock),
      cmocka_unit_test(test_bounded_by_the_oldest),
      cmocka_unit_test(test_own_cookie_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
