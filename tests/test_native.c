/* What a transport owns, proven the same on both (ctest runs this suite
 * with SALVO_TRANSPORT=native and =libcurl): response framing, content
 * decoding, redirects, credentials, cookies shared by the two transports,
 * and large request bodies. faultd's /wire sends a response byte for
 * byte, so each framing case is exactly what a server sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "harness.h"
#include "salvo.h"

/* A growing byte string, for the responses a test spells. */
typedef struct bytes_t {
  char *p;
  size_t len;
} bytes_t;

static void bytes_add(bytes_t *b, const void *p, size_t n) {
  b->p = realloc(b->p, b->len + n);
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

/* A request for a response that is exactly `wire`, then a close (without
 * Connection: close, so that the connection may have gone to the pool:
 * the next request must find it closed, not wait out a time limit). Each
 * takes one attempt. */
static salvo_response *wire(salvo_client *c, const char *method,
                            const void *bytes, size_t n) {
  char *h = th_hex_of(bytes, n);
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/wire?hex=%s", h);
  req.method = method;
  salvo_response *r = th_fetch(c, &req);
  free(h);
  assert_int_equal(salvo_response_attempts(r), 1);
  return r;
}

/* Every request made since the last reset reached the server once, on a
 * connection of its own (faultd's /wire closes after each). */
static void assert_one_connection_each(long requests) {
  json_t *st = th_stats(&th_srv);
  assert_int_equal(json_integer_value(json_object_get(st, "requests")),
                   requests);
  assert_int_equal(json_integer_value(json_object_get(st, "conns_total")),
                   requests);
  json_decref(st);
}

static salvo_response *wire_str(salvo_client *c, const char *s) {
  return wire(c, NULL, s, strlen(s));
}

static void assert_body(salvo_response *r, const char *want) {
  size_t n;
  const char *b = salvo_response_body(r, &n);
  if (salvo_response_error(r))
    fail_msg("%s: %s", salvo_errname(salvo_response_error(r)),
             salvo_response_errmsg(r));
  assert_int_equal(n, strlen(want));
  assert_memory_equal(b, want, n);
}

static void test_framing(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  json_decref(th_reset(&th_srv));
  salvo_client *c = th_strict_client(NULL);
  struct {
    const char *wire, *body;
    int status;
  } cases[] = {
      /* chunked, with extensions and trailers */
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n",
       "hello world", 200},
      /* HTTP/1.0, no length: the body ends with the connection */
      {"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
       "until close", 200},
      /* interim responses are skipped */
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n"
       "\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
       "ok", 201},
      /* 204 and 304 have no body, whatever they say */
      {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", "", 204},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "", 304},
      /* bare LF line endings */
      {"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", "abc", 200},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    salvo_response *r = wire_str(c, cases[i].wire);
    assert_body(r, cases[i].body);
    assert_int_equal(salvo_response_status(r), cases[i].status);
    salvo_response_free(r);
  }
  /* Trailers do not replace the headers. */
  salvo_response *r = wire_str(c, cases[0].wire);
  assert_string_equal(salvo_response_header(r, "Transfer-Encoding"), "chunked");
  salvo_response_free(r);
  /* HEAD: the declared length is not waited for. */
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/bytes/100000");
  req.method = "HEAD";
  r = th_fetch(c, &req);
  assert_int_equal(salvo_response_status(r), 200);
  assert_body(r, "");
  assert_string_equal(salvo_response_header(r, "Content-Length"), "100000");
  salvo_response_free(r);
  /* Repeated headers are all kept, in order. */
  r = wire_str(c, "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: "
                  "0\r\n\r\n");
  size_t n = 0;
  for (size_t i = 0; i < salvo_response_header_count(r); i++) {
    const char *name, *value;
    salvo_response_header_at(r, i, &name, &value);
    if (!strcasecmp(name, "X-A"))
      assert_int_equal(value[0], '1' + (int)n++);
  }
  assert_int_equal(n, 2);
  salvo_response_free(r);
  salvo_client_free(c);
  /* The cases, the trailers case again, the HEAD and the repeated
   * headers, each received once; each on a new connection but the last,
   * which took the one the HEAD's response kept open. */
  long n_req = (long)(sizeof(cases) / sizeof(cases[0])) + 3;
  assert_int_equal(th_stat(&th_srv, "requests"), n_req);
  assert_int_equal(th_stat(&th_srv, "conns_total"), n_req - 1);
}

