/* Connections: slots named by an epoll tag (index and generation, so that
 * an event of a closed connection finds nothing), dialing an origin's
 * addresses as Happy Eyeballs plans it (eyeballs.h), and closing. What
 * flows over one is its ops'. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "native.h"

static uint64_t conn_tag(const salvo__transport *t, const salvo__nconn *c) {
  return t->tag_base | (uint64_t)(c->gen & SALVO__NAT_GEN_MASK) << 24 | c->idx;
}

static salvo__nconn *conn_slot(salvo__transport *t) {
  salvo__nconn *c = t->free_conns;
  if (c) {
    t->free_conns = c->next_free;
    return c;
  }
  if (t->nslots >= (1u << 24))
    return NULL;
  if (!(t->nslots & (t->nslots - 1)) || !t->nslots) {
    size_t cap = t->nslots ? (size_t)t->nslots * 2 : 64;
    salvo__nconn **s = realloc(t->slots, cap * sizeof(*s));
    if (!s)
      return NULL;
    t->slots = s;
  }
  if (!(c = calloc(1, sizeof(*c))))
    return NULL;
  c->idx = t->nslots;
  c->fd = -1;
  t->slots[t->nslots++] = c;
  return c;
}

salvo__nconn *salvo__nat_conn_new(salvo__transport *t, salvo__origin *o) {
  salvo__nconn *c = conn_slot(t);
  if (!c)
    return NULL;
  c->o = o;
  c->served = 0;
  c->ops = o->tls ? &salvo__tls_ops : &salvo__tcp_ops;
  c->dial_fd[0] = c->dial_fd[1] = -1;
  c->dial_errno = 0;
  c->alpn_h2 = c->bare_close = c->hung_up = 0;
  o->nconns++;
  c->state = SALVO__NC_DIAL;
  return c;
}

/* Starts dialing address i in a free attempt slot: 0, or an errno. */
static int attempt(salvo__transport *t, salvo__nconn *c, int i) {
  if (i >= c->o->naddrs) /* the origin's answer changed meanwhile */
    return EHOSTUNREACH;
  const salvo__addr *a = &c->o->addrs[i];
  int slot = c->dial_fd[0] < 0 ? 0 : 1;
  int fd =
      socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                           .data.u64 =
                               conn_tag(t, c) | SALVO__NAT_TAG_DIAL(slot)};
  if ((connect(fd, (const struct sockaddr *)&a->ss, a->len) &&
       errno != EINPROGRESS) ||
      epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
    int e = errno;
    close(fd);
    return e;
  }
  c->dial_fd[slot] = fd;
  c->dial_addr[slot] = i;
  return 0;
}

/* Starts the attempts the plan says are due: 0, or SALVO_ECONNECT when
 * none is under way and none is left. */
static int start_due(salvo__transport *t, salvo__nconn *c, char **msg) {
  int64_t now = salvo__nat_now(t);
  for (int i; (i = salvo__he_due(&c->he, now)) >= 0;) {
    int e = attempt(t, c, i);
    if (e) {
      c->dial_errno = e;
      salvo__he_failed(&c->he, now);
    }
  }
  if (!salvo__he_exhausted(&c->he))
    return 0;
  *msg =
      salvo__fmt("Failed to connect to %s port %s: %s", c->o->name, c->o->port,
                 strerror(c->dial_errno ? c->dial_errno : ECONNREFUSED));
  return SALVO_ECONNECT;
}

int salvo__nat_conn_dial(salvo__transport *t, salvo__nconn *c, char **msg) {
  salvo__he_start(&c->he, c->o->naddrs, salvo__nat_now(t));
  return start_due(t, c, msg);
}

int salvo__nat_conn_dial_due(salvo__transport *t, salvo__nconn *c, char **msg) {
  return start_due(t, c, msg);
}

static void close_attempt(salvo__nconn *c, int slot) {
  if (c->dial_fd[slot] >= 0)
    close(c->dial_fd[slot]); /* which also takes it out of epoll */
  c->dial_fd[slot] = -1;
}

/* An event of an attempt closed in the same wake-up may name the slot a
 * newer attempt took: with more than one attempt made, writable is
 * confirmed by the socket itself. */
static int really_connected(const salvo__nconn *c, int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  return c->he.next <= 1 || !getpeername(fd, (struct sockaddr *)&ss, &sl);
}

int salvo__nat_conn_connected(salvo__transport *t, salvo__nconn *c, int slot,
                              uint32_t events, char **msg) {
  int fd = c->dial_fd[slot];
  if (fd < 0)
    return SALVO__IO_AGAIN; /* of an attempt closed since */
  int so = 0;
  socklen_t sl = sizeof(so);
  /* Writable without an error or a hang-up is connected: only a failure
   * costs the getsockopt that says why. */
  if ((events & (EPOLLERR | EPOLLHUP)) &&
      (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) || !so))
    so = so ? so : ECONNREFUSED;
  if (!so && !really_connected(c, fd))
    return SALVO__IO_AGAIN;
  if (!so) { /* the first to connect wins */
    c->dial_fd[slot] = -1;
    close_attempt(c, !slot);
    c->fd = fd;
    return 0;
  }
  close_attempt(c, slot);
  c->dial_errno = so;
  salvo__he_failed(&c->he, salvo__nat_now(t));
  return start_due(t, c, msg) ? SALVO_ECONNECT : SALVO__IO_AGAIN;
}

void salvo__nat_conn_close(salvo__transport *t, salvo__nconn *c) {
  if (c->state == SALVO__NC_FREE)
    return;
  salvo__h2_close(c);
  if (c->layer)
    c->ops->close(c);
  if (c->fd >= 0)
    close(c->fd); /* which also takes it out of epoll */
  c->fd = -1;
  close_attempt(c, 0);
  close_attempt(c, 1);
  salvo__nat_conn_dialing(c, 0);
  c->o->nconns--;
  c->o = NULL;
  c->x = NULL;
  c->pend.len = 0;
  if (c->pend.cap > SALVO__NAT_RBUF)
    salvo__buf_free(&c->pend);
  c->state = SALVO__NC_FREE;
  c->gen++;
  c->next_free = t->free_conns;
  t->free_conns = c;
}

int salvo__nat_conn_dialing(salvo__nconn *c, int on) {
  int was = c->h2_dial;
  c->o->h2_dialing += on - was;
  c->h2_dial = on;
  return was;
}

salvo__nconn *salvo__nat_conn_of(salvo__transport *t, uint64_t tag, int *slot) {
  tag &= ~t->tag_base;
  uint32_t idx = (uint32_t)(tag & 0xffffff);
  uint32_t gen = (uint32_t)(tag >> 24) & SALVO__NAT_GEN_MASK;
  *slot = (int)(tag >> 52) & 1;
  if (idx >= t->nslots)
    return NULL;
  salvo__nconn *c = t->slots[idx];
  return (c->gen & SALVO__NAT_GEN_MASK) != gen || c->state == SALVO__NC_FREE
             ? NULL
             : c;
}

void salvo__nat_conns_free(salvo__transport *t) {
  for (uint32_t i = 0; i < t->nslots; i++) {
    salvo__nconn *c = t->slots[i];
    if (c->state != SALVO__NC_FREE) {
      salvo__h2_close(c);
      if (c->layer)
        c->ops->close(c);
      if (c->fd >= 0)
        close(c->fd);
      close_attempt(c, 0);
      close_attempt(c, 1);
    }
    salvo__buf_free(&c->pend);
    free(c);
  }
  free(t->slots);
  t->slots = NULL;
  t->nslots = 0;
}
