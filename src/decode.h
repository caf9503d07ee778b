/*
 * Content decoding for both transports (receive.c): gzip and deflate
 * (zlib), br (brotli) and zstd, from Debian's libraries, one step at a
 * time so that a paused reader holds at most one step's output. Strict: a
 * stream must end where the body does, with nothing after it but another
 * gzip member or zstd frame (RFC 1952 2.2, RFC 8878 3).
 */
#ifndef SALVO_DECODE_H
#define SALVO_DECODE_H

#include <stddef.h>

typedef struct salvo__decoder salvo__decoder;

/* What Accept-Encoding asks for: every coding this module decodes. */
#define SALVO__ACCEPT_ENCODING "deflate, gzip, br, zstd"

/* A decoder for a Content-Encoding value, or NULL with *err set:
 * SALVO_EPROTO for a coding it does not know (or several stacked),
 * SALVO_ENOMEM. "identity" and an empty value give NULL with *err 0. */
salvo__decoder *salvo__decoder_new(const char *v, size_t n, int *err);
void salvo__decoder_free(salvo__decoder *d);

/* Decodes from in[0..n): consumes *used bytes and writes up to cap bytes
 * to out. Returns the bytes written, or SALVO_EPROTO for corrupt data or
 * bytes after the end of the stream (*why says what). Call again while it
 * fills out or input is left. */
long salvo__decoder_step(salvo__decoder *d, const char *in, size_t n,
                         size_t *used, char *out, size_t cap, const char **why);
/* Whether the stream is complete (its end seen, its checksum right): a
 * body that ends before is cut short. */
int salvo__decoder_done(const salvo__decoder *d);
/* What a body that ends before its stream does is, by its coding. */
const char *salvo__decoder_cut_short(const salvo__decoder *d);

#endif /* SALVO_DECODE_H */
