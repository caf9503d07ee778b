/*
 * HTTP Digest access authentication (RFC 7616), the client's part and
 * nothing else: a 401's WWW-Authenticate values read for a Digest
 * challenge, and the Authorization field that answers it. MD5, SHA-256
 * and SHA-512-256 (RFC 7616's), and SHA and SHA-512 (which servers and
 * httpx use), each with or without -sess; qop "auth", or none (RFC 2069's
 * form). The body-covering "auth-int" is refused, as httpx refuses it.
 * Socket-free: unit-tested with strings, fuzzed (fuzz_digest). When a 401
 * is answered is the redirect module's (the authentication hop).
 */
#ifndef SALVO_DIGEST_H
#define SALVO_DIGEST_H

#include <stddef.h>

/* A challenge's parameters, each allocated (NULL when absent). */
typedef struct salvo__digest {
  char *realm, *nonce, *opaque, *algorithm, *qop;
} salvo__digest;

/* Reads the first Digest challenge among the n WWW-Authenticate values
 * (RFC 9110 11.6.1: challenges separated by commas, auth-params as
 * token=token or token="quoted-string"): 1 with *d filled, 0 when none
 * is a Digest challenge, SALVO_ENOMEM. A parameter that does not parse
 * (a quote left open) ends the challenge's parameters there. */
int salvo__digest_parse(const char *const *values, size_t n, salvo__digest *d);
void salvo__digest_free(salvo__digest *d);

/* The field line "Authorization: Digest ..." (no CRLF) answering d for a
 * request of `method` to the request-target uri[0..uri_len), with nonce
 * count nc and client nonce cnonce (printable, no '"'). NULL with *why (a
 * static message) when d cannot be answered: no realm or nonce, an
 * algorithm or qop not supported, a control character in what would be
 * sent; NULL with *why NULL when out of memory. */
char *salvo__digest_answer(const salvo__digest *d, const char *user,
                           const char *pass, const char *method,
                           const char *uri, size_t uri_len, unsigned nc,
                           const char *cnonce, const char **why);

/* A client nonce: 16 hex digits of OpenSSL's generator (no system call
 * each, where getrandom made one an answer) into out. 0, or -1 when it
 * has none to give. */
int salvo__digest_cnonce(char out[17]);

#endif /* SALVO_DIGEST_H */
