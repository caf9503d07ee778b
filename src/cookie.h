/*
 * The client's cookie jar, shared by both transports (RFC 6265: domain
 * and path matching, Secure, host-only cookies, Max-Age and Expires).
 *
 * The native transport reads and fills it directly. libcurl keeps a jar
 * of its own for the transfers it runs; transport_curl.c mirrors every
 * cookie either side receives into the other (as the Netscape lines both
 * understand), so that one client has one set of cookies whichever
 * transport serves a request.
 */
#ifndef SALVO_COOKIE_H
#define SALVO_COOKIE_H

#include <stddef.h>

#include "util.h"

typedef struct salvo__jar salvo__jar;

salvo__jar *salvo__jar_new(void);
void salvo__jar_free(salvo__jar *j);
void salvo__jar_clear(salvo__jar *j);

/* Stores the cookie of a Set-Cookie value received from url (absolute
 * http(s)). With `mirror`, the stored cookie also goes to the jar's
 * mirror (as a Netscape cookie-file line). Returns 0, or SALVO_ENOMEM. A
 * malformed or foreign cookie is ignored, as user agents do. */
int salvo__jar_set(salvo__jar *j, const char *url, const char *v, size_t n,
                   int mirror);
/* Who hears of every cookie stored with `mirror` (libcurl's jar). */
void salvo__jar_mirror(salvo__jar *j, void (*fn)(void *arg, const char *line),
                       void *arg);
/* Adds a Netscape cookie-file line (as libcurl lists them). */
int salvo__jar_add_line(salvo__jar *j, const char *line);
/* Appends "Cookie: a=b; c=d\r\n" for a request to url, or nothing when no
 * cookie matches. */
int salvo__jar_header(salvo__jar *j, const char *url, salvo__buf *out);
/* Cookies held (tests, and a quick way to skip the jar when empty). */
size_t salvo__jar_count(const salvo__jar *j);

#endif /* SALVO_COOKIE_H */
