/* Connections: slots named by an epoll tag (index and generation, so that
 * an event of a closed connection finds nothing), dialing an origin's
 * addresses in turn, and closing. What flows over one is its ops'. */
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
  return t->tag_base | (uint64_t)c->gen << 24 | c->idx;
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
  c->ai = o->ai;
  c->served = 0;
  c->ops = o->tls ? &salvo__tls_ops : &salvo__tcp_ops;
  o->nconns++;
  c->state = SALVO__NC_DIAL;
  return c;
}

int salvo__nat_conn_dial(salvo__transport *t, salvo__nconn *c, char **msg) {
  int last = 0;
  for (; c->ai; c->ai = c->ai->ai_next) {
    const struct addrinfo *ai = c->ai;
    int fd =
        socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
      last = errno;
      close(fd);
      continue;
    }
    struct epoll_event ev = {.events =
                                 EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = conn_tag(t, c)};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
      last = errno;
      close(fd);
      continue;
    }
    c->fd = fd;
    return 0;
  }
  *msg = salvo__fmt("Failed to connect to %s port %s: %s", c->o->name,
                    c->o->port, strerror(last ? last : ECONNREFUSED));
  return SALVO_ECONNECT;
}

int salvo__nat_conn_connected(salvo__transport *t, salvo__nconn *c,
                              uint32_t events, char **msg) {
  int so = 0;
  socklen_t sl = sizeof(so);
  /* Writable without an error or a hang-up is connected: only a failure
   * costs the getsockopt that says why. */
  if ((events & (EPOLLERR | EPOLLHUP)) &&
      (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl) || !so))
    so = so ? so : ECONNREFUSED;
  if (!so)
    return 0;
  /* The origin's next address, if it has one, under a new tag: events of
   * the old socket may still be on their way. */
  close(c->fd);
  c->fd = -1;
  c->gen++;
  c->ai = c->ai ? c->ai->ai_next : NULL;
  if (c->ai && !salvo__nat_conn_dial(t, c, msg))
    return SALVO__IO_AGAIN;
  free(*msg);
  *msg = salvo__fmt("Failed to connect to %s port %s: %s", c->o->name,
                    c->o->port, strerror(so));
  return SALVO_ECONNECT;
}

void salvo__nat_conn_close(salvo__transport *t, salvo__nconn *c) {
  if (c->state == SALVO__NC_FREE)
    return;
  if (c->layer)
    c->ops->close(c);
  if (c->fd >= 0)
    close(c->fd); /* which also takes it out of epoll */
  c->fd = -1;
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

salvo__nconn *salvo__nat_conn_of(salvo__transport *t, uint64_t tag) {
  tag &= ~t->tag_base;
  uint32_t idx = (uint32_t)(tag & 0xffffff), gen = (uint32_t)(tag >> 24);
  if (idx >= t->nslots)
    return NULL;
  salvo__nconn *c = t->slots[idx];
  return c->gen != gen || c->state == SALVO__NC_FREE ? NULL : c;
}

void salvo__nat_conns_free(salvo__transport *t) {
  for (uint32_t i = 0; i < t->nslots; i++) {
    salvo__nconn *c = t->slots[i];
    if (c->state != SALVO__NC_FREE) {
      if (c->layer)
        c->ops->close(c);
      close(c->fd);
    }
    salvo__buf_free(&c->pend);
    free(c);
  }
  free(t->slots);
  t->slots = NULL;
  t->nslots = 0;
}
