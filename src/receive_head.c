/* What a response's heads become (see receive.h): each line checked and
 * read once, its meaning kept (framing, codings), the final head judged
 * by its framing (RFC 9112 6.3) and handed over. */
#include <string.h>

#include "decode.h"
#include "field.h"
#include "h1.h"
#include "receive.h"
#include "receive_state.h"

static int named(const char *l, size_t nl, const char *name, size_t n) {
  return nl == n && !salvo__casecmp_n(l, name, n);
}

/* Transfer-Encoding: salvo undoes chunked, once and last, and nothing
 * else (RFC 9112 6.1): another coding would leave the body as sent. */
static int transfer_coding(salvo__req *r, const char *v, size_t n) {
  int any = 0;
  for (size_t i = 0; i < n;) {
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    size_t s = i;
    while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
      i++;
    if (i == s)
      continue;
    any = 1;
    if (!named(v + s, i - s, "chunked", 7))
      return salvo__recv_malformed(
          r, "a Transfer-Encoding other than chunked: salvo "
             "would hand over the body as sent");
    if (r->recv->head.chunked)
      return salvo__recv_malformed(r,
                                   "Transfer-Encoding chunked applied twice");
    r->recv->head.chunked = 1;
  }
  return any ? 0 : salvo__recv_malformed(r, "an empty Transfer-Encoding");
}

static int content_length(salvo__req *r, uint64_t len) {
  if (r->recv->head.has_len && r->recv->head.len != len)
    return salvo__recv_malformed(r, "conflicting Content-Length values");
  r->recv->head.has_len = 1;
  r->recv->head.len = len;
  /* Size the buffer once, but never trust a server with more than a
   * modest allocation up front. */
  size_t want = len > (1u << 20) ? (size_t)1 << 20 : (size_t)len;
  if (want > r->max_body)
    want = r->max_body;
  if (want && !r->recv->head.codings &&
      salvo__resp_reserve_body(r->resp, want, r->pool))
    return SALVO_ENOMEM;
  return 0;
}

/* What a field line says to the request, before it is kept. */
static int meaning(salvo__req *r, const salvo__h1_line *ln) {
  int rc = 0;
  switch (ln->name) {
  case SALVO__H1_CONTENT_LENGTH:
    rc = content_length(r, ln->len);
    break;
  case SALVO__H1_TRANSFER_ENCODING:
    rc = transfer_coding(r, ln->v, ln->vn);
    break;
  case SALVO__H1_CONTENT_ENCODING:
    r->recv->head.codings++;
    break;
  default:
    break;
  }
  return rc;
}

static int field(salvo__req *r, const salvo__h1_line *ln) {
  int rc = meaning(r, ln);
  return rc ? rc
            : salvo__resp_add_line(r->resp, ln->l, ln->name_len,
                                   (size_t)(ln->v - ln->l), ln->vn);
}

/* A status line: a new response begins (after a redirect or a 1xx), and
 * only the final one's headers and body are kept. */
static int status_line(salvo__req *r, const salvo__h1_line *ln) {
  salvo_response *resp = r->resp;
  size_t bytes = r->recv->head.bytes;
  memset(&r->recv->head, 0, sizeof(r->recv->head));
  r->recv->head.bytes = bytes;
  r->recv->head.lines = 1;
  r->recv->head_done = 0;
  salvo__recv_drop_decoder(r);
  salvo__resp_forget(resp);
  r->recv->head.status = ln->status;
  r->recv->head.version = ln->version;
  if (r->recv->head.status == 101)
    return salvo__recv_malformed(r, "an unexpected 101 Switching Protocols (no "
                                    "upgrade was asked for)");
  return 0;
}

/* The response's status and version, once its head has come whole and
 * framed: a head malformed or cut short leaves the response without a
 * status, whichever transport read it and however far it got (libcurl
 * hands over an HTTP/2 head only whole, nghttp2 in the native transport
 * a field at a time). */
