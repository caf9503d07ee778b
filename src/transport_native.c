/*
 * The native transport: HTTP/1.1 over TCP and over TLS (OpenSSL), written
 * for the cost of a request, not for every protocol.
 *
 * - Each connection is registered once with the client's epoll descriptor,
 *   edge-triggered for reading and writing, and stays registered while it
 *   lives: no epoll_ctl per request, and no poll before a write or a read.
 *   A request is written as soon as its connection is free; a read runs
 *   until the socket says EAGAIN (or returns less than asked: the kernel
 *   had no more).
 * - Connections are kept per origin (a LIFO of idle ones) and in one LRU
 *   over all origins that bounds how many idle ones stay open. An idle
 *   connection the server closes is noticed by its EPOLLRDHUP and closed;
 *   one that dies unseen fails the next request before any response byte,
 *   which is then sent again once on a new connection, as libcurl does.
 * - One read buffer serves every connection: only the bytes a response
 *   cannot take yet (a partial line, a paused body) are copied aside, so
 *   10,000 connections cost their sockets and not 10,000 buffers.
 * - The response is framed by h1.c; its lines and body go to the request
 *   module as libcurl's do, so both transports read a response alike.
 * - Attempt and connect time limits sit in one list ordered by expiry.
 *   They are nearly always added in order (the same timeout from a later
 *   start), so insertion walks back from the tail and costs O(1).
 * - Names are resolved with getaddrinfo on the I/O thread and kept for a
 *   minute per origin; see docs/design.md for what that costs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cookie.h"
#include "decode.h"
#include "h1.h"
#include "receive.h"
#include "redirect.h"
#include "transport.h"
#include "url.h"
#include "util.h"

#define RBUF_SIZE (64 * 1024)
#define DNS_TTL_NS (60 * (int64_t)1000000000)
/* Bodies up to this size go out with the head in one write. */
#define INLINE_BODY (16 * 1024)
#define HOSTS_MAX 8192

typedef struct conn conn;
typedef struct nxfer nxfer;

/* An origin: its address, its idle connections and its TLS session. */
typedef struct host {
  struct host *hnext; /* hash chain */
  char *key;          /* the request's origin, "scheme://host:port" */
  char *name;         /* for getaddrinfo, SNI and verification */
  char *host_line;    /* "Host: name[:port]\r\n" */
  size_t host_line_len;
  char port[8];
  int tls;
  struct addrinfo *ai;
  int64_t ai_expiry;
  SSL_SESSION *sess; /* to resume with */
  conn *idle;        /* LIFO */
  int nconns;        /* open, idle or busy */
  /* A connection of this origin was closed by the server within
   * QUICK_CLOSE_NS of its last response: it closes after responses
   * without saying so, and a request that must not be sent twice could
   * cross that close. Such requests take a new connection here. */
  int closes_quietly;
} host;

#define QUICK_CLOSE_NS ((int64_t)1000000000)
#define IDLE_CHECK_NS ((int64_t)1000000)

enum conn_state { C_FREE = 0, C_CONNECTING, C_TLS, C_READY };

struct conn {
  uint32_t idx, gen; /* its epoll tag: a stale event finds another gen */
  int state;
  int fd;
  SSL *ssl;
  host *h;
  nxfer *x;                  /* the request it serves, NULL when idle */
  conn *inext, *iprev;       /* its host's idle list */
  conn *lnext, *lprev;       /* the transport's idle LRU */
  conn *next_free;           /* free slots */
  const struct addrinfo *ai; /* the address being tried */
  salvo__buf pend;           /* response bytes not yet taken */
  int served;                /* requests it carried before this one */
  int64_t idle_since;        /* ns, when it last went idle */
  int idle;                  /* in its host's idle list and the LRU */
};

struct nxfer {
  salvo__req *req;
  salvo__transport *t;
  conn *c;
  host *h;
  salvo__h1 p;
  salvo__buf out;   /* request head, and a small body */
  size_t head_len;  /* of out, the head alone */
  const char *body; /* a large body, written after out */
  size_t body_len;
  size_t wpos;        /* bytes of out + body written */
  int writing;        /* wpos has not reached the end */
  int wrote;          /* a byte of the request went out in this attempt */
  int conn_wrote;     /* ... on the connection it has now */
  int send_errno;     /* a write failed after the head went: why */
  int64_t t0, tfirst; /* attempt start, first response byte (ns) */
  int64_t deadline;   /* attempt, ns; 0 = none */
  int64_t cdeadline;  /* connect, ns; 0 = none */
  int64_t tkey;       /* its place in the timer list, 0 = not in it */
  nxfer *tnext, *tprev;
  int paused;        /* its reader is full: nothing read until resumed */
  int ending;        /* its response ended, but bytes wait for the reader */
  int handed_over;   /* a streamed response: no time limit from here */
  salvo__hop hop;    /* where this request of the attempt goes */
  char *location;    /* of a redirect response */
  int redirecting;   /* this response is a redirect being read past */
  int retried_fresh; /* already re-sent after a dead idle connection */
  int early;         /* answered before its body was all sent */
  int got_bytes;     /* of a response, on this connection */
  int finished;      /* ended, waiting in the done list */
  int error;
  char *errmsg;
  nxfer *dnext; /* the done list */
  nxfer *next_free;
};

struct salvo__transport {
  const salvo__cfg *cfg;
  salvo__transport_events ev;
  uint64_t tag_base;
  int epfd;
  SSL_CTX *ssl;
  char *ssl_err; /* why the TLS context could not be made */
  host **hosts;
  size_t nhosts;
  conn **slots;
  uint32_t nslots;
  conn *free_conns;
  conn *lru_head, *lru_tail; /* idle connections, oldest at head */
  size_t nidle, max_idle;
  nxfer *timers_head, *timers_tail;
  nxfer *done_head, *done_tail;
  nxfer *free_xfers;
  char *fixed; /* User-Agent, Accept, Accept-Encoding, client headers */
  size_t fixed_len;
  char *auth; /* "Authorization: ...\r\n", or NULL */
  size_t auth_len;
  char *rbuf;
  int host_hdr, ua_hdr, accept_hdr, ae_hdr, auth_hdr; /* client overrides */
};

#define HOST_BUCKETS 1024

static int nat_global_init(void) {
  return 0; /* OpenSSL 1.1+ initialises itself */
}

/* ---- timers ---------------------------------------------------------------
 */

