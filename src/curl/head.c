/*
 * A response's head as libcurl gives it, a line at a time through its
 * header callback, read as the native transports read the same bytes.
 * Over HTTP/2 the lines are libcurl's own rendering of nghttp2's fields
 * ("HTTP/2 200", "name: value"), and its trailers come the same way after
 * the body.
 */
#include <stdlib.h>
#include <string.h>

#include "../clock.h"
#include "../cookie.h"
#include "../field.h"
#include "../h1_fold.h"
#include "internal.h"

/* The end of a final head: a chunked body will be de-chunked here; a
 * redirect to follow has its body dropped, or ends the attempt when no
 * more may be followed. */
static int head_ended(salvo__curl_xfer *x) {
  salvo__transport *t = x->mh->t;
  const salvo_response *resp = x->req->resp;
  if (resp->status < 200)
    return 0;
  x->head_final = 1;
  if (salvo__req_ends_at_close(x->req))
    salvo__curl_tls_watch(x);
  if (salvo__req_chunked(x->req)) {
    x->chunks = 1;
    salvo__h1_init(&x->dechunk, 0);
    x->dechunk.state = SALVO__H1_CHUNK_SIZE;
  }
  x->authing = resp->status == 401 &&
               salvo__auth_wanted(x->req, t->cfg, &x->hop, resp->status);
  if (!salvo__redirect_wanted(x->req, resp->status,
                              salvo_response_header(resp, "Location") != NULL))
    return 0;
  char *msg = NULL;
  int err = salvo__redirect_allowed(x->req, t->cfg, &msg);
  free(msg); /* said again when the attempt ends */
  x->redirecting = !err;
  return err;
}

/* libcurl writes an HTTP/2 response's status line as "HTTP/2 200"; it
 * reads those bytes from an HTTP/1.1 connection as a status line too. */
int salvo__curl_speaks_h2(salvo__transport *t, salvo__curl_xfer *x) {
  if (strncmp(salvo__hop_url(&x->hop, x->req), "https:", 6))
    return t->cfg->http_version == SALVO_HTTP_2_PRIOR_KNOWLEDGE ||
           (x->port && t->ports[x->port].h2c);
  return salvo__curl_alpn_proto(x->easy) == SALVO__CURL_MUX;
}

/* Whether line p[0..len), the first of x's hop, is the 101 Switching
 * Protocols that answers the upgrade libcurl asks for: cleartext HTTP/2
 * (RFC 7540 3.2), on a connection not upgraded yet. */
static int switches(salvo__transport *t, salvo__curl_xfer *x, const char *p,
                    size_t len) {
  return len >= 12 && !memcmp(p, "HTTP/1.1 101", 12) &&
         (len == 12 || p[12] == ' ' || p[12] == '\r') &&
         t->cfg->http_version == SALVO_HTTP_2 &&
         !strncmp(salvo__hop_url(&x->hop, x->req), "http:", 5);
}

/* A line of that 101, read past: its head is the connection's, not the
 * response's (the final one follows over HTTP/2). Its blank line ends it,
 * and it must have switched to what was asked for (RFC 9110 7.8): then
 * the connection speaks HTTP/2 from here on, for the requests that reuse
 * it too. Why it is refused, or NULL. */
static const char *switching_line(salvo__curl_xfer *x, const char *p,
                                  size_t len) {
  salvo__transport *t = x->mh->t;
  salvo__h1_line ln;
  const char *why = salvo__h1_read_line(p, len, 0, &ln);
  x->aside_bytes += len + 2;
  if (!why && x->aside_bytes > SALVO__H1_HEAD_MAX)
    why = "response headers too large (over 256 KiB)";
  if (why)
    return why;
  if (ln.kind == SALVO__H1_END_LINE) {
    if (!x->to_h2c)
      return "a 101 Switching Protocols to other than the h2c asked for "
             "(RFC 9110 7.8)";
    x->switching = 0;
    if (x->port)
      t->ports[x->port].h2c = 1;
  } else if (ln.name_len == 7 && !salvo__casecmp_n(ln.l, "Upgrade", 7)) {
    x->to_h2c = ln.vn == 3 && !salvo__casecmp_n(ln.v, "h2c", 3);
  }
  return NULL;
}

/* Why an HTTP/2 field line as libcurl writes it ("name: value", p[0..len)
 * without its CRLF) is malformed where nghttp2 in the native transport
 * says so, or NULL. libcurl 7.88 turns off nghttp2's check of a value's
 * ends, which RFC 9113 8.2.1 makes a MUST. */
static const char *h2_field_refused(const char *p, size_t len) {
  const char *colon = memchr(p, ':', len);
  if (!colon || (size_t)(colon - p) + 2 > len || colon[1] != ' ')
    return NULL; /* not libcurl's rendering: judged as a field line */
  const char *v = colon + 2;
  size_t vn = (size_t)(p + len - v), kept = vn;
  salvo__ows_trim(&v, &kept);
  if (kept != vn)
    return "malformed HTTP/2 response: a field value starts or ends with "
           "whitespace (RFC 9113 8.2.1)";
  return NULL;
}

