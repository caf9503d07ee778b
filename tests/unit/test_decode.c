/* Content codings undone (src/decode.c): a Content-Encoding value read as
 * the list it is (RFC 9110 5.6.1.2: empty elements passed over), stacked
 * codings undone in the reverse of the order listed (RFC 9110 8.4), five
 * at most, and a body that ends early or goes on after a stream's end
 * named by the coding it belongs to, however small the steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "decode.h"
#include "salvo.h"

typedef struct bytes {
  unsigned char *p;
  size_t n;
} bytes;

static bytes zlib_coded(bytes in, int window) {
  z_stream z = {0};
  assert_int_equal(
      deflateInit2(&z, 6, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY), Z_OK);
  bytes out = {malloc(deflateBound(&z, in.n) + 32), 0};
  z.next_in = in.p;
  z.avail_in = (uInt)in.n;
  z.next_out = out.p;
  z.avail_out = (uInt)deflateBound(&z, in.n) + 32;
  assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.n = z.total_out;
  deflateEnd(&z);
  return out;
}

/* in, coded as `coding` names it; in is freed. */
static bytes coded(bytes in, const char *coding) {
  bytes out;
  if (!strcmp(coding, "gzip")) {
    out = zlib_coded(in, 16 + MAX_WBITS);
  } else if (!strcmp(coding, "deflate")) {
    out = zlib_coded(in, MAX_WBITS);
  } else if (!strcmp(coding, "zstd")) {
    out.p = malloc(ZSTD_compressBound(in.n));
    out.n = ZSTD_compress(out.p, ZSTD_compressBound(in.n), in.p, in.n, 3);
    assert_false(ZSTD_isError(out.n));
  } else {
    out.n = BrotliEncoderMaxCompressedSize(in.n) + 16;
    out.p = malloc(out.n);
    assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, in.n, in.p,
                                      &out.n, out.p));
  }
  free(in.p);
  return out;
}

/* 200,000 bytes that compress, but not to nothing. */
static bytes plain(void) {
  bytes b = {malloc(200000), 200000};
  uint32_t x = 1;
  for (size_t i = 0; i < b.n; i++) {
    x = x * 1103515245u + 12345u;
    b.p[i] = (unsigned char)("abcdefgh \n"[(x >> 16) % 10]);
  }
  return b;
}

static bytes copy(bytes b) {
  bytes c = {malloc(b.n + 1), b.n};
  memcpy(c.p, b.p, b.n);
  return c;
}

/* Feeds body to d in pieces of `piece` bytes, `cap` bytes out a step, as
 * receive.c does; returns what came out, *rc the first error. */
static bytes undo(salvo__decoder *d, bytes body, size_t piece, size_t cap,
                  int *rc, const char **why) {
  bytes out = {malloc(1 << 20), 0};
  char *step = malloc(cap);
  *rc = 0;
  for (size_t off = 0; off < body.n && !*rc;) {
    size_t n = body.n - off < piece ? body.n - off : piece;
    const char *in = (const char *)body.p + off;
    off += n;
    for (;;) {
      size_t used = 0;
      long got = salvo__decoder_step(d, in, n, &used, step, cap, why);
      if (got < 0) {
        *rc = (int)got;
        break;
      }
      assert_true(used <= n && (size_t)got <= cap);
      assert_true(out.n + (size_t)got <= 1 << 20);
      memcpy(out.p + out.n, step, (size_t)got);
      out.n += (size_t)got;
      in += used;
      n -= used;
      if (!n && (size_t)got < cap)
        break;
      assert_true(used || got); /* never stuck with input left */
    }
  }
  free(step);
  return out;
}

static salvo__decoder *made(const char *list) {
  salvo__decoder *d = NULL;
  const char *why = NULL;
  assert_int_equal(salvo__decoder_add(&d, list, strlen(list), &why), 0);
  assert_non_null(d);
  return d;
}

/* d undoes body into want, fed `piece` bytes and giving `cap` a step,
 * and ends; d is freed. */
static void undone(salvo__decoder *d, bytes body, bytes want, size_t piece,
                   size_t cap) {
  int rc;
  const char *why = NULL;
  bytes got = undo(d, body, piece, cap, &rc, &why);
  assert_int_equal(rc, 0);
  assert_int_equal(got.n, want.n);
  assert_memory_equal(got.p, want.p, want.n);
  assert_true(salvo__decoder_done(d));
  free(got.p);
  salvo__decoder_free(d);
}

/* Each of "deflate, gzip, zstd, br" (applied in that order) undone, at
 * every size of piece in and step out. */
static void test_stacked_undone_in_reverse(void **state) {
  (void)state;
  bytes want = plain();
  bytes body = copy(want);
  static const char *order[] = {"deflate", "gzip", "zstd", "br"};
  for (size_t i = 0; i < 4; i++)
    body = coded(body, order[i]);
  static const size_t pieces[][2] = {
      {1 << 20, 16384}, {7, 1000}, {1, 1}, {4096, 3}, {13, 65536}};
  for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    undone(made("deflate, gzip, zstd, br"), body, want, pieces[i][0],
           pieces[i][1]);
  }
  free(body.p);
  free(want.p);
}

/* Two fields are one list, the first field's codings applied first (RFC
 * 9110 5.3); empty elements, OWS, case and "identity" change nothing. */