static void timer_remove(salvo__transport *t, nxfer *x) {
  if (!x->tkey)
    return;
  if (x->tprev)
    x->tprev->tnext = x->tnext;
  else
    t->timers_head = x->tnext;
  if (x->tnext)
    x->tnext->tprev = x->tprev;
  else
    t->timers_tail = x->tprev;
  x->tnext = x->tprev = NULL;
  x->tkey = 0;
}

/* The earliest of the attempt's and the connect's limits, or none. */
static void timer_update(salvo__transport *t, nxfer *x) {
  int64_t key = x->handed_over || x->finished ? 0 : x->deadline;
  if (x->cdeadline && (!key || x->cdeadline < key))
    key = x->cdeadline;
  if (key == x->tkey)
    return;
  timer_remove(t, x);
  if (!key)
    return;
  nxfer *after = t->timers_tail;
  while (after && after->tkey > key)
    after = after->tprev;
  x->tprev = after;
  x->tnext = after ? after->tnext : t->timers_head;
  if (after)
    after->tnext = x;
  else
    t->timers_head = x;
  if (x->tnext)
    x->tnext->tprev = x;
  else
    t->timers_tail = x;
  x->tkey = key;
}

/* ---- hosts ----------------------------------------------------------------
 */

static void host_free(host *h) {
  if (h->ai)
    freeaddrinfo(h->ai);
  SSL_SESSION_free(h->sess);
  free(h->key);
  free(h->name);
  free(h->host_line);
  free(h);
}

/* Forgets the origins with no connection, when there are too many. */
static void hosts_trim(salvo__transport *t) {
  for (size_t i = 0; i < HOST_BUCKETS; i++) {
    for (host **pp = &t->hosts[i]; *pp;) {
      host *h = *pp;
      if (h->nconns) {
        pp = &h->hnext;
        continue;
      }
      *pp = h->hnext;
      host_free(h);
      t->nhosts--;
    }
  }
}

/* The origin of "scheme://host:port" (as request.c writes origins). */
static host *host_get(salvo__transport *t, const char *origin) {
  uint32_t b = salvo__hash(origin) & (HOST_BUCKETS - 1);
  for (host *h = t->hosts[b]; h; h = h->hnext)
    if (!strcmp(h->key, origin))
      return h;
  if (t->nhosts >= HOSTS_MAX)
    hosts_trim(t);
  host *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  const char *auth = strstr(origin, "://") + 3;
  const char *colon = strrchr(auth, ':');
  h->tls = origin[4] == 's';
  h->key = salvo__strdup(origin);
  int v6 = auth[0] == '[';
  h->name = salvo__strndup(auth + v6, (size_t)(colon - auth) - 2 * (size_t)v6);
  snprintf(h->port, sizeof(h->port), "%s", colon + 1);
  int dflt = !strcmp(h->port, h->tls ? "443" : "80");
  h->host_line =
      salvo__fmt("Host: %.*s\r\n",
                 (int)(dflt ? (size_t)(colon - auth) : strlen(auth)), auth);
  if (!h->key || !h->name || !h->host_line) {
    host_free(h);
    return NULL;
  }
  h->host_line_len = strlen(h->host_line);
  h->hnext = t->hosts[b];
  t->hosts[b] = h;
  t->nhosts++;
  return h;
}

/* The origin's addresses: its pinned one (salvo_config.resolve), or the
 * resolver's, kept DNS_TTL_NS. */
static int host_resolve(const salvo__cfg *cfg, host *h, int64_t now,
                        char **msg) {
  if (h->ai && now < h->ai_expiry)
    return 0;
  const char *auth = strstr(h->key, "://") + 3;
  const char *pin = salvo__cfg_pinned(
      cfg, auth, (size_t)(strrchr(auth, ':') - auth), (unsigned)atoi(h->port));
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV |
                                       (pin ? AI_NUMERICHOST : AI_ADDRCONFIG)};
  struct addrinfo *ai = NULL;
  int rc = getaddrinfo(pin ? pin : h->name, h->port, &hints, &ai);
  if (rc) {
    *msg = salvo__fmt("Could not resolve host: %s (%s)", h->name,
                      gai_strerror(rc));
    return SALVO_EDNS;
  }
  if (h->ai)
    freeaddrinfo(h->ai);
  h->ai = ai;
  h->ai_expiry = now + DNS_TTL_NS;
  return 0;
}

/* ---- connections ----------------------------------------------------------
 */

static uint64_t conn_tag(salvo__transport *t, conn *c) {
  return t->tag_base | (uint64_t)c->gen << 24 | c->idx;
}

static void idle_unlink(salvo__transport *t, conn *c) {
  host *h = c->h;
  if (c->iprev)
    c->iprev->inext = c->inext;
  else
    h->idle = c->inext;
  if (c->inext)
    c->inext->iprev = c->iprev;
  if (c->lprev)
    c->lprev->lnext = c->lnext;
  else
    t->lru_head = c->lnext;
  if (c->lnext)
    c->lnext->lprev = c->lprev;
  else
    t->lru_tail = c->lprev;
  c->inext = c->iprev = c->lnext = c->lprev = NULL;
  c->idle = 0;
  t->nidle--;
}

