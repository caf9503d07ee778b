/* faultd's rooms and what they share: the server (faultd.c: buffers,
 * timers, connections, the event loop) and its routes (faultd_routes.c:
 * what each path answers, the statistics; faultd_digest.c: Digest
 * authentication checked). A test tool, one thread. */
#ifndef FAULTD_H
#define FAULTD_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INPUT (256u << 20)
#define MAX_HEAD (4u << 20) /* a request line and headers */
#define GEN_CHUNK 65536
#define MAX_WIRE (1u << 20) /* the largest /wire response */

typedef struct buf {
  char *p;
  size_t len, off, cap;
} buf;

typedef struct gauge {
  struct gauge *next;
  long cur, peak, total;
  long *times; /* per-key request times, ms since the last reset */
  size_t ntimes, cap;
  char name[];
} gauge;

enum { ST_READ, ST_BUSY, ST_DRAIN, ST_CLOSED };
enum { AFTER_KEEP, AFTER_CLOSE, AFTER_RESET, AFTER_DRAIN };

typedef struct conn {
  int fd;
  int state;
  int counted;  /* carries real (non-control) requests */
  int inflight; /* a request is being answered */
  gauge *host;
  buf in;
  buf out;
  uint64_t gen_left; /* body bytes still to generate */
  int gen_chunked;
  uint64_t drip_left;
  int drip_ms;
  int after; /* once the response is written */
  int hang;
  int64_t timer_at; /* ms; 0 = none */
  size_t heap_idx;  /* index + 1 in the timer heap */
  int64_t rx_us;    /* --log-starts: kernel time of the request's bytes */
  int spoof;        /* /unsolicited: its timer sends the unasked response */
  int64_t spoof_ms; /* how long after the response */
} conn;

/* The response /unsolicited sends unasked, after the one asked for. */
#define SPOOF "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nSPOOF"

typedef struct req {
  char method[32];
  char target[6144]; /* as sent: a path, or a whole URL through a proxy */
  char path[6144];
  char query[4096];
  const char *hdrs; /* the header block, lines separated by CRLF */
  size_t hdrs_len;
  const char *body;
  size_t body_len;
} req;

/* The server's state (faultd.c), read and written by the routes too. */
extern int epfd, lfd;
extern char pattern[GEN_CHUNK];
extern long conns_open, conns_peak, conns_total, requests, inflight,
    inflight_peak, unsolicited, drained, pipelined;
extern gauge *hosts, *keys;
extern int log_starts;
extern int64_t reset_ms;
extern int64_t reset_rt_us;
extern long *starts;
extern size_t nstarts, cap_starts;
extern conn **heap;
extern size_t heap_len, heap_cap;

/* faultd.c */
void buf_add(buf *b, const void *p, size_t n);
void buf_printf(buf *b, const char *fmt, ...);
gauge *gauge_get(gauge **list, const char *name);
int64_t now_ms(void);
int64_t realtime_us(void);
void timer_set(conn *c, int64_t at);
void *xrealloc(void *p, size_t n);

/* faultd_routes.c */
const char *rheader(const req *r, const char *name, char *out, size_t outsz);
void route(conn *c, const req *r);
void respond(conn *c, int status, const char *ctype, const char *extra,
             const char *body, size_t len);

/* faultd_digest.c: /digest answers 401 with a Digest challenge (RFC 7616)
 * until the request's Authorization answers it for user and pass, with
 * algorithm alg, qop ("auth", or "" for none) and nonce (NULL: a fixed
 * one); then 200, JSON: user, nc, algorithm, uri, body_len. */
void digest_route(conn *c, const req *r, const char *user, const char *pass,
                  const char *alg, const char *qop, const char *nonce);

#endif /* FAULTD_H */
