/* Redirects: see redirect.h. */
#include "redirect.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digest.h"
#include "field.h"
#include "redact.h"
#include "response.h"
#include "url.h"
#include "url_ref.h"

void salvo__hop_start(salvo__hop *h, const salvo__req *r) {
  h->url = NULL;
  h->method = r->method;
  h->send_body = r->body != NULL;
  h->creds = 1;
  h->authz = NULL;
  h->early = 0;
}

int salvo__hop_repeatable(const salvo__hop *h, const salvo__req *r) {
  return r->idempotent || (h->method != r->method && !strcmp(h->method, "GET"));
}

/* Nearly every hop has none: a test, not a call to free. */
static void forget_authz(salvo__hop *h) {
  if (!h->authz)
    return;
  salvo__cleanse(h->authz, strlen(h->authz));
  free(h->authz);
  h->authz = NULL;
}

void salvo__hop_free(salvo__hop *h) {
  free(h->url);
  h->url = NULL;
  forget_authz(h);
}

const char *salvo__hop_url(const salvo__hop *h, const salvo__req *r) {
  return h->url ? h->url : r->url;
}

/* The statuses a redirect is followed for (RFC 9110 15.4). */
static int is_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 ||
         status == 308;
}

int salvo__redirect_wanted(const salvo__req *r, int status, int has_location) {
  return r->follow_redirects && has_location && is_redirect_status(status);
}

int salvo__redirect_allowed(const salvo__req *r, const salvo__cfg *cfg,
                            char **msg) {
  if (r->resp->redirects < cfg->max_redirects)
    return 0;
  *msg = salvo__fmt("Maximum (%d) redirects followed", cfg->max_redirects);
  return SALVO_EREDIRECT;
}

/* The hop a redirect of `status` with Location loc[0..n) makes from a
 * request sent with `method` (its body too when send_body) to `base`: to
 * next->url (allocated, absolute), with the method and body RFC 9110
 * 15.4 lets it keep, and credentials when it stays at `origin`. 303 turns
 * anything but HEAD into GET without a body, 301 and 302 turn POST into
 * GET (as browsers and curl do), the rest keep method and body. */
static int next_hop(const char *base, const char *origin, const char *method,
                    int send_body, int status, const char *loc, size_t n,
                    salvo__hop *next, char **msg) {
  int err = 0;
  *msg = NULL;
  char *to = salvo__url_resolve(base, loc, n, msg);
  if (!to)
    return *msg ? SALVO_EREDIRECT : SALVO_ENOMEM;
  char *o = salvo__url_origin(to, &err);
  if (!o) {
    free(to);
    return err == SALVO_ENOMEM ? SALVO_ENOMEM : SALVO_EREDIRECT;
  }
  next->creds = !strcmp(o, origin);
  free(o);
  next->authz = NULL;
  next->early = 0;
  next->url = to;
  next->method = method;
  next->send_body = send_body;
  if ((status == 303 && strcmp(method, "HEAD")) ||
      ((status == 301 || status == 302) && !strcmp(method, "POST"))) {
    next->method = "GET";
    next->send_body = 0;
  }
  return 0;
}

/* Whether resp has two Location fields that differ: a Location is one
 * URI (RFC 9110 10.2.2), and which of two the server meant is not known
 * (the native transport took the last, libcurl's the first). */
static int two_locations(const salvo_response *resp) {
  const char *first = NULL, *name, *v;
  for (size_t i = 0; !salvo_response_header_at(resp, i, &name, &v); i++) {
    if (salvo__casecmp_n(name, "Location", 9))
      continue;
    if (first && strcmp(first, v))
      return 1;
    first = v;
  }
  return 0;
}

int salvo__redirect_follow(salvo__hop *h, const salvo__req *r,
                           const salvo__cfg *cfg, int status, const char *loc,
                           size_t n, char **msg) {
  *msg = NULL;
  int err = salvo__redirect_allowed(r, cfg, msg);
  if (!err && two_locations(r->resp)) {
    *msg = salvo__fmt("a redirect with two Location fields that differ: "
                      "which one the server meant is not known (RFC 9110 "
                      "10.2.2)");
    return *msg ? SALVO_EREDIRECT : SALVO_ENOMEM;
  }
  salvo__hop next;
  if (err || (err = next_hop(salvo__hop_url(h, r), r->origin, h->method,
                             h->send_body, status, loc, n, &next, msg)))
    return err;
  /* The response it came as joins the history before the request moves
   * on: the caller sees every hop, a streamed response's too. */
  if (salvo__resp_follow(r->resp, h->method, salvo__hop_url(h, r), next.method,
                         next.url)) {
    free(next.url);
    return SALVO_ENOMEM;
  }
  salvo__hop_free(h);
  *h = next;
  return 0;
}

/* Whether the request or the client carries an Authorization of the
 * caller's own, which Digest leaves alone. */
static int own_authz(const salvo__req *r, const salvo__cfg *cfg) {
  return salvo__headers_have((const char *const *)r->headers, "Authorization",
                             13) ||
         salvo__headers_have((const char *const *)cfg->headers, "Authorization",
                             13);
}

int salvo__auth_wanted(const salvo__req *r, const salvo__cfg *cfg,
                       const salvo__hop *h, int status) {
  return status == 401 && cfg->auth_scheme == SALVO_AUTH_DIGEST &&
         cfg->username && h->creds && (!h->authz || h->early) &&
         !own_authz(r, cfg);
}