static void conn_close(salvo__transport *t, conn *c) {
  if (c->state == C_FREE)
    return;
  if (c->idle)
    idle_unlink(t, c);
  if (c->ssl) {
    /* Closed without close_notify (no round trip for it): OpenSSL would
     * take that for a broken connection and let no one resume its
     * session. */
    SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  close(c->fd); /* which also takes it out of epoll */
  c->fd = -1;
  c->h->nconns--;
  c->h = NULL;
  c->x = NULL;
  c->pend.len = 0;
  if (c->pend.cap > RBUF_SIZE)
    salvo__buf_free(&c->pend);
  c->state = C_FREE;
  c->gen++;
  c->next_free = t->free_conns;
  t->free_conns = c;
}

/* Gives back the slot of a connection that never got going. */
static void conn_discard(salvo__transport *t, conn *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->h->nconns--;
  c->h = NULL;
  c->x = NULL;
  c->state = C_FREE;
  c->gen++;
  c->next_free = t->free_conns;
  t->free_conns = c;
}

static conn *conn_slot(salvo__transport *t) {
  conn *c = t->free_conns;
  if (c) {
    t->free_conns = c->next_free;
    return c;
  }
  if (t->nslots >= (1u << 24))
    return NULL;
  if (!(t->nslots & (t->nslots - 1)) || !t->nslots) {
    size_t cap = t->nslots ? (size_t)t->nslots * 2 : 64;
    conn **s = realloc(t->slots, cap * sizeof(*s));
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

/* Starts connecting to the next address of c's host (c->ai). */
static int conn_dial(salvo__transport *t, conn *c, char **msg) {
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
  *msg = salvo__fmt("Failed to connect to %s port %s: %s", c->h->name,
                    c->h->port, strerror(last ? last : ECONNREFUSED));
  return SALVO_ECONNECT;
}

/* Records a new session of a connection's origin, for the next one. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess) {
  conn *c = SSL_get_app_data(ssl);
  if (!c || !c->h)
    return 0;
  SSL_SESSION_free(c->h->sess);
  c->h->sess = sess;
  return 1; /* the reference is ours */
}

static int tls_context(salvo__transport *t) {
  if (t->ssl)
    return 0;
  const salvo__cfg *cfg = t->cfg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx)
    return SALVO_ENOMEM;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                          SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  static const unsigned char alpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
  SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     NULL);
  int ok = cfg->ca_file ? SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL)
                        : SSL_CTX_set_default_verify_paths(ctx);
  if (!ok && !cfg->insecure) {
    free(t->ssl_err);
    t->ssl_err = salvo__fmt("error setting certificate file: %s",
                            cfg->ca_file ? cfg->ca_file : "(system store)");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return SALVO_ETLS;
  }
  t->ssl = ctx;
  return 0;
}

static int tls_setup(salvo__transport *t, conn *c, char **msg) {
  int err = tls_context(t);
  if (err) {
    *msg = t->ssl_err ? salvo__strdup(t->ssl_err) : NULL;
    return err;
  }
  SSL *s = SSL_new(t->ssl);
  if (!s || !SSL_set_fd(s, c->fd)) {
    SSL_free(s);
    return SALVO_ENOMEM;
  }
  c->ssl = s;
  SSL_set_app_data(s, c);
  SSL_set_connect_state(s);
  const char *name = c->h->name;
  unsigned char ip[16];
  int literal =
      inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
  if (!literal)
    SSL_set_tlsext_host_name(s, name);
  if (!t->cfg->insecure) {
    X509_VERIFY_PARAM *vp = SSL_get0_param(s);
    if (literal ? !X509_VERIFY_PARAM_set1_ip_asc(vp, name)
                : !SSL_set1_host(s, name))
      return SALVO_ENOMEM;
  }
  if (c->h->sess)
    SSL_set_session(s, c->h->sess);
  c->state = C_TLS;
  return 0;
}

/* ---- the request ----------------------------------------------------------
 */

static int has_hdr(const char *const *list, const char *name) {
  return salvo__headers_have(list, name, strlen(name));
}

/* The value of a header (after its colon and spaces). */
static const char *hdr_value(const char *h) {
  const char *v = h + salvo__header_name_len(h) + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  return v;
}

/* Whether header h is one salvo writes itself (the framing, the Cookie
 * field the jar's cookies join) or one that asks to send nothing
 * ("Name:"). */
static int skip_hdr(const char *h, int creds) {
  size_t n = salvo__header_name_len(h);
  if (!*hdr_value(h))
    return 1;
  if ((n == 14 && !salvo__casecmp_n(h, "Content-Length", 14)) ||
      (n == 17 && !salvo__casecmp_n(h, "Transfer-Encoding", 17)) ||
      (n == 6 && !salvo__casecmp_n(h, "Cookie", 6)))
    return 1;
  /* Credentials the caller wrote stay with the first origin too. */
  return !creds && n == 13 && !salvo__casecmp_n(h, "Authorization", 13);
}

/* The caller's own Cookie value for this hop (the request's, else the
 * client's), or NULL: it goes to the first origin only. */
static const char *own_cookie(const char *const *rh, const char *const *ch,
                              int creds) {
  if (!creds)
    return NULL;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; (k ? ch : rh) && (k ? ch : rh)[i]; i++) {
      const char *h = (k ? ch : rh)[i];
      if (salvo__header_name_len(h) == 6 && !salvo__casecmp_n(h, "Cookie", 6))
        return hdr_value(h);
    }
  return NULL;
}

static int put_line(salvo__buf *b, const char *h) {
  return salvo__buf_append(b, h, strlen(h)) || salvo__buf_append(b, "\r\n", 2);
}

/* The client-wide part of every head, made once. */
static int make_fixed(salvo__transport *t) {
  const salvo__cfg *cfg = t->cfg;
  const char *const *ch = (const char *const *)cfg->headers;
  salvo__buf b = {0};
  int rc = 0;
  t->host_hdr = has_hdr(ch, "Host");
  t->ua_hdr = has_hdr(ch, "User-Agent");
  t->accept_hdr = has_hdr(ch, "Accept");
  t->ae_hdr = has_hdr(ch, "Accept-Encoding");
  t->auth_hdr = has_hdr(ch, "Authorization");
  if (cfg->user_agent && !t->ua_hdr)
    rc |= salvo__buf_append(&b, "User-Agent: ", 12) ||
          put_line(&b, cfg->user_agent);
  if (!t->accept_hdr)
    rc |= salvo__buf_append(&b, "Accept: */*\r\n", 13);
  if (cfg->compression && !t->ae_hdr)
    rc |= put_line(&b, "Accept-Encoding: " SALVO__ACCEPT_ENCODING);
  if (rc || salvo__buf_reserve(&b, 1)) {
    salvo__buf_free(&b);
    return SALVO_ENOMEM;
  }
  t->fixed = b.p;
  t->fixed_len = b.len;
  if (!cfg->auth_header)
    return 0;
  t->auth = salvo__fmt("%s\r\n", cfg->auth_header);
  if (!t->auth)
    return SALVO_ENOMEM;
  t->auth_len = strlen(t->auth);
  return 0;
}

