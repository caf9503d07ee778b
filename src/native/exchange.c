/* One request and its response on one connection: the request written as
 * soon as the connection is free, the response read until the socket
 * says EAGAIN, framed by h1.c, and its lines and body handed to the
 * request (receive.c). Also here: an answer that comes before the body
 * went out (RFC 9112 9.5), and a reused connection found dead. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../field.h"
#include "../receive.h"
#include "native.h"

void salvo__nat_exchange_reset(salvo__nxfer *x) {
  salvo__h1_init(&x->p, x->req->is_head);
  x->wpos = 0;
  x->writing = 1;
  x->conn_wrote = 0;
  x->send_errno = 0;
  x->got_bytes = 0;
  x->paused = 0;
  x->early = 0;
  x->redirecting = 0;
  x->authing = 0;
  free(x->location);
  x->location = NULL;
}

static void fail_io(salvo__transport *t, salvo__nxfer *x, int e,
                    const char *what) {
  if (t->report->retry_fresh(t, x))
    return;
  t->report->fail(t, x, SALVO_EIO,
                  salvo__fmt("%s: %s", what, strerror(e ? e : ECONNRESET)));
}

/* A write failed. Once the head is out, the server may have answered and
 * closed without reading the rest (an early 413): what it said is read
 * before the failure is reported. */
static void send_failed(salvo__transport *t, salvo__nxfer *x, int e) {
  if (x->wpos < x->head_len || !x->c) {
    fail_io(t, x, e, "Send failure");
    return;
  }
  x->writing = 0;
  x->send_errno = e ? e : EPIPE;
  salvo__nat_read(t, x->c, 0);
}

int salvo__nat_send(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->c;
  size_t total = x->out.len + x->body_len;
  while (x->wpos < total) {
    struct iovec iov[2];
    int cnt = 0, e = 0;
    if (x->wpos < x->out.len)
      iov[cnt++] = (struct iovec){x->out.p + x->wpos, x->out.len - x->wpos};
    if (x->body_len) {
      size_t off = x->wpos > x->out.len ? x->wpos - x->out.len : 0;
      iov[cnt++] = (struct iovec){(void *)(x->body + off), x->body_len - off};
    }
    ssize_t n = c->ops->writev(c, iov, cnt, &e);
    if (n == SALVO__IO_AGAIN)
      return 0;
    if (n < 0) {
      send_failed(t, x, e);
      return -1;
    }
    x->wpos += (size_t)n;
    x->wrote = x->conn_wrote = 1;
  }
  x->writing = 0;
  return 0;
}

int salvo__nat_body(salvo__nxfer *x, const char *p, size_t n) {
  if (x->redirecting)
    return 0; /* a redirect's body is read past */
  if (x->paused)
    return SALVO__H1_PAUSE;
  if (x->handed_over)
    x->tbody = salvo__nat_now(x->t);
  int rc = salvo__req_on_body(x->req, p, n);
  return rc == SALVO__EV_PAUSE  ? SALVO__H1_PAUSE
         : rc == SALVO__EV_HELD ? SALVO__H1_HOLD
                                : rc;
}

/* The transport reads a few headers itself: where a redirect goes, and
 * the cookies (SEEN_NAMES, for salvo__req_on_head). */
#define SEEN_NAMES (1u << SALVO__H1_LOCATION | 1u << SALVO__H1_SET_COOKIE)
static int header_seen(salvo__nxfer *x, const salvo__h1_line *ln) {
  salvo__transport *t = x->t;
  if (ln->name == SALVO__H1_LOCATION) {
    free(x->location);
    x->location = salvo__strndup(ln->v, ln->vn);
    return x->location ? 0 : SALVO_ENOMEM;
  }
  if (ln->name == SALVO__H1_SET_COOKIE && t->ev.jar)
    return salvo__jar_set(t->ev.jar, salvo__hop_url(&x->hop, x->req), ln->v,
                          ln->vn);
  return 0;
}

static int on_body(void *ctx, const char *p, size_t n) {
  return salvo__nat_body(ctx, p, n);
}

