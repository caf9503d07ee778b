/*
 * URLs as salvo takes them: absolute http(s) URLs checked at submission,
 * their origin key, their query with params merged in, and the target a
 * request line carries (references resolved against them are
 * url_ref.h's). No I/O, no allocation but the results, so a fuzzer
 * drives it alone (tests/fuzz/fuzz_url.c).
 */
#ifndef SALVO_URL_H
#define SALVO_URL_H

#include <stddef.h>

/* What salvo needs of an absolute URL. */
typedef struct salvo__url {
  size_t scheme_len; /* "http" 4, "https" 5 */
  const char *host;  /* into the URL; an IPv6 literal keeps its [] */
  size_t host_len;
  unsigned port;         /* explicit, or the scheme's */
  const char *port_text; /* the port in decimal: the URL's digits without
                            leading zeros, or the scheme's */
  size_t port_text_len;
  int userinfo;    /* "user[:password]@" before the host */
  size_t path;     /* where the path (or query, or fragment) starts */
  size_t len;      /* of the whole URL */
  size_t fragment; /* where its first '#' is, else len */
  int at_sign;     /* whether it has an '@' anywhere (redact.h's cue) */
  int high;        /* whether it has a byte from 0x80 anywhere (UTF-8) */
} salvo__url;

/* Checks an absolute http:// or https:// URL: no whitespace or control
 * character, a host, a port from 1 to 65535. 0, or SALVO_EINVAL with *msg
 * (allocated; NULL when out of memory) saying what is wrong. */
int salvo__url_parse(const char *url, salvo__url *u, char **msg);

/* Why a URL of scheme s[0..n) is not fetched (printf: the scheme's
 * length and bytes), in the words every refusal of one uses; and whether
 * it is one salvo fetches. */
#define SALVO__URL_UNSUPPORTED                                                 \
  "unsupported scheme \"%.*s\": only http and https are"
int salvo__url_scheme_fetched(const char *s, size_t n);

/* The length of the RFC 3986 3.1 scheme url starts with (a letter, then
 * letters, digits, '+', '-' or '.'), whatever follows it; 0 when it
 * starts with none. Reads up to the first byte that is none of those. */
size_t salvo__url_scheme_chars(const char *url);

/* The length of the scheme url starts with, when "://" follows it (RFC
 * 3986 3.1's: a letter, then letters, digits, '+', '-' or '.'), else 0. */
size_t salvo__url_scheme_len(const char *url);

/* Whether url (of u->len bytes) is free of whitespace and controls: 0,
 * or SALVO_EINVAL with *msg naming the offset of the first; sets
 * u->fragment and u->at_sign. */
int salvo__url_check(const char *url, salvo__url *u, char **msg);

/* The length of "scheme://host:port" for u, and that key written at d
 * (lower case, the port explicit; d has room for the length + 1). */
size_t salvo__url_origin_len(const salvo__url *u);
char *salvo__url_put_origin(char *d, const salvo__url *u);
/* The origin key of an absolute URL, allocated; NULL with *err
 * SALVO_EINVAL for a URL salvo refuses, or SALVO_ENOMEM. */
char *salvo__url_origin(const char *url, int *err);

/* A request's URL: url (parsed as u) with query parameters (name, value,
 * ..., NULL; SALVO_NO_VALUE for a name alone) merged into its query
 * before any fragment, and each byte from 0x80 past the host as "%XX"
 * (RFC 3986 2.1: a request target is ASCII; UTF-8 text goes as browsers,
 * curl and httpx send it). Its length, and the URL written at d (returns
 * the end, its NUL). */
size_t salvo__url_request_len(const char *url, const salvo__url *u,
                              const char *const *params);
char *salvo__url_put_with_params(char *d, const char *url, const salvo__url *u,
                                 const char *const *params);

/* The request target of an absolute URL: its path and query, without the
 * fragment; *n is 0 when the path is empty (the target is then "/"). */
void salvo__url_target(const char *url, const char **p, size_t *n);

/* c as "%XX" at d (RFC 3986 2.1, upper case); returns the end. Every
 * percent-encoding salvo writes is this one. */
char *salvo__url_pct(char *d, unsigned char c);

#endif /* SALVO_URL_H */
