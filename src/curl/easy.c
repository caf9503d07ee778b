/*
 * A libcurl transfer: its easy handle, pooled per client with the options
 * every request shares set once, and per hop (a request, or a redirect's
 * next) only what changes: URL, method, body, headers, time left.
 */
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../buf.h"
#include "../clock.h"
#include "../cookie.h"
#include "../decode.h"
#include "../field.h"
#include "../url.h"
#include "internal.h"

/* ---- sockets: which connection a transfer reuses ------------------------ */

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

void salvo__curl_socket_seen(salvo__transport *t, curl_socket_t s) {
  int port = local_port_of(s);
  if (port > 0)
    t->ports[port].fd1 = s + 1;
}

int salvo__curl_close_socket(void *clientp, curl_socket_t s) {
  salvo__transport *t = clientp;
  int port = local_port_of(s);
  if (port > 0 && t->ports[port].fd1 == s + 1)
    t->ports[port] = (salvo__curl_port){0};
  return close(s);
}

/* Whether the pooled HTTP/1.1 connection a transfer is about to use holds
 * bytes nobody asked for (a 408 sent on an idle connection, a response too
 * many): libcurl 7.88 checks a pooled connection for a close only, and
 * would read those bytes as the next request's response. */
static int spoke_unasked(salvo__curl_xfer *x, int local_port) {
  salvo__transport *t = x->mh->t;
  long fresh = 1;
  if (x->mh->idx != SALVO__MULTI_H1 ||
      curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &fresh) || fresh)
    return 0;
  int fd = t->ports[local_port].fd1 - 1;
  if (fd < 0 || local_port_of(fd) != local_port || t->ports[local_port].h2c)
    return 0; /* HTTP/2's frames between requests are libcurl's to read */
  struct curl_tlssessioninfo *ti = NULL;
  char b;
  if (!curl_easy_getinfo(x->easy, CURLINFO_TLS_SSL_PTR, &ti) && ti &&
      ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals) {
    /* Records without data (TLS 1.3 session tickets) are read past. */
    ERR_clear_error();
    return SSL_peek((SSL *)ti->internals, &b, 1) > 0;
  }
  return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* Whether the HTTP/1.1 connection x is about to use in the multiplexing
 * multi carries another transfer still. libcurl 7.88 shares one once it
 * takes the server for one that multiplexes, because another of its
 * connections speaks HTTP/2 (ALPN may choose differently for each, as
 * behind a load balancer whose servers differ), and answers then reach
 * the wrong requests. Otherwise x holds it until its hop's end is read.
 * (That comes after libcurl may have handed the connection on: a
 * transfer refused then opens one more connection, a cost only this
 * rare case pays. The HTTP/1.1 multi never shares: CURLPIPE_NOTHING.) */
static int held_by_another(salvo__curl_xfer *x, int local_port) {
  salvo__transport *t = x->mh->t;
  if (x->mh->idx != SALVO__MULTI_MUX || salvo__curl_speaks_h2(t, x))
    return 0;
  salvo__curl_port *p = &t->ports[local_port];
  if (p->holder && p->holder != x)
    return 1;
  p->holder = x; /* x->port, once the request goes */
  return 0;
}

void salvo__curl_let_go(salvo__transport *t, salvo__curl_xfer *x) {
  if (x->port && t->ports[x->port].holder == x)
    t->ports[x->port].holder = NULL;
}

/* ---- callbacks ---------------------------------------------------------- */

/* Called once a connection is ready, before each request goes out: once
 * per hop, and once more each time libcurl sends the request again by
 * itself (a reused connection closed before any response). That one is
 * refused for a request that is not idempotent: the server may have
 * processed the first. */