/* The request's head (and a small body) in x->out. */
static int build_head(salvo__transport *t, nxfer *x) {
  salvo__req *r = x->req;
  const char *const *rh = (const char *const *)r->headers;
  const char *const *ch = (const char *const *)t->cfg->headers;
  const char *url = salvo__hop_url(&x->hop, r);
  const char *method = x->hop.method;
  int creds = x->hop.creds, send_body = x->hop.send_body;
  const char *target;
  size_t tlen;
  salvo__buf *b = &x->out;
  int rc = 0;
  salvo__url_target(url, &target, &tlen);
  b->len = 0;
  rc |= salvo__buf_append(b, method, strlen(method));
  rc |= salvo__buf_append(b, tlen && *target == '/' ? " " : " /",
                          tlen && *target == '/' ? 1 : 2);
  rc |= salvo__buf_append(b, target, tlen);
  rc |= salvo__buf_append(b, " HTTP/1.1\r\n", 11);
  if (!t->host_hdr && !has_hdr(rh, "Host"))
    rc |= salvo__buf_append(b, x->h->host_line, x->h->host_line_len);
  if (t->auth && creds && !t->auth_hdr && !has_hdr(rh, "Authorization"))
    rc |= salvo__buf_append(b, t->auth, t->auth_len);
  if (r->nheaders == 0) {
    rc |= salvo__buf_append(b, t->fixed, t->fixed_len);
  } else {
    if (t->cfg->user_agent && !t->ua_hdr && !has_hdr(rh, "User-Agent"))
      rc |= salvo__buf_append(b, "User-Agent: ", 12) ||
            put_line(b, t->cfg->user_agent);
    if (!t->accept_hdr && !has_hdr(rh, "Accept"))
      rc |= salvo__buf_append(b, "Accept: */*\r\n", 13);
    if (t->cfg->compression && !t->ae_hdr && !has_hdr(rh, "Accept-Encoding"))
      rc |= put_line(b, "Accept-Encoding: " SALVO__ACCEPT_ENCODING);
  }
  if (send_body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
    char cl[40];
    int n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n",
                     send_body ? r->body_len : 0);
    rc |= salvo__buf_append(b, cl, (size_t)n);
  }
  const char *mine = own_cookie(rh, ch, creds);
  if (mine || salvo__jar_count(t->ev.jar))
    rc |= salvo__jar_header(t->ev.jar, url, mine, b);
  for (size_t i = 0; ch[i]; i++)
    if (!skip_hdr(ch[i], creds) &&
        !salvo__headers_have(rh, ch[i], salvo__header_name_len(ch[i])))
      rc |= put_line(b, ch[i]);
  for (size_t i = 0; i < r->nheaders; i++)
    if (!skip_hdr(rh[i], creds))
      rc |= put_line(b, rh[i]);
  rc |= salvo__buf_append(b, "\r\n", 2);
  x->head_len = b->len;
  x->body = NULL;
  x->body_len = 0;
  if (send_body && r->body_len) {
    if (r->body_len <= INLINE_BODY) {
      rc |= salvo__buf_append(b, r->body, r->body_len);
    } else {
      x->body = r->body;
      x->body_len = r->body_len;
    }
  }
  return rc ? SALVO_ENOMEM : 0;
}

/* ---- ending an attempt ----------------------------------------------------
 */

static void xfer_done(salvo__transport *t, nxfer *x, int err, char *msg) {
  timer_remove(t, x);
  x->finished = 1;
  x->error = err;
  free(x->errmsg);
  x->errmsg = msg;
  x->dnext = NULL;
  if (t->done_tail)
    t->done_tail->dnext = x;
  else
    t->done_head = x;
  t->done_tail = x;
}

/* Gives a connection back after its response: kept when the response
 * allows it and nothing more came, closed otherwise. */
static void conn_release(salvo__transport *t, conn *c, int keep) {
  c->x = NULL;
  if (!keep || c->pend.len || c->state != C_READY) {
    conn_close(t, c);
    return;
  }
  c->served++;
  c->idle_since = salvo__now_ns();
  host *h = c->h;
  c->iprev = NULL;
  c->inext = h->idle;
  if (h->idle)
    h->idle->iprev = c;
  h->idle = c;
  c->idle = 1;
  c->lnext = NULL;
  c->lprev = t->lru_tail;
  if (t->lru_tail)
    t->lru_tail->lnext = c;
  else
    t->lru_head = c;
  t->lru_tail = c;
  if (++t->nidle > t->max_idle)
    conn_close(t, t->lru_head);
}

/* An idle connection turned out closed (or spoke unasked): if that came
 * right after its last response, its origin closes quietly. */
static void idle_died(conn *c) {
  if (c->served && salvo__now_ns() - c->idle_since < QUICK_CLOSE_NS)
    c->h->closes_quietly = 1;
}

/* The attempt fails: its connection goes (it is in an unknown state). */
static void xfer_fail(salvo__transport *t, nxfer *x, int err, char *msg) {
  if (x->c) {
    conn *c = x->c;
    x->c = NULL;
    c->x = NULL;
    conn_close(t, c);
  }
  xfer_done(t, x, err, msg);
}

static int xfer_send(salvo__transport *t, nxfer *x);
static void conn_io(salvo__transport *t, conn *c, uint32_t events);

/* Whether an idle connection is still open and silent: the server has
 * neither closed it nor sent anything nobody asked for (TLS records that
 * carry no data, as TLS 1.3 session tickets, are read past). One system
 * call, paid by the requests that must not be sent twice, and by those
 * taking a connection idle long enough for a server to have given up on
 * it (a 408 on an idle connection must not answer the next request): a
 * connection handed on within IDLE_CHECK_NS had its epoll events seen. */
static int idle_alive(conn *c) {
  char b;
  ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 1;
  if (n > 0 && c->ssl) {
    ERR_clear_error();
    int rc = SSL_read(c->ssl, &b, 1);
    return rc <= 0 && SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_READ;
  }
  return 0;
}

/* Finds a connection for x: an idle one of its origin, or a new one. */
static int xfer_connect(salvo__transport *t, nxfer *x, char **msg) {
  host *h = x->h;
  *msg = NULL;
  int once = !x->req->idempotent;
  while (h->idle && !x->retried_fresh && !(once && h->closes_quietly)) {
    conn *c = h->idle;
    idle_unlink(t, c);
    if ((once || x->t0 - c->idle_since > IDLE_CHECK_NS) && !idle_alive(c)) {
      idle_died(c);
      c->x = NULL;
      conn_close(t, c);
      continue;
    }
    c->x = x;
    x->c = c;
    return 0;
  }
  int err = host_resolve(t->cfg, h, x->t0, msg);
  if (err)
    return err;
  conn *c = conn_slot(t);
  if (!c)
    return SALVO_ENOMEM;
  c->h = h;
  c->ai = h->ai;
  c->served = 0;
  h->nconns++;
  c->state = C_CONNECTING;
  if ((err = conn_dial(t, c, msg))) {
    conn_discard(t, c);
    return err;
  }
  c->x = x;
  x->c = c;
  if (t->cfg->connect_timeout_ms)
    x->cdeadline = x->t0 + t->cfg->connect_timeout_ms * 1000000;
  timer_update(t, x);
  return 0;
}

