/* What a response's bytes become: see receive.h. */
#include "receive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "field.h"
#include "h1.h"
#include "stream.h"

/* Decoded bytes are handed on in steps of this size, so that a paused
 * reader holds one step and the input not decoded yet, never a whole
 * decompression bomb. */
#define STEP (16 * 1024)

/* An attempt's receiving state: allocated at its request's first data
 * event, reset at the first of each new attempt, so that a request
 * waiting in the queue carries none of it. */
struct salvo__recv {
  int attempt;      /* the attempt it belongs to */
  int fail;         /* an error that stopped the transfer, or 0 */
  const char *why;  /* what was malformed, or why output_path was refused
                     (a constant string), or NULL */
  int fail_errno;   /* errno behind SALVO_EWRITE */
  int out_fd;       /* output_path while open, else -1 */
  int head_done;    /* the blank line after the last status line came */
  salvo__head head; /* the response being read */
  struct salvo__decoder *dec; /* its content coding, or NULL */
  int fed;                    /* encoded bytes went to dec */
  salvo__buf held;            /* decoded bytes the reader has not taken */
  size_t held_off;
  salvo__buf held_in;       /* encoded bytes not decoded yet (reader full) */
  salvo__recv_cache *cache; /* where it goes back to, or NULL */
  salvo__recv *next_free;   /* in the cache */
};

static void close_output(salvo__req *r) {
  if (r->recv->out_fd >= 0)
    close(r->recv->out_fd);
  r->recv->out_fd = -1;
}

static void drop_decoder(salvo__req *r) {
  salvo__decoder_free(r->recv->dec);
  r->recv->dec = NULL;
  r->recv->fed = 0;
  r->recv->held.len = r->recv->held_off = r->recv->held_in.len = 0;
}

static void recv_free(salvo__recv *v) {
  if (v->out_fd >= 0)
    close(v->out_fd);
  salvo__decoder_free(v->dec);
  salvo__buf_free(&v->held);
  salvo__buf_free(&v->held_in);
  salvo__recv_cache *c = v->cache;
  if (c && c->n < SALVO__RECV_CACHE_MAX) {
    v->next_free = c->free;
    c->free = v;
    c->n++;
    return;
  }
  free(v);
}

void salvo__recv_cache_drain(salvo__recv_cache *c) {
  for (salvo__recv *v = c->free, *next; v; v = next) {
    next = v->next_free;
    free(v);
  }
  c->free = NULL;
  c->n = 0;
}

/* A zeroed receive state, from r's cache when it has one. */
static salvo__recv *recv_new(salvo__req *r) {
  salvo__recv_cache *c = r->recv_cache;
  salvo__recv *v = c ? c->free : NULL;
  if (v) {
    c->free = v->next_free;
    c->n--;
  } else if (!(v = malloc(sizeof(*v)))) {
    return NULL;
  }
  memset(v, 0, sizeof(*v));
  v->cache = c;
  v->out_fd = -1;
  return v;
}

/* The state of the attempt running now, or NULL when it has none yet. */
static const salvo__recv *now_of(const salvo__req *r) {
  return r->recv && r->recv->attempt == salvo__req_attempts(r) ? r->recv : NULL;
}

/* The current attempt's state of r, made or reset as needed: 0, or
 * SALVO_ENOMEM. A new attempt writes the output file from its start
 * again. */
static int renew(salvo__req *r) {
  int attempt = salvo__req_attempts(r);
  if (!r->recv) {
    if (!(r->recv = recv_new(r)))
      return SALVO_ENOMEM;
    r->recv_free = recv_free;
  } else {
    close_output(r);
    drop_decoder(r);
    r->recv->fail = 0;
    r->recv->why = NULL;
    r->recv->head_done = 0;
    memset(&r->recv->head, 0, sizeof(r->recv->head));
  }
  r->recv->attempt = attempt;
  return 0;
}

/* Every line and piece of body asks: inline, so that the usual answer
 * (the state is this attempt's) costs a compare. */
