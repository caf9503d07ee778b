/*
 * Redirects, one policy for both transports (RFC 9110 15.4): which
 * responses are followed, where to, with which method and body, and
 * whether credentials go along. A transport keeps one salvo__hop per
 * attempt and asks here at each redirect.
 */
#ifndef SALVO_REDIRECT_H
#define SALVO_REDIRECT_H

#include "config.h"
#include "request.h"

/* One request of a chain of redirects: where it goes, what it carries. */
typedef struct salvo__hop {
  char *url;          /* absolute, allocated; NULL = the request's own */
  const char *method; /* the request's, or "GET" */
  int send_body;      /* the request's body goes with it */
  /* It goes to the request's own origin: the client's credentials and
   * the caller's Authorization and Cookie headers go with it. */
  int creds;
  /* "Authorization: Digest ..." answering a 401 of this hop's URL, sent
   * in place of the client's credentials; NULL until one is answered. */
  char *authz;
  int early; /* authz answers its origin's last challenge, unasked */
} salvo__hop;

/* The first request of an attempt: the request as it was given. */
void salvo__hop_start(salvo__hop *h, const salvo__req *r);
void salvo__hop_free(salvo__hop *h);
/* Where the hop goes. */
const char *salvo__hop_url(const salvo__hop *h, const salvo__req *r);
/* Whether the hop may go again when its connection broke before any
 * answer: the request says so (its method, or the caller), or a redirect
 * made it a GET (301, 302 or 303 of a POST, RFC 9110 15.4), which asks
 * nothing the server could act on twice. The POST itself went once, on
 * the hop before, and is not what goes again. */
int salvo__hop_repeatable(const salvo__hop *h, const salvo__req *r);

/* Whether a final response of `status` with a Location (has_location)
 * is followed: 301, 302, 303, 307, 308, when the request follows
 * redirects (its own choice, or the client's). */
int salvo__redirect_wanted(const salvo__req *r, int status, int has_location);
/* Whether another may be followed: SALVO_EREDIRECT (with *msg, the limit
 * named) when max_redirects are behind (the response's count, which
 * salvo__resp_follow keeps), else 0. */
int salvo__redirect_allowed(const salvo__req *r, const salvo__cfg *cfg,
                            char **msg);
/* Moves h on to where a response of `status` with Location loc[0..n)
 * sends it: 303 turns anything but HEAD into GET without a body, 301 and
 * 302 turn POST into GET (as browsers and curl do), the rest keep method
 * and body; only http and https are followed. 0, SALVO_EREDIRECT with
 * *msg (the limit, a Location not followed) or SALVO_ENOMEM. */
int salvo__redirect_follow(salvo__hop *h, const salvo__req *r,
                           const salvo__cfg *cfg, int status, const char *loc,
                           size_t n, char **msg);

/* The authentication hop (Digest, RFC 7616), as a redirect's, one
 * policy for both transports: whether a final response of `status` is
 * answered rather than returned: a 401, when the client's auth_scheme is
 * SALVO_AUTH_DIGEST with a username, to the request's own origin, not
 * answered yet on this hop (or answered unasked, from the origin's last
 * challenge), from a request with no Authorization of the caller's own. */
int salvo__auth_wanted(const salvo__req *r, const salvo__cfg *cfg,
                       const salvo__hop *h, int status);
/* The Digest challenges last answered, by origin, so that later requests
 * there answer at once, each with the next nonce count (RFC 7616 3.4:
 * nc counts the requests made with a nonce), rather than after a 401 of
 * their own. The engine's, on the I/O thread; NULL-safe. */
typedef struct salvo__auth_cache salvo__auth_cache;
salvo__auth_cache *salvo__auth_cache_new(void);
void salvo__auth_cache_free(salvo__auth_cache *c);
/* At an attempt's start, h (just started) answers the challenge r's
 * origin last had, when there is one (and the 401 salvo__auth_wanted
 * sees for that answer, a nonce gone stale, is answered once more). */
void salvo__auth_start(salvo__hop *h, const salvo__req *r,
                       const salvo__cfg *cfg, salvo__auth_cache *c);
/* Answers the Digest challenge of the 401 r's response holds (kept in c
 * for its origin's next requests): h->authz set, the response's head and
 * body forgotten, and 1: the same request
 * goes again (its body too: the caller chose a scheme that asks for it).
 * 0 when the 401 holds no Digest challenge (it is the answer);
 * SALVO_EPROTO with *msg when the challenge cannot be answered (no
 * nonce, an algorithm or qop not supported, a control character);
 * SALVO_ENOMEM. */
int salvo__auth_follow(salvo__hop *h, salvo__req *r, const salvo__cfg *cfg,
                       salvo__auth_cache *c, char **msg);

#endif /* SALVO_REDIRECT_H */