static int on_prereq(void *userp, char *primary_ip, char *local_ip,
                     int primary_port, int local_port) {
  salvo__curl_xfer *x = userp;
  (void)primary_ip, (void)local_ip, (void)primary_port;
  salvo__curl_let_go(x->mh->t, x); /* sent again, on another connection */
  if (x->sends++ && !salvo__hop_repeatable(&x->hop, x->req)) {
    x->resend_refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  int port = local_port > 0 && local_port <= 65535 ? local_port : 0;
  if (port && (spoke_unasked(x, port) || held_by_another(x, port))) {
    x->conn_refused = 1; /* nothing was sent: it goes again, anew */
    return CURL_PREREQFUNC_ABORT;
  }
  x->sent = 1;
  x->port = port;
  if (x->learning) {
    salvo__curl_origin_learnt(x->mh->t, x->req,
                              salvo__curl_alpn_proto(x->easy));
    x->learning = 0;
  }
  return CURL_PREREQFUNC_OK;
}

/* The de-chunker's body pieces, to the request. */
static int chunk_body(void *ctx, const char *p, size_t n) {
  salvo__curl_xfer *x = ctx;
  int rc = salvo__req_on_body(x->req, p, n);
  return rc == SALVO__EV_PAUSE  ? SALVO__H1_PAUSE
         : rc == SALVO__EV_HELD ? SALVO__H1_HOLD
                                : rc;
}

static int no_line(void *ctx, const salvo__h1_line *ln) {
  (void)ctx, (void)ln;
  return SALVO_EPROTO; /* the head was libcurl's to read */
}

/* Raw chunked bytes (p may be NULL: what is pending): de-chunked to the
 * request. 0, SALVO__EV_HELD (the reader is full: the rest waits in
 * x->pend), or an error. */
static int dechunk(salvo__curl_xfer *x, const char *p, size_t n) {
  if (n && salvo__buf_append(&x->pend, p, n))
    return SALVO_ENOMEM;
  size_t off = 0;
  int paused = 0, rc = 0;
  salvo__h1_cb cb = {x, no_line, chunk_body, NULL};
  while (off < x->pend.len && x->dechunk.state != SALVO__H1_DONE && !paused) {
    long used = salvo__h1_feed(&x->dechunk, x->pend.p + off, x->pend.len - off,
                               &cb, &paused);
    if (used < 0) {
      rc = (int)used;
      break;
    }
    if (!used && !paused)
      break; /* a line not complete yet */
    off += (size_t)used;
  }
  memmove(x->pend.p, x->pend.p + off, x->pend.len - off);
  x->pend.len -= off;
  if (rc)
    return rc;
  return paused ? SALVO__EV_HELD : 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *userp) {
  salvo__curl_xfer *x = userp;
  size_t len = size * n;
  if (x->redirecting)
    return len; /* a redirect's body is read past */
  /* libcurl takes a line that starts with CR for the blank line that ends
   * the head, and hands over what follows as the body: the native
   * transport refuses that line (RFC 9112 2.2), and so does this one. */
  if (!x->head_final) {
    x->bad_line = "bare CR in a header name (a line that starts with CR, "
                  "read by libcurl as the end of the head)";
    return 0;
  }
  if (salvo__req_failure(x->req) || x->chunk_err)
    return 0;       /* failed while paused: the transfer stops */
  if (x->swallow) { /* offered again after a pause: it was taken then */
    x->swallow = 0;
    return len;
  }
  x->body_seen = 1;
  if (x->read_timeout)
    x->tbody = salvo__clock_ns(x->mh->t->ev.clock);
  int rc = x->chunks ? dechunk(x, p, len) : salvo__req_on_body(x->req, p, len);
  if (rc < 0 && x->chunks && !salvo__req_failure(x->req))
    x->chunk_err = rc;
  if (rc == SALVO__EV_PAUSE || rc == SALVO__EV_HELD) {
    /* libcurl offers a paused chunk again: one that was taken is then
     * swallowed. */
    x->paused = 1;
    x->swallow = rc == SALVO__EV_HELD;
    return CURL_WRITEFUNC_PAUSE;
  }
  return rc ? 0 : len;
}

int salvo__curl_resume(salvo__curl_xfer *x) {
  int rc = salvo__req_resume_body(x->req);
  if (!rc && x->chunks && x->pend.len)
    rc = dechunk(x, NULL, 0);
  if (rc < 0 && x->chunks && !salvo__req_failure(x->req))
    x->chunk_err = rc;
  return rc;
}

/* ---- handles ------------------------------------------------------------- */

static long http_version(int v) {
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

/* Whether no connection is reused, whatever the request says (set per
 * hop, with the request's own Connection: close). A
 * prior-knowledge connection is not where libcurl breaks it (origin.c's
 * salvo__curl_prior_proto says why); with max_idle 0 a connection closes
 * once no transfer uses it (libcurl still multiplexes onto it meanwhile). */
static long base_forbid(const salvo__transport *t) {
  const salvo__cfg *cfg = t->cfg;
  return (cfg->http_version == SALVO_HTTP_2_PRIOR_KNOWLEDGE && t->h2c_alone) ||
         !cfg->max_idle;
}

/* Options shared by every request of the client, set once per handle. */
static int setup_easy(salvo__transport *t, salvo__curl_xfer *x) {
  const salvo__cfg *cfg = t->cfg;
  CURL *e = x->easy;
  CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                          \
  if (rc == CURLE_OK)                                                          \
  rc = curl_easy_setopt(e, opt, val)
  SET(CURLOPT_PRIVATE, x);
  SET(CURLOPT_ERRORBUFFER, x->errbuf);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_WRITEFUNCTION, on_write);
  SET(CURLOPT_WRITEDATA, x);
  SET(CURLOPT_HEADERFUNCTION, salvo__curl_on_header);
  SET(CURLOPT_SSL_CTX_FUNCTION, salvo__curl_ssl_ctx);
  SET(CURLOPT_HEADERDATA, x);
  SET(CURLOPT_PREREQFUNCTION, on_prereq);
  SET(CURLOPT_PREREQDATA, x);
  SET(CURLOPT_CLOSESOCKETFUNCTION, salvo__curl_close_socket);
  SET(CURLOPT_CLOSESOCKETDATA, t);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  /* The target as the caller wrote it, as the native transport sends it:
   * libcurl would take "./" and "../" segments out. */
  SET(CURLOPT_PATH_AS_IS, 1L);
  /* Redirects, cookies and credentials are salvo's, per hop. */
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_HTTP_VERSION, http_version(cfg->http_version));
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
  /* idle_timeout in libcurl's whole seconds: it refuses a connection idle
   * more than maxage seconds, counted down to the second, so maxage
   * ceil(T) - 1 refuses one idle T seconds or more when T is whole, and
   * keeps one up to the next whole second otherwise. */
  if (cfg->idle_timeout_ms)
    SET(CURLOPT_MAXAGE_CONN, (long)((cfg->idle_timeout_ms + 999) / 1000 - 1));
  /* Bodies come as sent: receive.c de-chunks and decodes them, as it does
   * for the native transport. */
  SET(CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
  SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
  SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
  if (cfg->ca_file)
    SET(CURLOPT_CAINFO, cfg->ca_file);
  if (cfg->ca_path)
    SET(CURLOPT_CAPATH, cfg->ca_path);
  if (cfg->ca_path && !cfg->ca_file) /* the directory instead of the store */
    SET(CURLOPT_CAINFO, NULL);
  if (cfg->client_cert) {
    SET(CURLOPT_SSLCERT, cfg->client_cert);
    SET(CURLOPT_SSLKEY, cfg->client_key ? cfg->client_key : cfg->client_cert);
    /* Always set: without one, OpenSSL asks the terminal for it. */
    SET(CURLOPT_KEYPASSWD,
        cfg->client_key_password ? cfg->client_key_password : "");
  }
  SET(CURLOPT_SSLVERSION, cfg->tls_min_version == SALVO_TLS_1_3
                              ? (long)CURL_SSLVERSION_TLSv1_3
                              : (long)CURL_SSLVERSION_TLSv1_2);
  /* An explicit proxy, or "" so that *_proxy environment variables are not
   * picked up behind the caller's back. */
  SET(CURLOPT_PROXY, cfg->proxy ? cfg->proxy : "");
  /* A proxy's answer to CONNECT is not the origin's response: the
   * response's status and headers are never the proxy's. */
  SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (cfg->user_agent)
    SET(CURLOPT_USERAGENT, cfg->user_agent);
  SET(CURLOPT_SHARE, t->share);
  if (t->pins)
    SET(CURLOPT_RESOLVE, t->pins);
#undef SET
  return rc == CURLE_OK              ? 0
         : rc == CURLE_OUT_OF_MEMORY ? SALVO_ENOMEM
                                     : SALVO_EINTERNAL;
}

salvo__curl_xfer *salvo__curl_xfer_get(salvo__transport *t) {
  salvo__curl_xfer *x = t->free_list;
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

void salvo__curl_xfer_put(salvo__transport *t, salvo__curl_xfer *x) {
  salvo__curl_let_go(t, x);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  if (x->pend.cap > 64 * 1024)
    salvo__buf_free(&x->pend);
  salvo__buf_free(&x->held);
  x->pend.len = 0;
  salvo__hop_free(&x->hop);
  if (salvo__list_linked(&x->in_reading))
    salvo__list_remove(&x->in_reading);
  x->read_timeout = 0;
  salvo__curl_tls_unwatch(x);
  x->req = NULL;
  x->next_free = t->free_list;
  t->free_list = x;
}

/* ---- headers ------------------------------------------------------------- */

static int named(const char *h, const char *name, size_t n) {
  return salvo__header_name_len(h) == n && !salvo__casecmp_n(h, name, n);
}

static int append(struct curl_slist **l, const char *h) {
  struct curl_slist *n = curl_slist_append(*l, h);
  if (!n)
    return -1;
  *l = n;
  return 0;
}

/* Whether header h of the caller's goes on this hop: the Cookie field is
 * merged with the jar's, credentials and a Host of the caller's own stay
 * with the first origin (the next one's Host is libcurl's), and the
 * framing is libcurl's (a Content-Length the caller gave went with a GET
 * that had no body, and the server waited for it). */
static int passes(const char *h, int creds) {
  return !named(h, "Cookie", 6) && !salvo__header_is_framing(h) &&
         (creds || (!named(h, "Authorization", 13) && !named(h, "Host", 4)));
}

int salvo__curl_pins(salvo__transport *t) {
  const salvo__cfg *cfg = t->cfg;
  for (size_t i = 0; i < cfg->npins; i++) {
    const salvo__pin *p = &cfg->pins[i];
    int v6 = strchr(p->addr, ':') != NULL;
    char *e = salvo__fmt("%s:%u:%s%s%s", p->host, p->port, v6 ? "[" : "",
                         p->addr, v6 ? "]" : "");
    int rc = e ? append(&t->pins, e) : -1;
    free(e);
    if (rc)
      return SALVO_ENOMEM;
  }
  return 0;
}

#define ACCEPT_ENCODING "Accept-Encoding: " SALVO__ACCEPT_ENCODING

int salvo__curl_base_headers(salvo__transport *t) {
  const salvo__cfg *cfg = t->cfg;
  int auth = 0, ae = 0;
  for (size_t i = 0; cfg->headers[i]; i++) {
    auth |= named(cfg->headers[i], "Authorization", 13);
    ae |= named(cfg->headers[i], "Accept-Encoding", 15);
    if (!salvo__header_is_framing(cfg->headers[i]) &&
        append(&t->base_hdrs, cfg->headers[i]))
      return SALVO_ENOMEM;
  }
  if ((cfg->auth_header && !auth && append(&t->base_hdrs, cfg->auth_header)) ||
      (cfg->compression && !ae && append(&t->base_hdrs, ACCEPT_ENCODING)))
    return SALVO_ENOMEM;
  return 0;
}

/* The header list of x's hop in *out: the client's (less those the
 * request replaces), the request's, the credentials and the cookies; the
 * client's base list when the hop adds nothing to it. */
static int hop_headers(salvo__transport *t, salvo__curl_xfer *x,
                       struct curl_slist **out) {
  salvo__req *r = x->req;
  const char *const *ch = (const char *const *)t->cfg->headers;
  const char *const *rh = (const char *const *)r->headers;
  int creds = x->hop.creds;
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
  *out = t->base_hdrs;
  if (!r->nheaders && creds && !salvo__jar_count(t->ev.jar) && !x->hop.authz)
    return 0;
  *out = NULL;
  const char *mine = NULL;
  int auth = 0, ae = 0, rc = 0;
  for (size_t i = 0; ch[i] && !rc; i++) {
    const char *h = ch[i];
    if (named(h, "Cookie", 6) && !mine && !salvo__headers_have(rh, h, 6))
      mine = salvo__header_value(h);
    if (passes(h, creds) &&
        !salvo__headers_have(rh, h, salvo__header_name_len(h))) {
      auth |= named(h, "Authorization", 13);
      ae |= named(h, "Accept-Encoding", 15);
      rc = append(&x->hdrs, h);
    }
  }
  for (size_t i = 0; i < r->nheaders && !rc; i++) {
    const char *h = rh[i];
    if (named(h, "Cookie", 6))
      mine = salvo__header_value(h);
    auth |= named(h, "Authorization", 13);
    ae |= named(h, "Accept-Encoding", 15);
    if (passes(h, creds))
      rc = append(&x->hdrs, h);
  }
  if (!rc && creds && !auth && t->cfg->auth_header)
    rc = append(&x->hdrs, t->cfg->auth_header);
  if (!rc && creds && x->hop.authz)
    rc = append(&x->hdrs, x->hop.authz);
  if (!rc && t->cfg->compression && !ae)
    rc = append(&x->hdrs, ACCEPT_ENCODING);
  salvo__buf b = {0};
  if (!rc && salvo__jar_header(t->ev.jar, salvo__hop_url(&x->hop, r),
                               creds ? mine : NULL, &b))
    rc = -1;
  if (!rc && b.len) {
    b.p[b.len - 2] = '\0'; /* without its CRLF */
    rc = append(&x->hdrs, b.p);
  }
  salvo__buf_free(&b);
  *out = x->hdrs;
  return rc ? SALVO_ENOMEM : 0;
}

/* ---- a hop ----------------------------------------------------------------
 */

/* The multi handle for a hop after the first: by what its origin is known
 * to speak, multiplexing when unknown (safe for both kinds). */
static salvo__curl_multi *hop_multi(salvo__transport *t, salvo__curl_xfer *x) {
  if (!x->hop.url) { /* the first hop: the request's own URL */
    int proto = salvo__curl_origin_proto(t, x);
    return &t->mh[proto == SALVO__CURL_H1 ? SALVO__MULTI_H1 : SALVO__MULTI_MUX];
  }
  const char *url = x->hop.url;
  int v = t->cfg->http_version;
  if (v == SALVO_HTTP_2_PRIOR_KNOWLEDGE)
    return &t->mh[salvo__curl_prior_proto(t, url) == SALVO__CURL_H1
                      ? SALVO__MULTI_H1
                      : SALVO__MULTI_MUX];
  if (v == SALVO_HTTP_1_1 || strncmp(url, "https:", 6))
    return &t->mh[SALVO__MULTI_H1];
  int err;
  char *origin = salvo__url_origin(url, &err);
  salvo__curl_origin *o = origin ? salvo__curl_origin_find(t, origin, 0) : NULL;
  free(origin);
  return &t->mh[o && o->proto == SALVO__CURL_H1 ? SALVO__MULTI_H1
                                                : SALVO__MULTI_MUX];
}

/* Sets one per-hop option; the first refusal is kept with the option's
 * name, so that nothing runs on a half-configured handle. */
#define SETOPT(opt, val)                                                       \
  do {                                                                         \
    if (rc == CURLE_OK && (rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)    \
      what = #opt;                                                             \
  } while (0)

/* x with a handle no transfer has used in place of its own: 0, or
 * SALVO_ENOMEM (x keeps its handle). The multi's connections are not the
 * handle's: they stay for the next. */
static int renew_easy(salvo__transport *t, salvo__curl_xfer *x) {
  CURL *old = x->easy;
  if (!(x->easy = curl_easy_init()) || setup_easy(t, x)) {
    curl_easy_cleanup(x->easy);
    x->easy = old;
    return SALVO_ENOMEM;
  }
  curl_easy_cleanup(old);
  x->bufsize = 0;
  x->ran = 0;
  return 0;
}

int salvo__curl_hop_go(salvo__transport *t, salvo__curl_xfer *x, char **msg) {
  salvo__req *r = x->req;
  if (x->ran && t->fresh_handles && renew_easy(t, x))
    return SALVO_ENOMEM;
  CURL *e = x->easy;
  CURLcode rc = CURLE_OK;
  const char *what = NULL, *m = x->hop.method;
  int head = !strcmp(m, "HEAD");
  *msg = NULL;
  struct curl_slist *hdrs;
  int err = hop_headers(t, x, &hdrs);
  if (err)
    return err;
  int64_t left = r->attempt_timeout_ms;
  if (left) {
    left -= (salvo__clock_ns(t->ev.clock) - x->t0) / 1000000;
    if (left <= 0) {
      *msg = salvo__fmt("Operation timed out after %lld milliseconds",
                        (long long)r->attempt_timeout_ms);
      return SALVO_ETIMEDOUT;
    }
  }
  x->errbuf[0] = '\0';
  x->body_seen = x->header_seen = x->redirecting = x->paused = 0;
  x->authing = 0;
  x->sends = x->swallow = x->chunks = x->chunk_err = 0;
  x->bad_line = NULL;
  x->h2_lines = x->head_final = 0;
  x->aside_bytes = 0;
  x->switching = x->to_h2c = x->port = 0;
  salvo__curl_tls_unwatch(x);
  x->pend.len = x->held.len = 0;
  x->holding = x->head_lines = 0;
  const char *url = salvo__hop_url(&x->hop, r);
  SETOPT(CURLOPT_URL, url);
  SETOPT(CURLOPT_NOBODY, (long)head);
  if (x->hop.send_body || salvo__method_says_length(m)) {
    /* A POST or PUT without a body still says Content-Length: 0. */
    int body = x->hop.send_body && r->body;
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? r->body_len : 0));
    SETOPT(CURLOPT_POSTFIELDS, body ? r->body : "");
    SETOPT(CURLOPT_CUSTOMREQUEST, strcmp(m, "POST") ? m : NULL);
  } else if (!head) {
    SETOPT(CURLOPT_HTTPGET, 1L);
    SETOPT(CURLOPT_CUSTOMREQUEST, strcmp(m, "GET") ? m : NULL);
  } else {
    SETOPT(CURLOPT_CUSTOMREQUEST, NULL);
  }
  SETOPT(CURLOPT_HTTPHEADER, hdrs);
  /* The caller's "Connection: close" is sent, and libcurl would still
   * reuse the connection (RFC 9112 9.6: no request may follow it). */
  SETOPT(CURLOPT_FORBID_REUSE, (long)(r->conn_close || base_forbid(t)));
  SETOPT(CURLOPT_TIMEOUT_MS, (long)left);
  /* A streamed body is read in large pieces: fewer callbacks and hand-overs
   * per byte. Others keep libcurl's 16 KiB, but cleartext HTTP/2 before
   * libcurl 8 (origin.c); the handle remembers which. */
  long bufsize = r->stream ? 512L * 1024 : salvo__curl_h2c_bufsize(t, url);
  if (bufsize != x->bufsize) {
    SETOPT(CURLOPT_BUFFERSIZE, bufsize ? bufsize : (long)CURL_MAX_WRITE_SIZE);
    x->bufsize = bufsize;
  }
  x->mh = hop_multi(t, x);
  salvo__curl_origin *o =
      r->idempotent ? NULL : salvo__curl_origin_find(t, r->origin, 0);
  SETOPT(CURLOPT_FRESH_CONNECT, (long)(x->fresh || (o && o->closes_quietly)));
  /* Wait for an HTTP/2 connection being set up to the same origin rather
   * than opening one more. */
  SETOPT(CURLOPT_PIPEWAIT, (long)(x->mh->idx == SALVO__MULTI_MUX));
  if (rc != CURLE_OK) {
    *msg = salvo__fmt("libcurl refused %s: %s", what, curl_easy_strerror(rc));
    return rc == CURLE_OUT_OF_MEMORY ? SALVO_ENOMEM : SALVO_EINVAL;
  }
  x->ran = 1;
  return curl_multi_add_handle(x->mh->m, e) == CURLM_OK ? 0 : SALVO_EINTERNAL;
}
#undef SETOPT
