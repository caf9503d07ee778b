/* libFuzzer: the HTTP/1.1 response framing (h1.c), the line checks both
 * transports share (salvo__h1_check_status and _field) and the content
 * decoders (decode.c), fed as the native transport feeds them: in pieces
 * of varying size, with what a call did not consume offered again with
 * the next piece, and a reader that pauses now and then.
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
  int lines; /* of the head being read */
} run;

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
    if (got < 0)
      return (int)got;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *codings[] = {"", "gzip", "deflate", "br", "zstd"};
  if (size < 2)
    return 0;
  size_t piece = (size_t)data[0] % 64 + 1;
  int err = 0;
  run r = {0};
  r.dec = salvo__decoder_new(codings[(data[1] >> 1) % 5],
                             strlen(codings[(data[1] >> 1) % 5]), &err);
  salvo__h1 p;
  salvo__h1_init(&p, data[1] & 1);
  salvo__h1_cb cb = {&r, on_line, on_body};
  salvo__buf pend = {0};
  data += 2;
  size = size - 2;
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
    salvo__h1_eof(&p);
  if (!rc && r.dec)
    (void)salvo__decoder_done(r.dec);
  if (r.body > size)
    abort();
  salvo__buf_free(&pend);
  salvo__decoder_free(r.dec);
  return 0;
}
