/*
 * The libcurl transport's private parts, shared by its files: transport.c
 * (the seam: multi handles, sockets, timers, the end of a transfer), easy.c
 * (a transfer: one easy handle per request of a chain of redirects, its
 * callbacks), head.c (the response's lines, trailers), tls.c (whether TLS
 * ended with close_notify), errors.c (what a transfer's end means) and
 * origin.c (what an origin speaks, learnt from ALPN). libcurl is included here
 * and nowhere else in salvo.
 *
 * libcurl runs single exchanges: redirects, cookies, credentials and
 * decoding are salvo's own (redirect.h, cookie.h, decode.h), so that both
 * transports answer alike.
 */
#ifndef SALVO_CURL_INTERNAL_H
#define SALVO_CURL_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>

#include "../h1.h"
#include "../list.h"
#include "../redirect.h"
#include "../transport.h"

/* What an origin's connections can do, as far as this transport knows.
 * libcurl 7.88 opens a connection per transfer to an HTTP/2 origin that
 * is at its stream limit, so multiplexing origins go through their own
 * multi handle; which origins those are, ALPN says at the first
 * handshake. */
enum salvo__curl_proto {
  /* Not known yet: the origin is held to one request in flight until the
   * first connection's TLS handshake says. */
  SALVO__CURL_UNKNOWN = 1,
  /* The first attempt failed before saying: assume multiplexing, which is
   * safe for both kinds, until a handshake says otherwise. */
  SALVO__CURL_GUESS_MUX,
  SALVO__CURL_H1, /* one request per connection */
  SALVO__CURL_MUX /* HTTP/2 streams over few connections */
};

typedef struct salvo__curl_origin {
  char *key; /* NULL = empty */
  int proto;
  /* A reused connection of this origin closed before any response: it
   * closes connections without saying so, and a request that must not be
   * sent twice takes a new connection here. */
  int closes_quietly;
} salvo__curl_origin;

enum { SALVO__MULTI_H1, SALVO__MULTI_MUX, SALVO__NMULTI };

typedef struct salvo__curl_multi {
  CURLM *m;
  struct salvo__transport *t;
  uint32_t idx;
  int64_t deadline; /* ns, -1 = none */
} salvo__curl_multi;

/* A local port of the transport's connections. */
typedef struct salvo__curl_port {
  int fd1;                         /* its socket + 1; 0: none (calloc's) */
  struct salvo__curl_xfer *holder; /* on HTTP/1.1: the transfer it carries */
  int h2c; /* a cleartext connection upgraded to HTTP/2 (a 101 came) */
} salvo__curl_port;

/* One request's attempt: the easy handle and the hop it runs. */
typedef struct salvo__curl_xfer {
  CURL *easy;
  struct salvo__curl_xfer *next_free;
  salvo__req *req;
  salvo__curl_multi *mh;   /* the multi handle running it */
  struct curl_slist *hdrs; /* this hop's own header list, or NULL */
  salvo__hop hop;
  int64_t t0, tfirst; /* the attempt's start, its first response byte */
  int learning;       /* its origin's protocol was not known when it started */
  int body_seen;      /* a body byte of this hop came */
  int header_seen;    /* a response byte of this hop came */
  int redirecting;    /* its response is a redirect to follow */
  int authing;        /* a 401 whose challenge may be answered */
  int paused;         /* its reader's buffer was full */
  int sends;          /* requests libcurl was about to send, this hop */
  int sent;           /* ... in the whole attempt */
  int resend_refused; /* libcurl wanted to send it again: refused */
  int fresh;          /* sent again on a new connection already */
  int conn_refused;   /* the connection libcurl chose was refused */
  int port;      /* the local port of the connection this hop went on, or 0 */
  int too_many;  /* a redirect past max_redirects came */
  int swallow;   /* the chunk libcurl offers again was taken */
  int chunk_err; /* what the de-chunker refused, or 0 */
  const char *bad_line; /* why on_header refused a line itself, or NULL */
  int h2_lines;         /* this hop's head came as libcurl writes HTTP/2's */
  int head_final;       /* this hop's final head ended: trailers follow */
  size_t aside_bytes;   /* of this hop's lines read past: trailers, a 101 */
  /* The field line last read (without its ending), held until the next
   * line says whether it continues it (RFC 9112 5.2), and the lines of
   * the head being read (0: its status line comes next). */
  salvo__buf held;
  int holding, head_lines;
  int switching; /* in the 101 that answers this hop's upgrade */
  int to_h2c;    /* ... which said Upgrade: h2c */
  /* A streamed body handed to its reader: its read timeout (ns; 0 =
   * none), counted from its last piece (tbody) and not while paused, and
   * its place in the transport's reading list meanwhile. */
  int64_t read_timeout, tbody;
  salvo__list in_reading;
  /* A body delimited by the close over TLS: its connection's SSL, watched
   * for close_notify (tls.c; NULL once freed), and what came. */
  void *ssl;
  int watched, close_notify;
  /* A chunked body comes as sent (CURLOPT_HTTP_TRANSFER_DECODING off) and
   * is de-chunked by h1.c, so that both transports judge chunks alike. */
  int chunks;
  salvo__h1 dechunk;
  salvo__buf pend; /* raw bytes not de-chunked yet */
  long bufsize;    /* CURLOPT_BUFFERSIZE as last set, 0 = default */
  int ran;         /* easy has run a transfer (see salvo__curl_hop_go) */
  char errbuf[CURL_ERROR_SIZE];
} salvo__curl_xfer;

