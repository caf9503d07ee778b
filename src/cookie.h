/*
 * The client's cookie jar, the one both transports read and fill (RFC
 * 6265: domain and path matching, Secure, host-only cookies, Max-Age and
 * Expires with the RFC's own date algorithm, and no cookie for a public
 * suffix such as com or github.io, by libpsl's built-in list). A cookie
 * file in Netscape format (as curl writes it) is loaded and saved here.
 * Used on the I/O thread only.
 */
#ifndef SALVO_COOKIE_H
#define SALVO_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"

typedef struct salvo__jar salvo__jar;

/* An empty jar reading the time (expiry) from clock, which must outlive
 * it. */
salvo__jar *salvo__jar_new(const salvo__clock *clock);
void salvo__jar_free(salvo__jar *j);
void salvo__jar_clear(salvo__jar *j);

/* Stores the cookie of a Set-Cookie value v[0..n) received from url
 * (absolute http(s)). Returns 0, or SALVO_ENOMEM. A malformed or foreign
 * cookie (another domain, a public suffix) is ignored, as user agents
 * do. */
int salvo__jar_set(salvo__jar *j, const char *url, const char *v, size_t n);
/* Appends "Cookie: ...\r\n" for a request to url: the caller's own value
 * (`mine`, NULL = none) first, then the jar's matching cookies, in one
 * field (RFC 6265 5.4: never two); nothing when both are empty. */
int salvo__jar_header(salvo__jar *j, const char *url, const char *mine,
                      salvo__buf *out);
/* Cookies held. */
size_t salvo__jar_count(const salvo__jar *j);

/* A cookie file: loaded (a missing file is an empty jar: 0; unreadable:
 * SALVO_EINVAL), or written whole through a temporary file renamed over
 * it (0, or SALVO_EWRITE). */
int salvo__jar_load(salvo__jar *j, const char *path);
int salvo__jar_save(const salvo__jar *j, const char *path);
/* One line of a cookie file stored as a Set-Cookie would store it (an
 * expiry in the past removes the cookie of that name, domain and path):
 * 0, SALVO_EINVAL when it is no cookie (fewer than seven fields, a
 * comment, a control or ';' where a Cookie field cannot carry one), or
 * SALVO_ENOMEM. */
int salvo__jar_add_line(salvo__jar *j, const char *line);
/* Appends the cookies not yet expired as a cookie file's lines, oldest
 * first; out->p is at least "" on success. 0 or SALVO_ENOMEM. */
int salvo__jar_lines(const salvo__jar *j, salvo__buf *out);

#endif /* SALVO_COOKIE_H */