/* The end of a head, as the transport reads it: an answer that came
 * before the request's body was all sent, and a redirect to follow. */
static int end_seen(salvo__nxfer *x) {
  if (x->p.status >= 200 && (x->writing || x->send_errno)) {
    /* Answered before the body was all sent (a 413, a 401): the server
     * does not want the rest (RFC 9112 9.5), and the connection, with a
     * request cut short on it, cannot be used again. */
    x->writing = 0;
    x->early = 1;
  }
  if (x->p.status >= 200 &&
      salvo__redirect_wanted(x->req, x->p.status, x->location != NULL)) {
    char *msg = NULL;
    int err = salvo__redirect_allowed(x->req, x->t->cfg, &msg);
    free(msg); /* parse_message says it again */
    if (err) {
      x->p.why = NULL;
      salvo__req_take_status(x->req); /* its head is whole, as libcurl's */
      return err;
    }
    x->redirecting = 1;
  }
  x->authing = x->p.status == 401 &&
               salvo__auth_wanted(x->req, x->t->cfg, &x->hop, x->p.status);
  return 0;
}

/* What the transport reads of a line itself, before the request does. */
static int seen(void *ctx, const salvo__h1_line *ln) {
  salvo__nxfer *x = ctx;
  switch (ln->kind) {
  case SALVO__H1_STATUS_LINE: /* a new response */
    free(x->location);
    x->location = NULL;
    return 0;
  case SALVO__H1_FIELD_LINE:
    return header_seen(x, ln);
  default:
    return end_seen(x);
  }
}

/* The request's answer to a line or a head: a streamed response goes to
 * its reader at the end of its head. */
static int handed(salvo__nxfer *x, int rc) {
  if (rc != SALVO__EV_HEADERS)
    return rc;
  /* The reader paces the body from here: a read timeout, not the
   * attempt's. */
  x->handed_over = 1;
  salvo__nat_read_timer(x->t, x);
  x->t->ev.headers(x->t->ev.ctx, x->req);
  return 0;
}

int salvo__nat_line(salvo__nxfer *x, const salvo__h1_line *ln) {
  int rc = seen(x, ln);
  return rc ? rc : handed(x, salvo__req_on_line(x->req, ln));
}

static int on_line(void *ctx, const salvo__h1_line *ln) {
  return salvo__nat_line(ctx, ln);
}

/* A head found whole: the status line's part here, the rest as each line
 * comes in salvo__req_on_head. */
static int on_head(void *ctx, const salvo__h1_line *ln, size_t n) {
  salvo__nxfer *x = ctx;
  int rc = seen(x, &ln[0]);
  return rc ? rc
            : handed(x, salvo__req_on_head(x->req, ln, n, seen, SEEN_NAMES, x));
}

int salvo__nat_text_line(salvo__nxfer *x, const char *l, size_t n, int status) {
  salvo__h1_line ln;
  if ((x->p.why = salvo__h1_read_line(l, n, status, &ln)))
    return SALVO_EPROTO;
  return salvo__nat_line(x, &ln);
}

/* The message a parse error gets. */
char *salvo__nat_parse_message(salvo__nxfer *x, int err) {
  if (x->p.why)
    return salvo__fmt("%s", x->p.why);
  if (err == SALVO_EREDIRECT)
    return salvo__fmt("Maximum (%d) redirects followed",
                      x->t->cfg->max_redirects);
  return salvo__req_fail_message(x->req);
}

/* Feeds bytes to x's response; returns what it took, or -1 when the
 * attempt ended with an error (already reported). */
static long feed(salvo__transport *t, salvo__nxfer *x, const char *p,
                 size_t n) {
  int paused;
  x->tlast = salvo__nat_now(t);
  if (!x->tfirst)
    x->tfirst = x->tlast;
  x->got_bytes = 1;
  long used = salvo__h1_feed(
      &x->p, p, n, &(salvo__h1_cb){x, on_line, on_body, on_head}, &paused);
  if (used < 0) {
    int err = (int)used;
    t->report->fail(t, x, err, salvo__nat_parse_message(x, err));
    return -1;
  }
  if (paused)
    x->paused = 1;
  return used;
}

