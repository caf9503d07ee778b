/*
 * A redirect's Location resolved against the URL it answered (RFC 3986
 * section 5.2): the reference split, its dot segments removed, what a URL
 * cannot carry past the host percent-encoded, and the result judged as a
 * request's URL is (url.h). No I/O, so a fuzzer drives it alone
 * (tests/fuzz/fuzz_location.c).
 */
#ifndef SALVO_URL_REF_H
#define SALVO_URL_REF_H

#include <stddef.h>

/* A reference (a Location) resolved against the absolute URL base, as RFC
 * 3986 5.2 says, as an absolute http(s) URL without userinfo; a reference
 * without a fragment keeps base's (RFC 9110 10.2.2). Bytes a URL cannot
 * carry past the host (space, controls, non-ASCII) are percent-encoded;
 * the host is taken as it is, and refused as a request URL's would be.
 * Allocated; NULL with *msg when the result is not a URL salvo follows
 * (another scheme, no host, a host no name holds), or with *msg NULL when
 * out of memory. */
char *salvo__url_resolve(const char *base, const char *ref, size_t ref_len,
                         char **msg);

#endif /* SALVO_URL_REF_H */
