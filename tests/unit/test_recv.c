/* A response's lines fed to receive.c (no transport, no socket), to show
 * that its per-request state comes from and goes back to the I/O
 * thread's cache: a request that received a head gives its state back
 * when freed, the next request takes that same state (zeroed), a full
 * cache frees instead, and draining frees what is kept (LeakSanitizer
 * checks). The lines are judged as before: a malformed one is still
 * EPROTO with its reason. And a submission's request and response,
 * made in one allocation, let go in either order. A head's first
 * Content-Type is found where it was noted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "h1.h"
#include "receive.h"
#include "receive_state.h"
#include "response.h"
#include "slab.h"

static salvo__cfg cfg;

static int setup(void **state) {
  (void)state;
  salvo_config in;
  salvo_config_init(&in);
  char *msg = NULL;
  assert_int_equal(salvo__cfg_resolve(&cfg, &in, &msg), 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  salvo__cfg_free(&cfg);
  return 0;
}

static salvo__req *req(salvo__recv_cache *c) {
  salvo_request in;
  salvo_request_init(&in);
  in.url = "http://127.0.0.1:1/x";
  int err = 0;
  char *msg = NULL;
  salvo__req *r = salvo__req_new(&in, &cfg, NULL, &err, &msg);
  assert_non_null(r);
  salvo__req_set_response(r, salvo__resp_new(1, NULL, NULL, in.url));
  r->recv_cache = c;
  return r;
}

static int feed(salvo__req *r, const char *const *lines) {
  for (; *lines; lines++) {
    int rc = salvo__req_on_header(r, *lines, strlen(*lines));
    if (rc < 0)
      return rc;
  }
  return 0;
}

static const char *const ok_head[] = {"HTTP/1.1 200 OK", "Content-Length: 0",
                                      "", NULL};

static void test_state_goes_back_and_is_taken_again(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  salvo__req *a = req(&c);
  assert_int_equal(feed(a, ok_head), 0);
  salvo__recv *used = a->recv;
  assert_non_null(used);
  salvo__req_free(a);
  assert_int_equal(c.n, 1);
  assert_ptr_equal(c.free, used);
  /* The next request takes it, as new: its head starts from nothing. */
  salvo__req *b = req(&c);
  const char *const bad[] = {"HTTP/1.1 200 OK", "Bad Name: x", NULL};
  assert_int_equal(feed(b, bad), SALVO_EPROTO);
  assert_ptr_equal(b->recv, used);
  assert_int_equal(c.n, 0);
  char *why = salvo__req_fail_message(b);
  assert_non_null(strstr(why, "whitespace between a header name"));
  free(why);
  salvo__req_free(b);
  assert_int_equal(c.n, 1);
  salvo__recv_cache_drain(&c);
  assert_int_equal(c.n, 0);
  assert_null(c.free);
}

static void test_full_cache_frees(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  enum { N = SALVO__RECV_CACHE_MAX + 3 };
  salvo__req **rs = calloc(N, sizeof(*rs));
  for (int i = 0; i < N; i++) {
    rs[i] = req(&c);
    assert_int_equal(feed(rs[i], ok_head), 0);
  }
  for (int i = 0; i < N; i++)
    salvo__req_free(rs[i]);
  assert_int_equal(c.n, SALVO__RECV_CACHE_MAX);
  salvo__recv_cache_drain(&c);
  free(rs);
}

/* A submission's request and response share one allocation: the
 * response is ready (key, user data, the URL without its password), and
 * the block is freed once both are let go, in either order, or at once
 * when the request goes with its response still attached (a cancelled
 * request). ASan and LeakSanitizer check that nothing is freed early or
 * kept. The block is slab s's when given. */
