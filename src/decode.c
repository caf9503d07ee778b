/* Content decoding: see decode.h. */
#include "decode.h"

#include <brotli/decode.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "field.h"

enum coding { GZIP = 1, DEFLATE, BR, ZSTD };

/* What an inner coding holds of the output of the one outside it. */
#define STAGE_BUF (16 * 1024)

typedef struct stage {
  int kind;
  int raw_tried; /* deflate: switched to a raw stream (no zlib header) */
  int ended;     /* the stream (or its last member, frame) is complete */
  z_stream z;
  BrotliDecoderState *br;
  ZSTD_DStream *zs;
  char *in; /* an inner coding's input, in[off..len) not taken yet */
  size_t off, len;
} stage;

/* st[0] was applied first: it is undone last and gives the output; the
 * last is undone first, from the caller's bytes. */
struct salvo__decoder {
  size_t count;
  stage st[SALVO__CODINGS_MAX];
};

static int coding_of(const char *v, size_t n) {
  static const struct {
    const char *name;
    int kind;
  } names[] = {{"gzip", GZIP}, {"x-gzip", GZIP}, {"deflate", DEFLATE},
               {"br", BR},     {"zstd", ZSTD},   {"identity", 0}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strlen(names[i].name) == n && !salvo__casecmp_n(v, names[i].name, n))
      return names[i].kind;
  return -1;
}

static int stage_init(stage *s, int kind) {
  s->kind = kind;
  switch (kind) {
  case GZIP:
    return inflateInit2(&s->z, 16 + MAX_WBITS) == Z_OK;
  case DEFLATE:
    return inflateInit2(&s->z, MAX_WBITS) == Z_OK;
  case BR:
    return (s->br = BrotliDecoderCreateInstance(NULL, NULL, NULL)) != NULL;
  default:
    return (s->zs = ZSTD_createDStream()) != NULL;
  }
}

static void stage_end(stage *s) {
  if (s->kind == GZIP || s->kind == DEFLATE)
    inflateEnd(&s->z);
  BrotliDecoderDestroyInstance(s->br);
  ZSTD_freeDStream(s->zs);
  free(s->in);
}

/* One more coding, applied after those *d has: the one before it now
 * takes its input from it, through a buffer. */
static int push(salvo__decoder **d, int kind, const char **why) {
  if (!*d && !(*d = calloc(1, sizeof(**d))))
    return SALVO_ENOMEM;
  salvo__decoder *dec = *d;
  if (dec->count == SALVO__CODINGS_MAX) {
    *why = "more than 5 content codings stacked";
    return SALVO_EPROTO;
  }
  if (dec->count && !(dec->st[dec->count - 1].in = malloc(STAGE_BUF)))
    return SALVO_ENOMEM;
  stage *s = &dec->st[dec->count];
  memset(s, 0, sizeof(*s));
  if (!stage_init(s, kind)) {
    stage_end(s);
    return SALVO_ENOMEM;
  }
  dec->count++;
  return 0;
}

int salvo__decoder_add(salvo__decoder **d, const char *v, size_t n,
                       const char **why) {
  const char *e;
  size_t en;
  for (size_t i = 0; salvo__list_next(v, n, &i, &e, &en);) {
    int kind = en ? coding_of(e, en) : 0;
    if (kind < 0) {
      *why = "a Content-Encoding salvo does not decode (it decodes gzip, "
             "deflate, br and zstd)";
      return SALVO_EPROTO;
    }
    int rc = kind ? push(d, kind, why) : 0;
    if (rc)
      return rc;
  }
  return 0;
}

void salvo__decoder_free(salvo__decoder *d) {
  if (!d)
    return;
  for (size_t i = 0; i < d->count; i++)
    stage_end(&d->st[i]);
  free(d);
}

static long zlib_step(stage *d, const char *in, size_t n, size_t *used,
                      char *out, size_t cap, const char **why) {
  if (d->ended && n) {
    /* A gzip file is a series of members, each starting 1f 8b (RFC 1952
     * 2.3.1); a deflate body is one stream. */
    if (d->kind != GZIP || (unsigned char)in[0] != 0x1f ||
        (n > 1 && (unsigned char)in[1] != 0x8b)) {
      *why = d->kind == GZIP ? "data after the end of the gzip body"
                             : "data after the end of the deflate body";
      return SALVO_EPROTO;
    }
    inflateReset(&d->z);
    d->ended = 0;
  }
  d->z.next_in = (Bytef *)(uintptr_t)in;
  d->z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
  d->z.next_out = (Bytef *)out;
  d->z.avail_out = (uInt)cap;
  int rc = inflate(&d->z, Z_NO_FLUSH);
  /* "deflate" is meant to be zlib-wrapped, but servers send raw deflate
   * too: before any output, try that instead. */
  if (rc == Z_DATA_ERROR && d->kind == DEFLATE && !d->raw_tried &&
      d->z.total_out == 0) {
    d->raw_tried = 1;
    inflateEnd(&d->z);
    memset(&d->z, 0, sizeof(d->z));
    if (inflateInit2(&d->z, -MAX_WBITS) != Z_OK)
      return SALVO_ENOMEM;
    return zlib_step(d, in, n, used, out, cap, why);
  }
  if (rc == Z_STREAM_END)
    d->ended = 1;
  else if (rc != Z_OK && rc != Z_BUF_ERROR) {
    *why = d->kind == GZIP ? "corrupt gzip body" : "corrupt deflate body";
    return rc == Z_MEM_ERROR ? SALVO_ENOMEM : SALVO_EPROTO;
  }
  *used = (size_t)(d->z.next_in - (const Bytef *)in);
  return (long)(cap - d->z.avail_out);
}

