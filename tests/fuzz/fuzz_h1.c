/* libFuzzer: the HTTP/1.1 response framing (h1.c), the line checks both
 * transports share (salvo__h1_check_status and _field) and the content
 * decoders (decode.c), fed as the native transport feeds them: in pieces
 * of varying size, with what a call did not consume offered again with
 * the next piece, and a reader that pauses now and then. The same bytes
 * are fed again all at once (not decoded), with a head callback (heads found
 * whole by salvo__h1_scan_head come in one call): the lines, the body's length,
 * the error and its words must be the same both ways.
 *
 * Input: byte 0 picks the piece size, byte 1 the request (HEAD or not)
 * and the content coding the body is decoded with; the rest is what the
 * server sent. scripts/fuzz.sh seeds it with every response of the
 * conformance corpus (tests/conformance/responses.jsonl). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "h1.h"

typedef struct run {
  salvo__decoder *dec;
  size_t body, out;
  unsigned calls;
  int lines;      /* of the head being read */
  uint64_t hash;  /* of every line seen, in order */
  int dec_failed; /* the decoder refused the body */
} run;

static void mix(run *r, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    r->hash = (r->hash ^ b[i]) * 0x100000001b3ull;
}

/* What a line says, into the run's hash. */
static void note(run *r, const salvo__h1_line *ln) {
  int f[4] = {ln->kind, ln->status, ln->version, ln->name};
  mix(r, f, sizeof(f));
  mix(r, ln->l, ln->n);
  mix(r, &ln->name_len, sizeof(ln->name_len));
  mix(r, &ln->vn, sizeof(ln->vn));
  mix(r, &ln->len, sizeof(ln->len));
  if (ln->v)
    mix(r, ln->v, ln->vn);
}

/* Each line comes checked and read (salvo__h1_read_line): what it says of
 * the line must hold. */
static int on_line(void *ctx, const salvo__h1_line *ln) {
  run *r = ctx;
  if (memchr(ln->l, '\n', ln->n) || ln->n > SALVO__H1_LINE_MAX)
    abort();
  if ((r->lines++ == 0) != (ln->kind == SALVO__H1_STATUS_LINE) ||
      (ln->kind == SALVO__H1_END_LINE) != (ln->n == 0))
    abort();
  if (ln->kind == SALVO__H1_END_LINE)
    r->lines = 0;
  note(r, ln);
  if (ln->kind == SALVO__H1_STATUS_LINE &&
      (ln->status < 100 || ln->status > 999))
    abort();
  if (ln->kind == SALVO__H1_FIELD_LINE &&
      (ln->name_len == 0 || ln->name_len >= ln->n ||
       ln->l[ln->name_len] != ':' || ln->v < ln->l + ln->name_len + 1 ||
       ln->v + ln->vn > ln->l + ln->n))
    abort();
  return 0;
}

static int on_head(void *ctx, const salvo__h1_line *ln, size_t n) {
  for (size_t i = 0; i < n; i++)
    on_line(ctx, &ln[i]);
  return 0;
}

static int on_body(void *ctx, const char *p, size_t n) {
  run *r = ctx;
  if (++r->calls % 3 == 0)
    return SALVO__H1_PAUSE; /* offered again by the next call */
  r->body += n;
  while (r->dec && n && r->out < (1u << 20)) {
    char out[4096];
    size_t used = 0;
    const char *why = NULL;
    long got = salvo__decoder_step(r->dec, p, n, &used, out, sizeof(out), &why);
    if (got < 0) {
      r->dec_failed = 1;
      return (int)got;
    }
    if (used > n || (size_t)got > sizeof(out))
      abort();
    r->out += (size_t)got;
    p += used;
    n -= used;
    if (!used && (size_t)got < sizeof(out))
      break;
  }
  return 0;
}

/* The response data[0..size) fed in pieces of `piece` bytes; returns the
 * error, or 0, with *why what the framing said. */
static int feed(run *r, const uint8_t *data, size_t size, size_t piece,
                int no_body, int heads, const char **why) {
  salvo__h1 p;
  salvo__h1_init(&p, no_body);
  salvo__h1_cb cb = {r, on_line, on_body, heads ? on_head : NULL};
  salvo__buf pend = {0};
  int rc = 0;
  for (size_t off = 0; off < size && p.state != SALVO__H1_DONE && !rc;) {
    size_t n = size - off < piece ? size - off : piece;
    if (salvo__buf_append(&pend, data + off, n))
      abort();
    off += n;
    for (;;) {
      int paused;
      long used = salvo__h1_feed(&p, pend.p, pend.len, &cb, &paused);
      if (used < 0) {
        rc = (int)used;
        break;
      }
      if ((size_t)used > pend.len)
        abort();
      memmove(pend.p, pend.p + used, pend.len - (size_t)used);
      pend.len -= (size_t)used;
      if (!paused || p.state == SALVO__H1_DONE)
        break;
    }
  }
  if (!rc)
    rc = salvo__h1_eof(&p);
  *why = p.why;
  salvo__buf_free(&pend);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *codings[] = {"",           "gzip",      "deflate",
                                  "br",         "zstd",      "gzip, gzip",
                                  "br,deflate", "gzip, zstd"};
  if (size < 2)
    return 0;
  size_t piece = (size_t)data[0] % 64 + 1;
  int no_body = data[1] & 1;
  const char *coding = codings[(data[1] >> 1) % 8], *add_why;
  run r = {0}, whole = {0};
  if (salvo__decoder_add(&r.dec, coding, strlen(coding), &add_why))
    abort(); /* each of the list is known, and no more than the most */
  const char *why, *whole_why;
  int rc = feed(&r, data + 2, size - 2, piece, no_body, 0, &why);
  if (r.dec && !rc)
    (void)salvo__decoder_done(r.dec);
  if (r.body > size)
    abort();
  int whole_rc =
      feed(&whole, data + 2, size - 2, size - 2 + 1, no_body, 1, &whole_why);
  /* The second run decodes nothing: a body the decoder refused ends the
   * first early, after every line. */
  if (r.hash != whole.hash)
    abort();
  if (!r.dec_failed && (rc != whole_rc || r.body != whole.body ||
                        strcmp(why ? why : "", whole_why ? whole_why : "")))
    abort();
  salvo__decoder_free(r.dec);
  return 0;
}
