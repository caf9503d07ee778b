/* Connecting an attempt: an HTTP/2 stream of its origin's connection, an
 * idle HTTP/1.1 connection, or a new one once the origin's addresses are
 * known; what a connection that comes up speaks (ALPN); the requests
 * waiting for a lookup or for that answer; and an attempt's end, which
 * lets go of its connection (the waiters of one being made then go on). */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "native.h"

/* ---- ending an attempt ----------------------------------------------- */

void salvo__nat_done(salvo__transport *t, salvo__nxfer *x, int err, char *msg) {
  salvo__nat_timer_remove(x);
  salvo__nat_unwait(x);
  x->finished = 1;
  x->error = err;
  free(x->errmsg);
  x->errmsg = msg;
  salvo__list_push_back(&t->done, &x->in_done);
}

/* x lets go of its connection: an HTTP/2 stream is reset, an HTTP/1.1
 * connection (in an unknown state) closes. */
void salvo__nat_drop_conn(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->c;
  if (!c)
    return;
  if (c->h2) {
    salvo__h2_detach(t, x);
    return;
  }
  x->c = NULL;
  c->x = NULL;
  salvo__origin *o = c->o;
  int dialing = salvo__nat_conn_dialing(c, 0);
  salvo__nat_conn_close(t, c);
  if (dialing) /* those waiting for it go elsewhere */
    salvo__nat_resolved(t, o);
}

void salvo__nat_fail(salvo__transport *t, salvo__nxfer *x, int err, char *msg) {
  salvo__nat_drop_conn(t, x);
  salvo__nat_done(t, x, err, msg);
}

/* Finds a connection for x: an idle one of its origin, or a new one once
 * the origin's addresses are known (until then x waits for them, with
 * x->c NULL). */
/* Whether o's requests may speak HTTP/2: by ALPN over TLS unless HTTP/1.1
 * is asked for, and on cleartext with prior knowledge. */
static int h2_allowed(const salvo__transport *t, const salvo__origin *o) {
  int v = t->cfg->http_version;
  return o->tls ? v != SALVO_HTTP_1_1 : v == SALVO_HTTP_2_PRIOR_KNOWLEDGE;
}

/* An HTTP/2 connection of o with room for a stream, or NULL, with
 * *unsettled set when one of them may yet have room (its SETTINGS have not
 * come). */
static salvo__nconn *h2_pick(salvo__transport *t, salvo__origin *o, int64_t now,
                             int *unsettled) {
  salvo__list *n, *tmp;
  *unsettled = 0;
  salvo__list_each_safe(n, tmp, &o->h2conns) {
    salvo__nconn *c = salvo__container_of(n, salvo__nconn, in_origin);
    if (salvo__h2_expired(t, c, now)) {
      salvo__nat_h2_closed(t, c);
      continue;
    }
    if (salvo__h2_room(c))
      return c;
    *unsettled |= salvo__h2_unsettled(c);
  }
  return NULL;
}

/* Whether a request of o that found no HTTP/2 connection with room
 * waits rather than open one: a connection is opened only when those of
 * the origin are full, counting those being made.
 * - Until a server's SETTINGS have said how many streams a connection
 *   carries, one connection at a time is made, and a connection whose
 *   SETTINGS have not come may have room yet.
 * - Once they have, each connection being made is taken to carry that
 *   many (a new one assumes it, h2.c): the requests waiting for them, and
 *   the first one each carries, fill them, and the next request opens
 *   another at once, where waiting for each one's SETTINGS in turn cost a
 *   round trip a connection. */
static int h2_wait(const salvo__origin *o, int unsettled) {
  if (!o->h2_limit)
    return o->h2_dialing || unsettled;
  return (uint64_t)o->nwaiting + (uint64_t)o->h2_dialing <
         (uint64_t)o->h2_dialing * o->h2_limit;
}

