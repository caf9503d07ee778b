/* What salvo says with its secrets taken out (src/redact.c): a URL's
 * userinfo removed wherever it stands, each secret replaced by "***"
 * however often and wherever it occurs, and a secret made of the
 * replacement's own stars not looping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static char *redacted(const char *msg, const char *s1, const char *s2) {
  const char *secrets[] = {s1, s2};
  char *copy = strdup(msg);
  assert_non_null(copy);
  return salvo__redact(copy, secrets, 2);
}

static void check(const char *msg, const char *s1, const char *s2,
                  const char *want) {
  char *got = redacted(msg, s1, s2);
  assert_string_equal(got, want);
  free(got);
}

static void test_userinfo(void **state) {
  (void)state;
  check("failed: http://bob:pw@h:1/x and https://t@o/", NULL, NULL,
        "failed: http://h:1/x and https://o/");
  /* An '@' past the authority is the path's, not userinfo. */
  check("http://h/a@b?c@d", NULL, NULL, "http://h/a@b?c@d");
  /* A password holding '@': the last one in the authority ends it. */
  check("http://u:p@ss@h/", NULL, NULL, "http://h/");
  check("no url here@all", NULL, NULL, "no url here@all");
}

/* A URL's own userinfo only: a URL in its path or query is the
 * resource's name; a string without a scheme is redacted as a message. */
static void test_url(void **state) {
  (void)state;
  static const char *const cases[][2] = {
      {"http://u:pw@h/x?next=http://me:pw2@o/",
       "http://h/x?next=http://me:pw2@o/"},
      {"https://h/a?b=https://t@o/", "https://h/a?b=https://t@o/"},
      {"HTTP://u:p@ss@h:8/", "HTTP://h:8/"},
      {"h+t://u@h/", "h+t://h/"},
      {"x?next=http://me:pw@o/", "x?next=http://o/"},
      {"http://h/", "http://h/"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *u = strdup(cases[i][0]);
    assert_non_null(u);
    salvo__redact_url(u);
    assert_string_equal(u, cases[i][1]);
    free(u);
  }
}

static void test_secrets(void **state) {
  (void)state;
  check("token s3cr3t, again s3cr3t.", "s3cr3t", NULL, "token ***, again ***.");
  check("s3cr3t", "s3cr3t", "", "***");
  check("ab", "ab", "b", "***"); /* the first secret, then the second */
  check("xpwx tokx", "pw", "tok", "x***x ***x");
  /* A secret of stars: replaced once, never looping on its own output. */
  check("a ** b", "**", NULL, "a *** b");
  check("nothing to hide", "pw", "tok", "nothing to hide");
  assert_null(salvo__redact(NULL, NULL, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_userinfo),
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_secrets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