static inline int current(salvo__req *r) { return now_of(r) ? 0 : renew(r); }

int salvo__req_failure(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  return v ? v->fail : 0;
}

int salvo__req_status(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  return v ? v->head.status : 0;
}

int salvo__req_head_done(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  return v && v->head_done;
}

char *salvo__req_fail_message(const salvo__req *r) {
  if (!salvo__req_failure(r))
    return NULL;
  switch (r->recv->fail) {
  case SALVO_ETOOBIG:
    return salvo__fmt("response body exceeds max_body (%zu bytes)",
                      r->max_body);
  case SALVO_ECALLBACK:
    return salvo__fmt("on_data callback stopped the transfer");
  case SALVO_EWRITE:
    return salvo__fmt("writing %s: %s", r->output_path,
                      r->recv->why ? r->recv->why
                                   : strerror(r->recv->fail_errno));
  case SALVO_EPROTO:
    return salvo__fmt("%s", r->recv->why ? r->recv->why : "malformed response");
  case SALVO_EDECODE:
    return salvo__fmt("%s", r->recv->why ? r->recv->why : "corrupt body");
  default:
    return NULL;
  }
}

/* The data events keep the error that stops a transfer, and what was
 * wrong, for its message. */
static int kept(salvo__req *r, int rc) {
  if (rc < 0)
    r->recv->fail = rc;
  return rc;
}

static int malformed(salvo__req *r, const char *why) {
  r->recv->why = why;
  return SALVO_EPROTO;
}

int salvo__req_chunked(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  return v && v->head.chunked;
}

int salvo__req_ends_at_close(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  const salvo__head *h = v ? &v->head : NULL;
  return h && h->version < 20 && !h->has_len && !h->chunked && !r->is_head &&
         h->status >= 200 && h->status != 204 && h->status != 304;
}

/* ---- heads ----------------------------------------------------------------
 */

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
      return malformed(r, "a Transfer-Encoding other than chunked: salvo "
                          "would hand over the body as sent");
    if (r->recv->head.chunked)
      return malformed(r, "Transfer-Encoding chunked applied twice");
    r->recv->head.chunked = 1;
  }
  return any ? 0 : malformed(r, "an empty Transfer-Encoding");
}

static int content_length(salvo__req *r, uint64_t len) {
  if (r->recv->head.has_len && r->recv->head.len != len)
    return malformed(r, "conflicting Content-Length values");
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
  drop_decoder(r);
  resp->nhdrs = 0;
  resp->hdrs.len = 0;
  resp->body.len = 0;
  resp->status = 0;
  resp->http_version[0] = '\0';
  r->recv->head.status = ln->status;
  r->recv->head.version = ln->version;
  if (r->recv->head.status == 101)
    return malformed(r, "an unexpected 101 Switching Protocols (no "
                        "upgrade was asked for)");
  return 0;
}

/* The response's status and version, once its head has come whole and
 * framed: a head malformed or cut short leaves the response without a
 * status, whichever transport read it and however far it got (libcurl
 * hands over an HTTP/2 head only whole, nghttp2 in the native transport
 * a field at a time). */
static void take_status(salvo__req *r) {
  const salvo__head *h = &r->recv->head;
  r->resp->status = h->status;
  memcpy(r->resp->http_version,
         h->version == 10   ? "1.0"
         : h->version == 11 ? "1.1"
                            : "2\0\0",
         4);
}

/* The decoder of the final response's Content-Encoding, when it has one
 * and the client decodes. */