/* Malformed framing is SALVO_EPROTO, a body cut short SALVO_EIO. */
static void test_bad_framing(void **state) {
  (void)state;
  TH_HTTP1_ONLY();
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_retries = 0;
  salvo_client *c = th_client(&cfg);
  struct {
    const char *wire;
    int err;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       SALVO_EPROTO},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n"
       "0\r\n\r\n",
       SALVO_EPROTO},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab", SALVO_EPROTO},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", SALVO_EIO},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
       SALVO_EIO},
      {"HTTP/1.1 200 OK\r\nContent-Len", SALVO_EIO},
      {"", SALVO_EIO},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    salvo_response *r = wire_str(c, cases[i].wire);
    if (salvo_response_error(r) != cases[i].err)
      fail_msg("case %zu: want %s, got %s (%s)", i, salvo_errname(cases[i].err),
               salvo_errname(salvo_response_error(r)),
               salvo_response_errmsg(r));
    salvo_response_free(r);
  }
  salvo_client_free(c);
}

/* A response of `coding`, whose body is `body` encoded by enc. */
static salvo_response *encoded(salvo_client *c, const char *coding,
                               const void *z, size_t zn) {
  char head[200];
  int hn = snprintf(head, sizeof(head),
                    "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n"
                    "Content-Length: %zu\r\n\r\n",
                    coding, zn);
  char *w = malloc((size_t)hn + zn);
  memcpy(w, head, (size_t)hn);
  memcpy(w + hn, z, zn);
  salvo_response *r = wire(c, NULL, w, (size_t)hn + zn);
  free(w);
  return r;
}

static size_t zlib_encode(const char *in, size_t n, unsigned char *out,
                          size_t cap, int bits) {
  z_stream z = {0};
  deflateInit2(&z, 9, Z_DEFLATED, bits, 9, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)(uintptr_t)in;
  z.avail_in = (uInt)n;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  size_t got = cap - z.avail_out;
  deflateEnd(&z);
  return got;
}

static void test_decoding(void **state) {
  (void)state;
  json_decref(th_reset(&th_srv));
  salvo_client *c = th_strict_client(NULL);
  size_t n = 100000;
  char *plain = malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    plain[i] = "salvo decodes this "[i % 19];
  plain[n] = '\0';
  unsigned char z[8192];
  size_t zn;
  struct {
    const char *name;
    int bits;
  } zl[] = {{"gzip", 16 + 15}, {"deflate", 15}, {"deflate", -15}};
  for (size_t i = 0; i < 3; i++) {
    zn = zlib_encode(plain, n, z, sizeof(z), zl[i].bits);
    salvo_response *r = encoded(c, zl[i].name, z, zn);
    assert_body(r, plain);
    salvo_response_free(r);
  }
  zn = sizeof(z);
  assert_true(BrotliEncoderCompress(9, 22, BROTLI_MODE_TEXT, n,
                                    (const uint8_t *)plain, &zn, z));
  salvo_response *r = encoded(c, "br", z, zn);
  assert_body(r, plain);
  salvo_response_free(r);
  zn = ZSTD_compress(z, sizeof(z), plain, n, 3);
  assert_false(ZSTD_isError(zn));
  r = encoded(c, "zstd", z, zn);
  assert_body(r, plain);
  salvo_response_free(r);
  salvo_client_free(c);
  assert_one_connection_each(5);

  /* max_body counts decoded bytes: 100,000 of them from 200 sent. */
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.max_body = 50000;
  c = th_strict_client(&cfg);
  zn = zlib_encode(plain, n, z, sizeof(z), 16 + 15);
  r = encoded(c, "gzip", z, zn);
  assert_int_equal(salvo_response_error(r), SALVO_ETOOBIG);
  salvo_response_free(r);
  /* A corrupt body is EDECODE, and says so. */
  r = encoded(c, "gzip", "\x1f\x8b\x08\0\0\0\0\0\0\x03\xff\xff\xff\xff", 14);
  assert_int_equal(salvo_response_error(r), SALVO_EDECODE);
  assert_non_null(strstr(salvo_response_errmsg(r), "gzip"));
  salvo_response_free(r);
  salvo_client_free(c);

  /* Without compression nothing is asked or decoded. */
  salvo_config_init(&cfg);
  cfg.no_compression = 1;
  c = th_strict_client(&cfg);
  r = th_fetch_url(c, th_url(&th_srv, "/echo"));
  json_t *j = json_loads(salvo_response_body(r, NULL), 0, NULL);
  assert_null(
      json_object_get(json_object_get(j, "headers"), "accept-encoding"));
  json_decref(j);
  salvo_response_free(r);
  zn = zlib_encode(plain, 19, z, sizeof(z), 16 + 15);
  r = encoded(c, "gzip", z, zn);
  size_t bl;
  salvo_response_body(r, &bl);
  assert_int_equal(bl, zn);
  salvo_response_free(r);
  salvo_client_free(c);
  free(plain);
}

/* A compressed body read by a reader far slower than its decoding (nothing
 * is read until the server has sent all and closed): the decoder's output
 * waits for the reader (the transfer paused, the rest held), and every
 * byte comes out, in order, whether the body came with a length or in
 * chunks, on both transports. */
