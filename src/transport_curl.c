/*
 * The libcurl transport: one multi handle per client, driven with
 * curl_multi_socket_action on the client's epoll descriptor.
 *
 * Easy handles are pooled and reused: options that are the same for every
 * request of the client are set once when a handle is made, and only the
 * per-request ones (URL, method, headers, body, timeout) on each start.
 * Cookies and TLS sessions live in a share object, so that every pooled
 * handle sees one cookie jar.
 *
 * There are two multi handles. libcurl 7.88 opens a new connection for
 * nearly every transfer that finds the HTTP/2 connections of its origin at
 * the server's stream limit (a connection still being set up does not
 * count as one to wait for), so a burst of 256 requests to a server that
 * allows 128 streams could open dozens of TLS connections. Origins that
 * multiplex therefore go through a multi handle that caps connections per
 * host (CURLMOPT_MAX_HOST_CONNECTIONS), where extra streams wait inside
 * libcurl; HTTP/1.1 origins, which need one connection per request in
 * flight, go through one without that cap. Which is which is learnt from
 * ALPN when an origin's first TLS handshake completes.
 */
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"
#include "util.h"

/* What an origin's connections can do, as far as this transport knows.
 * libcurl 7.88 opens a connection per transfer to an HTTP/2 origin that
 * is at its stream limit, so multiplexing origins go through their own
 * multi handle; which origins those are, ALPN says at the first
 * handshake. */
enum proto {
  /* Not known yet: the origin is held to one request in flight until the
   * first connection's TLS handshake says. */
  PROTO_UNKNOWN = 1,
  /* The first attempt failed before saying: assume multiplexing, which is
   * safe for both kinds, until a handshake says otherwise. */
  PROTO_GUESS_MUX,
  PROTO_H1, /* one request per connection */
  PROTO_MUX /* HTTP/2 streams over few connections */
};

/* Origins whose protocol is learnt (https, HTTP/2 allowed): a small
 * open-addressing table, emptied when full rather than grown without
 * bound (an origin then learns again, at the cost of one handshake). */
#define ORIGINS_MAX 8192

typedef struct origin {
  char *key; /* NULL = empty */
  int proto;
  /* A reused connection of this origin closed before any response: it
   * closes connections without saying so, and a request that must not be
   * sent twice takes a new connection here. */
  int closes_quietly;
} origin;

enum { MULTI_H1, MULTI_MUX, NMULTI };

typedef struct multi {
  CURLM *m;
  struct salvo__transport *t;
  uint32_t idx;
  int64_t deadline; /* ns, -1 = none */
} multi;

typedef struct xfer {
  CURL *easy;
  int learning; /* its origin's protocol was not known when it started */
  struct xfer *next_free;
  salvo__req *req;
  multi *mh;               /* the multi handle running it */
  struct curl_slist *hdrs; /* this request's merged headers, or NULL */
  int body_seen;           /* a body byte of this attempt came */
  int sends;               /* requests libcurl was about to send */
  int resend_refused;      /* libcurl wanted to send it again: refused */
  int header_seen;         /* a response byte of this attempt came */
  int fresh;               /* sent again on a new connection already */
  int spoke_unasked;       /* its pooled connection had bytes waiting */
  int paused;              /* its reader's buffer was full */
  long bufsize;            /* CURLOPT_BUFFERSIZE as last set, 0 = default */
  char errbuf[CURL_ERROR_SIZE];
} xfer;

struct salvo__transport {
  const salvo__cfg *cfg;
  salvo__transport_events ev;
  uint64_t tag_base;
  origin *origins; /* ORIGINS_MAX slots, made on first use */
  size_t norigins;
  multi mh[NMULTI];
  CURLSH *share;
  CURL *jar; /* never runs a transfer: reaches the shared cookie jar */
  int epfd;
  /* The socket of each local port of its connections (-1: none): libcurl
   * says which connection a transfer is about to use only by its ports. */
  int *port_fd;
  xfer *free_list;
  struct curl_slist *base_hdrs; /* the client's headers */
};

/* ---- process-wide init --------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_ALL); }

static int global_init_once(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK ? 0 : SALVO_EINTERNAL;
}

/* ---- errors ------------------------------------------------------------- */

