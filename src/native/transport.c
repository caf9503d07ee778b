/* The native transport's seam (salvo__native_transport): an attempt's
 * life from start to its report, connecting it, redirects, time limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "../receive.h"
#include "../url.h"
#include "native.h"

void salvo__nat_tls_free(salvo__transport *t); /* tls.c */

static int nat_global_init(void) {
  return 0; /* OpenSSL 1.1+ initialises itself */
}

/* ---- the request of a hop -------------------------------------------- */

static int write_head(salvo__transport *t, salvo__nxfer *x) {
  salvo__req *r = x->req;
  const char *url = salvo__hop_url(&x->hop, r);
  salvo__head_args a = {
      .method = x->hop.method,
      .url = url,
      .target = url == r->url ? r->url + r->target_off : NULL,
      .target_len = r->target_len,
      .host_line = x->o->host_line,
      .host_line_len = x->o->host_line_len,
      .headers = (const char *const *)r->headers,
      .nheaders = r->nheaders,
      .creds = x->hop.creds,
      .authz = x->hop.authz,
      .send_body = x->hop.send_body,
      .body_len = r->body_len,
      .jar = t->ev.jar,
  };
  if (salvo__head_write(&t->head, &a, &x->out))
    return SALVO_ENOMEM;
  x->head_len = x->out.len;
  x->body = NULL;
  x->body_len = 0;
  if (!a.send_body || !r->body_len)
    return 0;
  if (r->body_len > SALVO__NAT_INLINE_BODY) {
    x->body = r->body;
    x->body_len = r->body_len;
    return 0;
  }
  return salvo__buf_append(&x->out, r->body, r->body_len) ? SALVO_ENOMEM : 0;
}

/* Follows a redirect: sends the next request, or ends the attempt (a
 * Location salvo cannot follow is SALVO_EREDIRECT). */
static void follow(salvo__transport *t, salvo__nxfer *x) {
  salvo__req *r = x->req;
  char *msg = NULL;
  x->redirecting = 0;
  int err = salvo__redirect_follow(&x->hop, r, t->cfg, x->p.status, x->location,
                                   strlen(x->location), &msg);
  char *key = err ? NULL : salvo__url_origin(x->hop.url, &err);
  salvo__origin *o =
      key ? salvo__nat_origin(t, key, salvo__hash_n(key, strlen(key))) : NULL;
  free(key);
  if (!err && !o)
    err = SALVO_ENOMEM;
  if (err) {
    salvo__nat_done(t, x, err, msg);
    return;
  }
  x->o = o;
  x->retried_fresh = 0;
  err = write_head(t, x);
  if (!err)
    err = salvo__nat_go(t, x, &msg);
  if (err)
    salvo__nat_fail(t, x, err, msg);
}

/* A 401 whose Digest challenge may be answered: 1 when the request went
 * again on its hop with the answer, or the attempt failed; 0 when the
 * 401 is the answer. */
static int answer(salvo__transport *t, salvo__nxfer *x) {
  char *msg = NULL;
  x->authing = 0;
  int rc = salvo__auth_follow(&x->hop, x->req, t->cfg, t->ev.auth, &msg);
  if (!rc)
    return 0;
  if (rc < 0) {
    salvo__nat_done(t, x, rc, msg);
    return 1;
  }
  x->retried_fresh = 0;
  int err = write_head(t, x);
  if (!err)
    err = salvo__nat_go(t, x, &msg);
  if (err)
    salvo__nat_fail(t, x, err, msg);
  return 1;
}

static void xfer_complete(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->c;
  int64_t now = x->tlast ? x->tlast : salvo__nat_now(t);
  x->c = NULL;
  if (c && !c->h2) /* an HTTP/2 stream has left its connection */
    salvo__nat_pool_release(
        t, c, x->p.keep_alive && !x->early && !x->req->conn_close, now);
  if (x->redirecting) {
    follow(t, x); /* the next request went, or the attempt failed */
    return;
  }
  if (x->authing && answer(t, x))
    return;
  if (salvo__req_holding(x->req)) {
    x->ending = 1; /* ends once its reader took the rest */
    return;
  }
  x->tend = now;
  int err = salvo__req_on_end(x->req);
  salvo__nat_done(t, x, err, err ? salvo__req_fail_message(x->req) : NULL);
}

static const salvo__nat_report report = {
    .complete = xfer_complete,
    .fail = salvo__nat_fail,
    .retry_fresh = salvo__nat_retry_fresh,
    .resolved = salvo__nat_resolved,
    .again = salvo__nat_again,
    .h2_closed = salvo__nat_h2_closed,
};

/* ---- the seam -------------------------------------------------------- */

static void nat_destroy(salvo__transport *t);