/* What one exchange on one connection keeps: a request sent again on
 * another connection (or to a redirect's target) starts all of it anew. */
static void exchange_reset(nxfer *x) {
  salvo__h1_init(&x->p, x->req->is_head);
  x->wpos = 0;
  x->writing = 1;
  x->conn_wrote = 0;
  x->send_errno = 0;
  x->got_bytes = 0;
  x->paused = 0;
  x->early = 0;
  x->redirecting = 0;
  free(x->location);
  x->location = NULL;
}

/* Sends x on its connection now, if that is ready. */
static int xfer_go(salvo__transport *t, nxfer *x, char **msg) {
  int err = xfer_connect(t, x, msg);
  if (err)
    return err;
  exchange_reset(x);
  if (x->c->state == C_READY)
    xfer_send(t, x); /* a failure is reported through reap */
  return 0;
}

/* A reused connection that died while idle: the request goes again, once,
 * on a new one. Nothing of a response came; an idempotent request may be
 * repeated anyway, another only when not a byte of it went out (the
 * connection was dead before it was written). */
static int retry_fresh(salvo__transport *t, nxfer *x) {
  conn *c = x->c;
  if (!c || !c->served || x->got_bytes || x->retried_fresh ||
      (!x->req->idempotent && x->conn_wrote))
    return 0;
  idle_died(c);
  x->retried_fresh = 1;
  x->c = NULL;
  c->x = NULL;
  conn_close(t, c);
  char *msg = NULL;
  int err = xfer_go(t, x, &msg);
  if (err)
    xfer_fail(t, x, err, msg);
  return 1;
}

static void fail_io(salvo__transport *t, nxfer *x, int e, const char *what) {
  if (retry_fresh(t, x))
    return;
  xfer_fail(t, x, SALVO_EIO,
            salvo__fmt("%s: %s", what, strerror(e ? e : ECONNRESET)));
}

/* ---- writing --------------------------------------------------------------
 */

static void conn_read(salvo__transport *t, conn *c, uint32_t events);

/* A write failed. Once the head is out, the server may have answered and
 * closed without reading the rest (an early 413): what it said is read
 * before the failure is reported. */
static void send_failed(salvo__transport *t, nxfer *x, int e) {
  if (x->wpos < x->head_len || !x->c) {
    fail_io(t, x, e, "Send failure");
    return;
  }
  x->writing = 0;
  x->send_errno = e ? e : EPIPE;
  conn_read(t, x->c, 0);
}

/* Writes what is left of the request; 0 when done or waiting for the
 * socket, else the attempt already ended or its response is being read. */
static int xfer_send(salvo__transport *t, nxfer *x) {
  conn *c = x->c;
  size_t total = x->out.len + x->body_len;
  while (x->wpos < total) {
    ssize_t n;
    if (c->ssl) {
      const char *p = x->wpos < x->out.len ? x->out.p + x->wpos
                                           : x->body + (x->wpos - x->out.len);
      size_t len =
          x->wpos < x->out.len ? x->out.len - x->wpos : total - x->wpos;
      ERR_clear_error();
      int rc = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
      if (rc <= 0) {
        int se = SSL_get_error(c->ssl, rc);
        if (se == SSL_ERROR_WANT_WRITE || se == SSL_ERROR_WANT_READ)
          return 0;
        send_failed(t, x, se == SSL_ERROR_SYSCALL ? errno : 0);
        return -1;
      }
      n = rc;
    } else {
      struct iovec iov[2];
      int cnt = 0;
      if (x->wpos < x->out.len)
        iov[cnt++] = (struct iovec){x->out.p + x->wpos, x->out.len - x->wpos};
      if (x->body_len) {
        size_t off = x->wpos > x->out.len ? x->wpos - x->out.len : 0;
        iov[cnt++] = (struct iovec){(void *)(x->body + off), x->body_len - off};
      }
      struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
      n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        if (errno == EAGAIN)
          return 0;
        send_failed(t, x, errno);
        return -1;
      }
    }
    x->wpos += (size_t)n;
    x->wrote = x->conn_wrote = 1;
  }
  x->writing = 0;
  return 0;
}

/* ---- reading --------------------------------------------------------------
 */

static int on_body(void *ctx, const char *p, size_t n) {
  nxfer *x = ctx;
  if (x->redirecting)
    return 0; /* a redirect's body is read past */
  if (x->paused)
    return SALVO__H1_PAUSE;
  int rc = salvo__req_on_body(x->req, p, n);
  return rc == SALVO__EV_PAUSE  ? SALVO__H1_PAUSE
         : rc == SALVO__EV_HELD ? SALVO__H1_HOLD
                                : rc;
}

/* The transport reads a few headers itself: where a redirect goes, and
 * the cookies. */
static int header_seen(nxfer *x, const char *l, size_t n) {
  salvo__transport *t = x->t;
  size_t nl = salvo__header_name_len(l);
  if (!nl || nl >= n)
    return 0;
  const char *v = l + nl + 1;
  size_t vn = n - nl - 1;
  while (vn && (*v == ' ' || *v == '\t'))
    v++, vn--;
  while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
    vn--;
  if (nl == 8 && !salvo__casecmp_n(l, "Location", 8)) {
    free(x->location);
    x->location = salvo__strndup(v, vn);
    return x->location ? 0 : SALVO_ENOMEM;
  }
  if (nl == 10 && !salvo__casecmp_n(l, "Set-Cookie", 10) && t->ev.jar) {
    return salvo__jar_set(t->ev.jar, salvo__hop_url(&x->hop, x->req), v, vn);
  }
  return 0;
}

