/* Origins' addresses without blocking the I/O thread: c-ares, its sockets
 * in the transport's epoll and its time-outs in the transport's deadline.
 * It honours /etc/hosts, the search domains of resolv.conf and the TTL of
 * answers; salvo_config.dns_servers replaces the servers, and pinned
 * names (salvo_config.resolve) and literals never reach it. A failed
 * lookup fails the requests of that origin alone. */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "native.h"

/* An answer is kept for its TTL, but at least this long, so that a burst
 * of connections to one name (and /etc/hosts' answers, which have none)
 * shares one lookup. */
#define DNS_MIN_TTL_NS ((int64_t)1000000000)
#define DNS_DRAIN_EVERY 16

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;

static void lib_init(void) {
  lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* c-ares says which of its sockets want which events. */
static void sock_state(void *data, ares_socket_t fd, int readable,
                       int writable) {
  salvo__transport *t = data;
  salvo__nat_dns *d = &t->dnsq;
  int i = 0;
  while (i < d->nfds && d->fds[i] != fd)
    i++;
  if (!readable && !writable) {
    epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (i < d->nfds)
      d->fds[i] = d->fds[--d->nfds];
    return;
  }
  if (i == d->nfds && d->nfds < SALVO__NAT_DNS_FDS)
    d->fds[d->nfds++] = fd;
  struct epoll_event ev = {
      .events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0),
      .data.u64 = t->tag_base | SALVO__NAT_TAG_DNS | (uint64_t)fd};
  if (epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT)
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int channel(salvo__transport *t, char **msg) {
  if (t->dns)
    return 0;
  pthread_once(&lib_once, lib_init);
  /* Answers to thousands of lookups arrive while the loop is busy with
   * the connections of the first: a socket buffer as large as the system
   * allows keeps them (or c-ares asks again, seconds later). */
  struct ares_options opts = {.sock_state_cb = sock_state,
                              .sock_state_cb_data = t,
                              .socket_receive_buffer_size = 4 << 20};
  ares_channel ch = NULL;
  int rc = lib_status
               ? lib_status
               : ares_init_options(
                     &ch, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF);
  if (!rc && t->cfg->dns_servers)
    rc = ares_set_servers_ports_csv(ch, t->cfg->dns_servers);
  if (rc) {
    if (ch)
      ares_destroy(ch);
    *msg = salvo__fmt("the resolver could not start: %s", ares_strerror(rc));
    return rc == ARES_ENOMEM ? SALVO_ENOMEM : SALVO_EDNS;
  }
  t->dns = ch;
  t->dns_due = -1;
  return 0;
}

/* A literal address (or a pinned one) as o's only address. */
static int literal(salvo__origin *o, const char *addr) {
  salvo__addr a = {0};
  unsigned port = (unsigned)atoi(o->port);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&a.ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a.ss;
  if (inet_pton(AF_INET, addr, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    a.len = sizeof(*v4);
  } else if (inet_pton(AF_INET6, addr, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    a.len = sizeof(*v6);
  } else {
    return 0;
  }
  free(o->addrs);
  if (!(o->addrs = malloc(sizeof(a))))
    return -1;
  o->addrs[0] = a;
  o->naddrs = 1;
  o->addrs_expiry = INT64_MAX;
  return 1;
}

/* The answer as o's addresses; the TTL is the shortest of its records. */
static int keep_answer(salvo__origin *o, const struct ares_addrinfo *res,
                       int64_t now) {
  int n = 0, ttl = INT32_MAX;
  for (const struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next)
    n += a->ai_addrlen <= sizeof(struct sockaddr_storage);
  salvo__addr *v = n ? calloc((size_t)n, sizeof(*v)) : NULL;
  if (!v)
    return n ? SALVO_ENOMEM : SALVO_EDNS;
  n = 0;
  for (const struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(struct sockaddr_storage))
      continue;
    memcpy(&v[n].ss, a->ai_addr, a->ai_addrlen);
    v[n++].len = a->ai_addrlen;
    if (a->ai_ttl < ttl)
      ttl = a->ai_ttl < 0 ? 0 : a->ai_ttl;
  }
  salvo__he_interleave(v, n);
  free(o->addrs);
  o->addrs = v;
  o->naddrs = n;
  int64_t keep = (int64_t)ttl * 1000000000;
  o->addrs_expiry = now + (keep < DNS_MIN_TTL_NS ? DNS_MIN_TTL_NS : keep);
  return 0;
}

static void on_answer(void *arg, int status, int timeouts,
                      struct ares_addrinfo *res) {
  (void)timeouts;
  salvo__origin *o = arg;
  if (status == ARES_EDESTRUCTION) { /* the transport is going */
    ares_freeaddrinfo(res);
    return;
  }
  salvo__transport *t = o->t;
  t->dns_pending--;
  o->resolving = 0;
  int err = status == ARES_SUCCESS && res
                ? keep_answer(o, res, salvo__nat_now(t))
                : SALVO_EDNS;
  ares_freeaddrinfo(res);
  free(o->dns_err);
  o->dns_err = NULL;
  if (err) {
    o->naddrs = 0;
    o->dns_err = salvo__fmt("Could not resolve host: %s (%s)", o->name,
                            status == ARES_SUCCESS ? "no address"
                                                   : ares_strerror(status));
  }
  t->report->resolved(t, o);
}

/* When c-ares next wants its time-outs processed, kept in t->dns_due:
 * ares_timeout walks every query, too dear for every loop turn. */
static void dns_due(salvo__transport *t) {
  struct timeval tv;
  if (!t->dns || !t->dns_pending || !ares_timeout(t->dns, NULL, &tv)) {
    t->dns_due = -1;
    return;
  }
  int64_t left = (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
  /* 0 must stay due: now plus nothing is later than the engine's now. */
  t->dns_due = left ? salvo__nat_now(t) + left : 0;
}

int salvo__nat_resolve(salvo__transport *t, salvo__origin *o, char **msg) {
  if (o->naddrs && salvo__nat_now(t) < o->addrs_expiry)
    return 0;
  if (o->resolving)
    return SALVO__IO_AGAIN;
  const char *auth = strstr(o->key, "://") + 3;
  const char *pin =
      salvo__cfg_pinned(t->cfg, auth, (size_t)(strrchr(auth, ':') - auth),
                        (unsigned)atoi(o->port));
  int lit = literal(o, pin ? pin : o->name);
  if (lit)
    return lit > 0 ? 0 : SALVO_ENOMEM;
  int err = channel(t, msg);
  if (err)
    return err;
  struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC,
                                      .ai_socktype = SOCK_STREAM,
                                      .ai_flags = ARES_AI_NUMERICSERV};
  /* A burst of lookups has its answers coming back while it is still
   * being sent: they are read every few lookups, before the socket's
   * buffer overflows and drops them (c-ares would ask again, seconds
   * later). */
  if (++t->dnsq.started % DNS_DRAIN_EVERY == 0)
    for (int i = 0; i < t->dnsq.nfds; i++)
      ares_process_fd(t->dns, t->dnsq.fds[i], ARES_SOCKET_BAD);
  o->resolving = 1;
  t->dns_pending++;
  ares_getaddrinfo(t->dns, o->name, o->port, &hints, on_answer, o);
  if (o->resolving) { /* the answer comes later */
    if (t->dns_due < 0)
      dns_due(t);
    return SALVO__IO_AGAIN;
  }
  if (o->naddrs) /* from /etc/hosts, at once */
    return 0;
  *msg = salvo__strdup(o->dns_err);
  return SALVO_EDNS;
}

void salvo__nat_dns_io(salvo__transport *t, int fd, uint32_t events) {
  if (!t->dns)
    return;
  int rd = !!(events & (EPOLLIN | EPOLLERR | EPOLLHUP));
  ares_process_fd(t->dns, rd ? fd : ARES_SOCKET_BAD,
                  events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
  dns_due(t);
}

int64_t salvo__nat_dns_deadline(const salvo__transport *t) {
  return t->dns_due;
}

void salvo__nat_dns_timer(salvo__transport *t) {
  if (!t->dns || !t->dns_pending)
    return;
  ares_process_fd(t->dns, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  dns_due(t);
}

void salvo__nat_dns_free(salvo__transport *t) {
  if (t->dns)
    ares_destroy(t->dns);
  t->dns = NULL;
  t->dns_pending = 0;
  t->dns_due = -1;
}