static long stage_step(stage *d, const char *in, size_t n, size_t *used,
                       char *out, size_t cap, const char **why) {
  *used = 0;
  if (d->ended && !n)
    return 0; /* zstd would take the nothing for a next frame's start */
  if (d->kind == GZIP || d->kind == DEFLATE)
    return zlib_step(d, in, n, used, out, cap, why);
  if (d->kind == BR) {
    if (d->ended && n) {
      *why = "data after the end of the br body";
      return SALVO_EPROTO;
    }
    const uint8_t *ni = (const uint8_t *)in;
    uint8_t *no = (uint8_t *)out;
    size_t ai = n, ao = cap;
    BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(d->br, &ai, &ni, &ao, &no, NULL);
    if (rc == BROTLI_DECODER_RESULT_ERROR) {
      *why = "corrupt br body";
      return SALVO_EPROTO;
    }
    d->ended = rc == BROTLI_DECODER_RESULT_SUCCESS;
    *used = n - ai;
    return (long)(cap - ao);
  }
  /* zstd: a body may hold several frames, one after another. */
  ZSTD_inBuffer zi = {in, n, 0};
  ZSTD_outBuffer zo = {out, cap, 0};
  size_t rc = ZSTD_decompressStream(d->zs, &zo, &zi);
  if (ZSTD_isError(rc)) {
    *why = "corrupt zstd body";
    return SALVO_EPROTO;
  }
  d->ended = rc == 0;
  *used = zi.pos;
  return (long)zo.pos;
}

/* Up to cap bytes of what coding k gives: the outermost from the
 * caller's *in, *n (advanced past what it takes), an inner one from its
 * buffer, refilled from the coding outside it whenever it is empty. Less
 * than cap only when no coding can go on. */
static long pull(salvo__decoder *d, size_t k, const char **in, size_t *n,
                 char *out, size_t cap, const char **why) {
  stage *s = &d->st[k];
  size_t used;
  if (k + 1 == d->count) {
    long got = stage_step(s, *in, *n, &used, out, cap, why);
    if (got >= 0) {
      *in += used;
      *n -= used;
    }
    return got;
  }
  size_t put = 0;
  while (put < cap) {
    long more = 0;
    if (s->off == s->len) {
      s->off = s->len = 0;
      if ((more = pull(d, k + 1, in, n, s->in, STAGE_BUF, why)) < 0)
        return more;
      s->len = (size_t)more;
    }
    long got = stage_step(s, s->in + s->off, s->len - s->off, &used, out + put,
                          cap - put, why);
    if (got < 0)
      return got;
    s->off += used;
    put += (size_t)got;
    if (!got && !used && !more)
      break;
  }
  return (long)put;
}

long salvo__decoder_step(salvo__decoder *d, const char *in, size_t n,
                         size_t *used, char *out, size_t cap,
                         const char **why) {
  if (d->count == 1)
    return stage_step(&d->st[0], in, n, used, out, cap, why);
  const char *p = in;
  long got = pull(d, 0, &p, &n, out, cap, why);
  *used = (size_t)(p - in);
  return got;
}

/* Out of line, as cut_short: called once a body, where the body ends
 * (receive.c), which is inlined into every transport's. */
__attribute__((noinline)) int salvo__decoder_done(const salvo__decoder *d) {
  for (size_t i = 0; i < d->count; i++)
    if (!d->st[i].ended || d->st[i].off < d->st[i].len)
      return 0;
  return 1;
}

__attribute__((noinline)) const char *
salvo__decoder_cut_short(const salvo__decoder *d) {
  size_t i = d->count;
  while (i > 1 && d->st[i - 1].ended)
    i--;
  switch (d->st[i - 1].kind) {
  case GZIP:
    return "the gzip body ends before its stream does (cut short)";
  case DEFLATE:
    return "the deflate body ends before its stream does (cut short)";
  case BR:
    return "the br body ends before its stream does (cut short)";
  default:
    return "the zstd body ends before its frame does (cut short)";
  }
}