static int on_line(void *ctx, const char *l, size_t n) {
  nxfer *x = ctx;
  salvo__transport *t = x->t;
  if (n && x->p.lines == 1) { /* a status line: a new response */
    free(x->location);
    x->location = NULL;
  } else if (n) {
    int rc = header_seen(x, l, n);
    if (rc)
      return rc;
  }
  if (n == 0 && x->p.status >= 200 && (x->writing || x->send_errno)) {
    /* Answered before the body was all sent (a 413, a 401): the server
     * does not want the rest (RFC 9112 9.5), and the connection, with a
     * request cut short on it, cannot be used again. */
    x->writing = 0;
    x->early = 1;
  }
  if (n == 0 && x->p.status >= 200 &&
      salvo__redirect_wanted(t->cfg, x->p.status, x->location != NULL)) {
    char *msg = NULL;
    int err = salvo__redirect_allowed(&x->hop, t->cfg, &msg);
    free(msg); /* parse_message says it again */
    if (err) {
      x->p.why = NULL;
      return err;
    }
    x->redirecting = 1;
  }
  int rc = salvo__req_on_header(x->req, l, n);
  if (rc == SALVO__EV_HEADERS) {
    /* The reader paces the body from here: no time limit of ours. */
    x->handed_over = 1;
    timer_update(t, x);
    t->ev.headers(t->ev.ctx, x->req);
    rc = 0;
  }
  return rc;
}

static void follow(salvo__transport *t, nxfer *x);

/* The response ended: its connection is given back, and the attempt ends
 * or follows its redirect. */
static void xfer_complete(salvo__transport *t, nxfer *x) {
  conn *c = x->c;
  x->c = NULL;
  conn_release(t, c, x->p.keep_alive && !x->early);
  if (x->redirecting) {
    follow(t, x); /* the next request went, or the attempt failed */
    return;
  }
  if (salvo__req_holding(x->req)) {
    x->ending = 1; /* ends once its reader took the rest */
    return;
  }
  int err = salvo__req_on_end(x->req);
  xfer_done(t, x, err, err ? salvo__req_fail_message(x->req) : NULL);
}

/* The message a parse error gets. */
static char *parse_message(nxfer *x, int err) {
  if (x->p.why)
    return salvo__fmt("%s", x->p.why);
  if (err == SALVO_EREDIRECT)
    return salvo__fmt("Maximum (%d) redirects followed",
                      x->t->cfg->max_redirects);
  return salvo__req_fail_message(x->req);
}

/* Feeds bytes to x's response; returns what it took, or -1 when the
 * attempt ended with an error (already reported). */
static long xfer_feed(salvo__transport *t, nxfer *x, const char *p, size_t n) {
  int paused;
  if (!x->tfirst)
    x->tfirst = salvo__now_ns();
  x->got_bytes = 1;
  long used = salvo__h1_feed(&x->p, p, n, &(salvo__h1_cb){x, on_line, on_body},
                             &paused);
  if (used < 0) {
    int err = (int)used;
    xfer_fail(t, x, err, parse_message(x, err));
    return -1;
  }
  if (paused)
    x->paused = 1;
  return used;
}

/* Bytes read for c: fed to its response, with what is left kept. */
static void conn_data(salvo__transport *t, conn *c, const char *p, size_t n) {
  nxfer *x = c->x;
  if (c->pend.len) {
    if (salvo__buf_append(&c->pend, p, n)) {
      xfer_fail(t, x, SALVO_ENOMEM, NULL);
      return;
    }
    p = c->pend.p;
    n = c->pend.len;
  }
  long used = xfer_feed(t, x, p, n);
  if (used < 0)
    return;
  size_t rest = n - (size_t)used;
  if (p == c->pend.p) {
    memmove(c->pend.p, c->pend.p + used, rest);
    c->pend.len = rest;
  } else if (rest && salvo__buf_append(&c->pend, p + used, rest)) {
    xfer_fail(t, x, SALVO_ENOMEM, NULL);
    return;
  }
  if (x->p.state == SALVO__H1_DONE)
    xfer_complete(t, x);
}

/* Reads c until the socket is empty, the response ends or pauses.
 * `events` are the epoll events that woke it (0: none, read to EAGAIN). */
static void conn_read(salvo__transport *t, conn *c, uint32_t events) {
  /* A short read means the socket is empty for now, unless the close or
   * reset came with the same wake-up: then read on to see it. */
  int short_ok = events && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR));
  for (;;) {
    nxfer *x = c->x;
    if (!x || x->paused)
      return;
    ssize_t n;
    int e = 0;
    if (c->ssl) {
      ERR_clear_error();
      int rc = SSL_read(c->ssl, t->rbuf, RBUF_SIZE);
      if (rc > 0) {
        n = rc;
      } else {
        int se = SSL_get_error(c->ssl, rc);
        if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
          return;
        e = se == SSL_ERROR_SYSCALL ? errno : 0;
        n = se == SSL_ERROR_ZERO_RETURN || (se == SSL_ERROR_SYSCALL && !e) ? 0
                                                                           : -1;
        if (n < 0 && !e)
          e = EPROTO;
      }
    } else {
      n = recv(c->fd, t->rbuf, RBUF_SIZE, 0);
      if (n < 0) {
        e = errno;
        if (e == EAGAIN || e == EINTR) {
          if (e == EAGAIN)
            return;
          continue;
        }
      }
    }
    if (n > 0 && x->wpos < x->head_len) {
      /* Nothing was asked yet: whatever this answers, it is not this
       * request. */
      xfer_fail(t, x, SALVO_EPROTO,
                salvo__fmt("the server sent a response before the request "
                           "was sent"));
      return;
    }
    if (n > 0) {
      conn_data(t, c, t->rbuf, (size_t)n);
      /* A plain socket that gave less than asked is empty: its next
       * bytes bring a new edge. */
      if (!c->ssl && n < RBUF_SIZE && short_ok)
        return;
      continue;
    }
    if (n == 0) { /* the server closed */
      if (c->pend.len && x->p.state != SALVO__H1_HEAD) {
        long used = xfer_feed(t, x, c->pend.p, c->pend.len);
        if (used < 0)
          return;
        c->pend.len -= (size_t)used;
      }
      int err = salvo__h1_eof(&x->p);
      if (err == 0) {
        x->p.keep_alive = 0;
        xfer_complete(t, x);
      } else if (!x->got_bytes && retry_fresh(t, x)) {
        /* sent again on a new connection */
      } else if (!x->got_bytes && x->send_errno) {
        xfer_fail(t, x, SALVO_EIO,
                  salvo__fmt("Send failure: %s", strerror(x->send_errno)));
      } else {
        xfer_fail(t, x, err,
                  salvo__fmt("%s", x->got_bytes ? x->p.why
                                                : "Empty reply from server"));
      }
      return;
    }
    if (!x->got_bytes && x->send_errno)
      e = x->send_errno;
    fail_io(t, x, e, x->send_errno ? "Send failure" : "Recv failure");
    return;
  }
}