void salvo__req_take_status(salvo__req *r) {
  const salvo__head *h = &r->recv->head;
  r->resp->status = h->status;
  memcpy(r->resp->http_version,
         h->version == 10   ? "1.0"
         : h->version == 11 ? "1.1"
                            : "2\0\0",
         4);
}

/* The decoder of the final response's Content-Encoding fields: their
 * codings in the fields' order. Out of line: most responses have none,
 * and head_end, which asks, is inlined where every head ends. */
static __attribute__((noinline)) int pick_decoder(salvo__req *r) {
  const char *name, *v, *why = NULL;
  int err = 0;
  for (size_t i = 0; !err && !salvo_response_header_at(r->resp, i, &name, &v);
       i++)
    if (!salvo__casecmp_n(name, "Content-Encoding", 17))
      err = salvo__decoder_add(&r->recv->dec, v, strlen(v), &why);
  if (err == SALVO_EPROTO) {
    r->recv->why = why;
    return SALVO_EDECODE;
  }
  return err;
}

/* The end of a head: a 1xx waits for the next; a final response is
 * judged by its framing (RFC 9112 6.3) and handed over when streamed. */
static int head_end(salvo__req *r) {
  salvo__head *h = &r->recv->head;
  h->lines = 0;
  r->recv->head_done = 1;
  int no_body = r->is_head || h->status == 204 || h->status == 304;
  if (h->status >= 200 && !no_body && h->chunked && h->has_len)
    return salvo__recv_malformed(
        r, "both Transfer-Encoding and Content-Length (RFC 9112 "
           "6.3: a sign of request smuggling)");
  if (h->status >= 200 && !no_body && h->chunked && h->version == 10)
    return salvo__recv_malformed(
        r, "Transfer-Encoding in an HTTP/1.0 response (RFC "
           "9112 6.1: faulty framing)");
  /* An interim answer (RFC 9110 15.2) is no status of the response's,
   * nor are its fields: a close before the final one leaves none, as
   * HTTP/2, which never hands a 1xx on, leaves none. */
  if (h->status < 200) {
    salvo__resp_clear_head(r->resp);
    return 0;
  }
  salvo__req_take_status(r);
  if (no_body)
    h->chunked = 0;
  int err = no_body || !r->decode || !h->codings ? 0 : pick_decoder(r);
  if (err)
    return err;
  /* A redirect's body is read past, never kept. */
  if (!r->recv->dec && h->has_len && h->len > r->max_body &&
      h->status / 100 != 3 && !salvo__req_streams(r) && !r->stream)
    return SALVO_ETOOBIG;
  return r->stream && h->status < 300 ? SALVO__EV_HEADERS : 0;
}

/* What a head may take in all and a line; the native framing holds its
 * lines to the same. */
static int head_bytes(salvo__req *r, size_t len) {
  r->recv->head.bytes += len + 2;
  if (r->recv->head.bytes > SALVO__H1_HEAD_MAX)
    return salvo__recv_malformed(r,
                                 "response headers too large (over 256 KiB)");
  if (len > SALVO__H1_LINE_MAX)
    return salvo__recv_malformed(
        r, "response header too large (a line over 100 KiB)");
  return 0;
}

static int on_line(salvo__req *r, const salvo__h1_line *ln) {
  r->recv->head.lines++;
  switch (ln->kind) {
  case SALVO__H1_STATUS_LINE:
    return status_line(r, ln);
  case SALVO__H1_END_LINE:
    return head_end(r);
  default:
    return field(r, ln);
  }
}

int salvo__req_on_header(salvo__req *r, const char *line, size_t len) {
  int rc = salvo__recv_current(r);
  if (rc || r->resp->stream)
    return rc; /* trailers after a hand-over: the response is the caller's */
  if ((rc = head_bytes(r, len)))
    return salvo__recv_kept(r, rc);
  salvo__h1_line ln;
  const char *why =
      salvo__h1_read_line(line, len, r->recv->head.lines == 0, &ln);
  return salvo__recv_kept(r, why ? salvo__recv_malformed(r, why)
                                 : on_line(r, &ln));
}

