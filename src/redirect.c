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

int salvo__redirect_wanted(const salvo__req *r, int status, int has_location) {
  return r->follow_redirects && has_location &&
         (status == 301 || status == 302 || status == 303 || status == 307 ||
          status == 308);
}

int salvo__redirect_allowed(const salvo__req *r, const salvo__cfg *cfg,
                            char **msg) {
  if (r->resp->redirects < cfg->max_redirects)
    return 0;
  *msg = salvo__fmt("Maximum (%d) redirects followed", cfg->max_redirects);
  return SALVO_EREDIRECT;
}

int salvo__redirect_follow(salvo__hop *h, const salvo__req *r,
                           const salvo__cfg *cfg, int status, const char *loc,
                           size_t n, char **msg) {
  *msg = NULL;
  int err = salvo__redirect_allowed(r, cfg, msg);
  if (err)
    return err;
  char *to = salvo__url_resolve(salvo__hop_url(h, r), loc, n, msg);
  if (!to)
    return *msg ? SALVO_EREDIRECT : SALVO_ENOMEM;
  char *origin = salvo__url_origin(to, &err);
  if (!origin) {
    free(to);
    return err == SALVO_ENOMEM ? SALVO_ENOMEM : SALVO_EREDIRECT;
  }
  int creds = !strcmp(origin, r->origin);
  free(origin);
  const char *method = h->method;
  int send_body = h->send_body;
  if ((status == 303 && !r->is_head) ||
      ((status == 301 || status == 302) && !strcmp(method, "POST"))) {
    method = r->is_head ? "HEAD" : "GET";
    send_body = 0;
  }
  /* The response it came as joins the history before the request moves
   * on: the caller sees every hop, a streamed response's too. */
  if (salvo__resp_follow(r->resp, h->method, salvo__hop_url(h, r), method,
                         to)) {
    free(to);
    return SALVO_ENOMEM;
  }
  h->creds = creds;
  h->method = method;
  h->send_body = send_body;
  free(h->url);
  h->url = to;
  return 0;
}