struct salvo__transport {
  const salvo__cfg *cfg;
  salvo__transport_events ev;
  uint64_t tag_base;
  salvo__curl_origin *origins; /* SALVO__CURL_ORIGINS slots, or NULL */
  size_t norigins;
  salvo__curl_multi mh[SALVO__NMULTI];
  CURLSH *share; /* TLS sessions */
  int epfd;
  /* By local port, its connections: libcurl names the connection a
   * transfer is about to use only by its ports. */
  salvo__curl_port *ports;
  salvo__curl_xfer *free_list;
  /* The client's headers and credentials, for hops that add nothing. */
  struct curl_slist *base_hdrs;
  struct curl_slist *pins; /* salvo_config.resolve, for CURLOPT_RESOLVE */
  int fresh_handles;       /* each hop on a handle no transfer has used */
  int h2c_alone;       /* libcurl before 8: its cleartext HTTP/2 (origin.c) */
  salvo__list reading; /* transfers with a read timeout (in_reading) */
  /* No later than the soonest of their timeouts (ns, -1 = none): a piece
   * of a body only moves its own later, so the list is walked when this
   * comes, not every turn. */
  int64_t read_wake;
};

/* ---- origin.c ---- */

/* The origin's entry; with `add`, made (SALVO__CURL_UNKNOWN) if missing.
 * NULL when absent, or out of memory. */
salvo__curl_origin *salvo__curl_origin_find(salvo__transport *t,
                                            const char *key, int add);
/* What the first hop's origin speaks as far as is known, holding the
 * origin to one request in flight when nothing is known yet. */
int salvo__curl_origin_proto(salvo__transport *t, salvo__curl_xfer *x);
/* The kind of connection a prior-knowledge hop to url takes (origin.c). */
int salvo__curl_prior_proto(const salvo__transport *t, const char *url);
/* The buffer a hop to url needs, or 0 for libcurl's default. */
long salvo__curl_h2c_bufsize(const salvo__transport *t, const char *url);
/* An attempt that started without knowing learnt it (proto), or ended
 * without learning it (0): the origin is released. */
void salvo__curl_origin_learnt(salvo__transport *t, salvo__req *r, int proto);
/* What a transfer's TLS handshake chose (SALVO__CURL_H1 or _MUX). */
int salvo__curl_alpn_proto(CURL *e);
void salvo__curl_origins_free(salvo__transport *t);

/* x's read timeout started again now (at the hand-over, and when its
 * reader made room): the transport's timer comes by its end. */
static inline void salvo__curl_read_from_now(salvo__transport *t,
                                             salvo__curl_xfer *x, int64_t now) {
  int64_t at = now + x->read_timeout;
  x->tbody = now;
  if (t->read_wake < 0 || at < t->read_wake)
    t->read_wake = at;
}

/* ---- head.c ---- */

/* CURLOPT_HEADERFUNCTION: a line of the head, or a trailer. */
size_t salvo__curl_on_header(char *p, size_t size, size_t n, void *userp);

/* ---- tls.c ---- */

/* Once, at libcurl's global initialisation: 0, or -1. */
int salvo__curl_tls_init(void);
/* CURLOPT_SSL_CTX_FUNCTION: each new connection's SSL reports alerts. */
CURLcode salvo__curl_ssl_ctx(CURL *e, void *ctx, void *userp);
/* Watch x's TLS connection for close_notify from now (nothing when it is
 * not TLS), and stop (at the hop's end). */
void salvo__curl_tls_watch(salvo__curl_xfer *x);
void salvo__curl_tls_unwatch(salvo__curl_xfer *x);

/* Whether x's connection speaks HTTP/2: prior knowledge or an upgrade
 * (head.c) on cleartext, h2 chosen by ALPN over TLS. */
int salvo__curl_speaks_h2(salvo__transport *t, salvo__curl_xfer *x);

/* ---- easy.c ---- */

salvo__curl_xfer *salvo__curl_xfer_get(salvo__transport *t);
void salvo__curl_xfer_put(salvo__transport *t, salvo__curl_xfer *x);
/* Sets x's handle up for its hop and adds it to the multi handle its
 * origin needs. 0, or an error with *msg (allocated, may be NULL). */
int salvo__curl_hop_go(salvo__transport *t, salvo__curl_xfer *x, char **msg);
/* The error of an ended hop, with a message free of credentials. */
int salvo__curl_error(salvo__transport *t, salvo__curl_xfer *x, CURLcode rc,
                      char **msg);
/* The reader took what it could: 0 (read on), SALVO__EV_HELD (still full)
 * or an error. */
int salvo__curl_resume(salvo__curl_xfer *x);
/* The client's base header list (headers and credentials), and its
 * pinned names as CURLOPT_RESOLVE takes them. */
int salvo__curl_base_headers(salvo__transport *t);
int salvo__curl_pins(salvo__transport *t);
/* libcurl closes its sockets through this (the port map forgets them). */
int salvo__curl_close_socket(void *clientp, curl_socket_t s);
/* A socket libcurl watches for the first time: its port is mapped. */
void salvo__curl_socket_seen(salvo__transport *t, curl_socket_t s);
/* x's hop is over: the HTTP/1.1 connection it held is free for another. */
void salvo__curl_let_go(salvo__transport *t, salvo__curl_xfer *x);

#endif /* SALVO_CURL_INTERNAL_H */
