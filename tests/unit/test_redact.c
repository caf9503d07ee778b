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
      cmocka_unit_test(test_secrets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