static int xfer_connect(salvo__transport *t, salvo__nxfer *x, char **msg) {
  *msg = NULL;
  salvo__origin *o = x->o;
  int h2 = h2_allowed(t, o) && o->proto != 1, unsettled = 0;
  salvo__nconn *c = h2 ? h2_pick(t, o, x->t0, &unsettled) : NULL;
  if (c)
    return salvo__h2_request(t, c, x);
  if (h2 && h2_wait(o, unsettled)) {
    salvo__nat_wait(x);
    return 0;
  }
  c = salvo__nat_pool_take(t, x);
  if (c) {
    c->x = x;
    x->c = c;
    return 0;
  }
  if (t->cfg->connect_timeout_ms && !x->cdeadline) {
    x->cdeadline = x->t0 + t->cfg->connect_timeout_ms * 1000000;
    salvo__nat_timer_update(t, x);
  }
  int err = salvo__nat_resolve(t, x->o, msg);
  if (err == SALVO__IO_AGAIN) {
    salvo__nat_wait(x);
    return 0;
  }
  if (err)
    return err;
  if (!(c = salvo__nat_conn_new(t, x->o)))
    return SALVO_ENOMEM;
  if ((err = salvo__nat_conn_dial(t, c, msg))) {
    salvo__nat_conn_close(t, c);
    return err;
  }
  c->x = x;
  x->c = c;
  if (h2)
    salvo__nat_conn_dialing(c, 1);
  salvo__nat_timer_update(t, x);
  return 0;
}

/* Sends x on its connection now, if that is ready. */
int salvo__nat_go(salvo__transport *t, salvo__nxfer *x, char **msg) {
  int err = xfer_connect(t, x, msg);
  if (err || !x->c || x->c->h2)
    return err;
  salvo__nat_exchange_reset(x);
  if (x->c->state == SALVO__NC_UP)
    salvo__nat_send(t, x); /* a failure is reported through reap */
  return 0;
}

/* A reused connection that died while idle: the request goes again, once,
 * on a new one. Nothing of a response came; an idempotent request may be
 * repeated anyway, another only when not a byte of it went out (the
 * connection was dead before it was written). */
int salvo__nat_retry_fresh(salvo__transport *t, salvo__nxfer *x) {
  salvo__nconn *c = x->c;
  if (!c || !c->served || x->got_bytes || x->retried_fresh ||
      (!salvo__hop_repeatable(&x->hop, x->req) && x->conn_wrote))
    return 0;
  salvo__nat_pool_died(t, c);
  x->retried_fresh = 1;
  salvo__nat_drop_conn(t, x);
  char *msg = NULL;
  int err = salvo__nat_go(t, x, &msg);
  if (err)
    salvo__nat_fail(t, x, err, msg);
  return 1;
}

/* The connection is up (its layer's handshake done): the request goes. */
/* The connection speaks HTTP/2: its first request becomes its first
 * stream, and those waiting for it follow. */
static void h2_up(salvo__transport *t, salvo__nconn *c) {
  salvo__nxfer *x = c->x;
  salvo__origin *o = c->o;
  c->x = NULL;
  x->c = NULL;
  int err = salvo__h2_open(t, c);
  if (err) {
    salvo__nat_conn_close(t, c);
    salvo__nat_done(t, x, err, NULL);
  } else {
    salvo__list_push_back(&o->h2conns, &c->in_origin);
    if ((err = salvo__h2_submit(t, c, x)))
      salvo__nat_done(t, x, err, NULL);
  }
  salvo__nat_resolved(t, o);
}

static void conn_up(salvo__transport *t, salvo__nconn *c) {
  salvo__nxfer *x = c->x;
  salvo__origin *o = c->o;
  c->state = SALVO__NC_UP;
  x->cdeadline = 0;
  salvo__nat_timer_update(t, x);
  int dialing = salvo__nat_conn_dialing(c, 0);
  if (h2_allowed(t, o)) {
    int h2 = o->tls ? c->alpn_h2 : 1;
    o->proto = h2 ? 2 : 1;
    if (h2) {
      h2_up(t, c);
      return;
    }
  }
  if (dialing) /* HTTP/1.1: those waiting open their own connections */
    salvo__nat_resolved(t, o);
  /* A plain connection is not read: the answer cannot be there yet, and
   * its edge will come. A layer whose handshake read the socket may hold
   * bytes its next events will not announce. */
  if (salvo__nat_send(t, x) == 0 && c->layer)
    salvo__nat_read(t, c, EPOLLIN);
}