static int map_error(CURLcode rc) {
  switch (rc) {
  case CURLE_OK:
    return SALVO_OK;
  case CURLE_URL_MALFORMAT:
    return SALVO_EINVAL;
  case CURLE_UNSUPPORTED_PROTOCOL:
    /* The scheme was checked at submission, so curl only says this of a
     * response it cannot read (an unknown HTTP version) or of a redirect to
     * another scheme; the caller tells the two apart. */
    return SALVO_EPROTO;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return SALVO_EDNS;
  case CURLE_COULDNT_CONNECT:
    return SALVO_ECONNECT;
  case CURLE_OPERATION_TIMEDOUT:
    return SALVO_ETIMEDOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED:
    return SALVO_ETLS;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_RANGE_ERROR:
  case CURLE_BAD_DOWNLOAD_RESUME:
    return SALVO_EPROTO;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2_STREAM:
    return SALVO_EIO;
  case CURLE_TOO_MANY_REDIRECTS:
    return SALVO_EREDIRECT;
  case CURLE_FILESIZE_EXCEEDED:
    return SALVO_ETOOBIG;
  case CURLE_OUT_OF_MEMORY:
    return SALVO_ENOMEM;
  case CURLE_PROXY:
    return SALVO_EPROXY;
  default:
    return SALVO_EIO;
  }
}

/* ---- curl callbacks -------------------------------------------------------
 */

/* The local port of a socket, or -1. */
static int local_port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &sl))
    return -1;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -1;
}

static int on_curl_close_socket(void *clientp, curl_socket_t s) {
  salvo__transport *t = clientp;
  int port = t->port_fd ? local_port_of(s) : -1;
  if (port > 0 && t->port_fd[port] == s)
    t->port_fd[port] = -1;
  return close(s);
}

/* Sockets are tagged with their multi handle in the epoll data. */
static int on_curl_socket(CURL *e, curl_socket_t s, int what, void *userp,
                          void *sockp) {
  multi *mh = userp;
  int epfd = mh->t->epfd;
  (void)e;
  if (!sockp && what != CURL_POLL_REMOVE && mh->t->port_fd) {
    int port = local_port_of(s);
    if (port > 0)
      mh->t->port_fd[port] = s;
  }
  struct epoll_event ev = {.data.u64 = mh->t->tag_base |
                                       (uint64_t)mh->idx << 32 | (uint32_t)s};
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, &ev);
    curl_multi_assign(mh->m, s, NULL);
    return 0;
  }
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
              ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  int op = sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epfd, op, s, &ev) != 0)
    epoll_ctl(epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s,
              &ev);
  if (!sockp)
    curl_multi_assign(mh->m, s, mh);
  return 0;
}

static int on_curl_timer(CURLM *m, long ms, void *userp) {
  multi *mh = userp;
  (void)m;
  mh->deadline = ms < 0 ? -1 : salvo__now_ns() + (int64_t)ms * 1000000;
  return 0;
}

/* ---- what origins speak -------------------------------------------------- */

/* The entry of an origin; with `add`, made (as PROTO_UNKNOWN) when
 * missing. NULL when absent, or out of memory. */
static origin *origin_find(salvo__transport *t, const char *key, int add) {
  if (!t->origins) {
    if (!add || !(t->origins = calloc(ORIGINS_MAX, sizeof(*t->origins))))
      return NULL;
  }
  size_t mask = ORIGINS_MAX - 1, i = salvo__hash(key) & mask;
  for (; t->origins[i].key; i = (i + 1) & mask)
    if (!strcmp(t->origins[i].key, key))
      return &t->origins[i];
  if (!add)
    return NULL;
  if (t->norigins >= ORIGINS_MAX / 2) {
    for (size_t j = 0; j <= mask; j++)
      free(t->origins[j].key);
    memset(t->origins, 0, ORIGINS_MAX * sizeof(*t->origins));
    t->norigins = 0;
    i = salvo__hash(key) & mask;
  }
  if (!(t->origins[i].key = salvo__strdup(key)))
    return NULL;
  t->origins[i].proto = PROTO_UNKNOWN;
  t->norigins++;
  return &t->origins[i];
}

/* What r's origin speaks, as far as is known, holding the origin to one
 * request in flight when nothing is known yet. */
