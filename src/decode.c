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

struct salvo__decoder {
  int kind;
  int raw_tried; /* deflate: switched to a raw stream (no zlib header) */
  int ended;     /* the stream (or its last member, frame) is complete */
  z_stream z;
  BrotliDecoderState *br;
  ZSTD_DStream *zs;
};

static int coding_of(const char *v, size_t n) {
  static const struct {
    const char *name;
    int kind;
  } names[] = {{"gzip", GZIP}, {"x-gzip", GZIP}, {"deflate", DEFLATE},
               {"br", BR},     {"zstd", ZSTD},   {"identity", 0}};
  salvo__ows_trim(&v, &n);
  if (!n)
    return 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strlen(names[i].name) == n && !salvo__casecmp_n(v, names[i].name, n))
      return names[i].kind;
  return -1;
}

salvo__decoder *salvo__decoder_new(const char *v, size_t n, int *err) {
  int kind = coding_of(v, n);
  *err = 0;
  if (kind <= 0) {
    *err = kind ? SALVO_EPROTO : 0;
    return NULL;
  }
  salvo__decoder *d = calloc(1, sizeof(*d));
  if (!d) {
    *err = SALVO_ENOMEM;
    return NULL;
  }
  d->kind = kind;
  int ok;
  switch (kind) {
  case GZIP:
    ok = inflateInit2(&d->z, 16 + MAX_WBITS) == Z_OK;
    break;
  case DEFLATE:
    ok = inflateInit2(&d->z, MAX_WBITS) == Z_OK;
    break;
  case BR:
    ok = (d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL)) != NULL;
    break;
  default:
    ok = (d->zs = ZSTD_createDStream()) != NULL;
    break;
  }
  if (!ok) {
    free(d);
    *err = SALVO_ENOMEM;
    return NULL;
  }
  return d;
}

void salvo__decoder_free(salvo__decoder *d) {
  if (!d)
    return;
  if (d->kind == GZIP || d->kind == DEFLATE)
    inflateEnd(&d->z);
  BrotliDecoderDestroyInstance(d->br);
  ZSTD_freeDStream(d->zs);
  free(d);
}

static long zlib_step(salvo__decoder *d, const char *in, size_t n, size_t *used,
                      char *out, size_t cap, const char **why) {
  if (d->ended && n) {
    /* A gzip file is a series of members; a deflate body is one stream. */
    if (d->kind != GZIP) {
      *why = "data after the end of the deflate body";
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

long salvo__decoder_step(salvo__decoder *d, const char *in, size_t n,
                         size_t *used, char *out, size_t cap,
                         const char **why) {
  *used = 0;
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

int salvo__decoder_done(const salvo__decoder *d) { return d->ended; }

const char *salvo__decoder_cut_short(const salvo__decoder *d) {
  switch (d->kind) {
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