static salvo__req *paired(const char *url, const char *key, salvo__slab *s) {
  salvo_request in;
  salvo_request_init(&in);
  in.url = url;
  in.key = key;
  in.user_data = &cfg;
  int err = 0;
  char *msg = NULL;
  salvo__req *r = salvo__req_new_paired(&in, &cfg, NULL, s, NULL, &err, &msg);
  assert_non_null(r);
  assert_non_null(r->resp);
  return r;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1 /* their shadow memory needs the address space */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* What a pending small GET holds is fresh memory when thousands are
 * submitted at once, and the kernel's zeroing of it is most of what
 * submitting all costs beyond a window (bench/RESULTS.md, the eleventh
 * and twelfth stops): the benchmark's request, a 33-byte URL, with its
 * response takes a 704-byte block at most. Consecutive blocks of a fresh
 * slab lie one block apart. */
static void test_small_get_pair_fits_704(void **state) {
  (void)state;
  if (SALVO__SLAB_MALLOC)
    skip();
  salvo__slab *s = salvo__slab_new();
  salvo__req *a = paired("http://127.0.0.1:40693/json/12345", NULL, s);
  salvo__req *b = paired("http://127.0.0.1:40693/json/12346", NULL, s);
  assert_int_equal(a->twin->slabbed, 1);
  size_t block = (size_t)((char *)b->twin - (char *)a->twin);
  if (block > 704)
    print_error("a small GET's request and response take a %zu-byte block\n",
                block);
  assert_true(block <= 704);
  salvo__req_free(a);
  salvo__req_free(b);
  salvo__slab_release(s);
}

/* A pair that fits takes a block of the client's slab; when the slab
 * cannot map a chunk (the address space is at its limit), malloc serves
 * the request instead of failing it. */
static void test_paired_from_slab(void **state) {
  (void)state;
  salvo__slab *s = salvo__slab_new();
  salvo__req *r = paired("http://127.0.0.1:1/x", NULL, s);
  assert_non_null(r);
  assert_int_equal(r->twin->slabbed, 1);
  salvo__req_free(r);
#ifndef SANITIZED
  salvo__slab *fresh = salvo__slab_new();
  long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%ld", &pages), 1);
  fclose(f);
  struct rlimit old, low;
  assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
  low = old;
  low.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (1 << 20);
  assert_int_equal(setrlimit(RLIMIT_AS, &low), 0);
  /* A chunk's 4 MiB mapping cannot fit. */
  r = paired("http://127.0.0.1:1/x", NULL, fresh);
  assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
  assert_non_null(r);
  assert_int_equal(r->twin->slabbed, 0);
  salvo__req_free(r);
  salvo__slab_release(fresh);
#endif
  salvo__slab_release(s);
}

static void test_paired_lifetimes(void **state) {
  (void)state;
  salvo__req *r = paired("http://u:secret@127.0.0.1:1/x", "k1", NULL);
  salvo_response *resp = r->resp;
  assert_string_equal(salvo_response_key(resp), "k1");
  assert_ptr_equal(salvo_response_user_data(resp), &cfg);
  assert_null(strstr(salvo_response_url(resp), "secret"));
  assert_int_equal((uintptr_t)resp % 16, 0);
  assert_int_equal(feed(r, ok_head), 0);
  /* The request first, as the engine lets it go; the response after. */
  resp = salvo__req_take_response(r);
  salvo__req_free(r);
  assert_int_equal(salvo_response_status(resp), 200);
  salvo_response_free(resp);
  /* The response first. */
  r = paired("http://127.0.0.1:1/y", NULL, NULL);
  resp = salvo__req_take_response(r);
  salvo_response_free(resp);
  assert_string_equal(r->url, "http://127.0.0.1:1/y");
  salvo__req_free(r);
  /* Cancelled: the request goes with its response. */
  r = paired("http://127.0.0.1:1/z", "k3", NULL);
  assert_non_null(r->twin);
  salvo__req_free(r);
  /* A request with a body over SALVO__PAIR_MAX: its own allocation, freed
   * when the request goes, not kept with the response. */
  salvo_request in;
  salvo_request_init(&in);
  in.url = "http://127.0.0.1:1/big";
  char body[SALVO__PAIR_MAX * 2];
  memset(body, 'b', sizeof(body));
  in.body = body;
  in.body_len = sizeof(body);
  int err = 0;
  char *msg = NULL;
  r = salvo__req_new_paired(&in, &cfg, NULL, NULL, NULL, &err, &msg);
  assert_non_null(r);
  assert_null(r->twin);
  assert_non_null(r->resp);
  assert_null(r->resp->twin);
  resp = salvo__req_take_response(r);
  salvo__req_free(r);
  salvo_response_free(resp);
}

/* Each header is kept from its line in one copy; its value is read back
 * without the whitespace around it (RFC 9110 5.5), empty when it is only
 * whitespace, and the names as sent. */
static void test_headers_kept(void **state) {
  (void)state;
  salvo__recv_cache c = {0};
  salvo__req *r = req(&c);
  const char *const head[] = {"HTTP/1.1 200 OK",
                              "A:  \t x y \t",
                              "Empty:",
                              "Blank: \t ",
                              "Content-Length:0",
                              "",
                              NULL};
  assert_int_equal(feed(r, head), 0);
  salvo_response *resp = r->resp;
  assert_int_equal(salvo_response_header_count(resp), 4);
  assert_string_equal(salvo_response_header(resp, "a"), "x y");
  assert_string_equal(salvo_response_header(resp, "EMPTY"), "");
  assert_string_equal(salvo_response_header(resp, "Blank"), "");
  assert_string_equal(salvo_response_header(resp, "content-length"), "0");
  const char *name, *value;
  assert_int_equal(salvo_response_header_at(resp, 0, &name, &value), 0);
  assert_string_equal(name, "A");
  assert_string_equal(value, "x y");
  assert_int_equal(salvo_response_header_at(resp, 3, &name, &value), 0);
  assert_string_equal(name, "Content-Length");
  assert_string_equal(value, "0");
  salvo__req_free(r);
  salvo__recv_cache_drain(&c);
}

/* r's failure message, kept for the test's end. */
static const char *wb_copy(salvo__req *r) {
  static char kept[256];
  char *m = salvo__req_fail_message(r);
  snprintf(kept, sizeof(kept), "%s", m ? m : "");
  free(m);
  return kept;
}

/* The heads in wire ("\r\n" line ends, one buffer) each given whole to
 * salvo__req_on_head, as the native transport gives a head it found
 * whole; or, when `whole` is 0, a line at a time to
 * salvo__req_on_header. Returns the first error. */
static int heads(salvo__req *r, const char *wire, int whole) {
  salvo__h1_line ln[64];
  size_t k = 0;
  for (const char *l = wire, *e; (e = strstr(l, "\r\n")); l = e + 2) {
    size_t n = (size_t)(e - l);
    if (!whole) {
      int rc = salvo__req_on_header(r, l, n);
      if (rc < 0)
        return rc;
      continue;
    }
    if (salvo__h1_read_line(l, n, k == 0, &ln[k]))
      return SALVO_EPROTO; /* the cases below are read without a fault */
    if (n == 0 || k == 63) {
      int rc = salvo__req_on_head(r, ln, k + 1, NULL, 0, NULL);
      if (rc < 0)
        return rc;
      k = 0;
    } else {
      k++;
    }
  }
  return 0;
}

/* A head given whole keeps what a line at a time keeps (RFC 9110 5.5:
 * values without the whitespace around them), and refuses what it
 * refuses, with the same words: past the 16 offsets and 256 bytes a
 * response holds inline, after an interim head (RFC 9110 15.2), with
 * conflicting lengths (RFC 9110 8.6) and an unknown transfer coding
 * (RFC 9112 6.1). */
static void test_head_at_once(void **state) {
  (void)state;
  static const char *const cases[] = {
      "HTTP/1.1 200 OK\r\nA:  \t x y \t\r\nEmpty:\r\nBlank: \t \r\n"
      "Content-Length:0\r\n\r\n",
      "HTTP/1.1 204 No\r\n\r\n",
      "HTTP/1.1 100 Continue\r\nX: 1\r\n\r\nHTTP/1.1 200 OK\r\nY: 2\r\n"
      "Content-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      NULL, /* many headers, long values: made below */
      NULL, /* interim heads past the 256 KiB of headers a response may
               have: made below */
      NULL, /* a line past the 100 KiB a line may have: made below */
  };
  const size_t nc = sizeof(cases) / sizeof(cases[0]);
  char many[4096] = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 40; i++)
    snprintf(many + strlen(many), sizeof(many) - strlen(many), "H%d: %.*s\r\n",
             i, 20 + i,
             "v123456789012345678901234567890"
             "12345678901234567890123456789012345678901234567890");
  strcat(many, "Content-Length: 0\r\n\r\n");
  char *big = malloc(300 * 1024), *e = big;
  assert_non_null(big);
  for (int h = 0; h < 50; h++) {
    e += sprintf(e, "HTTP/1.1 100 Continue\r\n");
    for (int i = 0; i < 50; i++)
      e += sprintf(e, "X-%d: %0100d\r\n", i, h);
    e += sprintf(e, "\r\n");
  }
  char *longline = malloc(110 * 1024);
  assert_non_null(longline);
  size_t start = (size_t)sprintf(longline, "HTTP/1.1 200 OK\r\nX: ");
  memset(longline + start, 'v', 101 * 1024);
  strcpy(longline + start + 101 * 1024, "\r\n\r\n");
  const char *made[] = {many, big, longline};
  for (size_t i = 0; i < nc; i++) {
    const char *wire = cases[i] ? cases[i] : made[i - (nc - 3)];
    salvo__recv_cache c = {0};
    salvo__req *a = req(&c), *b = req(&c);
    int ra = heads(a, wire, 0), rb = heads(b, wire, 1);
    assert_int_equal(ra, rb);
    char *wa = salvo__req_fail_message(a), *wb = salvo__req_fail_message(b);
    assert_string_equal(wa ? wa : "", wb ? wb : "");
    free(wa);
    free(wb);
    size_t n = salvo_response_header_count(a->resp);
    assert_int_equal(n, salvo_response_header_count(b->resp));
    assert_int_equal(a->resp->status, b->resp->status);
    for (size_t h = 0; h < n; h++) {
      const char *na, *va, *nb, *vb;
      assert_int_equal(salvo_response_header_at(a->resp, h, &na, &va), 0);
      assert_int_equal(salvo_response_header_at(b->resp, h, &nb, &vb), 0);
      assert_string_equal(na, nb);
      assert_string_equal(va, vb);
      assert_string_equal(salvo_response_header(b->resp, na), va);
    }
    if (wire == many)
      assert_int_equal(n, 41);
    if (wire == big || wire == longline) {
      assert_int_equal(rb, SALVO_EPROTO);
      assert_non_null(strstr(wb_copy(b), wire == big ? "256 KiB" : "100 KiB"));
    }
    salvo__req_free(a);
    salvo__req_free(b);
    salvo__recv_cache_drain(&c);
  }
  free(big);
  free(longline);
}

