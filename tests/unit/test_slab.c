/* Blocks recycled per client (src/slab.c): a block given back is taken
 * again; every block of a chunk is used before another chunk is mapped;
 * blocks are 64-aligned and do not overlap; a request for n bytes gets
 * the smallest size that holds them, and a chunk left wholly free serves
 * another size; blocks given back from other threads at once all come
 * back; blocks outlive the slab's client. Under AddressSanitizer the slab is
 * malloc's, and only the behaviour that does not depend on addresses is
 * checked. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "slab.h"

#define MANY 5000 /* more than two chunks' worth */

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a;
  uintptr_t y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

static void test_blocks(void **state) {
  (void)state;
  salvo__slab *s = salvo__slab_new();
  assert_non_null(s);
  static void *b[MANY];
  for (int i = 0; i < MANY; i++) {
    assert_non_null(b[i] = salvo__slab_take(s, SALVO__SLAB_BLOCK));
    assert_int_equal((uintptr_t)b[i] % 64, 0);
    memset(b[i], i & 0xff, SALVO__SLAB_BLOCK); /* all of it is the taker's */
  }
  for (int i = 0; i < MANY; i++) {
    const unsigned char *p = b[i];
    assert_int_equal(p[0], i & 0xff);
    assert_int_equal(p[SALVO__SLAB_BLOCK - 1], i & 0xff);
  }
  qsort(b, MANY, sizeof(void *), cmp_ptr);
  for (int i = 1; i < MANY; i++)
    assert_true((char *)b[i] >= (char *)b[i - 1] + SALVO__SLAB_BLOCK);
  for (int i = 0; i < MANY; i++)
    salvo__slab_give(b[i]);
  salvo__slab_release(s);
}

#define CHUNK ((uintptr_t)2 << 20)

static void test_recycled(void **state) {
  (void)state;
  if (SALVO__SLAB_MALLOC)
    skip();
  salvo__slab *s = salvo__slab_new();
  void *a = salvo__slab_take(s, SALVO__SLAB_BLOCK),
       *b = salvo__slab_take(s, SALVO__SLAB_BLOCK);
  salvo__slab_give(a);
  void *hold = malloc(SALVO__SLAB_BLOCK); /* malloc's reuse is not ours */
  assert_ptr_equal(salvo__slab_take(s, SALVO__SLAB_BLOCK), a);
  /* A chunk's blocks are all used before a new chunk is mapped: those
   * after its header (where a is, the first) up to its end. */
  size_t usable = (CHUNK - (uintptr_t)a % CHUNK) / SALVO__SLAB_BLOCK;
  assert_true(usable > 2000);
  void **more = calloc(usable, sizeof(*more));
  for (size_t i = 0; i < usable - 2; i++) {
    more[i] = salvo__slab_take(s, SALVO__SLAB_BLOCK);
    assert_true((uintptr_t)more[i] / CHUNK == (uintptr_t)a / CHUNK);
  }
  void *next = salvo__slab_take(s, SALVO__SLAB_BLOCK);
  assert_true((uintptr_t)next / CHUNK != (uintptr_t)a / CHUNK);
  /* Given back, a block of the first chunk is taken before the second's. */
  salvo__slab_give(more[7]);
  assert_ptr_equal(salvo__slab_take(s, SALVO__SLAB_BLOCK), more[7]);
  salvo__slab_give(next);
  for (size_t i = 0; i < usable - 2; i++)
    salvo__slab_give(more[i]);
  free(more);
  salvo__slab_give(a);
  salvo__slab_give(b);
  free(hold);
  salvo__slab_release(s);
}

/* A request for n bytes takes a block of the smallest size holding them,
 * 512 bytes and up in steps of 64, each size from chunks of its own:
 * consecutive blocks of a fresh chunk lie that size apart. */
static void test_sizes(void **state) {
  (void)state;
  if (SALVO__SLAB_MALLOC)
    skip();
  static const struct {
    size_t bytes, size;
  } cases[] = {{1, 512},   {512, 512}, {513, 576},   {700, 704},
               {704, 704}, {705, 768}, {1000, 1024}, {1024, 1024}};
  salvo__slab *s = salvo__slab_new();
  void *b[8][3];
  for (int k = 0; k < 8; k++)
    for (int j = 0; j < 3; j++) {
      assert_non_null(b[k][j] = salvo__slab_take(s, cases[k].bytes));
      memset(b[k][j], k, cases[k].bytes);
    }
  for (int k = 0; k < 8; k++) {
    size_t size = cases[k].size;
    /* 1 and 512 bytes share a size, as do 700 and 704, 1000 and 1024: the
     * same chunk, one after the other. */
    int shared = k == 1 || k == 4 || k == 7;
    void *prev = shared ? b[k - 1][2] : b[k][0];
    for (int j = shared ? 0 : 1; j < 3; j++) {
      assert_int_equal((uintptr_t)b[k][j] - (uintptr_t)prev, size);
      prev = b[k][j];
    }
    if (k > 0 && !shared)
      assert_true((uintptr_t)b[k][0] / CHUNK != (uintptr_t)b[k - 1][0] / CHUNK);
  }
  for (int k = 0; k < 8; k++)
    for (int j = 0; j < 3; j++) {
      assert_int_equal(*(unsigned char *)b[k][j], k);
      salvo__slab_give(b[k][j]);
    }
  salvo__slab_release(s);
}

/* A chunk wholly free is kept and carved anew for the next size asked:
 * no chunk is mapped for it. */