static void handshake(salvo__transport *t, salvo__nconn *c) {
  char *msg = NULL;
  c->state = SALVO__NC_HANDSHAKE;
  int err = c->ops->handshake(t, c, &msg);
  if (err == SALVO__IO_AGAIN)
    return;
  if (err)
    salvo__nat_fail(t, c->x, err, msg);
  else
    conn_up(t, c);
}

static void dialed(salvo__transport *t, salvo__nconn *c, int slot,
                   uint32_t events) {
  char *msg = NULL;
  int err = salvo__nat_conn_connected(t, c, slot, events, &msg);
  if (err == SALVO__IO_AGAIN) {
    salvo__nat_timer_update(t, c->x); /* the next address's time */
    return;
  }
  if (err) {
    salvo__nat_fail(t, c->x, err, msg);
    return;
  }
  salvo__nat_timer_update(t, c->x); /* no more addresses to dial */
  handshake(t, c);
}

void salvo__nat_conn_io(salvo__transport *t, salvo__nconn *c, int slot,
                        uint32_t events) {
  if (c->h2) {
    salvo__h2_io(t, c);
    return;
  }
  if (!c->x) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      salvo__nat_pool_stirred(t, c, events);
    return;
  }
  switch (c->state) {
  case SALVO__NC_DIAL:
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      dialed(t, c, slot, events);
    return;
  case SALVO__NC_HANDSHAKE:
    handshake(t, c);
    return;
  default:
    break;
  }
  salvo__nxfer *x = c->x;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    c->hung_up = 1;
  if (x->writing && salvo__nat_send(t, x))
    return;
  if (c->x == x)
    salvo__nat_read(t, c, events);
}

/* The lookup of o ended, or the connection they waited for is up (or
 * gone): its waiting requests go on, or fail with the lookup's error.
 * They are taken off first: some may wait again, for a connection being
 * made. */
void salvo__nat_resolved(salvo__transport *t, salvo__origin *o) {
  salvo__list batch, *n;
  salvo__list_init(&batch);
  while ((n = salvo__list_first(&o->waiting))) {
    salvo__nat_unwait(salvo__container_of(n, salvo__nxfer, in_wait));
    salvo__list_push_back(&batch, n);
  }
  while ((n = salvo__list_pop_front(&batch))) {
    salvo__nxfer *x = salvo__container_of(n, salvo__nxfer, in_wait);
    char *msg = NULL;
    int err = o->naddrs ? salvo__nat_go(t, x, &msg) : SALVO_EDNS;
    if (err)
      salvo__nat_fail(t, x, err,
                      msg ? msg : salvo__strdup(o->dns_err ? o->dns_err : ""));
  }
}

/* x goes again on another connection: its HTTP/2 stream was refused, or
 * its connection broke before any answer. A request that is not
 * idempotent goes again once at most, others up to three times. */
void salvo__nat_again(salvo__transport *t, salvo__nxfer *x) {
  char *msg = NULL;
  int limit = salvo__hop_repeatable(&x->hop, x->req) ? 3 : 1;
  int err = x->retried_fresh >= limit ? SALVO_EIO : 0;
  if (!err) {
    x->retried_fresh++;
    err = salvo__nat_go(t, x, &msg);
  }
  if (err)
    salvo__nat_fail(t, x, err,
                    msg ? msg
                        : salvo__fmt("HTTP/2 stream not processed %d times "
                                     "(refused, or its connection ended)",
                                     x->retried_fresh + 1));
}

void salvo__nat_h2_closed(salvo__transport *t, salvo__nconn *c) {
  salvo__list_remove(&c->in_origin);
  salvo__nat_conn_close(t, c);
}