/* An idle connection stirred: the server closed it (or sent what nobody
 * asked for). Either way it cannot carry a request. */
static void idle_event(salvo__transport *t, conn *c, uint32_t events) {
  if (c->ssl && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
    /* TLS 1.3 sends session tickets after the handshake: records that
     * carry no data, which do not make the connection unusable. */
    char b;
    ERR_clear_error();
    int rc = SSL_read(c->ssl, &b, 1);
    if (rc <= 0 && SSL_get_error(c->ssl, rc) == SSL_ERROR_WANT_READ)
      return;
  }
  idle_died(c);
  conn_close(t, c);
}

static void tls_handshake(salvo__transport *t, conn *c) {
  nxfer *x = c->x;
  ERR_clear_error();
  int rc = SSL_do_handshake(c->ssl);
  if (rc == 1) {
    c->state = C_READY;
    x->cdeadline = 0;
    timer_update(t, x);
    if (xfer_send(t, x) == 0)
      conn_read(t, c, EPOLLIN);
    return;
  }
  int se = SSL_get_error(c->ssl, rc);
  if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
    return;
  long vr = SSL_get_verify_result(c->ssl);
  unsigned long e = ERR_get_error();
  char buf[256] = "";
  if (e)
    ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  char *msg = vr != X509_V_OK
                  ? salvo__fmt("SSL certificate problem: %s",
                               X509_verify_cert_error_string(vr))
                  : salvo__fmt("TLS handshake with %s port %s failed: %s",
                               c->h->name, c->h->port,
                               *buf ? buf : strerror(errno ? errno : EPROTO));
  xfer_fail(t, x, SALVO_ETLS, msg);
}

/* The connection is up (or failed): on to TLS or the request. */
static void connected(salvo__transport *t, conn *c, uint32_t events) {
  nxfer *x = c->x;
  int so = 0;
  socklen_t sl = sizeof(so);
  /* Writable without an error or a hang-up is connected: only a failure
   * costs the getsockopt that says why. */
  if ((events & (EPOLLERR | EPOLLHUP)) &&
      (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &sl) || !so))
    so = so ? so : ECONNREFUSED;
  if (so) {
    /* Try the origin's next address, if it has one, under a new tag:
     * events of the old socket may still be on their way. */
    close(c->fd);
    c->fd = -1;
    c->gen++;
    c->ai = c->ai ? c->ai->ai_next : NULL;
    char *msg = NULL;
    if (c->ai && !conn_dial(t, c, &msg))
      return;
    free(msg);
    x->c = NULL;
    conn_discard(t, c);
    xfer_done(t, x, SALVO_ECONNECT,
              salvo__fmt("Failed to connect to %s port %s: %s", x->h->name,
                         x->h->port, strerror(so ? so : errno)));
    return;
  }
  if (x->h->tls) {
    char *msg = NULL;
    int err = tls_setup(t, c, &msg);
    if (err) {
      xfer_fail(t, x, err, msg);
      return;
    }
    tls_handshake(t, c);
    return;
  }
  c->state = C_READY;
  x->cdeadline = 0;
  timer_update(t, x);
  /* No read: the answer cannot be there yet, and its edge will come. */
  xfer_send(t, x);
}

static void conn_io(salvo__transport *t, conn *c, uint32_t events) {
  if (!c->x) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      idle_event(t, c, events);
    return;
  }
  switch (c->state) {
  case C_CONNECTING:
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
      connected(t, c, events);
    return;
  case C_TLS:
    tls_handshake(t, c);
    return;
  default:
    break;
  }
  nxfer *x = c->x;
  if (x->writing && xfer_send(t, x))
    return;
  if (c->x == x)
    conn_read(t, c, events);
}

/* ---- redirects ------------------------------------------------------------
 */

/* Follows a redirect: sends the next request, or ends the attempt (a
 * Location salvo cannot follow is SALVO_EREDIRECT). */
static void follow(salvo__transport *t, nxfer *x) {
  salvo__req *r = x->req;
  char *msg = NULL;
  x->redirecting = 0;
  int err = salvo__redirect_follow(&x->hop, r, t->cfg, x->p.status, x->location,
                                   strlen(x->location), &msg);
  char *origin = err ? NULL : salvo__url_origin(x->hop.url, &err);
  host *h = origin ? host_get(t, origin) : NULL;
  free(origin);
  if (!err && !h)
    err = SALVO_ENOMEM;
  if (err) {
    xfer_done(t, x, err, msg);
    return;
  }
  x->h = h;
  x->retried_fresh = 0;
  err = build_head(t, x);
  if (!err)
    err = xfer_go(t, x, &msg);
  if (err)
    xfer_fail(t, x, err, msg);
}

/* ---- the seam -------------------------------------------------------------
 */

static void nat_destroy(salvo__transport *t);

static int nat_create(salvo__transport **out, const salvo__cfg *cfg, int epfd,
                      uint64_t tag_base, const salvo__transport_events *ev) {
  salvo__transport *t = calloc(1, sizeof(*t));
  if (!t)
    return SALVO_ENOMEM;
  t->cfg = cfg;
  t->ev = *ev;
  t->epfd = epfd;
  t->tag_base = tag_base;
  t->max_idle = cfg->concurrency < 8 ? 16 : 2 * (size_t)cfg->concurrency;
  t->hosts = calloc(HOST_BUCKETS, sizeof(*t->hosts));
  t->rbuf = malloc(RBUF_SIZE);
  if (!t->hosts || !t->rbuf || make_fixed(t)) {
    nat_destroy(t);
    return SALVO_ENOMEM;
  }
  *out = t;
  return 0;
}

static void xfer_free(nxfer *x) {
  salvo__buf_free(&x->out);
  salvo__hop_free(&x->hop);
  free(x->location);
  free(x->errmsg);
  free(x);
}