static void test_kept_chunk_serves_any_size(void **state) {
  (void)state;
  if (SALVO__SLAB_MALLOC)
    skip();
  salvo__slab *s = salvo__slab_new();
  void *a = salvo__slab_take(s, 1024), *b = salvo__slab_take(s, 1024);
  salvo__slab_give(a);
  salvo__slab_give(b);
  void *c = salvo__slab_take(s, 512), *d = salvo__slab_take(s, 512);
  assert_true((uintptr_t)c / CHUNK == (uintptr_t)a / CHUNK);
  assert_int_equal((uintptr_t)d - (uintptr_t)c, 512);
  salvo__slab_give(c);
  salvo__slab_give(d);
  salvo__slab_release(s);
}

/* Whether the mapping holding p is advised to be huge pages: "hg" among
 * its VmFlags in /proc/self/smaps. */
static int advised_huge(const void *p) {
  FILE *f = fopen("/proc/self/smaps", "r");
  assert_non_null(f);
  char line[512];
  int in = 0, huge = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) /* a mapping's first line */
      in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
    else if (in && !strncmp(line, "VmFlags:", 8)) {
      huge = strstr(line, " hg") != NULL;
      break;
    }
  }
  fclose(f);
  return huge;
}

/* A size's first chunk keeps small pages, so that a few requests of many
 * sizes touch a few small pages, not a huge page each; the chunks after
 * it are advised huge. */
static void test_huge_after_a_sizes_first(void **state) {
  (void)state;
  if (SALVO__SLAB_MALLOC)
    skip();
  /* Where madvise cannot advise huge pages, there is nothing to see. */
  void *probe = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(probe != MAP_FAILED);
  int can = !madvise(probe, CHUNK, MADV_HUGEPAGE) && advised_huge(probe);
  munmap(probe, CHUNK);
  if (!can)
    skip();
  salvo__slab *s = salvo__slab_new();
  void *small[3] = {salvo__slab_take(s, 512), salvo__slab_take(s, 768),
                    salvo__slab_take(s, 1024)};
  for (int i = 0; i < 3; i++)
    assert_false(advised_huge(small[i]));
  /* The 1024-byte chunk filled, the next one of that size is huge. */
  size_t usable = (CHUNK - (uintptr_t)small[2] % CHUNK) / 1024;
  void **more = calloc(usable + 1, sizeof(*more));
  size_t n = 0;
  do
    more[n] = salvo__slab_take(s, 1024);
  while ((uintptr_t)more[n++] / CHUNK == (uintptr_t)small[2] / CHUNK &&
         n <= usable);
  assert_int_equal(n, usable);
  assert_true(advised_huge(more[n - 1]));
  assert_false(advised_huge(small[2]));
  for (size_t i = 0; i < n; i++)
    salvo__slab_give(more[i]);
  free(more);
  for (int i = 0; i < 3; i++)
    salvo__slab_give(small[i]);
  salvo__slab_release(s);
}

/* The client lets go first: blocks still out stay usable, and the last
 * one given back ends the slab (ASan build: malloc's, no leak). */
static void test_outlive_client(void **state) {
  (void)state;
  salvo__slab *s = salvo__slab_new();
  void *a = salvo__slab_take(s, SALVO__SLAB_BLOCK),
       *b = salvo__slab_take(s, SALVO__SLAB_BLOCK);
  salvo__slab_release(s);
  memset(a, 1, SALVO__SLAB_BLOCK);
  salvo__slab_give(a);
  memset(b, 2, SALVO__SLAB_BLOCK);
  salvo__slab_give(b);
}

#define GIVERS 4
#define EACH 100

typedef struct giver {
  void *block[EACH];
} giver;

static void *give_all(void *arg) {
  giver *g = arg;
  for (int i = 0; i < EACH; i++)
    salvo__slab_give(g->block[i]);
  return NULL;
}

static void *take_give(void *arg) {
  salvo__slab *s = arg;
  for (int i = 0; i < 1000; i++) {
    void *b = salvo__slab_take(s, SALVO__SLAB_BLOCK);
    memset(b, 3, 64);
    salvo__slab_give(b);
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  salvo__slab *s = salvo__slab_new();
  giver g[GIVERS];
  pthread_t t[GIVERS + 1];
  for (int k = 0; k < GIVERS; k++)
    for (int i = 0; i < EACH; i++)
      g[k].block[i] = salvo__slab_take(s, SALVO__SLAB_BLOCK);
  for (int k = 0; k < GIVERS; k++)
    assert_int_equal(pthread_create(&t[k], NULL, give_all, &g[k]), 0);
  assert_int_equal(pthread_create(&t[GIVERS], NULL, take_give, s), 0);
  for (int i = 0; i < 1000; i++)
    salvo__slab_give(salvo__slab_take(s, SALVO__SLAB_BLOCK));
  for (int k = 0; k <= GIVERS; k++)
    pthread_join(t[k], NULL);
  /* Every block came back: as many can be taken again, all distinct. */
  void *again[GIVERS * EACH];
  for (int i = 0; i < GIVERS * EACH; i++)
    assert_non_null(again[i] = salvo__slab_take(s, SALVO__SLAB_BLOCK));
  qsort(again, GIVERS * EACH, sizeof(void *), cmp_ptr);
  for (int i = 1; i < GIVERS * EACH; i++)
    assert_ptr_not_equal(again[i], again[i - 1]);
  for (int i = 0; i < GIVERS * EACH; i++)
    salvo__slab_give(again[i]);
  salvo__slab_release(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocks),
      cmocka_unit_test(test_recycled),
      cmocka_unit_test(test_sizes),
      cmocka_unit_test(test_kept_chunk_serves_any_size),
      cmocka_unit_test(test_huge_after_a_sizes_first),
      cmocka_unit_test(test_outlive_client),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
