/*
 * Content decoding for both transports (receive.c): gzip and deflate
 * (zlib), br (brotli) and zstd, from Debian's libraries, one step at a
 * time so that a paused reader holds at most one step's output. Codings
 * stack (RFC 9110 8.4: "gzip, br" was gzip'd, then br'd): they are undone
 * outermost first, each inner one fed from a buffer of one step. Strict: a
 * stream must end where the body does, with nothing after it but another
 * gzip member or zstd frame (RFC 1952 2.2, RFC 8878 3).
 */
#ifndef SALVO_DECODE_H
#define SALVO_DECODE_H

#include <stddef.h>

typedef struct salvo__decoder salvo__decoder;

/* What Accept-Encoding asks for: every coding this module decodes. */
#define SALVO__ACCEPT_ENCODING "deflate, gzip, br, zstd"

/* The most codings one response may stack (libcurl's limit is 5 too): a
 * bound on the decoders a hostile head can make. */
#define SALVO__CODINGS_MAX 5

/* Adds to *d (NULL at first) the codings one Content-Encoding field lists,
 * v[0..n), in the order they were applied; call once a field, in the
 * fields' order. The value is a list (RFC 9110 5.6.1): empty elements and
 * "identity" are passed over, so *d stays NULL while no coding is named.
 * Returns 0; SALVO_EPROTO with *why for a coding this module does not
 * know, or more than SALVO__CODINGS_MAX in all; SALVO_ENOMEM. On an error
 * *d is still the caller's to free. */
int salvo__decoder_add(salvo__decoder **d, const char *v, size_t n,
                       const char **why);
void salvo__decoder_free(salvo__decoder *d);

/* Decodes from in[0..n): consumes *used bytes and writes up to cap bytes
 * to out. Returns the bytes written, or SALVO_EPROTO for corrupt data or
 * bytes after the end of the stream (*why says what). Call again while it
 * fills out or input is left: less than cap with no input left means every
 * coding has given all it can. */
long salvo__decoder_step(salvo__decoder *d, const char *in, size_t n,
                         size_t *used, char *out, size_t cap, const char **why);
/* Whether the stream is complete (every coding's end seen, its checksum
 * right, nothing left between them): a body that ends before is cut
 * short. */
int salvo__decoder_done(const salvo__decoder *d);
/* What a body that ends before its stream does is, by the coding that has
 * not ended. */
const char *salvo__decoder_cut_short(const salvo__decoder *d);

#endif /* SALVO_DECODE_H */
