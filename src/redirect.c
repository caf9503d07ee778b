/* Redirects: see redirect.h. */
#include "redirect.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "response.h"
#include "url.h"

void salvo__hop_start(salvo__hop *h, const salvo__req *r) {
  h->url = NULL;
  h->method = r->method;
  h->send_body = r->body != NULL;
  h->creds = 1;
}

void salvo__hop_free(salvo__hop *h) {
  free(h->url);
  h->url = NULL;
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

int salvo__redirect_follow(salvo__hop *h, const salvo__req *r,
                           const salvo__cfg *cfg, int status, const char *loc,
                           size_t n, char **msg) {
  *msg = NULL;
  int err = salvo__redirect_allowed(r, cfg, msg);
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
  free(h->url);
  *h = next;
  return 0;
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
