/* The pull stream between the I/O thread and a reader (src/stream.c), no
 * threads needed: a batched writer wakes its reader once, when the I/O
 * loop's turn ends, however many chunks it wrote; an unbatched one at
 * each write; the end of a body wakes at once; a writer that lets go
 * leaves no batch holding its stream (ASan checks the free). */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stream.h"

static int notes;

static void note(void *ctx, int what) {
  (void)ctx, (void)what;
  notes++;
}

/* Whether the reader's descriptor says a read would not block now. */
static int ready(salvo__stream *s) {
  struct pollfd p = {.fd = salvo__stream_fd(s), .events = POLLIN};
  assert_true(p.fd >= 0);
  return poll(&p, 1, 0) == 1;
}

/* The eventfd's count: how many times the reader was signalled. */
static uint64_t signals(salvo__stream *s) {
  uint64_t n = 0;
  if (read(salvo__stream_fd(s), &n, sizeof(n)) != sizeof(n))
    return 0;
  return n;
}

static salvo__stream *made(salvo__stream_batch *b) {
  salvo__stream *s = salvo__stream_new(1 << 16, b, note, "", 0);
  assert_non_null(s);
  return s;
}

/* The writer lets go, then the reader, which frees it. */
static void let_go(salvo__stream *s) {
  assert_int_equal(salvo__stream_detach(s), 0);
  assert_int_equal(salvo__stream_release(s), 1);
}

static void test_batched_writes_wake_once(void **state) {
  (void)state;
  salvo__stream_batch b = {0};
  salvo__stream *s = made(&b);
  assert_false(ready(s));
  for (int i = 0; i < 8; i++) /* eight DATA frames in one turn */
    assert_int_equal(salvo__stream_write(s, "0123456789abcdef", 16), 0);
  assert_false(ready(s)); /* not yet: the turn goes on */
  salvo__stream_batch_flush(&b);
  assert_true(ready(s));
  assert_int_equal(signals(s), 1);
  char buf[256];
  assert_int_equal(salvo__stream_read(s, buf, sizeof(buf), 0), 128);
  salvo__stream_batch_flush(&b); /* nothing written since: no signal */
  assert_false(ready(s));
  salvo__stream_end(s, 0, NULL); /* the end wakes at once */
  assert_true(ready(s));
  assert_int_equal(salvo__stream_read(s, buf, sizeof(buf), 0), 0);
  let_go(s);
}

/* A body's last bytes and its end in the same turn (a small body): the
 * end wakes the reader, for the bytes as well. */
static void test_end_after_writes_in_one_turn(void **state) {
  (void)state;
  salvo__stream_batch b = {0};
  salvo__stream *s = made(&b);
  assert_false(ready(s));
  assert_int_equal(salvo__stream_write(s, "x", 1), 0);
  salvo__stream_end(s, 0, NULL);
  assert_true(ready(s));
  salvo__stream_batch_flush(&b);
  char buf[8];
  assert_int_equal(salvo__stream_read(s, buf, sizeof(buf), 0), 1);
  assert_int_equal(salvo__stream_read(s, buf, sizeof(buf), 0), 0);
  let_go(s);
}

static void test_unbatched_write_wakes_at_once(void **state) {
  (void)state;
  salvo__stream *s = made(NULL);
  assert_int_equal(salvo__stream_write(s, "abc", 3), 0);
  assert_true(ready(s));
  let_go(s);
}

/* The reader let go first, then the writer, with a write not yet woken:
 * the stream is freed, and the batch no longer lists it. */
static void test_detach_leaves_the_batch(void **state) {
  (void)state;
  salvo__stream_batch b = {0};
  salvo__stream *s = made(&b), *t = made(&b);
  assert_int_equal(salvo__stream_write(s, "abc", 3), 0);
  assert_int_equal(salvo__stream_write(t, "def", 3), 0);
  assert_int_equal(salvo__stream_release(s), 0);
  notes = 0;
  assert_int_equal(salvo__stream_detach(s), 1); /* freed here */
  assert_null(b.head);
  assert_true(ready(t)); /* its batch-mate was woken on the way */
  salvo__stream_batch_flush(&b);
  let_go(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batched_writes_wake_once),
      cmocka_unit_test(test_end_after_writes_in_one_turn),
      cmocka_unit_test(test_unbatched_write_wakes_at_once),
      cmocka_unit_test(test_detach_leaves_the_batch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