static int origin_proto(salvo__transport *t, salvo__req *r, xfer *x) {
  int v = t->cfg->http_version;
  x->learning = 0;
  if (v == SALVO_HTTP_1_1 || strncmp(r->origin, "https:", 6))
    return v == SALVO_HTTP_2_PRIOR_KNOWLEDGE ? PROTO_MUX : PROTO_H1;
  if (v == SALVO_HTTP_2_PRIOR_KNOWLEDGE)
    return PROTO_MUX;
  origin *o = origin_find(t, r->origin, 1);
  if (!o)
    return PROTO_GUESS_MUX;
  x->learning = o->proto == PROTO_UNKNOWN || o->proto == PROTO_GUESS_MUX;
  if (o->proto == PROTO_UNKNOWN)
    t->ev.hold(t->ev.ctx, r, 1);
  return o->proto;
}

/* An attempt that started without knowing its origin's protocol learnt it
 * (proto), or ended without learning it (0): the origin is released. */
static void origin_learnt(salvo__transport *t, salvo__req *r, int proto) {
  origin *o = origin_find(t, r->origin, 0);
  if (o && (o->proto == PROTO_UNKNOWN || o->proto == PROTO_GUESS_MUX)) {
    int was = o->proto;
    o->proto = proto ? proto : PROTO_GUESS_MUX;
    if (was == PROTO_UNKNOWN)
      t->ev.hold(t->ev.ctx, r, 0);
  }
}

/* What the origin's TLS handshake chose; MUX when it cannot be told (a TLS
 * library other than OpenSSL), which is safe for both kinds of server. */
static int alpn_proto(CURL *e) {
  struct curl_tlssessioninfo *ti = NULL;
  if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
      ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
    return PROTO_MUX;
  const unsigned char *p = NULL;
  unsigned int len = 0;
  SSL_get0_alpn_selected((SSL *)ti->internals, &p, &len);
  return len == 2 && !memcmp(p, "h2", 2) ? PROTO_MUX : PROTO_H1;
}

/* Whether the pooled HTTP/1.1 connection a transfer is about to use holds
 * bytes nobody asked for (a 408 sent on an idle connection, a response too
 * many): libcurl 7.88 checks a pooled connection for a close only, and
 * would read those bytes as the next request's response. */
static int spoke_unasked(xfer *x, int local_port) {
  salvo__transport *t = x->mh->t;
  long fresh = 1;
  if (x->mh->idx != MULTI_H1 || !t->port_fd || local_port <= 0 ||
      local_port > 65535 ||
      curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &fresh) || fresh)
    return 0;
  int fd = t->port_fd[local_port];
  if (fd < 0 || local_port_of(fd) != local_port)
    return 0;
  struct curl_tlssessioninfo *ti = NULL;
  if (!curl_easy_getinfo(x->easy, CURLINFO_TLS_SSL_PTR, &ti) && ti &&
      ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals) {
    /* Records without data (TLS 1.3 session tickets) are read past. */
    char b;
    ERR_clear_error();
    int rc = SSL_peek((SSL *)ti->internals, &b, 1);
    return rc > 0;
  }
  char b;
  return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Called once a connection is ready, before each request goes out: the
 * first, one per redirect followed, and one more each time libcurl sends
 * the request again by itself (a reused connection closed before any
 * response). That last one is refused for a request that is not
 * idempotent: the server may have processed the first. */
