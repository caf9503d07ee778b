/* A head found whole in one pass (salvo__h1_scan_head, sixteen or
 * thirty-two bytes a step) against the same scan a byte at a time: the same
 * answer for every head of a small alphabet that holds what matters (LF, CR,
 * HTAB, NUL, DEL, obs-text) at every offset around a block's edge; and the
 * framing fed a head whole and a line at a time says the same of it,
 * errors included (RFC 9112 2.2: a bare CR is refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h1.h"
#include "h1_scan.h"
#include "salvo.h"

static size_t scan(const char *b, size_t n, uint32_t *ends, size_t *k) {
  return salvo__h1_scan_head(b, n, ends, SALVO__H1_SCAN_LINES, k);
}

typedef size_t (*scan_fn)(const char *, size_t, uint32_t *, size_t, size_t *);

/* Every width's scan of b[0..n) (sixteen bytes a step, thirty-two where
 * the CPU runs AVX2, and what salvo__h1_scan_head picks), held to the
 * byte loop's answer; returns it. */
static size_t agree(const char *b, size_t n, size_t max) {
  static const scan_fn wide[] = {salvo__h1_scan_head16, salvo__h1_scan_head32,
                                 salvo__h1_scan_head};
  uint32_t e1[SALVO__H1_SCAN_LINES], e2[SALVO__H1_SCAN_LINES];
  size_t k1 = 0, k2 = 0;
  size_t z = salvo__h1_scan_head_bytes(b, n, e2, max, &k2);
  for (size_t w = 0; w < sizeof(wide) / sizeof(wide[0]); w++) {
    size_t a = wide[w](b, n, e1, max, &k1);
    if (a != z || (a && (k1 != k2 || memcmp(e1, e2, k1 * sizeof(*e1))))) {
      print_error("scan %zu %zu (lines %zu), bytes %zu (lines %zu), input:", w,
                  a, k1, z, k2);
      for (size_t i = 0; i < n; i++)
        print_error(" %02x", (unsigned char)b[i]);
      print_error("\n");
      fail();
    }
  }
  return z;
}

static void test_found(void **state) {
  (void)state;
  const char *h = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 2\r\n"
                  "\r\nhi\x01\x7f";
  uint32_t ends[SALVO__H1_SCAN_LINES];
  size_t k;
  size_t used = scan(h, strlen(h), ends, &k);
  assert_int_equal(used, strlen(h) - 4); /* controls in the body: not read */
  assert_int_equal(k, 4);
  assert_int_equal(ends[0], 16);
  assert_int_equal(ends[3], used - 1);
  /* Bare LFs end lines too (RFC 9112 2.2 allows a recipient that). */
  assert_int_equal(scan("HTTP/1.1 200 OK\nA: b\n\n", 22, ends, &k), 22);
  assert_int_equal(k, 3);
  /* A blank first line is a status line, read (and refused) as one. */
  assert_int_equal(scan("\r\nA: b\r\n\r\n", 10, ends, &k), 10);
  assert_int_equal(k, 3);
}

static void test_not_found(void **state) {
  (void)state;
  uint32_t ends[SALVO__H1_SCAN_LINES];
  size_t k;
  const char *cut = "HTTP/1.1 200 OK\r\nA: b\r\n\r";
  assert_int_equal(scan(cut, strlen(cut), ends, &k), 0);
  const char *bare = "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n";
  assert_int_equal(scan(bare, strlen(bare), ends, &k), 0);
  const char *nul = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
  assert_int_equal(scan(nul, 26, ends, &k), 0);
  const char *del = "HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n";
  assert_int_equal(scan(del, strlen(del), ends, &k), 0);
  /* HTAB and obs-text are a value's. */
  const char *ok = "HTTP/1.1 200 OK\r\nA:\tb\x80\xff\r\n\r\n";
  assert_int_equal(scan(ok, strlen(ok), ends, &k), strlen(ok));
  /* More lines than asked for. */
  assert_int_equal(salvo__h1_scan_head("S\nA: b\nA: b\n\n", 13, ends, 3, &k),
                   0);
  /* A head longer than the scan looks. */
  char *big = malloc(SALVO__H1_SCAN_MAX + 64);
  assert_non_null(big);
  memset(big, 'a', SALVO__H1_SCAN_MAX + 64);
  memcpy(big, "HTTP/1.1 200 OK\r\nA: ", 20);
  memcpy(big + SALVO__H1_SCAN_MAX + 60, "\r\n\r\n", 4);
  assert_int_equal(agree(big, SALVO__H1_SCAN_MAX + 64, 64), 0);
  free(big);
}

/* Every head of up to 6 bytes over the alphabet, placed after a prefix of
 * every length from 0 to 17 so that each byte meets a sixteen-byte
 * block's edge (up to 5 bytes from 18 to 34, the edge of thirty-two);
 * then random longer ones. */
