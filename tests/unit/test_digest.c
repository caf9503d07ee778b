/* Digest challenges read and answered (src/digest.c) with strings only:
 * the answers of RFC 7616 3.9.1's and RFC 2617 3.5's examples, and the
 * grammar of RFC 9110 11.6.1 (several challenges in one field, names in
 * any case, quoted-strings with escapes) as hostile servers bend it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "digest.h"

#define RFC7616_CHALLENGE(alg)                                                 \
  "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "           \
  "algorithm=" alg                                                             \
  ", nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "                 \
  "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""

/* The answer to one value's challenge, or NULL with *why. */
static char *answer_as(const char *value, const char *pass, const char *cnonce,
                       const char **why) {
  salvo__digest d;
  const char *values[] = {value};
  if (salvo__digest_parse(values, 1, &d) != 1) {
    *why = "no challenge";
    return NULL;
  }
  char *line = salvo__digest_answer(&d, "Mufasa", pass, "GET",
                                    "/dir/index.html", 15, 1, cnonce, why);
  salvo__digest_free(&d);
  return line;
}

static char *answer(const char *value, const char *cnonce, const char **why) {
  return answer_as(value, "Circle of Life", cnonce, why);
}

static void has(const char *line, const char *part) {
  if (!line || !strstr(line, part))
    fail_msg("%s lacks %s", line ? line : "(null)", part);
}

/* RFC 7616 3.9.1: the same challenge with MD5 and with SHA-256. */
static void test_rfc7616_examples(void **state) {
  (void)state;
  const char *why = NULL;
  const char *cn = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  char *md5 = answer(RFC7616_CHALLENGE("MD5"), cn, &why);
  has(md5, "response=\"8ca523f5e9506fed4657c9700eebdbec\"");
  has(md5, "Authorization: Digest username=\"Mufasa\", "
           "realm=\"http-auth@example.org\"");
  has(md5, "uri=\"/dir/index.html\", qop=auth, nc=00000001, ");
  has(md5, "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  has(md5, "algorithm=MD5");
  char *sha = answer(RFC7616_CHALLENGE("SHA-256"), cn, &why);
  has(sha, "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8d"
           "b5856cb6c1\"");
  free(md5);
  free(sha);
}

/* RFC 2617 3.5 (its password "Circle Of Life"), without an algorithm
 * (MD5) and its qop unquoted. */
static void test_rfc2617_example(void **state) {
  (void)state;
  const char *why = NULL;
  char *line = answer_as("digest REALM=\"testrealm@host.com\",qop=auth,"
                         "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\","
                         "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
                         "Circle Of Life", "0a4f113b", &why);
  has(line, "response=\"6629fae49393a05397450978507c4ef1\"");
  assert_null(strstr(line, "algorithm"));
  free(line);
}

/* Which challenge is read: the first Digest one, after others in the
 * same field or in an earlier one; "Digestive" is another scheme. */
static void test_which_challenge(void **state) {
  (void)state;
  salvo__digest d;
  static const char two[] = "Basic realm=\"a, Digest\", Digest realm=r, "
                            "nonce=\"n\\\"q\", stale=true";
  const char *v1[] = {"Digestive realm=x, nonce=y", two,
                      "Digest realm=late, nonce=late"};
  assert_int_equal(salvo__digest_parse(v1, 3, &d), 1);
  assert_string_equal(d.realm, "r");
  assert_string_equal(d.nonce, "n\"q");
  salvo__digest_free(&d);
  const char *v2[] = {"Basic realm=x", "Bearer"};
  assert_int_equal(salvo__digest_parse(v2, 2, &d), 0);
  /* A quote left open ends the parameters: no nonce is read. */
  const char *v3[] = {"Digest realm=r, nonce=\"n"};
  assert_int_equal(salvo__digest_parse(v3, 1, &d), 1);
  assert_string_equal(d.realm, "r");
  assert_null(d.nonce);
  salvo__digest_free(&d);
}

/* What is refused, and why; a quote or backslash in what is echoed back
 * is escaped, never a way out of the quoted-string. */
static void test_refusals_and_escapes(void **state) {
  (void)state;
  static const struct {
    const char *challenge, *why;
  } bad[] = {
      {"Digest realm=r", "no realm or no nonce"},
      {"Digest nonce=n", "no realm or no nonce"},
      {"Digest realm=r, nonce=n, algorithm=MD4", "algorithm"},
      {"Digest realm=r, nonce=n, algorithm=SHA-256-sessx", "algorithm"},
      {"Digest realm=r, nonce=n, qop=auth-int", "qop"},
      {"Digest realm=r, nonce=n, algorithm=SHA-512-sess", "-sess"},
      {"Digest realm=\"r\x01\", nonce=n", "control"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *why = NULL;
    char *line = answer(bad[i].challenge, "c", &why);
    if (line || !why || !strstr(why, bad[i].why))
      fail_msg("%s: %s", bad[i].challenge, line ? line : why);
  }
  const char *why = NULL;
  char *line = answer("Digest realm=\"a\\\"b\\\\c\", nonce=n, qop=\" auth \"",
                      "c", &why);
  has(line, "realm=\"a\\\"b\\\\c\"");
  has(line, "qop=auth");
  free(line);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc7616_examples),
      cmocka_unit_test(test_rfc2617_example),
      cmocka_unit_test(test_which_challenge),
      cmocka_unit_test(test_refusals_and_escapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