static int pick_decoder(salvo__req *r) {
  if (!r->decode || !r->recv->head.codings)
    return 0; /* most responses: no header to look up */
  const char *v = salvo_response_header(r->resp, "Content-Encoding");
  int err = 0;
  if (r->recv->head.codings == 1)
    r->recv->dec = salvo__decoder_new(v, strlen(v), &err);
  else
    err = SALVO_EPROTO;
  if (err == SALVO_EPROTO) {
    r->recv->why =
        "a Content-Encoding salvo does not decode (it decodes one of "
        "gzip, deflate, br, zstd)";
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
    return malformed(r, "both Transfer-Encoding and Content-Length (RFC 9112 "
                        "6.3: a sign of request smuggling)");
  if (h->status >= 200 && !no_body && h->chunked && h->version == 10)
    return malformed(r, "Transfer-Encoding in an HTTP/1.0 response (RFC "
                        "9112 6.1: faulty framing)");
  take_status(r);
  if (h->status < 200)
    return 0;
  if (no_body)
    h->chunked = 0;
  int err = no_body ? 0 : pick_decoder(r);
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
    return malformed(r, "response headers too large (over 256 KiB)");
  if (len > SALVO__H1_LINE_MAX)
    return malformed(r, "response header too large (a line over 100 KiB)");
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
  int rc = current(r);
  if (rc || r->resp->stream)
    return rc; /* trailers after a hand-over: the response is the caller's */
  if ((rc = head_bytes(r, len)))
    return kept(r, rc);
  salvo__h1_line ln;
  const char *why =
      salvo__h1_read_line(line, len, r->recv->head.lines == 0, &ln);
  return kept(r, why ? malformed(r, why) : on_line(r, &ln));
}

int salvo__req_on_line(salvo__req *r, const salvo__h1_line *ln) {
  int rc = current(r);
  if (rc || r->resp->stream)
    return rc;
  if ((rc = head_bytes(r, ln->n)))
    return kept(r, rc);
  return kept(r, on_line(r, ln));
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
  int rc = current(r);
  if (rc)
    return rc;
  size_t bytes = r->resp->stream ? 0 : head_fits(r, ln, n);
  if (!bytes)
    return head_by_line(r, ln, n, seen, names, ctx);
  r->recv->head.bytes += bytes;
  if ((rc = status_line(r, &ln[0])))
    return kept(r, rc);
  const char *base = ln[1].l; /* the first field line, or the blank one */
  size_t at = 0;
  if (n > 2 && (rc = salvo__resp_add_block(
                    r->resp, base, (size_t)(ln[n - 1].l - base), n - 2, &at)))
    return kept(r, rc);
  for (size_t i = 1; i + 1 < n; i++) {
    const salvo__h1_line *f = &ln[i];
    if (f->name != SALVO__H1_OTHER) {
      if (seen && transport_sees(f, names) && (rc = seen(ctx, f)))
        return rc;
      if ((rc = meaning(r, f)))
        return kept(r, rc);
    }
    r->recv->head.lines++;
    salvo__resp_keep(r->resp, at + (size_t)(f->l - base), f->name_len,
                     (size_t)(f->v - f->l) + f->vn);
  }
  if (seen && (rc = seen(ctx, &ln[n - 1])))
    return rc;
  return kept(r, head_end(r));
}

/* ---- bodies -----------------------------------------------------------------
 */

/* output_path opened for an attempt: a file or a character device
 * (/dev/null), never a FIFO or socket, whose open or write can wait
 * without end and would stop the I/O thread, and every request of the
 * client with it. O_NONBLOCK makes a FIFO with no reader fail at once
 * (ENXIO) where open would wait for one; on a device it is cleared after,
 * so that the device is written as it always was (a file ignores it: no
 * two more system calls a download). */
static int open_output(salvo__req *r) {
  int fd = open(r->output_path,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  struct stat st;
  if (fd < 0 && errno == ENXIO)
    r->recv->why = "a pipe with no reader: output_path takes a file or a "
                   "character device";
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    r->recv->why = "not a file or a character device: a write to a pipe or "
                   "socket could stop every request of the client";
    close(fd);
    errno = EINVAL;
    return -1;
  }
  if (S_ISCHR(st.st_mode))
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static int write_output(salvo__req *r, const char *data, size_t len) {
  if (r->recv->out_fd < 0 && (r->recv->out_fd = open_output(r)) < 0)
    goto fail;
  while (len) {
    ssize_t n = write(r->recv->out_fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto fail;
    data += n;
    len -= (size_t)n;
  }
  return 0;
fail:
  r->recv->fail_errno = errno ? errno : EIO;
  return SALVO_EWRITE;
}

/* Bytes of the body as the caller gets them: streamed when the response
 * succeeded and the request streams, to the reader's buffer when it reads,
 * kept otherwise (an error page, a 503 about to be retried). */
static int deliver(salvo__req *r, const char *data, size_t len) {
  salvo_response *resp = r->resp;
  if (salvo__req_streams(r) && resp->status >= 200 && resp->status < 300) {
    resp->streamed = 1;
    if (!r->on_data)
      return write_output(r, data, len);
    return r->on_data(resp->user_data, data, len) ? SALVO_ECALLBACK : 0;
  }
  if (resp->stream) {
    int rc = salvo__stream_write(resp->stream, data, len);
    return rc == SALVO__STREAM_FULL ? SALVO__EV_PAUSE : rc;
  }
  if (len > r->max_body - resp->body.len)
    return SALVO_ETOOBIG;
  if (salvo__resp_reserve_body(resp, len, r->pool))
    return SALVO_ENOMEM;
  return salvo__buf_append(&resp->body, data, len);
}

/* Decodes in[0..n) and delivers it; what a full reader cannot take is held
 * (one step's output, and the input not decoded yet). */
static int decode(salvo__req *r, const char *in, size_t n) {
  char out[STEP];
  r->recv->fed = 1;
  for (;;) {
    size_t used = 0;
    const char *why = NULL;
    long got =
        salvo__decoder_step(r->recv->dec, in, n, &used, out, sizeof(out), &why);
    if (got < 0) {
      r->recv->why = why;
      return got == SALVO_EPROTO ? SALVO_EDECODE : (int)got;
    }
    if (!used && !got && n) {
      r->recv->why = "the decoder takes no more of the body";
      return SALVO_EDECODE;
    }
    in += used;
    n -= used;
    if (got) {
      int rc = deliver(r, out, (size_t)got);
      if (rc == SALVO__EV_PAUSE) {
        if (salvo__buf_append(&r->recv->held, out, (size_t)got) ||
            salvo__buf_append(&r->recv->held_in, in, n))
          return SALVO_ENOMEM;
        return SALVO__EV_HELD;
      }
      if (rc)
        return rc;
    }
    if (!n && (size_t)got < sizeof(out))
      return 0;
  }
}

int salvo__req_on_body(salvo__req *r, const char *data, size_t len) {
  int rc = current(r);
  if (rc)
    return rc;
  return kept(r, r->recv->dec ? decode(r, data, len) : deliver(r, data, len));
}

static int resume(salvo__req *r) {
  while (r->recv->held_off < r->recv->held.len) {
    int rc = deliver(r, r->recv->held.p + r->recv->held_off,
                     r->recv->held.len - r->recv->held_off);
    if (rc == SALVO__EV_PAUSE)
      return SALVO__EV_HELD;
    if (rc)
      return rc;
    r->recv->held_off = r->recv->held.len;
  }
  r->recv->held.len = r->recv->held_off = 0;
  if (!r->recv->held_in.len)
    return 0;
  salvo__buf in = r->recv->held_in;
  r->recv->held_in = (salvo__buf){0};
  int rc = decode(r, in.p, in.len);
  salvo__buf_free(&in);
  return rc;
}

int salvo__req_resume_body(salvo__req *r) {
  return now_of(r) ? kept(r, resume(r)) : 0;
}

int salvo__req_holding(const salvo__req *r) {
  const salvo__recv *v = now_of(r);
  return v && (v->held_off < v->held.len || v->held_in.len);
}

int salvo__req_on_end(salvo__req *r) {
  if (!now_of(r) || !r->recv->dec || !r->recv->fed ||
      salvo__decoder_done(r->recv->dec))
    return 0;
  r->recv->why = salvo__decoder_cut_short(r->recv->dec);
  return kept(r, SALVO_EDECODE);
}