static void test_same_answers(void **state) {
  (void)state;
  static const char alpha[] = {'\n', '\r', 'a', '\t', '\0', 0x7f, (char)0x80};
  const size_t na = sizeof(alpha);
  char b[64];
  size_t found = 0;
  if (!salvo__h1_scan_has32())
    print_message("this CPU has no AVX2: the 32-byte scan is the 16's\n");
  for (size_t pre = 0; pre <= 34; pre++) {
    memset(b, 'x', pre);
    if (pre)
      b[pre - 1] = '\n'; /* the status line ends where the prefix does */
    for (size_t len = 0; len <= (pre <= 17 ? 6u : 5u); len++) {
      size_t total = 1;
      for (size_t i = 0; i < len; i++)
        total *= na;
      for (size_t c = 0; c < total; c++) {
        size_t x = c;
        for (size_t i = 0; i < len; i++, x /= na)
          b[pre + i] = alpha[x % na];
        found += agree(b, pre + len, SALVO__H1_SCAN_LINES) != 0;
      }
    }
  }
  assert_true(found > 1000); /* the cases hold heads, not only refusals */
  srand(23);
  for (int round = 0; round < 200000; round++) {
    size_t n = (size_t)rand() % 64;
    for (size_t i = 0; i < n; i++)
      b[i] =
          rand() % 4 ? alpha[(size_t)rand() % 3] : alpha[(size_t)rand() % na];
    agree(b, n, 1 + (size_t)rand() % 8);
  }
}

typedef struct seen {
  char lines[1024];
  int calls;
} seen;

static int on_line(void *ctx, const salvo__h1_line *ln) {
  seen *s = ctx;
  s->calls++;
  snprintf(s->lines + strlen(s->lines), sizeof(s->lines) - strlen(s->lines),
           "%d/%d/%d/%.*s/%.*s|", ln->kind, ln->status, ln->name,
           (int)ln->name_len, ln->l, (int)ln->vn, ln->v ? ln->v : "");
  return 0;
}

static int on_head(void *ctx, const salvo__h1_line *ln, size_t n) {
  for (size_t i = 0; i < n; i++)
    on_line(ctx, &ln[i]);
  return 0;
}

static int on_body(void *ctx, const char *p, size_t n) {
  (void)ctx, (void)p, (void)n;
  return 0;
}

/* The framing fed h whole (a line at a time, and with a head callback
 * that takes a head found whole in one call), then a byte at a time
 * (which never sees a head whole after its first line): the same lines,
 * the same end, the same error. Returns the error. */
static int framed(const char *h, const char *why) {
  size_t n = strlen(h);
  seen a = {0}, z = {0}, w = {0};
  salvo__h1 p, q, r;
  salvo__h1_init(&p, 0);
  salvo__h1_init(&q, 0);
  salvo__h1_init(&r, 0);
  salvo__h1_cb ca = {&a, on_line, on_body, NULL},
               cz = {&z, on_line, on_body, NULL},
               cw = {&w, on_line, on_body, on_head};
  int paused;
  long whole = salvo__h1_feed(&p, h, n, &ca, &paused);
  long heads = salvo__h1_feed(&r, h, n, &cw, &paused);
  assert_int_equal(whole, heads);
  assert_string_equal(a.lines, w.lines);
  assert_string_equal(p.why ? p.why : "", r.why ? r.why : "");
  assert_int_equal(p.state, r.state);
  long step = 0;
  for (size_t at = 0, have = 1; have <= n && step >= 0; have++) {
    step = salvo__h1_feed(&q, h + at, have - at, &cz, &paused);
    if (step > 0)
      at += (size_t)step;
  }
  assert_int_equal(whole < 0 ? whole : 0, step < 0 ? step : 0);
  assert_string_equal(a.lines, z.lines);
  assert_string_equal(p.why ? p.why : "", q.why ? q.why : "");
  assert_int_equal(p.state, q.state);
  assert_int_equal(p.keep_alive, q.keep_alive);
  assert_int_equal(p.head, q.head);
  if (why)
    assert_non_null(strstr(p.why ? p.why : "", why));
  return whole < 0 ? (int)whole : 0;
}

static void test_framing_agrees(void **state) {
  (void)state;
  assert_int_equal(framed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n",
                          NULL),
                   0);
  /* An interim head, then the final one, in one buffer (RFC 9110 15.2). */
  assert_int_equal(framed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n"
                          "X: y\r\n\r\n",
                          NULL),
                   0);
  /* Found whole, yet refused by the reading of a line: the same words. */
  assert_int_equal(
      framed("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "Content-Length"),
      SALVO_EPROTO);
  assert_int_equal(
      framed("HTTP/1.1 200 OK\r\n obs: fold\r\n\r\n", "first header line"),
      SALVO_EPROTO);
  assert_int_equal(framed("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", "whitespace"),
                   SALVO_EPROTO);
  assert_int_equal(framed("HTTP/1.1 2000 OK\r\n\r\n", "three digits"),
                   SALVO_EPROTO);
  assert_int_equal(framed("\r\nA: b\r\n\r\n", "HTTP/"), SALVO_EPROTO);
  /* Found and read whole, yet refused by the framing: a head callback
   * never sees it, and the lines come one by one up to the refusal. */
  assert_int_equal(
      framed("HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n", "101"),
      SALVO_EPROTO);
  assert_int_equal(framed("HTTP/2 200\r\nA: b\r\n\r\n", "malformed status"),
                   SALVO_EPROTO);
  assert_int_equal(framed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                          "Content-Length: 2\r\nA: b\r\n\r\n",
                          "Content-Length"),
                   SALVO_EPROTO);
  /* Not found whole: read a line at a time, which names the byte. */
  assert_int_equal(framed("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "bare CR"),
                   SALVO_EPROTO);
  assert_int_equal(framed("HTTP/1.1 200 OK\x01\r\n\r\n", "control"),
                   SALVO_EPROTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_found),
      cmocka_unit_test(test_not_found),
      cmocka_unit_test(test_same_answers),
      cmocka_unit_test(test_framing_agrees),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