static int nat_create(salvo__transport **out, const salvo__cfg *cfg, int epfd,
                      uint64_t tag_base, const salvo__transport_events *ev) {
  salvo__transport *t = calloc(1, sizeof(*t));
  if (!t)
    return SALVO_ENOMEM;
  t->report = &report;
  t->cfg = cfg;
  t->ev = *ev;
  t->epfd = epfd;
  t->tag_base = tag_base;
  t->dns_due = -1;
  t->max_idle = cfg->max_idle;
  t->idle_ns = cfg->idle_timeout_ms * 1000000;
  salvo__list_init(&t->lru);
  salvo__list_init(&t->timers);
  salvo__list_init(&t->done);
  salvo__list_init(&t->h2_dirty);
  t->origins = calloc(SALVO__NAT_ORIGIN_BUCKETS, sizeof(*t->origins));
  t->rbuf = malloc(SALVO__NAT_RBUF);
  if (!t->origins || !t->rbuf || salvo__head_writer_init(&t->head, cfg)) {
    nat_destroy(t);
    return SALVO_ENOMEM;
  }
  *out = t;
  return 0;
}

static void xfer_free(salvo__nxfer *x) {
  salvo__buf_free(&x->out);
  salvo__buf_free(&x->hold);
  free(x->h2_why);
  salvo__hop_free(&x->hop);
  free(x->location);
  free(x->errmsg);
  free(x);
}

static void nat_destroy(salvo__transport *t) {
  if (!t)
    return;
  salvo__nat_dns_free(t);
  salvo__nat_conns_free(t);
  salvo__nat_origins_free(t);
  for (salvo__nxfer *x = t->free_xfers, *next; x; x = next) {
    next = x->next_free;
    xfer_free(x);
  }
  salvo__nat_tls_free(t);
  salvo__head_writer_free(&t->head);
  salvo__buf_free(&t->h2line);
  free(t->rbuf);
  free(t);
}

static salvo__nxfer *xfer_get(salvo__transport *t) {
  salvo__nxfer *x = t->free_xfers;
  if (x) {
    t->free_xfers = x->next_free;
    salvo__buf out = x->out, hold = x->hold;
    memset(x, 0, sizeof(*x));
    x->out = out;
    x->hold = hold;
    x->hold.len = 0;
    return x;
  }
  return calloc(1, sizeof(*x));
}

static void xfer_put(salvo__transport *t, salvo__nxfer *x) {
  salvo__hop_free(&x->hop);
  /* Most transfers have none of these: one test, not three calls. */
  if (x->location || x->errmsg || x->h2_why) {
    free(x->location);
    free(x->errmsg);
    free(x->h2_why);
    x->location = x->errmsg = x->h2_why = NULL;
  }
  if (x->hold.cap > 64 * 1024)
    salvo__buf_free(&x->hold);
  if (x->out.cap > 64 * 1024)
    salvo__buf_free(&x->out);
  x->next_free = t->free_xfers;
  t->free_xfers = x;
}

static int nat_start(salvo__transport *t, salvo__req *r, void **xfer,
                     char **msg) {
  *msg = NULL;
  salvo__nxfer *x = xfer_get(t);
  if (!x)
    return SALVO_ENOMEM;
  x->req = r;
  x->t = t;
  salvo__hop_start(&x->hop, r);
  if (t->ev.auth)
    salvo__auth_start(&x->hop, r, t->cfg, t->ev.auth);
  x->t0 = salvo__nat_now(t);
  x->o = salvo__nat_origin(t, r->origin, r->origin_hash);
  int err = x->o ? write_head(t, x) : SALVO_ENOMEM;
  if (err) {
    xfer_put(t, x);
    return err;
  }
  if (r->attempt_timeout_ms)
    x->deadline = x->t0 + r->attempt_timeout_ms * 1000000;
  *xfer = x;
  /* Every failure from here (a name that does not resolve, a refusal the
   * kernel reports at once) ends the attempt through reap, like libcurl's
   * do: the retry policy sees it. */
  char *why = NULL;
  err = salvo__nat_go(t, x, &why);
  if (err)
    salvo__nat_done(t, x, err, why);
  salvo__nat_timer_update(t, x);
  return 0;
}

static void nat_abort(salvo__transport *t, void *xfer) {
  salvo__nxfer *x = xfer;
  salvo__nat_timer_remove(x);
  salvo__nat_unwait(x);
  salvo__nat_drop_conn(t, x);
  /* An ended attempt still waiting to be reported is dropped too. */
  if (salvo__list_linked(&x->in_done))
    salvo__list_remove(&x->in_done);
  xfer_put(t, x);
}

static void nat_resume(salvo__transport *t, void *xfer) {
  salvo__nxfer *x = xfer;
  if (!x->paused)
    return;
  salvo__req *r = x->req;
  x->paused = 0;
  if (x->handed_over)
    salvo__nat_read_timer(t, x);
  int rc = salvo__req_resume_body(r);
  if (rc == SALVO__EV_HELD) {
    x->paused = 1;
    return;
  }
  if (rc) {
    salvo__nat_fail(t, x, rc, salvo__req_fail_message(r));
    return;
  }
  if (x->ending) { /* the response had ended: its reader has it all now */
    x->ending = 0;
    int err = salvo__req_on_end(r);
    salvo__nat_done(t, x, err, err ? salvo__req_fail_message(r) : NULL);
    return;
  }
  salvo__nconn *c = x->c;
  if (x->h2_rest || (c && c->h2)) {
    salvo__h2_resume(t, x);
    return;
  }
  if (c->pend.len) {
    salvo__buf keep = c->pend;
    c->pend = (salvo__buf){0};
    salvo__nat_data(t, c, keep.p, keep.len);
    salvo__buf_free(&keep);
    if (c->x != x || x->paused)
      return;
  }
  salvo__nat_read(t, c, 0);
}

