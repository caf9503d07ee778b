/* The HTTP/1.1 request head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../decode.h"
#include "../field.h"
#include "../redact.h"
#include "../url.h"
#include "head.h"

static int has_hdr(const char *const *list, const char *name) {
  return salvo__headers_have(list, name, strlen(name));
}

/* Whether header h is one salvo writes itself (the framing, the Cookie
 * field the jar's cookies join) or one that asks to send nothing
 * ("Name:"). */
static int skip_hdr(const char *h, int creds) {
  size_t n = salvo__header_name_len(h);
  if (!*salvo__header_value(h))
    return 1;
  if (salvo__header_is_framing(h) ||
      (n == 6 && !salvo__casecmp_n(h, "Cookie", 6)))
    return 1;
  /* Credentials the caller wrote stay with the first origin too, and so
   * does a Host of the caller's own (RFC 9112 3.2: the next origin's is
   * its own). */
  return !creds && ((n == 13 && !salvo__casecmp_n(h, "Authorization", 13)) ||
                    (n == 4 && !salvo__casecmp_n(h, "Host", 4)));
}

/* The caller's own Cookie value for this hop (the request's, else the
 * client's), or NULL: it goes to the first origin only. */
static const char *own_cookie(const char *const *rh, const char *const *ch,
                              int creds) {
  if (!creds)
    return NULL;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; (k ? ch : rh) && (k ? ch : rh)[i]; i++) {
      const char *h = (k ? ch : rh)[i];
      if (salvo__header_name_len(h) == 6 && !salvo__casecmp_n(h, "Cookie", 6))
        return salvo__header_value(h);
    }
  return NULL;
}

static int put_line(salvo__buf *b, const char *h) {
  return salvo__buf_append(b, h, strlen(h)) || salvo__buf_append(b, "\r\n", 2);
}

/* User-Agent, Accept and Accept-Encoding, unless the client's (ch) or the
 * request's (rh, NULL: none) headers name them. */
static int put_defaults(const salvo__head_writer *w, const char *const *rh,
                        salvo__buf *b) {
  const salvo__cfg *cfg = w->cfg;
  int rc = 0;
  if (cfg->user_agent && !w->ua && !has_hdr(rh, "User-Agent"))
    rc |= salvo__buf_append(b, "User-Agent: ", 12) ||
          put_line(b, cfg->user_agent);
  if (!w->accept && !has_hdr(rh, "Accept"))
    rc |= salvo__buf_append(b, "Accept: */*\r\n", 13);
  if (cfg->compression && !w->ae && !has_hdr(rh, "Accept-Encoding"))
    rc |= put_line(b, "Accept-Encoding: " SALVO__ACCEPT_ENCODING);
  return rc;
}

int salvo__head_writer_init(salvo__head_writer *w, const salvo__cfg *cfg) {
  const char *const *ch = (const char *const *)cfg->headers;
  salvo__buf b = {0};
  *w = (salvo__head_writer){.cfg = cfg};
  w->host = has_hdr(ch, "Host");
  w->ua = has_hdr(ch, "User-Agent");
  w->accept = has_hdr(ch, "Accept");
  w->ae = has_hdr(ch, "Accept-Encoding");
  w->authz = has_hdr(ch, "Authorization");
  if (put_defaults(w, NULL, &b) || salvo__buf_reserve(&b, 1)) {
    salvo__buf_free(&b);
    return SALVO_ENOMEM;
  }
  w->fixed = b.p;
  w->fixed_len = b.len;
  if (!cfg->auth_header)
    return 0;
  if (!(w->auth = salvo__fmt("%s\r\n", cfg->auth_header))) {
    salvo__head_writer_free(w);
    return SALVO_ENOMEM;
  }
  w->auth_len = strlen(w->auth);
  return 0;
}

void salvo__head_writer_free(salvo__head_writer *w) {
  free(w->fixed);
  if (w->auth)
    salvo__cleanse(w->auth, w->auth_len);
  free(w->auth);
  *w = (salvo__head_writer){0};
}

/* n bytes at p into room already reserved in b. */
static void put(salvo__buf *b, const char *p, size_t n) {
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

int salvo__head_write(const salvo__head_writer *w, const salvo__head_args *a,
                      salvo__buf *b) {
  const char *const *rh = a->headers;
  const char *const *ch = (const char *const *)w->cfg->headers;
  const char *target;
  size_t tlen;
  int rc = 0;
  if (a->target)
    target = a->target, tlen = a->target_len;
  else
    salvo__url_target(a->url, &target, &tlen);
  /* The pieces every request has, in room reserved once: a GET without
   * headers of its own is these and the blank line. */
  size_t mlen = strlen(a->method);
  b->len = 0;
  if (salvo__buf_reserve(b, mlen + 2 + tlen + 11 + a->host_line_len +
                                w->auth_len + w->fixed_len))
    return SALVO_ENOMEM;
  put(b, a->method, mlen);
  put(b, " /", tlen && *target == '/' ? 1 : 2);
  put(b, target, tlen);
  put(b, " HTTP/1.1\r\n", 11);
  if (!a->creds || (!w->host && !has_hdr(rh, "Host")))
    put(b, a->host_line, a->host_line_len);
  if (w->auth && a->creds && !w->authz && !has_hdr(rh, "Authorization"))
    put(b, w->auth, w->auth_len);
  if (a->nheaders == 0)
    put(b, w->fixed, w->fixed_len);
  else
    rc |= put_defaults(w, rh, b);
  if (a->send_body || salvo__method_says_length(a->method)) {
    char cl[40];
    int n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n",
                     a->send_body ? a->body_len : 0);
    rc |= salvo__buf_append(b, cl, (size_t)n);
  }
  const char *mine = own_cookie(rh, ch, a->creds);
  if (mine || (a->jar && salvo__jar_count(a->jar)))
    rc |= salvo__jar_header(a->jar, a->url, mine, b);
  for (size_t i = 0; ch[i]; i++)
    if (!skip_hdr(ch[i], a->creds) &&
        !salvo__headers_have(rh, ch[i], salvo__header_name_len(ch[i])))
      rc |= put_line(b, ch[i]);
  for (size_t i = 0; i < a->nheaders; i++)
    if (!skip_hdr(rh[i], a->creds))
      rc |= put_line(b, rh[i]);
  /* A Digest answer (a hop's, to the request's own origin only) is rare:
   * written last, outside the room reserved above. */
  if (a->authz)
    rc |= salvo__buf_append(b, a->authz, strlen(a->authz)) ||
          salvo__buf_append(b, "\r\n", 2);
  rc |= salvo__buf_append(b, "\r\n", 2);
  return rc ? SALVO_ENOMEM : 0;
}