/* The first Content-Type of the final head, however the heads came:
 * salvo_response_header finds it where it noted it as kept, not by a
 * search, and an interim head's (RFC 9110 15.2), forgotten, is never
 * the answer, nor is a second Content-Type. */
static void test_first_content_type(void **state) {
  (void)state;
  static const struct {
    const char *wire, *want;
  } cases[] = {
      {"HTTP/1.1 100 Continue\r\nX: 1\r\nContent-Type: a/interim\r\n\r\n"
       "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\ncontent-TYPE: t/first\r\n"
       "Content-Type: t/second\r\nContent-Length: 0\r\n\r\n",
       "t/first"},
      {"HTTP/1.1 103 Early\r\nA: 1\r\nB: 1\r\nContent-Type: x/early\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Type:  x/one \r\nA: 1\r\n"
       "Content-Type: x/two\r\nContent-Length: 0\r\n\r\n",
       "x/one"},
      {"HTTP/1.1 100 Continue\r\nContent-Type: x/interim\r\n\r\n"
       "HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n",
       NULL},
      {"HTTP/1.1 200 OK\r\nContent-Types: no\r\nContent-Typ: no\r\n"
       "Content-Length: 0\r\n\r\n",
       NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    for (int whole = 0; whole < 2; whole++) {
      salvo__recv_cache c = {0};
      salvo__req *r = req(&c);
      assert_int_equal(heads(r, cases[i].wire, whole), 0);
      const char *got = salvo_response_header(r->resp, "Content-Type");
      if (cases[i].want)
        assert_string_equal(got, cases[i].want);
      else
        assert_null(got);
      salvo__req_free(r);
      salvo__recv_cache_drain(&c);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_state_goes_back_and_is_taken_again),
      cmocka_unit_test(test_full_cache_frees),
      cmocka_unit_test(test_paired_lifetimes),
      cmocka_unit_test(test_paired_from_slab),
      cmocka_unit_test(test_small_get_pair_fits_704),
      cmocka_unit_test(test_headers_kept),
      cmocka_unit_test(test_head_at_once),
      cmocka_unit_test(test_first_content_type),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
