/*
 * The values of the fields the HTTP/1.1 framing reads (h1.c): a list's
 * tokens (RFC 9110 5.6.1), and Content-Length. No I/O, no state.
 */
#ifndef SALVO_H1_VALUE_H
#define SALVO_H1_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* A Content-Length value: digits, or the same digits repeated as "5, 5"
 * (RFC 9110 8.6). 0 with *len, or -1 when malformed. Every line of both
 * transports is read through h1.c, so both refuse the same values. */
int salvo__h1_content_length(const char *v, size_t n, uint64_t *len);
/* Whether the comma-separated list v[0..n) has the token tok (lower
 * case), in any case. */
int salvo__h1_has_token(const char *v, size_t n, const char *tok);
/* Whether the last coding of a Transfer-Encoding list is chunked. */
int salvo__h1_ends_chunked(const char *v, size_t n);

#endif /* SALVO_H1_VALUE_H */