/* A few origins a client talks Digest to; past that the oldest entry
 * gives way. */
#define AUTH_CACHE_MAX 64

struct salvo__auth_cache {
  struct {
    char *origin;
    salvo__digest d;
    unsigned nc; /* answers made with d's nonce */
  } e[AUTH_CACHE_MAX];
  size_t n, next; /* entries; the one replaced next when full */
};

salvo__auth_cache *salvo__auth_cache_new(void) {
  return calloc(1, sizeof(salvo__auth_cache));
}

void salvo__auth_cache_free(salvo__auth_cache *c) {
  for (size_t i = 0; c && i < c->n; i++) {
    free(c->e[i].origin);
    salvo__digest_free(&c->e[i].d);
  }
  free(c);
}

static size_t cache_find(const salvo__auth_cache *c, const char *origin) {
  for (size_t i = 0; i < c->n; i++)
    if (!strcmp(c->e[i].origin, origin))
      return i;
  return SIZE_MAX;
}

/* Keeps d (taken) as origin's challenge, its first answer made; without
 * a cache, or memory for a new entry, d is let go. */
static void cache_keep(salvo__auth_cache *c, const char *origin,
                       salvo__digest *d) {
  size_t i = c ? cache_find(c, origin) : SIZE_MAX;
  if (c && i == SIZE_MAX) {
    char *o = salvo__strdup(origin);
    if (o) {
      i = c->n < AUTH_CACHE_MAX ? c->n++ : c->next++ % AUTH_CACHE_MAX;
      free(c->e[i].origin); /* the oldest's, when full */
      c->e[i].origin = o;
    }
  }
  if (i == SIZE_MAX) {
    salvo__digest_free(d);
    return;
  }
  salvo__digest_free(&c->e[i].d); /* a new entry's is all NULL */
  c->e[i].d = *d;
  c->e[i].nc = 1;
}

/* h's answer to d with nonce count nc: 0, or an error with *msg. */
static int answer(salvo__hop *h, const salvo__req *r, const salvo__cfg *cfg,
                  const salvo__digest *d, unsigned nc, char **msg) {
  char cnonce[17];
  if (salvo__digest_cnonce(cnonce)) {
    *msg = salvo__fmt("Digest authentication: no random bytes for the "
                      "client nonce");
    return SALVO_EINTERNAL;
  }
  const char *target, *why;
  size_t tlen;
  salvo__url_target(salvo__hop_url(h, r), &target, &tlen);
  forget_authz(h);
  h->authz = salvo__digest_answer(d, cfg->username, cfg->password, h->method,
                                  target, tlen, nc, cnonce, &why);
  if (h->authz)
    return 0;
  *msg = why ? salvo__fmt("Digest authentication: %s", why) : NULL;
  return why ? SALVO_EPROTO : SALVO_ENOMEM;
}

void salvo__auth_start(salvo__hop *h, const salvo__req *r,
                       const salvo__cfg *cfg, salvo__auth_cache *c) {
  if (!c || !c->n || own_authz(r, cfg)) /* c: only when Digest is asked */
    return;
  size_t i = cache_find(c, r->origin);
  char *msg = NULL;
  if (i != SIZE_MAX && !answer(h, r, cfg, &c->e[i].d, ++c->e[i].nc, &msg))
    h->early = 1;
  free(msg); /* kept challenges were answered once: this cannot fail */
}

int salvo__auth_follow(salvo__hop *h, salvo__req *r, const salvo__cfg *cfg,
                       salvo__auth_cache *c, char **msg) {
  salvo_response *resp = r->resp;
  const char *vals[16];
  size_t n = 0;
  for (size_t i = 0; i < salvo_response_header_count(resp) && n < 16; i++) {
    const char *name, *value;
    salvo_response_header_at(resp, i, &name, &value);
    if (!salvo__casecmp_n(name, "WWW-Authenticate", 17))
      vals[n++] = value;
  }
  salvo__digest d;
  int found = salvo__digest_parse(vals, n, &d);
  if (found <= 0)
    return found;
  int err = answer(h, r, cfg, &d, 1, msg);
  if (err) {
    salvo__digest_free(&d);
    return err;
  }
  h->early = 0; /* answered as asked: a 401 now is the answer */
  cache_keep(c, r->origin, &d);
  salvo__resp_forget(resp);
  return 1;
}

int salvo_redirect_next(const char *url, const char *method, int status,
                        const char *location, char **next_url,
                        const char **next_method, int *keeps_body,
                        int *same_origin, char **msg) {
  int err = 0;
  if (msg)
    *msg = NULL;
  if (!url || !method || !location || !next_url || !next_method ||
      !keeps_body || !same_origin || !is_redirect_status(status))
    return SALVO_EINVAL;
  char *origin = salvo__url_origin(url, &err), *why = NULL;
  if (!origin)
    return err;
  salvo__hop next;
  err = next_hop(url, origin, method, 1, status, location, strlen(location),
                 &next, &why);
  free(origin);
  if (msg)
    *msg = why;
  else
    free(why);
  if (err)
    return err;
  *next_url = next.url;
  *next_method = next.method;
  *keeps_body = next.send_body;
  *same_origin = next.creds;
  return 0;
}