int salvo__req_on_line(salvo__req *r, const salvo__h1_line *ln) {
  int rc = salvo__recv_current(r);
  if (rc || r->resp->stream)
    return rc;
  if ((rc = head_bytes(r, ln->n)))
    return salvo__recv_kept(r, rc);
  return salvo__recv_kept(r, on_line(r, ln));
}

/* Whether the transport sees line ln first (see salvo__req_on_head): the
 * blank line, and the fields it named. */
static int transport_sees(const salvo__h1_line *ln, unsigned names) {
  return ln->kind == SALVO__H1_END_LINE || (names >> ln->name & 1);
}

/* A head a line at a time: where one of its lines may trip a limit, or
 * the response is already the caller's. */
static int head_by_line(salvo__req *r, const salvo__h1_line *ln, size_t n,
                        salvo__seen_fn seen, unsigned names, void *ctx) {
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (seen && transport_sees(&ln[i], names) && (rc = seen(ctx, &ln[i])))
      return rc;
    rc = salvo__req_on_line(r, &ln[i]);
  }
  return rc;
}

/* The bytes ln[0..n) count against the head's limits (head_bytes), or 0
 * when one of them could trip a limit. The lines lie in order in one
 * buffer: none is longer than the span from the first to the last. */
static size_t head_fits(const salvo__req *r, const salvo__h1_line *ln,
                        size_t n) {
  if ((size_t)(ln[n - 1].l - ln[0].l) > SALVO__H1_LINE_MAX)
    return 0;
  size_t bytes = 2 * n;
  for (size_t i = 0; i < n; i++)
    bytes += ln[i].n;
  return r->recv->head.bytes + bytes <= SALVO__H1_HEAD_MAX ? bytes : 0;
}

/* The lines of a head in one call, each as salvo__req_on_line would take
 * it and in the same order, with `seen` (the transport's own reading)
 * called first for the lines it reads. The request is looked up once,
 * the limits counted once, the field lines copied once (then cut in
 * place), and a field salvo does not act on costs only its keeping. */
int salvo__req_on_head(salvo__req *r, const salvo__h1_line *ln, size_t n,
                       salvo__seen_fn seen, unsigned names, void *ctx) {
  int rc = salvo__recv_current(r);
  if (rc)
    return rc;
  size_t bytes = r->resp->stream ? 0 : head_fits(r, ln, n);
  if (!bytes)
    return head_by_line(r, ln, n, seen, names, ctx);
  r->recv->head.bytes += bytes;
  if ((rc = status_line(r, &ln[0])))
    return salvo__recv_kept(r, rc);
  const char *base = ln[1].l; /* the first field line, or the blank one */
  size_t at = 0;
  if (n > 2 && (rc = salvo__resp_add_block(
                    r->resp, base, (size_t)(ln[n - 1].l - base), n - 2, &at)))
    return salvo__recv_kept(r, rc);
  for (size_t i = 1; i + 1 < n; i++) {
    const salvo__h1_line *f = &ln[i];
    if (f->name != SALVO__H1_OTHER && f->name != SALVO__H1_CONTENT_TYPE) {
      if (seen && transport_sees(f, names) && (rc = seen(ctx, f)))
        return rc;
      if ((rc = meaning(r, f)))
        return salvo__recv_kept(r, rc);
    }
    r->recv->head.lines++;
    salvo__resp_keep(r->resp, at + (size_t)(f->l - base), f->name_len,
                     (size_t)(f->v - f->l) + f->vn,
                     f->name == SALVO__H1_CONTENT_TYPE);
  }
  if (seen && (rc = seen(ctx, &ln[n - 1])))
    return rc;
  return salvo__recv_kept(r, head_end(r));
}