void salvo__nat_data(salvo__transport *t, salvo__nconn *c, const char *p,
                     size_t n) {
  salvo__nxfer *x = c->x;
  if (c->pend.len) {
    if (salvo__buf_append(&c->pend, p, n)) {
      t->report->fail(t, x, SALVO_ENOMEM, NULL);
      return;
    }
    p = c->pend.p;
    n = c->pend.len;
  }
  long used = feed(t, x, p, n);
  if (used < 0)
    return;
  size_t rest = n - (size_t)used;
  if (p == c->pend.p) {
    memmove(c->pend.p, c->pend.p + used, rest);
    c->pend.len = rest;
  } else if (rest && salvo__buf_append(&c->pend, p + used, rest)) {
    t->report->fail(t, x, SALVO_ENOMEM, NULL);
    return;
  }
  if (x->p.state == SALVO__H1_DONE)
    t->report->complete(t, x);
}

/* The server closed: the response ends there if its framing allows. */
static void peer_closed(salvo__transport *t, salvo__nconn *c, salvo__nxfer *x) {
  if (c->pend.len && x->p.state != SALVO__H1_HEAD) {
    long used = feed(t, x, c->pend.p, c->pend.len);
    if (used < 0)
      return;
    c->pend.len -= (size_t)used;
  }
  /* A body kept (a redirect's is read past) that only the close ends. */
  int by_close = x->p.state == SALVO__H1_CLOSE && !x->redirecting;
  int err = salvo__h1_eof(&x->p);
  if (err == 0 && by_close && c->bare_close) {
    t->report->fail(t, x, SALVO_EIO, salvo__fmt("%s", SALVO__NO_CLOSE_NOTIFY));
  } else if (err == 0) {
    x->p.keep_alive = 0;
    t->report->complete(t, x);
  } else if (!x->got_bytes && t->report->retry_fresh(t, x)) {
    /* sent again on a new connection */
  } else if (!x->got_bytes && x->send_errno) {
    t->report->fail(t, x, SALVO_EIO,
                    salvo__fmt("Send failure: %s", strerror(x->send_errno)));
  } else {
    t->report->fail(
        t, x, err,
        salvo__fmt("%s", x->got_bytes ? x->p.why : "Empty reply from server"));
  }
}

void salvo__nat_read(salvo__transport *t, salvo__nconn *c, uint32_t events) {
  /* A short read means the socket is empty for now, unless the close or
   * reset came with the same wake-up: then read on to see it. */
  int short_ok = c->ops->short_read_empties && events &&
                 !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
  /* What a read delivers may close the connection, and a redirect's next
   * hop may take the same slot, for a connection still being dialed (no
   * socket yet): that one is not this one, and is not read here. Callers
   * that deliver bytes themselves before calling this rely on the same
   * test. */
  uint32_t gen = c->gen;
  for (;;) {
    salvo__nxfer *x = c->x;
    if (!x || x->paused || c->gen != gen || c->state != SALVO__NC_UP)
      return;
    int e = 0;
    ssize_t n = c->ops->read(c, t->rbuf, SALVO__NAT_RBUF, &e);
    if (n == SALVO__IO_AGAIN)
      return;
    if (n > 0 && x->wpos < x->head_len) {
      /* Nothing was asked yet: whatever this answers, it is not this
       * request. */
      t->report->fail(t, x, SALVO_EPROTO,
                      salvo__fmt("the server sent a response before the "
                                 "request was sent"));
      return;
    }
    if (n > 0) {
      salvo__nat_data(t, c, t->rbuf, (size_t)n);
      /* A socket that gave less than asked is empty: its next bytes
       * bring a new edge. */
      if (short_ok && n < SALVO__NAT_RBUF)
        return;
      continue;
    }
    if (n == 0) {
      peer_closed(t, c, x);
      return;
    }
    if (!x->got_bytes && x->send_errno)
      e = x->send_errno;
    fail_io(t, x, e, x->send_errno ? "Send failure" : "Recv failure");
    return;
  }
}