static int on_curl_prereq(void *userp, char *primary_ip, char *local_ip,
                          int primary_port, int local_port) {
  xfer *x = userp;
  (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
  long redirects = 0;
  curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
  if (x->sends++ > redirects && !x->req->idempotent) {
    x->resend_refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  if (spoke_unasked(x, local_port)) {
    x->spoke_unasked = 1; /* nothing was sent: it goes again, anew */
    return CURL_PREREQFUNC_ABORT;
  }
  if (x->learning) {
    origin_learnt(x->mh->t, x->req, alpn_proto(x->easy));
    x->learning = 0;
  }
  return CURL_PREREQFUNC_OK;
}

/* libcurl stores a cookie it receives in its own jar; the client's jar
 * (the native transport's) gets it here, from the URL it came from. */
static int copy_cookie(xfer *x, const char *p, size_t n) {
  salvo__jar *jar = x->mh->t->ev.jar;
  char *url = NULL;
  if (!jar || n < 11 || salvo__casecmp_n(p, "Set-Cookie:", 11) ||
      curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
      !url)
    return 0;
  p += 11, n -= 11;
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    n--;
  return salvo__jar_set(jar, url, p, n, 0);
}

static size_t on_curl_header(char *p, size_t size, size_t n, void *userp) {
  xfer *x = userp;
  x->header_seen = 1;
  int rc = salvo__req_on_header(x->req, p, size * n);
  if (!rc && copy_cookie(x, p, size * n))
    rc = SALVO_ENOMEM;
  if (rc == SALVO__EV_HEADERS) {
    /* The reader paces the body from here: no time limit of ours. */
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 0L);
    x->mh->t->ev.headers(x->mh->t->ev.ctx, x->req);
    rc = 0;
  }
  return rc ? 0 : size * n;
}

static size_t on_curl_write(char *p, size_t size, size_t n, void *userp) {
  xfer *x = userp;
  x->body_seen = 1;
  int rc = salvo__req_on_body(x->req, p, size * n);
  if (rc == SALVO__EV_PAUSE) {
    x->paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  return rc ? 0 : size * n;
}

/* ---- easy handles ----------------------------------------------------------
 */

static long curl_http_version(int v) {
  switch (v) {
  case SALVO_HTTP_1_1:
    return CURL_HTTP_VERSION_1_1;
  case SALVO_HTTP_2:
    return CURL_HTTP_VERSION_2_0;
  case SALVO_HTTP_2_PRIOR_KNOWLEDGE:
    return CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
  default:
    return CURL_HTTP_VERSION_2TLS;
  }
}

/* Options shared by every request of the client, set once per handle. */
static int setup_easy(salvo__transport *t, xfer *x) {
  const salvo__cfg *cfg = t->cfg;
  CURL *e = x->easy;
  CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                          \
  if (rc == CURLE_OK)                                                          \
  rc = curl_easy_setopt(e, opt, val)
  SET(CURLOPT_PRIVATE, x);
  SET(CURLOPT_ERRORBUFFER, x->errbuf);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_WRITEFUNCTION, on_curl_write);
  SET(CURLOPT_WRITEDATA, x);
  SET(CURLOPT_HEADERFUNCTION, on_curl_header);
  SET(CURLOPT_HEADERDATA, x);
  SET(CURLOPT_PREREQFUNCTION, on_curl_prereq);
  SET(CURLOPT_PREREQDATA, x);
  SET(CURLOPT_CLOSESOCKETFUNCTION, on_curl_close_socket);
  SET(CURLOPT_CLOSESOCKETDATA, t);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_FOLLOWLOCATION, (long)cfg->follow_redirects);
  SET(CURLOPT_MAXREDIRS, (long)cfg->max_redirects);
  SET(CURLOPT_HTTP_VERSION, curl_http_version(cfg->http_version));
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
  if (cfg->compression)
    SET(CURLOPT_ACCEPT_ENCODING, "");
  SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
  SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
  if (cfg->ca_file)
    SET(CURLOPT_CAINFO, cfg->ca_file);
  /* An explicit proxy, or "" so that *_proxy environment variables are not
   * picked up behind the caller's back. */
  SET(CURLOPT_PROXY, cfg->proxy ? cfg->proxy : "");
  if (cfg->user_agent)
    SET(CURLOPT_USERAGENT, cfg->user_agent);
  if (cfg->username) {
    SET(CURLOPT_USERNAME, cfg->username);
    SET(CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
  } else if (cfg->bearer_token) {
    SET(CURLOPT_XOAUTH2_BEARER, cfg->bearer_token);
    SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
  }
  SET(CURLOPT_SHARE, t->share);
  if (cfg->cookies)
    SET(CURLOPT_COOKIEFILE, "");
#undef SET
  return rc == CURLE_OK              ? 0
         : rc == CURLE_OUT_OF_MEMORY ? SALVO_ENOMEM
                                     : SALVO_EINTERNAL;
}

static xfer *xfer_get(salvo__transport *t) {
  xfer *x = t->free_list;
  if (x) {
    t->free_list = x->next_free;
    return x;
  }
  x = calloc(1, sizeof(*x));
  if (!x)
    return NULL;
  x->easy = curl_easy_init();
  if (!x->easy || setup_easy(t, x)) {
    curl_easy_cleanup(x->easy);
    free(x);
    return NULL;
  }
  return x;
}

static void xfer_put(salvo__transport *t, xfer *x) {
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  x->req = NULL;
  x->next_free = t->free_list;
  t->free_list = x;
}

/* ---- headers ------------------------------------------------------------ */

/* The client's headers minus those the request replaces, then the
 * request's own. Requests without headers share the client's list. */
static int build_headers(salvo__transport *t, salvo__req *r,
                         struct curl_slist **out) {
  *out = NULL;
  if (!r->nheaders)
    return 0;
  struct curl_slist *l = NULL, *n;
  for (size_t i = 0; t->cfg->headers[i]; i++) {
    const char *h = t->cfg->headers[i];
    if (salvo__headers_have((const char *const *)r->headers, h,
                            salvo__header_name_len(h)))
      continue;
    if (!(n = curl_slist_append(l, h)))
      goto oom;
    l = n;
  }
  for (size_t i = 0; i < r->nheaders; i++) {
    if (!(n = curl_slist_append(l, r->headers[i])))
      goto oom;
    l = n;
  }
  *out = l;
  return 0;
oom:
  curl_slist_free_all(l);
  return SALVO_ENOMEM;
}

/* ---- the seam ---------------------------------------------------------- */

static void curl_destroy(salvo__transport *t);

/* A cookie the native transport received, into libcurl's jar. */
static void mirror_cookie(void *arg, const char *line) {
  salvo__transport *t = arg;
  curl_easy_setopt(t->jar, CURLOPT_COOKIELIST, line);
}

/* The client's jar starts with what libcurl loaded (the cookie file), and
 * hears of every cookie the native transport receives. */
static int share_jar(salvo__transport *t) {
  struct curl_slist *l = NULL;
  if (!t->ev.jar)
    return 0;
  if (curl_easy_getinfo(t->jar, CURLINFO_COOKIELIST, &l) != CURLE_OK)
    return -1;
  int rc = 0;
  for (struct curl_slist *c = l; c && !rc; c = c->next)
    rc = salvo__jar_add_line(t->ev.jar, c->data);
  curl_slist_free_all(l);
  salvo__jar_mirror(t->ev.jar, mirror_cookie, t);
  return rc;
}

static int curl_create(salvo__transport **out, const salvo__cfg *cfg, int epfd,
                       uint64_t tag_base, const salvo__transport_events *ev) {
  salvo__transport *t = calloc(1, sizeof(*t));
  if (!t)
    return SALVO_ENOMEM;
  t->cfg = cfg;
  t->ev = *ev;
  t->tag_base = tag_base;
  t->epfd = epfd;
  t->share = curl_share_init();
  t->port_fd = malloc(65536 * sizeof(*t->port_fd));
  if (!t->share || !t->port_fd)
    goto oom;
  memset(t->port_fd, 0xff, 65536 * sizeof(*t->port_fd));
  /* Keep enough idle connections for every slot, plus some for other
   * origins, instead of curl's default of 4 per handle currently added. */
  long conc = cfg->concurrency;
  long maxconn = conc < 8 ? 16L : 2L * conc;
  CURLMcode mrc = CURLM_OK;
#define MSET(m, opt, val)                                                      \
  if (mrc == CURLM_OK)                                                         \
  mrc = curl_multi_setopt(m, opt, val)
  for (uint32_t i = 0; i < NMULTI; i++) {
    multi *mh = &t->mh[i];
    mh->t = t;
    mh->idx = i;
    mh->deadline = -1;
    if (!(mh->m = curl_multi_init()))
      goto oom;
    MSET(mh->m, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    MSET(mh->m, CURLMOPT_SOCKETDATA, mh);
    MSET(mh->m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    MSET(mh->m, CURLMOPT_TIMERDATA, mh);
    MSET(mh->m, CURLMOPT_MAXCONNECTS, maxconn);
    /* libcurl's default of 100 streams per HTTP/2 connection would make it
     * open a new connection for nearly every transfer beyond 100. */
    MSET(mh->m, CURLMOPT_MAX_CONCURRENT_STREAMS, conc);
  }
  /* Enough connections per multiplexing origin for every slot at 100
   * streams each, the smallest limit servers commonly set. */
  MSET(t->mh[MULTI_MUX].m, CURLMOPT_MAX_HOST_CONNECTIONS, (conc + 99) / 100);
#undef MSET
  if (mrc != CURLM_OK)
    goto fail;
  if (curl_share_setopt(t->share, CURLSHOPT_SHARE,
                        CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
    goto fail;
  if (cfg->cookies) {
    if (curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) !=
            CURLSHE_OK ||
        !(t->jar = curl_easy_init()))
      goto fail;
    CURLcode rc = curl_easy_setopt(t->jar, CURLOPT_SHARE, t->share);
    const char *file = cfg->cookie_file;
    if (rc == CURLE_OK)
      rc = curl_easy_setopt(t->jar, CURLOPT_COOKIEFILE, file ? file : "");
    if (rc == CURLE_OK && file)
      rc = curl_easy_setopt(t->jar, CURLOPT_COOKIEJAR, file);
    if (rc == CURLE_OK && file)
      rc = curl_easy_setopt(t->jar, CURLOPT_COOKIELIST, "RELOAD");
    if (rc != CURLE_OK || share_jar(t))
      goto fail;
  }
  for (size_t i = 0; cfg->headers[i]; i++) {
    struct curl_slist *n = curl_slist_append(t->base_hdrs, cfg->headers[i]);
    if (!n)
      goto oom;
    t->base_hdrs = n;
  }
  *out = t;
  return 0;
oom:
  curl_destroy(t);
  return SALVO_ENOMEM;
fail:
  curl_destroy(t);
  return SALVO_EINTERNAL;
}

static void curl_destroy(salvo__transport *t) {
  if (!t)
    return;
  for (size_t i = 0; t->origins && i < ORIGINS_MAX; i++)
    free(t->origins[i].key);
  free(t->origins);
  for (xfer *x = t->free_list, *next; x; x = next) {
    next = x->next_free;
    curl_easy_cleanup(x->easy);
    free(x);
  }
  /* Running transfers were aborted by the engine before this. */
  for (int i = 0; i < NMULTI; i++)
    curl_multi_cleanup(t->mh[i].m);
  if (t->jar && t->cfg->cookie_file)
    curl_easy_setopt(t->jar, CURLOPT_COOKIELIST, "FLUSH");
  curl_easy_cleanup(t->jar);
  curl_share_cleanup(t->share);
  curl_slist_free_all(t->base_hdrs);
  free(t->port_fd);
  free(t);
}

/* Sets one per-request option; the first refusal is kept with the
 * option's name, so that nothing runs on a half-configured handle. */
#define SETOPT(opt, val)                                                       \
  do {                                                                         \
    if (rc == CURLE_OK && (rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)    \
      what = #opt;                                                             \
  } while (0)

static int curl_start(salvo__transport *t, salvo__req *r, char **msg) {
  xfer *x = xfer_get(t);
  *msg = NULL;
  if (!x)
    return SALVO_ENOMEM;
  int err = build_headers(t, r, &x->hdrs);
  if (err) {
    xfer_put(t, x);
    return err;
  }
  CURL *e = x->easy;
  CURLcode rc = CURLE_OK;
  const char *what = NULL;
  const char *m = r->method;
  const char *custom = NULL;
  x->errbuf[0] = '\0';
  x->body_seen = 0;
  x->sends = x->resend_refused = x->header_seen = x->fresh = 0;
  x->spoke_unasked = 0;
  x->paused = 0;
  x->req = r;
  SETOPT(CURLOPT_URL, r->url);
  SETOPT(CURLOPT_NOBODY, (long)r->is_head);
  if (r->body) {
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    SETOPT(CURLOPT_POSTFIELDS, r->body);
    custom = strcmp(m, "POST") ? m : NULL;
  } else if (!r->is_head) {
    SETOPT(CURLOPT_HTTPGET, 1L);
    custom = strcmp(m, "GET") ? m : NULL;
  }
  SETOPT(CURLOPT_CUSTOMREQUEST, custom);
  SETOPT(CURLOPT_HTTPHEADER, x->hdrs ? x->hdrs : t->base_hdrs);
  SETOPT(CURLOPT_TIMEOUT_MS, (long)r->attempt_timeout_ms);
  /* A declared length over max_body fails before any byte is read; a
   * streamed body has no such limit. */
  curl_off_t maxsize =
      salvo__req_streams(r) || r->stream || t->cfg->max_body == SIZE_MAX
          ? 0
          : (curl_off_t)t->cfg->max_body;
  SETOPT(CURLOPT_MAXFILESIZE_LARGE, maxsize);
  /* A streamed body is read in large pieces: fewer callbacks and hand-overs
   * per byte. Others keep libcurl's 16 KiB; the handle remembers which. */
  long bufsize = r->stream ? 512L * 1024 : 0;
  if (bufsize != x->bufsize) {
    SETOPT(CURLOPT_BUFFERSIZE, bufsize ? bufsize : (long)CURL_MAX_WRITE_SIZE);
    x->bufsize = bufsize;
  }
  x->mh = &t->mh[origin_proto(t, r, x) == PROTO_H1 ? MULTI_H1 : MULTI_MUX];
  origin *o = r->idempotent ? NULL : origin_find(t, r->origin, 0);
  SETOPT(CURLOPT_FRESH_CONNECT, (long)(o && o->closes_quietly));
  /* Wait for an HTTP/2 connection being set up to the same origin rather
   * than opening one more. */
  SETOPT(CURLOPT_PIPEWAIT, (long)(x->mh->idx == MULTI_MUX));
  if (rc != CURLE_OK) {
    xfer_put(t, x);
    *msg = salvo__fmt("libcurl refused %s: %s", what, curl_easy_strerror(rc));
    return rc == CURLE_OUT_OF_MEMORY ? SALVO_ENOMEM : SALVO_EINVAL;
  }
  if (curl_multi_add_handle(x->mh->m, e) != CURLM_OK) {
    xfer_put(t, x);
    return SALVO_EINTERNAL;
  }
  r->xfer = x;
  return 0;
}
#undef SETOPT

static void curl_abort(salvo__transport *t, salvo__req *r) {
  xfer *x = r->xfer;
  if (!x)
    return;
  curl_multi_remove_handle(x->mh->m, x->easy);
  r->xfer = NULL;
  xfer_put(t, x);
}

static void curl_resume(salvo__transport *t, salvo__req *r) {
  xfer *x = r->xfer;
  (void)t;
  if (x && x->paused) {
    x->paused = 0;
    /* May deliver the held chunk at once, and pause again. */
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
  }
}

static void curl_on_socket(salvo__transport *t, uint64_t tag, uint32_t events) {
  int flags = 0, running;
  tag &= ~t->tag_base;
  multi *mh = &t->mh[tag >> 32 < NMULTI ? tag >> 32 : 0];
  if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
    flags |= CURL_CSELECT_IN;
  if (events & EPOLLOUT)
    flags |= CURL_CSELECT_OUT;
  if (events & EPOLLERR)
    flags |= CURL_CSELECT_ERR;
  curl_multi_socket_action(mh->m, (curl_socket_t)(uint32_t)tag, flags,
                           &running);
}

static int64_t curl_deadline(const salvo__transport *t) {
  int64_t d = t->mh[0].deadline;
  for (int i = 1; i < NMULTI; i++)
    if (t->mh[i].deadline >= 0 && (d < 0 || t->mh[i].deadline < d))
      d = t->mh[i].deadline;
  return d;
}

static void curl_on_timer(salvo__transport *t) {
  int64_t now = salvo__now_ns();
  for (int i = 0; i < NMULTI; i++) {
    multi *mh = &t->mh[i];
    int64_t before = mh->deadline;
    int running;
    if (before < 0 || before > now)
      continue;
    curl_multi_socket_action(mh->m, CURL_SOCKET_TIMEOUT, 0, &running);
    /* curl only reports a timer when it changes; if it fired early by a
     * rounding error and kept the same expiry, look again in a millisecond
     * instead of spinning. */
    if (mh->deadline == before)
      mh->deadline = now + 1000000;
  }
}

/* The error of an ended transfer: a data callback's, or libcurl's mapped,
 * with a message free of credentials. */
static int xfer_error(salvo__transport *t, xfer *x, CURLcode rc, long redirects,
                      char **msg) {
  salvo__req *r = x->req;
  int err = r->fail ? r->fail : map_error(rc);
  *msg = NULL;
  if (r->fail)
    *msg = salvo__req_fail_message(r);
  else if (err)
    *msg = salvo__strdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
  /* libcurl says "out of memory" of a response header line over its
   * 100 KiB limit: before any body byte, that is the server's fault. (The
   * request's own head, which libcurl limits too, is checked at
   * submission.) */
  if (rc == CURLE_OUT_OF_MEMORY && !x->body_seen) {
    err = SALVO_EPROTO;
    free(*msg);
    *msg = salvo__fmt("response header too large (a line over 100 KiB)");
  }
  /* libcurl takes a head cut short by the close for a whole response; the
   * native transport, like a browser, does not. */
  if (!err && r->resp->status && !r->head_done) {
    err = SALVO_EIO;
    *msg = salvo__fmt("connection closed in the middle of the headers");
  }
  /* A malformed chunked body is the server's protocol error, as it is
   * for the native transport; libcurl calls it a receive error. */
  if (rc == CURLE_RECV_ERROR && strstr(x->errbuf, "chunked-encoding"))
    err = SALVO_EPROTO;
  if (err == SALVO_EPROTO && rc == CURLE_UNSUPPORTED_PROTOCOL && redirects)
    err = SALVO_EREDIRECT;
  if (err == SALVO_EINVAL && redirects)
    err = SALVO_EREDIRECT;
  if (x->resend_refused) {
    err = SALVO_EIO;
    free(*msg);
    *msg = salvo__fmt("the server closed a reused connection without a "
                      "response");
  }
  const char *secrets[] = {t->cfg->password, t->cfg->bearer_token};
  *msg = salvo__redact(*msg, secrets, 2);
  return err;
}

/* Marks r's origin as one that closes connections without saying so. */
static void closes_quietly(salvo__transport *t, salvo__req *r) {
  origin *o = origin_find(t, r->origin, 1);
  if (o)
    o->closes_quietly = 1;
}

/* A reused connection that was closed or reset before any response byte:
 * an idempotent request goes once more, on a new connection, as the
 * native transport does (libcurl does so itself only in some of these
 * cases). Returns whether it went. */
static int resend_fresh(salvo__transport *t, xfer *x, CURLcode rc) {
  salvo__req *r = x->req;
  long fresh_conns = 1;
  if (x->spoke_unasked && !x->fresh) {
    x->spoke_unasked = 0;
  } else if (x->fresh || !r->idempotent || r->fail || x->header_seen ||
             (rc != CURLE_RECV_ERROR && rc != CURLE_SEND_ERROR &&
              rc != CURLE_GOT_NOTHING) ||
             curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &fresh_conns) ||
             fresh_conns) {
    return 0;
  } else {
    closes_quietly(t, r);
  }
  x->fresh = 1;
  x->sends = 0;
  curl_multi_remove_handle(x->mh->m, x->easy);
  curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
  return curl_multi_add_handle(x->mh->m, x->easy) == CURLM_OK;
}

static void finish_xfer(salvo__transport *t, CURL *e, CURLcode rc) {
  xfer *x;
  curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
  salvo__req *r = x->req;
  if (resend_fresh(t, x, rc))
    return;
  if (x->resend_refused)
    closes_quietly(t, r);
  salvo__attempt_result res = {0};
  long redirects = 0;
  char *url = NULL;
  /* Only an attempt that got a status line (request.c parsed it) has
   * values of its own: libcurl keeps a handle's last values when a
   * transfer fails before it starts, and the handle served another. */
  if (r->resp->status) {
    curl_off_t total = 0, ttfb = 0;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
    res.redirects = (int)redirects;
    res.final_url = redirects ? url : NULL;
    res.total_time = (double)total / 1e6;
    res.ttfb = (double)ttfb / 1e6;
  }
  res.error = xfer_error(t, x, rc, redirects, &res.errmsg);
  res.unsent = x->sends == 0;
  if (x->learning)
    origin_learnt(t, r, 0);
  r->xfer = NULL;
  /* The handle stays in its multi until after the report: final_url is
   * libcurl's memory. */
  t->ev.done(t->ev.ctx, r, &res);
  curl_multi_remove_handle(x->mh->m, e);
  xfer_put(t, x);
}

static void curl_reap(salvo__transport *t) {
  for (int i = 0; i < NMULTI; i++) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->mh[i].m, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      CURL *e = m->easy_handle;
      CURLcode rc = m->data.result;
      finish_xfer(t, e, rc);
    }
  }
}

static void curl_clear_cookies(salvo__transport *t) {
  if (t->jar)
    curl_easy_setopt(t->jar, CURLOPT_COOKIELIST, "ALL");
}

const salvo__transport_ops salvo__curl_transport = {
    .name = "libcurl",
    .global_init = global_init_once,
    .create = curl_create,
    .destroy = curl_destroy,
    .start = curl_start,
    .abort = curl_abort,
    .resume = curl_resume,
    .on_socket = curl_on_socket,
    .deadline = curl_deadline,
    .on_timer = curl_on_timer,
    .reap = curl_reap,
    .clear_cookies = curl_clear_cookies,
};