static void test_list_syntax(void **state) {
  (void)state;
  static const char *none[] = {"", ",", " , ,", "identity", "IDENTITY , "};
  for (size_t i = 0; i < 5; i++) {
    salvo__decoder *d = NULL;
    const char *why = NULL;
    assert_int_equal(salvo__decoder_add(&d, none[i], strlen(none[i]), &why), 0);
    assert_null(d);
  }
  bytes want = plain();
  bytes body = coded(coded(copy(want), "deflate"), "gzip");
  static const char *fields[][2] = {{"deflate", "gzip"},
                                    {", deflate ,,", " GZip,"},
                                    {"identity, deflate", "x-gzip"}};
  for (size_t i = 0; i < 3; i++) {
    salvo__decoder *d = NULL;
    const char *why = NULL;
    for (size_t f = 0; f < 2; f++)
      assert_int_equal(
          salvo__decoder_add(&d, fields[i][f], strlen(fields[i][f]), &why), 0);
    undone(d, body, want, 999, 4096);
  }
  free(body.p);
  free(want.p);
}

/* A coding not known, anywhere in the list, or a sixth: refused by name. */
static void test_refused(void **state) {
  (void)state;
  static const char *lists[] = {"compress", "gzip, foo", "gzip;q=1",
                                "gzip, gzip, gzip, gzip, gzip, gzip"};
  static const char *words[] = {"does not decode", "does not decode",
                                "does not decode", "more than 5"};
  for (size_t i = 0; i < 4; i++) {
    salvo__decoder *d = NULL;
    const char *why = NULL;
    assert_int_equal(salvo__decoder_add(&d, lists[i], strlen(lists[i]), &why),
                     SALVO_EPROTO);
    assert_non_null(strstr(why, words[i]));
    salvo__decoder_free(d);
  }
  /* Five across two fields are taken; one more is the sixth. */
  salvo__decoder *d = NULL;
  const char *why = NULL;
  assert_int_equal(salvo__decoder_add(&d, "br, br, br", 10, &why), 0);
  assert_int_equal(salvo__decoder_add(&d, "zstd, zstd", 10, &why), 0);
  assert_int_equal(salvo__decoder_add(&d, "gzip", 4, &why), SALVO_EPROTO);
  salvo__decoder_free(d);
}

/* A body that ends while a coding's stream has not: named by that coding,
 * the inner one when only it is short. */
static void test_cut_short_names_the_coding(void **state) {
  (void)state;
  bytes inner = coded(plain(), "deflate");
  inner.n -= 4; /* the deflate stream's checksum cut */
  bytes body = coded(inner, "gzip");
  salvo__decoder *d = made("deflate, gzip");
  int rc;
  const char *why = NULL;
  bytes got = undo(d, body, 100, 4096, &rc, &why);
  assert_int_equal(rc, 0);
  assert_false(salvo__decoder_done(d));
  assert_string_equal(salvo__decoder_cut_short(d),
                      "the deflate body ends before its stream does (cut "
                      "short)");
  free(got.p);
  salvo__decoder_free(d);

  d = made("deflate, gzip");
  body.n -= 8; /* the gzip trailer cut: the outer coding is short */
  got = undo(d, body, 100, 4096, &rc, &why);
  assert_false(salvo__decoder_done(d));
  assert_string_equal(salvo__decoder_cut_short(d),
                      "the gzip body ends before its stream does (cut short)");
  free(got.p);
  salvo__decoder_free(d);
  free(body.p);
}

/* body, undone as `list` says, refused with why. */
static void refused_with(const char *list, bytes body, const char *why) {
  salvo__decoder *d = made(list);
  int rc;
  const char *got_why = NULL;
  bytes got = undo(d, body, 1000, 4096, &rc, &got_why);
  assert_int_equal(rc, SALVO_EPROTO);
  assert_string_equal(got_why, why);
  free(got.p);
  salvo__decoder_free(d);
  free(body.p);
}

/* body with "junk" after it. */
static bytes junk_after(bytes body) {
  body.p = realloc(body.p, body.n + 4);
  memcpy(body.p + body.n, "junk", 4);
  body.n += 4;
  return body;
}

/* Bytes after the inner stream's end, inside the outer one: an error of
 * the inner coding, not data. */
static void test_after_the_inner_end(void **state) {
  (void)state;
  refused_with("deflate, zstd",
               coded(junk_after(coded(plain(), "deflate")), "zstd"),
               "data after the end of the deflate body");
}

/* Bytes after a gzip member that begin no other member (1f 8b) are named
 * as what they are, where they were "corrupt gzip body". */
static void test_after_the_gzip_end(void **state) {
  (void)state;
  refused_with("gzip", junk_after(coded(plain(), "gzip")),
               "data after the end of the gzip body");
}

/* A zstd stream that has ended stays ended when offered nothing: it had
 * read the nothing as the start of a next frame, and called the whole
 * body cut short. */
static void test_ended_stays_ended(void **state) {
  (void)state;
  bytes body = coded(plain(), "zstd");
  salvo__decoder *d = made("zstd");
  int rc;
  const char *why = NULL;
  bytes got = undo(d, body, 1 << 20, 1 << 20, &rc, &why);
  assert_true(salvo__decoder_done(d));
  char out[16];
  size_t used;
  assert_int_equal(salvo__decoder_step(d, "", 0, &used, out, 16, &why), 0);
  assert_true(salvo__decoder_done(d));
  free(got.p);
  salvo__decoder_free(d);
  free(body.p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stacked_undone_in_reverse),
      cmocka_unit_test(test_list_syntax),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_cut_short_names_the_coding),
      cmocka_unit_test(test_after_the_inner_end),
      cmocka_unit_test(test_after_the_gzip_end),
      cmocka_unit_test(test_ended_stays_ended),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