static void test_streamed_decoding(void **state) {
  (void)state;
  size_t n = 8u << 20;
  char *plain = malloc(n);
  for (size_t i = 0; i < n; i++)
    plain[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  size_t cap = n / 8;
  unsigned char *z = malloc(cap);
  size_t zn = zlib_encode(plain, n, z, cap, 16 + 15);
  assert_true(zn < cap);
  salvo_client *c = th_strict_client(NULL);
  for (int chunked = 0; chunked < 2; chunked++) {
    bytes_t wire = {0};
    char head[200];
    int hn = snprintf(head, sizeof(head),
                      chunked ? "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n%zx\r\n"
                              : "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                                "Content-Length: %zu\r\n\r\n",
                      zn);
    bytes_add(&wire, head, (size_t)hn);
    bytes_add(&wire, z, zn);
    if (chunked)
      bytes_add(&wire, "\r\n0\r\n\r\n", 7);
    char *hex = th_hex_of(wire.p, wire.len);
    char *xw = malloc(strlen(hex) + 16);
    sprintf(xw, "X-Wire: %s", hex);
    const char *hdrs[] = {xw, NULL};
    json_decref(th_reset(&th_srv));
    salvo_request req;
    salvo_request_init(&req);
    req.url = th_url(&th_srv, "/wire");
    req.headers = hdrs;
    req.stream = 1;
    /* The block stays open while the body is read: closing it would
     * cancel the body still arriving. */
    salvo_parallel *b = th_open(c);
    salvo_response *r = salvo_pending_response(b, salvo_submit(b, &req));
    assert_int_equal(salvo_response_status(r), 200);
    /* The server wrote it all and closed before a byte is read. */
    assert_int_equal(th_wait_stat(&th_srv, "conns_open", 0, 10), 0);
    char *got = malloc(n + 1);
    size_t off = 0;
    long k;
    while ((k = salvo_response_read(r, got + off, n + 1 - off)) > 0)
      off += (size_t)k;
    if (k < 0)
      fail_msg("chunked %d: %s after %zu bytes", chunked, salvo_errname((int)k),
               off);
    assert_int_equal(off, n);
    assert_memory_equal(got, plain, n);
    free(got);
    salvo_response_free(r);
    salvo_parallel_close(b);
    free(xw);
    free(hex);
    free(wire.p);
  }
  salvo_client_free(c);
  free(z);
  free(plain);
}

/* Bodies of any size go out whole. */
static void test_large_body(void **state) {
  (void)state;
  salvo_client *c = th_client(NULL);
  size_t n = 5u << 20;
  char *body = malloc(n);
  for (size_t i = 0; i < n; i++)
    body[i] = (char)('a' + i % 26);
  salvo_request req;
  salvo_request_init(&req);
  req.url = th_url(&th_srv, "/echo");
  req.method = "PUT";
  req.body = body;
  req.body_len = n;
  salvo_response *r = th_fetch(c, &req);
  json_t *j = th_echo_of(r);
  /* Every byte as sent, in order: the server echoes the body it read. */
  json_t *got = json_object_get(j, "body");
  assert_int_equal(json_integer_value(json_object_get(j, "body_len")), n);
  assert_int_equal(json_string_length(got), n);
  assert_memory_equal(json_string_value(got), body, n);
  json_decref(j);
  salvo_response_free(r);
  free(body);
  salvo_client_free(c);
}

/* A name that does not resolve and a refused connection are retried like
 * any attempt's failure, on both transports (the native one finds them
 * when it starts an attempt, and still reports them as the attempt's). */
static void test_start_failures_retry(void **state) {
  (void)state;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.retry_base = 0.01;
  cfg.max_retries = 2;
  salvo_client *c = th_client(&cfg);
  salvo_response *r = th_fetch_url(c, "http://no-such-host.invalid/");
  assert_int_equal(salvo_response_error(r), SALVO_EDNS);
  assert_int_equal(salvo_response_attempts(r), 3);
  assert_non_null(strstr(salvo_response_errmsg(r), "no-such-host.invalid"));
  salvo_response_free(r);
  r = th_fetch_url(c, "http://127.0.0.1:1/");
  assert_int_equal(salvo_response_error(r), SALVO_ECONNECT);
  assert_int_equal(salvo_response_attempts(r), 3);
  salvo_response_free(r);
  salvo_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_framing),
      cmocka_unit_test(test_bad_framing),
      cmocka_unit_test(test_decoding),
      cmocka_unit_test(test_streamed_decoding),
      cmocka_unit_test(test_large_body),
      cmocka_unit_test(test_start_failures_retry),
  };
  return cmocka_run_group_tests(tests, th_faultd_setup, th_faultd_teardown);
}
