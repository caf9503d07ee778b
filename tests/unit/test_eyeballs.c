/* Happy Eyeballs' plan (src/native/eyeballs.c) on a clock of the test's:
 * families interleaved (RFC 8305 4), the next address 250 ms after the
 * last start or at once after a failure (RFC 8305 5), two attempts at
 * most, and the end when all failed. No socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "native/eyeballs.h"

#define MS ((int64_t)1000000)

static salvo__addr addr(sa_family_t f, int tag) {
  salvo__addr a;
  memset(&a, 0, sizeof(a));
  a.ss.ss_family = f;
  a.len = (socklen_t)tag; /* which one it was, for the test */
  return a;
}

static void test_interleave(void **state) {
  (void)state;
  salvo__addr a[] = {addr(AF_INET6, 1), addr(AF_INET6, 2), addr(AF_INET6, 3),
                     addr(AF_INET, 4), addr(AF_INET, 5)};
  salvo__he_interleave(a, 5);
  int want[] = {1, 4, 2, 5, 3};
  for (int i = 0; i < 5; i++)
    assert_int_equal(a[i].len, want[i]);
  salvo__addr b[] = {addr(AF_INET, 1), addr(AF_INET, 2), addr(AF_INET6, 3)};
  salvo__he_interleave(b, 3);
  int want_b[] = {1, 3, 2};
  for (int i = 0; i < 3; i++)
    assert_int_equal(b[i].len, want_b[i]);
  salvo__addr c[] = {addr(AF_INET, 1), addr(AF_INET, 2)};
  salvo__he_interleave(c, 2);
  assert_int_equal(c[0].len, 1);
}

static void test_attempt_delay(void **state) {
  (void)state;
  salvo__he h;
  int64_t t0 = 1000 * MS;
  salvo__he_start(&h, 3, t0);
  assert_int_equal(salvo__he_due(&h, t0), 0);
  assert_int_equal(salvo__he_due(&h, t0), -1);
  assert_true(salvo__he_wake(&h) == t0 + 250 * MS);
  assert_int_equal(salvo__he_due(&h, t0 + 249 * MS), -1);
  assert_int_equal(salvo__he_due(&h, t0 + 250 * MS), 1);
  /* Two racing: the third waits for one of them to fail. */
  assert_true(salvo__he_wake(&h) == 0);
  assert_int_equal(salvo__he_due(&h, t0 + 900 * MS), -1);
  salvo__he_failed(&h, t0 + 900 * MS);
  assert_int_equal(salvo__he_due(&h, t0 + 900 * MS), 2);
  assert_false(salvo__he_exhausted(&h));
  salvo__he_failed(&h, t0 + 901 * MS);
  salvo__he_failed(&h, t0 + 902 * MS);
  assert_int_equal(salvo__he_due(&h, t0 + 903 * MS), -1);
  assert_true(salvo__he_exhausted(&h));
}

static void test_failure_moves_on_at_once(void **state) {
  (void)state;
  salvo__he h;
  salvo__he_start(&h, 2, 0);
  assert_int_equal(salvo__he_due(&h, 0), 0);
  salvo__he_failed(&h, 5 * MS);
  assert_int_equal(salvo__he_due(&h, 5 * MS), 1);
  salvo__he_failed(&h, 6 * MS);
  assert_true(salvo__he_exhausted(&h));
  salvo__he_start(&h, 0, 0); /* no address at all */
  assert_int_equal(salvo__he_due(&h, 0), -1);
  assert_true(salvo__he_exhausted(&h));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interleave),
      cmocka_unit_test(test_attempt_delay),
      cmocka_unit_test(test_failure_moves_on_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