static void nat_destroy(salvo__transport *t) {
  if (!t)
    return;
  for (uint32_t i = 0; i < t->nslots; i++) {
    conn *c = t->slots[i];
    c->x = NULL;
    if (c->state != C_FREE) {
      if (c->ssl)
        SSL_free(c->ssl);
      close(c->fd);
    }
    salvo__buf_free(&c->pend);
    free(c);
  }
  free(t->slots);
  for (size_t i = 0; t->hosts && i < HOST_BUCKETS; i++)
    for (host *h = t->hosts[i], *next; h; h = next) {
      next = h->hnext;
      host_free(h);
    }
  free(t->hosts);
  for (nxfer *x = t->free_xfers, *next; x; x = next) {
    next = x->next_free;
    xfer_free(x);
  }
  SSL_CTX_free(t->ssl);
  free(t->ssl_err);
  free(t->fixed);
  if (t->auth)
    OPENSSL_cleanse(t->auth, t->auth_len);
  free(t->auth);
  free(t->rbuf);
  free(t);
}

static nxfer *xfer_get(salvo__transport *t) {
  nxfer *x = t->free_xfers;
  if (x) {
    t->free_xfers = x->next_free;
    salvo__buf out = x->out;
    memset(x, 0, sizeof(*x));
    x->out = out;
    return x;
  }
  return calloc(1, sizeof(*x));
}

static void xfer_put(salvo__transport *t, nxfer *x) {
  salvo__hop_free(&x->hop);
  free(x->location);
  free(x->errmsg);
  x->location = x->errmsg = NULL;
  if (x->out.cap > 64 * 1024)
    salvo__buf_free(&x->out);
  x->next_free = t->free_xfers;
  t->free_xfers = x;
}

static int nat_start(salvo__transport *t, salvo__req *r, char **msg) {
  *msg = NULL;
  nxfer *x = xfer_get(t);
  if (!x)
    return SALVO_ENOMEM;
  x->req = r;
  x->t = t;
  salvo__hop_start(&x->hop, r);
  x->t0 = salvo__now_ns();
  x->h = host_get(t, r->origin);
  int err = x->h ? build_head(t, x) : SALVO_ENOMEM;
  if (err) {
    xfer_put(t, x);
    return err;
  }
  if (r->attempt_timeout_ms)
    x->deadline = x->t0 + r->attempt_timeout_ms * 1000000;
  r->xfer = x;
  /* Every failure from here (a name that does not resolve, a refusal the
   * kernel reports at once) ends the attempt through reap, like libcurl's
   * do: the retry policy sees it. */
  char *why = NULL;
  err = xfer_go(t, x, &why);
  if (err)
    xfer_done(t, x, err, why);
  timer_update(t, x);
  return 0;
}

static void nat_abort(salvo__transport *t, salvo__req *r) {
  nxfer *x = r->xfer;
  if (!x)
    return;
  r->xfer = NULL;
  timer_remove(t, x);
  if (x->c) {
    conn *c = x->c;
    c->x = NULL;
    conn_close(t, c);
  }
  /* An ended attempt still waiting to be reported is dropped too. */
  for (nxfer **pp = &t->done_head; *pp; pp = &(*pp)->dnext)
    if (*pp == x) {
      *pp = x->dnext;
      if (t->done_tail == x) {
        t->done_tail = NULL;
        for (nxfer *d = t->done_head; d; d = d->dnext)
          t->done_tail = d;
      }
      break;
    }
  xfer_put(t, x);
}

static void nat_resume(salvo__transport *t, salvo__req *r) {
  nxfer *x = r->xfer;
  if (!x || !x->paused)
    return;
  x->paused = 0;
  int rc = salvo__req_resume_body(r);
  if (rc == SALVO__EV_HELD) {
    x->paused = 1;
    return;
  }
  if (rc) {
    xfer_fail(t, x, rc, salvo__req_fail_message(r));
    return;
  }
  if (x->ending) { /* the response had ended: its reader has it all now */
    x->ending = 0;
    int err = salvo__req_on_end(r);
    xfer_done(t, x, err, err ? salvo__req_fail_message(r) : NULL);
    return;
  }
  conn *c = x->c;
  if (c->pend.len) {
    salvo__buf keep = c->pend;
    c->pend = (salvo__buf){0};
    conn_data(t, c, keep.p, keep.len);
    salvo__buf_free(&keep);
    if (c->x != x || x->paused)
      return;
  }
  conn_read(t, c, 0);
}

static void nat_on_socket(salvo__transport *t, uint64_t tag, uint32_t events) {
  tag &= ~t->tag_base;
  uint32_t idx = (uint32_t)(tag & 0xffffff), gen = (uint32_t)(tag >> 24);
  if (idx >= t->nslots)
    return;
  conn *c = t->slots[idx];
  if (c->gen != gen || c->state == C_FREE)
    return; /* an event of a connection closed since */
  conn_io(t, c, events);
}

static int64_t nat_deadline(const salvo__transport *t) {
  if (t->done_head)
    return 0;
  return t->timers_head ? t->timers_head->tkey : -1;
}

static void nat_on_timer(salvo__transport *t) {
  int64_t now = salvo__now_ns();
  nxfer *x;
  while ((x = t->timers_head) && x->tkey <= now) {
    int connecting = x->cdeadline && x->cdeadline <= now;
    int64_t ms = (now - x->t0) / 1000000;
    char *msg =
        connecting
            ? salvo__fmt("Connection timed out after %lld milliseconds",
                         (long long)ms)
            : salvo__fmt("Operation timed out after %lld milliseconds with "
                         "%zu bytes received",
                         (long long)ms, x->req->resp->body.len);
    xfer_fail(t, x, SALVO_ETIMEDOUT, msg);
  }
}

static void nat_reap(salvo__transport *t) {
  nxfer *x;
  while ((x = t->done_head)) {
    t->done_head = x->dnext;
    if (!t->done_head)
      t->done_tail = NULL;
    salvo__req *r = x->req;
    salvo__attempt_result res = {0};
    int64_t now = salvo__now_ns();
    res.error = r->fail ? r->fail : x->error;
    if (r->fail) {
      res.errmsg = salvo__req_fail_message(r);
      free(x->errmsg);
    } else {
      res.errmsg = x->errmsg;
    }
    x->errmsg = NULL;
    const char *secrets[] = {t->cfg->password, t->cfg->bearer_token};
    res.errmsg = salvo__redact(res.errmsg, secrets, 2);
    res.unsent = !x->wrote;
    if (r->resp->status) {
      res.redirects = x->hop.count;
      res.final_url = x->hop.url;
      res.total_time = (double)(now - x->t0) / 1e9;
      res.ttfb = x->tfirst ? (double)(x->tfirst - x->t0) / 1e9 : 0;
    }
    r->xfer = NULL;
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
