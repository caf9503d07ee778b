/* Responses' first homes recycled to their I/O thread (src/home.c): a
 * home given back is taken again, last given first; at most 512 wait; a
 * home given back after its engine closed is freed by its giver; homes
 * given back from other threads at once all come back; and a response
 * gives its home back when freed, unless its first head needed a larger
 * one (then malloc's). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "home.h"
#include "response.h"

static void test_given_back_taken_again(void **state) {
  (void)state;
  salvo__homes *h = salvo__homes_new();
  assert_non_null(h);
  char *a = salvo__homes_take(h), *b = salvo__homes_take(h);
  assert_non_null(a);
  assert_ptr_not_equal(a, b);
  memset(a, 'x', SALVO__HOME_BYTES); /* all of it is the taker's */
  salvo__homes_give(h, a);
  salvo__homes_give(h, b);
  assert_ptr_equal(salvo__homes_take(h), b); /* last given, first taken */
  assert_ptr_equal(salvo__homes_take(h), a);
  salvo__homes_give(h, a);
  salvo__homes_give(h, b);
  salvo__homes_close(h);
}

#define MANY 600

static void test_bounded(void **state) {
  (void)state;
  salvo__homes *h = salvo__homes_new();
  void **home = calloc(MANY, sizeof(*home));
  for (int i = 0; i < MANY; i++)
    assert_non_null(home[i] = salvo__homes_take(h));
  for (int i = 0; i < MANY; i++)
    salvo__homes_give(h, home[i]);
  /* The first 512 given wait; the rest were freed: the first taken is
   * the 512th given, not the last. */
  for (int i = 511; i >= 0; i--) {
    void *t = salvo__homes_take(h);
    assert_ptr_equal(t, home[i]);
  }
  for (int i = 0; i < 512; i++)
    salvo__homes_give(h, home[i]);
  free(home);
  salvo__homes_close(h);
}

static void test_out_past_close(void **state) {
  (void)state;
  salvo__homes *h = salvo__homes_new();
  void *a = salvo__homes_take(h), *b = salvo__homes_take(h);
  salvo__homes_give(h, salvo__homes_take(h)); /* cached at the close */
  salvo__homes_close(h);
  /* Freed by their givers, the cache with the last (ASan: no leak, no
   * use after free). */
  salvo__homes_give(h, a);
  salvo__homes_give(h, b);
}

#define GIVERS 4
#define EACH 100

typedef struct giver {
  salvo__homes *h;
  void *home[EACH];
} giver;

static void *give_all(void *arg) {
  giver *g = arg;
  for (int i = 0; i < EACH; i++)
    salvo__homes_give(g->h, g->home[i]);
  return NULL;
}

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a,
            y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

static int among(void *const *set, int n, const void *p) {
  for (int i = 0; i < n; i++)
    if (set[i] == p)
      return 1;
  return 0;
}

#define TURNS 50

static void test_given_from_threads(void **state) {
  (void)state;
  salvo__homes *h = salvo__homes_new();
  giver g[GIVERS];
  void *all[GIVERS * EACH + TURNS], *again[GIVERS * EACH + TURNS];
  pthread_t t[GIVERS];
  int out = GIVERS * EACH;
  for (int k = 0; k < GIVERS; k++) {
    g[k].h = h;
    for (int i = 0; i < EACH; i++)
      all[k * EACH + i] = g[k].home[i] = salvo__homes_take(h);
  }
  for (int k = 0; k < GIVERS; k++)
    assert_int_equal(pthread_create(&t[k], NULL, give_all, &g[k]), 0);
  /* Taking while they give: what is taken is a home given back, or a new
   * one when none had come back yet; a new one joins the homes that must
   * all come back (were it left out, a late one taken first below would
   * crowd out one of the 400: the race this test once lost, 1 run in
   * ~300). */
  for (int i = 0; i < TURNS; i++) {
    void *x = salvo__homes_take(h);
    if (!among(all, out, x))
      all[out++] = x;
    salvo__homes_give(h, x);
  }
  for (int k = 0; k < GIVERS; k++)
    pthread_join(t[k], NULL);
  for (int i = 0; i < out; i++)
    again[i] = salvo__homes_take(h);
  qsort(all, (size_t)out, sizeof(void *), cmp_ptr);
  qsort(again, (size_t)out, sizeof(void *), cmp_ptr);
  /* Every one came back, once (out is under the cache's 512). */
  assert_memory_equal(all, again, (size_t)out * sizeof(void *));
  for (int i = 0; i < out; i++)
    salvo__homes_give(h, again[i]);
  salvo__homes_close(h);
}

static void add_headers(salvo_response *r, int n, size_t value_len) {
  char line[512];
  for (int i = 0; i < n; i++) {
    size_t len = (size_t)snprintf(line, sizeof(line), "X-%02d: ", i);
    memset(line + len, 'v', value_len);
    assert_int_equal(salvo__resp_add_line(r, line, 4, len, value_len), 0);
  }
}

static void test_response_gives_back(void **state) {
  (void)state;
  salvo__homes *h = salvo__homes_new();
  salvo_response *r = salvo__resp_new(1, NULL, NULL, "http://a.test/");
  r->homes = h;
  add_headers(r, 20, 3); /* past the home's 16 offsets: they move */
  assert_int_equal(salvo__resp_reserve_body(r, 10, NULL), 0);
  memcpy(r->body.p, "0123456789", 10);
  r->body.len = 10;
  assert_int_equal(r->nhdrs, 20);
  assert_string_equal(salvo_response_header(r, "x-00"), "vvv");
  assert_string_equal(salvo_response_header(r, "X-19"), "vvv");
  char *home = r->home;
  assert_non_null(home);
  salvo_response_free(r);
  /* Had it been freed, malloc would hand it out here. */
  void *hold = malloc(SALVO__HOME_BYTES);
  void *t = salvo__homes_take(h);
  assert_ptr_equal(t, home);
  salvo__homes_give(h, t);
  free(hold);

  /* A first head larger than a home: one of its own, malloc's. */
  r = salvo__resp_new(2, NULL, NULL, "http://a.test/");
  r->homes = h;
  add_headers(r, 2, 300);
  assert_null(r->homes);
  assert_int_equal(strlen(salvo_response_header(r, "X-01")), 300);
  home = r->home;
  salvo_response_free(r);
  t = salvo__homes_take(h);
  assert_ptr_not_equal(t, home);
  salvo__homes_give(h, t);
  salvo__homes_close(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_given_back_taken_again),
      cmocka_unit_test(test_bounded),
      cmocka_unit_test(test_out_past_close),
      cmocka_unit_test(test_given_from_threads),
      cmocka_unit_test(test_response_gives_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