static void nat_on_socket(salvo__transport *t, uint64_t tag, uint32_t events) {
  if (tag & SALVO__NAT_TAG_DNS) {
    salvo__nat_dns_io(t, (int)(uint32_t)tag, events);
    return;
  }
  int slot;
  salvo__nconn *c = salvo__nat_conn_of(t, tag, &slot);
  if (c) /* else an event of a connection closed since */
    salvo__nat_conn_io(t, c, slot, events);
}

static int64_t nat_deadline(const salvo__transport *t) {
  if (!salvo__list_empty(&t->done) || !salvo__list_empty(&t->h2_dirty))
    return 0;
  salvo__nxfer *x = salvo__nat_timer_first(t);
  int64_t d = x ? x->tkey : -1, dns = salvo__nat_dns_deadline(t);
  return d < 0 || (dns >= 0 && dns < d) ? dns : d;
}

/* The next address of x's dial is due (Happy Eyeballs): 1 when that is
 * why x's timer fired. */
static int dial_next(salvo__transport *t, salvo__nxfer *x, int64_t now) {
  salvo__nconn *c = x->c;
  int64_t wake = salvo__nat_dial_wake(c);
  if (!wake || wake > now || (x->cdeadline && x->cdeadline <= now))
    return 0;
  char *msg = NULL;
  if (salvo__nat_conn_dial_due(t, c, &msg))
    salvo__nat_fail(t, x, SALVO_ECONNECT, msg);
  else
    salvo__nat_timer_update(t, x);
  return 1;
}

static void nat_on_timer(salvo__transport *t) {
  salvo__nat_dns_timer(t);
  int64_t now = salvo__nat_now(t);
  salvo__nxfer *x;
  while ((x = salvo__nat_timer_first(t)) && x->tkey <= now) {
    if (dial_next(t, x, now))
      continue;
    int reading = x->handed_over && x->deadline && x->deadline <= now;
    if (reading && !salvo__nat_read_timed_out(t, x, now))
      continue;
    int over = (x->deadline && x->deadline <= now) ||
               (x->cdeadline && x->cdeadline <= now);
    if (!over) { /* a dial's time that passed without need */
      salvo__nat_timer_remove(x);
      salvo__nat_timer_update(t, x);
      continue;
    }
    /* Still connecting (cdeadline goes at conn_up), by the connect's limit
     * or the attempt's: libcurl's words for either, which the Python
     * package reads as httpx's ConnectTimeout (test_exceptions.py). */
    int connecting = x->cdeadline != 0;
    int64_t ms = (now - x->t0) / 1000000;
    const char *what = x->o->resolving ? "Resolving" : "Connection";
    char *msg =
        connecting ? salvo__fmt("%s timed out after %lld milliseconds", what,
                                (long long)ms)
        : reading
            ? salvo__fmt(SALVO__READ_TIMEOUT_FMT,
                         (long long)((now - x->tbody) / 1000000))
            : salvo__fmt("Operation timed out after %lld milliseconds with "
                         "%zu bytes received",
                         (long long)ms, salvo__req_body_len(x->req));
    salvo__nat_fail(t, x, SALVO_ETIMEDOUT, msg);
  }
}

static void nat_reap(salvo__transport *t) {
  salvo__h2_flush_all(t); /* which may end attempts: before the report */
  salvo__list *n;
  while ((n = salvo__list_pop_front(&t->done))) {
    salvo__nxfer *x = salvo__container_of(n, salvo__nxfer, in_done);
    salvo__req *r = x->req;
    salvo__attempt_result res = {.error = x->error, .errmsg = x->errmsg};
    int64_t now = x->tend ? x->tend : salvo__nat_now(t);
    x->errmsg = NULL;
    res.unsent = !x->wrote;
    res.now = now;
    if (salvo__req_status(r)) {
      res.total_time = (double)(now - x->t0) / 1e9;
      res.ttfb = x->tfirst ? (double)(x->tfirst - x->t0) / 1e9 : 0;
    }
    t->ev.done(t->ev.ctx, r, &res);
    xfer_put(t, x);
  }
}

const salvo__transport_ops salvo__native_transport = {
    .name = "native",
    .global_init = nat_global_init,
    .create = nat_create,
    .destroy = nat_destroy,
    .start = nat_start,
    .abort = nat_abort,
    .resume = nat_resume,
    .on_socket = nat_on_socket,
    .deadline = nat_deadline,
    .on_timer = nat_on_timer,
    .reap = nat_reap,
};