/* Why a trailer is refused, or NULL: a line after a final response's
 * head, which libcurl gives after an HTTP/2 body (HTTP/1.1's are read by
 * the de-chunker, h1.c). Checked as a field line and read past, not kept,
 * as the native transports read theirs (RFC 9110 6.5.1). */
static const char *trailer_refused(salvo__curl_xfer *x, const char *p,
                                   size_t len) {
  size_t name_len;
  const char *why = len ? salvo__h1_check_field(p, len, &name_len) : NULL;
  x->aside_bytes += len + 2;
  if (!why && x->aside_bytes > SALVO__H1_HEAD_MAX)
    why = "trailers too large (over 256 KiB)";
  return why;
}

/* A line of the head: to the request, and Set-Cookie to the jar. */
static int take_line(salvo__curl_xfer *x, const char *p, size_t len) {
  salvo__transport *t = x->mh->t;
  int rc = salvo__req_on_header(x->req, p, len);
  if (!rc && t->ev.jar && len > 11 && !salvo__casecmp_n(p, "Set-Cookie:", 11))
    rc = salvo__jar_set(t->ev.jar, salvo__hop_url(&x->hop, x->req), p + 11,
                        len - 11);
  if ((!rc || rc == SALVO__EV_HEADERS) && len == 0) {
    int hr = head_ended(x);
    rc = hr ? hr : rc;
  }
  return rc;
}

/* A head's line in the order its bytes came, with each field line held
 * until the next line says whether it continues it: a continuation is
 * joined to it (RFC 9112 5.2), any other line lets it go first. */
static int head_line(salvo__curl_xfer *x, const char *p, size_t len) {
  size_t name_len;
  if (x->holding && len && salvo__h1_continues(p[0]))
    return (x->bad_line = salvo__h1_fold_add(&x->held, p, len)) ||
                   (x->bad_line = salvo__h1_check_field(x->held.p, x->held.len,
                                                        &name_len))
               ? SALVO_EPROTO
               : 0;
  if (x->holding) {
    x->holding = 0;
    int rc = take_line(x, x->held.p, x->held.len);
    if (rc)
      return rc;
  }
  if (len && x->head_lines > 1 && salvo__h1_continues(p[0])) {
    x->bad_line = SALVO__H1_FRAMING_FOLD; /* see the held line's rule */
    return SALVO_EPROTO;
  }
  if (len && x->head_lines++ && !salvo__h1_continues(p[0]) &&
      !salvo__header_is_framing(p)) {
    if ((x->bad_line = salvo__h1_check_field(p, len, &name_len)))
      return SALVO_EPROTO;
    x->held.len = 0;
    x->holding = 1;
    return salvo__buf_append(&x->held, p, len) ? SALVO_ENOMEM : 0;
  }
  if (!len)
    x->head_lines = 0;
  return take_line(x, p, len);
}

/* The reader paces the body from here: the attempt's time limit gives way
 * to a read timeout, kept by this transport (transport.c's timer): its
 * timeout counted from each piece of the body, not while it is paused.
 * (libcurl's low-speed check averages over five seconds, and would end a
 * stream that only sends a few bytes a while.) */
static void read_timeout(salvo__curl_xfer *x) {
  salvo__transport *t = x->mh->t;
  curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 0L);
  x->read_timeout = x->req->attempt_timeout_ms * 1000000;
  if (!x->read_timeout)
    return;
  salvo__curl_read_from_now(t, x, salvo__clock_ns(t->ev.clock));
  salvo__list_push_back(&t->reading, &x->in_reading);
}

size_t salvo__curl_on_header(char *p, size_t size, size_t n, void *userp) {
  salvo__curl_xfer *x = userp;
  salvo__transport *t = x->mh->t;
  size_t got = size * n, len = got;
  if (!x->header_seen && switches(t, x, p, len)) {
    x->header_seen = x->switching = 1;
    x->aside_bytes = len;
    return got;
  }
  x->header_seen = 1;
  if (got > 6 && !memcmp(p, "HTTP/2", 6) && (p[6] == ' ' || p[6] == '\r')) {
    if (!salvo__curl_speaks_h2(t, x)) {
      x->bad_line = SALVO__H1_NOT_H1;
      return 0;
    }
    x->h2_lines = 1;
  }
  if (!x->tfirst)
    x->tfirst = salvo__clock_ns(t->ev.clock);
  /* libcurl gives lines with their ending: one LF, and one CR before. */
  if (len && p[len - 1] == '\n')
    len--;
  if (len && p[len - 1] == '\r')
    len--;
  if (x->switching)
    return (x->bad_line = switching_line(x, p, len)) ? 0 : got;
  if (x->h2_lines && (x->bad_line = h2_field_refused(p, len)))
    return 0;
  if (x->head_final)
    return (x->bad_line = trailer_refused(x, p, len)) ? 0 : got;
  int rc = head_line(x, p, len);
  if (rc == SALVO__EV_HEADERS) {
    read_timeout(x);
    t->ev.headers(t->ev.ctx, x->req);
    rc = 0;
  }
  if (rc == SALVO_EREDIRECT)
    x->too_many = 1;
  return rc ? 0 : got;
}
