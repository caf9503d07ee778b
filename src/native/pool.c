/* Idle connections: a LIFO per origin (the most recent is the likeliest
 * alive) and one LRU over all origins that bounds how many stay open
 * (max_idle) and, oldest first, how long (idle_timeout). An
 * idle connection the server closes is noticed by its EPOLLRDHUP and
 * closed; one that dies unseen is found by a peek before a request that
 * must not be sent twice, or after an idle spell long enough for a
 * server to have given up on it. */
#include <sys/epoll.h>

#include "native.h"

static void unlink_idle(salvo__transport *t, salvo__nconn *c) {
  salvo__list_remove(&c->in_origin);
  salvo__list_remove(&c->in_lru);
  t->nidle--;
}

/* Closes an idle connection (out of the lists first: conn.c knows nothing
 * of them). */
static void close_idle(salvo__transport *t, salvo__nconn *c) {
  unlink_idle(t, c);
  salvo__nat_conn_close(t, c);
}

void salvo__nat_pool_died(salvo__transport *t, salvo__nconn *c) {
  if (c->served &&
      salvo__nat_now(t) - c->idle_since < SALVO__NAT_QUICK_CLOSE_NS)
    c->o->closes_quietly = 1;
}

/* Closes the connections idle longer than idle_timeout at now: the LRU's
 * first ones, since each joins it at the back when it goes idle. */
static void expire(salvo__transport *t, int64_t now) {
  salvo__list *n;
  while (t->idle_ns && (n = salvo__list_first(&t->lru))) {
    salvo__nconn *c = salvo__container_of(n, salvo__nconn, in_lru);
    if (now - c->idle_since <= t->idle_ns)
      return;
    close_idle(t, c);
  }
}

salvo__nconn *salvo__nat_pool_take(salvo__transport *t, salvo__nxfer *x) {
  salvo__origin *o = x->o;
  expire(t, x->t0);
  int once = !salvo__hop_repeatable(&x->hop, x->req);
  if (x->retried_fresh || (once && o->closes_quietly))
    return NULL;
  salvo__list *n;
  while ((n = salvo__list_first(&o->idle))) {
    salvo__nconn *c = salvo__container_of(n, salvo__nconn, in_origin);
    unlink_idle(t, c);
    /* One system call, paid by the requests that must not be sent twice,
     * and by those taking a connection idle long enough for a server to
     * have given up on it (a 408 on an idle connection must not answer
     * the next request): one handed on sooner had its events seen. */
    if ((once || x->t0 - c->idle_since > SALVO__NAT_IDLE_CHECK_NS) &&
        !c->ops->alive(c)) {
      salvo__nat_pool_died(t, c);
      salvo__nat_conn_close(t, c);
      continue;
    }
    return c;
  }
  return NULL;
}

void salvo__nat_pool_release(salvo__transport *t, salvo__nconn *c, int keep,
                             int64_t now) {
  c->x = NULL;
  if (!keep || c->pend.len || c->state != SALVO__NC_UP || c->hung_up) {
    salvo__nat_conn_close(t, c);
    return;
  }
  expire(t, now);
  c->served++;
  c->idle_since = now;
  salvo__list_push_front(&c->o->idle, &c->in_origin);
  salvo__list_push_back(&t->lru, &c->in_lru);
  if (++t->nidle > t->max_idle)
    close_idle(t, salvo__container_of(salvo__list_first(&t->lru), salvo__nconn,
                                      in_lru));
}

void salvo__nat_pool_stirred(salvo__transport *t, salvo__nconn *c,
                             uint32_t events) {
  if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && c->ops->alive(c))
    return; /* a layer's own record (a TLS session ticket): still good */
  salvo__nat_pool_died(t, c);
  close_idle(t, c);
}
