/* A request as an HTTP/2 stream (the HTTP/2 room, with h2.c): the head
 * head.c wrote for HTTP/1.1 read back into fields, its body from memory,
 * whether a connection has room for it, the PING that goes first when a
 * request that must not be sent twice picks a connection idle a while,
 * and its paused reader's resumption. */
#define _GNU_SOURCE /* memrchr */
#include <stdlib.h>
#include <string.h>

#include "../field.h"
#include "h2.h"

static ssize_t read_body(nghttp2_session *s, int32_t sid, uint8_t *buf,
                         size_t len, uint32_t *flags, nghttp2_data_source *src,
                         void *ud) {
  (void)s, (void)sid, (void)ud;
  salvo__nxfer *x = src->ptr;
  const char *body = x->body ? x->body : x->out.p + x->head_len;
  size_t total = x->body ? x->body_len : x->out.len - x->head_len;
  size_t n = total - x->wpos < len ? total - x->wpos : len;
  memcpy(buf, body + x->wpos, n);
  x->wpos += n;
  if (x->wpos == total)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

/* Field names of HTTP/1.1 that have no place in HTTP/2 (RFC 9113
 * 8.2.2). (Host becomes :authority.) */
static int dropped(const char *n, size_t len) {
  static const char *const names[] = {"connection",       "keep-alive",
                                      "proxy-connection", "transfer-encoding",
                                      "upgrade",          "te"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strlen(names[i]) == len && !salvo__casecmp_n(n, names[i], len))
      return 1;
  return 0;
}

/* x's head, as head.c wrote it for HTTP/1.1, as HTTP/2 fields in nv (room
 * for max: one per line and the pseudo-fields); returns how many, or -1.
 * Names are lowered in place. */
static int fields(salvo__nxfer *x, nghttp2_nv *nv, int max) {
  char *p = x->out.p, *end = p + x->head_len;
  char *sp1 = memchr(p, ' ', (size_t)(end - p));
  char *eol = sp1 ? memchr(sp1, '\r', (size_t)(end - sp1)) : NULL;
  char *sp2 = eol ? memrchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
  if (!sp2)
    return -1;
#define NV(n, nl, v, vl)                                                       \
  nv[k++] = (nghttp2_nv) {                                                     \
    (uint8_t *)(n), (uint8_t *)(v), (nl), (vl), NGHTTP2_NV_FLAG_NO_COPY_NAME   \
  }
  int k = 0;
  NV(":method", 7, p, (size_t)(sp1 - p));
  NV(":scheme", 7, x->o->tls ? "https" : "http", x->o->tls ? 5 : 4);
  size_t alen = x->o->host_line_len - 8; /* "Host: " ... "\r\n" */
  NV(":authority", 10, x->o->host_line + 6, alen);
  NV(":path", 5, sp1 + 1, (size_t)(sp2 - sp1 - 1));
  for (p = eol + 2; p < end && *p != '\r' && k < max;) {
    char *nl = memchr(p, '\r', (size_t)(end - p));
    char *colon = memchr(p, ':', (size_t)(nl - p));
    if (!nl || !colon)
      return -1;
    size_t n = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vn = (size_t)(nl - v);
    salvo__ows_trim(&v, &vn);
    if (n == 4 && !salvo__casecmp_n(p, "Host", 4)) {
      /* The caller's own Host (head.c wrote it in place of the URL's):
       * the :authority, which a Host must not differ from (RFC 9113
       * 8.3.1), as libcurl sends it. */
      nv[2].value = (uint8_t *)v;
      nv[2].valuelen = vn;
    } else if (!dropped(p, n)) {
      for (size_t i = 0; i < n; i++)
        p[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
      NV(p, n, v, vn);
    }
    p = nl + 2;
  }
#undef NV
  return k < max ? k : -1;
}

int salvo__h2_room(const salvo__nconn *c) {
  const salvo__h2 *h = c->h2;
  if (!h || h->draining || !nghttp2_session_check_request_allowed(h->s))
    return 0;
  uint32_t max = nghttp2_session_get_remote_settings(
      h->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return (uint32_t)h->streams < max;
}

static int32_t submit(salvo__nconn *c, salvo__nxfer *x, nghttp2_nv *nv, int n);

int salvo__h2_request(salvo__transport *t, salvo__nconn *c, salvo__nxfer *x) {
  salvo__h2 *h = c->h2;
  if (salvo__hop_repeatable(&x->hop, x->req) || h->streams ||
      salvo__nat_now(t) - h->idle_since <= SALVO__NAT_H2_PING_NS)
    return salvo__h2_submit(t, c, x);
  /* Idle a while, and this request must not be sent twice: a PING first
   * (RFC 9113 6.7), its answer proving the connection alive; x waits on
   * its origin's list meanwhile, as for a lookup. */
  if (!h->pinging && nghttp2_submit_ping(h->s, NGHTTP2_FLAG_NONE, NULL))
    return SALVO_ENOMEM;
  h->pinging = 1;
  salvo__nat_wait(x);
  salvo__h2_want_flush(t, c);
  return 0;
}

int salvo__h2_submit(salvo__transport *t, salvo__nconn *c, salvo__nxfer *x) {
  /* A field per line of the head, and the four pseudo-fields. */
  int max = 4;
  for (const char *p = x->out.p; p < x->out.p + x->head_len; p++)
    max += *p == '\n';
  nghttp2_nv small[64];
  nghttp2_nv *nv = max <= 64 ? small : malloc((size_t)max * sizeof(*nv));
  if (!nv)
    return SALVO_ENOMEM;
  int n = fields(x, nv, max);
  int32_t sid = n < 0 ? -1 : submit(c, x, nv, n);
  if (nv != small)
    free(nv);
  if (n < 0) /* head.c's own head: a bug if ever seen */
    return SALVO_EINTERNAL;
  if (sid < 0)
    return sid == NGHTTP2_ERR_NOMEM ? SALVO_ENOMEM : SALVO_EIO;
  x->sid = sid;
  x->c = c;
  salvo__list_push_back(&c->h2->xfers, &x->in_conn);
  c->h2->streams++;
  salvo__h2_want_flush(t, c);
  return 0;
}

/* Submits x's request with its fields: the stream id, or an nghttp2
 * error. */
static int32_t submit(salvo__nconn *c, salvo__nxfer *x, nghttp2_nv *nv, int n) {
  nghttp2_data_provider body = {.source.ptr = x, .read_callback = read_body};
  size_t blen = x->body ? x->body_len : x->out.len - x->head_len;
  x->wpos = 0;
  x->writing = 0;
  x->h2_final = x->h2_head = x->h2_skip = x->h2_said_end = 0;
  x->h2_ended = x->h2_err = 0;
  return nghttp2_submit_request(c->h2->s, NULL, nv, (size_t)n,
                                blen ? &body : NULL, x);
}

void salvo__h2_resume(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->sid ? x->c : NULL; /* its stream still open */
  size_t used = 0;
  while (used < x->hold.len && !x->paused) {
    /* In pieces of a frame's size, as they came: a reader's buffer takes
     * a piece or not at all. */
    size_t n = x->hold.len - used < 16384 ? x->hold.len - used : 16384;
    int rc = salvo__nat_body(x, x->hold.p + used, n);
    if (rc == SALVO__H1_PAUSE) {
      x->paused = 1;
      break;
    }
    if (rc == SALVO__H1_HOLD)
      x->paused = 1;
    else if (rc) { /* fail resets the stream, when it is still open */
      x->h2_err = rc;
      t->report->fail(t, x, rc, salvo__nat_parse_message(x, rc));
      return;
    }
    if (c) /* the connection's window came back as it was kept */
      nghttp2_session_consume_stream(c->h2->s, x->sid, n);
    used += n;
  }
  memmove(x->hold.p, x->hold.p + used, x->hold.len - used);
  x->hold.len -= used;
  if (c) {
    salvo__h2_want_flush(t, c);
  } else if (x->h2_rest && !x->hold.len && !x->paused) {
    x->h2_rest = 0;
    t->report->complete(t, x);
  }
}
