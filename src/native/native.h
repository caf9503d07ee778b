/*
 * The native transport's rooms and what they share: HTTP/1.1, and HTTP/2
 * through libnghttp2, over TCP and over TLS (OpenSSL), written for the
 * cost of a request, not for every protocol.
 *
 *   transport.c  the seam (salvo__native_transport): an attempt's life,
 *                redirects, what the engine is told
 *   connect.c    an attempt's connection: a stream, an idle one, a new one
 *   exchange.c   one request and its response on one connection: the
 *                write, the read, the early answer, the dead idle peer
 *   h2.c         HTTP/2 on a connection (nghttp2): attempts as streams
 *   h2_req.c     a request as an HTTP/2 stream, and the PING before it
 *   head.c       the request head (no sockets: tests feed it values)
 *   pool.c       idle connections per origin and one LRU over all
 *   conn.c       connection slots, dialing, the epoll tag, closing
 *   tcp.c, tls.c the two byte streams behind salvo__conn_ops
 *   origin.c     origins: their Host line, addresses, TLS session
 *   dns.c        their addresses, looked up by c-ares in the same epoll
 *   eyeballs.c   which address to dial when (RFC 8305; no sockets)
 *   timers.c     attempt and connect limits, ordered by expiry
 *
 * - Each connection is registered once with the client's epoll descriptor,
 *   edge-triggered for reading and writing, and stays registered while it
 *   lives: no epoll_ctl per request, and no poll before a write or a read.
 * - One read buffer serves every connection: only the bytes a response
 *   cannot take yet (a partial line, a paused body) are copied aside, so
 *   10,000 connections cost their sockets and not 10,000 buffers.
 * - The response is framed by h1.c; its lines and body go to the request
 *   (receive.c) as libcurl's do, so both transports read a response alike.
 * - Time is the engine's clock (ev.clock), so that tests can move it.
 */
#ifndef SALVO_NATIVE_H
#define SALVO_NATIVE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "../clock.h"
#include "../h1.h"
#include "../list.h"
#include "../redirect.h"
#include "../transport.h"
#include "eyeballs.h"
#include "head.h"

#define SALVO__NAT_RBUF (64 * 1024)
/* Bodies up to this size go out with the head in one write. */
#define SALVO__NAT_INLINE_BODY (16 * 1024)
/* A connection of an origin closed by the server within this time after a
 * response means the origin closes quietly (host.closes_quietly). */
#define SALVO__NAT_QUICK_CLOSE_NS ((int64_t)1000000000)
/* A connection idle longer than this is checked before it is used. */
#define SALVO__NAT_IDLE_CHECK_NS ((int64_t)1000000)
/* An HTTP/2 connection idle longer than this is PINGed before a request
 * that must not be sent twice goes on it. */
#define SALVO__NAT_H2_PING_NS ((int64_t)1000000000)

/* Epoll tags below 2^56 (the engine's transport bits are above): a
 * connection's slot index in bits 0-23, its generation in 24-51 and the
 * dial attempt in 52-53; a resolver socket is bit 55 and its descriptor. */
#define SALVO__NAT_GEN_MASK 0xfffffffu
#define SALVO__NAT_TAG_DIAL(i) ((uint64_t)(i) << 52)
#define SALVO__NAT_TAG_DNS ((uint64_t)1 << 55)

typedef struct salvo__nconn salvo__nconn;
typedef struct salvo__h2 salvo__h2;

/* The resolver's sockets (c-ares has one or two per server). */
#define SALVO__NAT_DNS_FDS 8
typedef struct salvo__nat_dns {
  int fds[SALVO__NAT_DNS_FDS];
  int nfds;
  unsigned started; /* lookups started */
} salvo__nat_dns;
typedef struct salvo__nxfer salvo__nxfer;

/* An origin: its address, its idle connections and its TLS session. */
typedef struct salvo__origin {
  struct salvo__origin *hnext; /* hash chain */
  char *key;                   /* the request's origin, "scheme://host:port" */
  char *name;                  /* for the resolver, SNI and verification */
  char *host_line;             /* "Host: name[:port]\r\n" */
  size_t host_line_len;
  char port[8];
  int tls;
  salvo__transport *t;
  /* Its addresses (dns.c), in the order Happy Eyeballs tries them, until
   * addrs_expiry (the answer's TTL); a lookup under way, the requests
   * waiting for it, and why the last one failed. */
  salvo__addr *addrs;
  int naddrs;
  int64_t addrs_expiry;
  int resolving;
  salvo__list waiting;
  char *dns_err;
  void *session;    /* a TLS session to resume (tls.c's) */
  salvo__list idle; /* its idle connections, most recent first */
  int nconns;       /* open, idle or busy */
  /* A connection of this origin was closed by the server within
   * SALVO__NAT_QUICK_CLOSE_NS of its last response: it closes after
   * responses without saying so, and a request that must not be sent
   * twice could cross that close. Such requests take a new connection. */
  int closes_quietly;
  /* What its server speaks over TLS, once ALPN said (HTTP/2 allowed):
   * 0 not known yet, 1 HTTP/1.1, 2 HTTP/2. */
  int proto;
  /* Its connections being made that may turn out HTTP/2 (each with
   * h2_dial set), and the requests on `waiting` (all of them: a lookup's
   * and a PING's too). A request that finds no room waits for those being
   * made rather than open its own, while they have room for it (h2_wait,
   * connect.c). */
  int h2_dialing, nwaiting;
  salvo__list h2conns; /* its HTTP/2 connections (in_origin) */
  /* The streams its server's last SETTINGS allowed a connection (0 until
   * one came): a new connection assumes it until its own SETTINGS come,
   * not nghttp2's 100, so that a server allowing fewer does not refuse
   * the requests sent in that time again and again. */
  uint32_t h2_limit;
} salvo__origin;

/* A connection's byte stream: plain TCP (tcp.c) or TLS over it (tls.c).
 * HTTP/1.1 (exchange.c) and HTTP/2 (h2.c) are protocols on top of it. */
/* Outside salvo's error codes, which handshake also returns. */
enum { SALVO__IO_AGAIN = -1000, SALVO__IO_ERROR = -1001 };
typedef struct salvo__conn_ops {
  /* The connection is up: 0 ready, SALVO__IO_AGAIN (wait for its next
   * events), or an error code with *msg. */
  int (*handshake)(salvo__transport *t, salvo__nconn *c, char **msg);
  /* Bytes read (> 0), 0 when the peer closed, SALVO__IO_AGAIN, or
   * SALVO__IO_ERROR with *err an errno. */
  ssize_t (*read)(salvo__nconn *c, char *buf, size_t n, int *err);
  /* Bytes written from iov, SALVO__IO_AGAIN, or SALVO__IO_ERROR. */
  ssize_t (*writev)(salvo__nconn *c, const struct iovec *iov, int n, int *err);
  /* An idle connection: whether it is open and has said nothing (what a
   * layer sends on its own, as TLS 1.3 session tickets, is read past). */
  int (*alive)(salvo__nconn *c);
  /* Frees the layer's state (not the descriptor). */
  void (*close)(salvo__nconn *c);
  /* A read that got less than asked left the socket empty (TCP), or says
   * nothing of it (TLS gives a record at a time). */
  int short_read_empties;
} salvo__conn_ops;

extern const salvo__conn_ops salvo__tcp_ops, salvo__tls_ops;

enum salvo__nconn_state {
  SALVO__NC_FREE = 0,  /* a slot without a connection */
  SALVO__NC_DIAL,      /* connecting (TCP) */
  SALVO__NC_HANDSHAKE, /* connected; its layer's handshake under way */
  SALVO__NC_UP         /* ready for requests */
};

struct salvo__nconn {
  uint32_t idx, gen; /* its epoll tag: a stale event finds another gen */
  int state;
  int fd;
  const salvo__conn_ops *ops; /* while open */
  void *layer;                /* the ops' own state (an SSL), or NULL */
  salvo__origin *o;
  salvo__nxfer *x;         /* the request it serves, NULL when idle */
  salvo__list in_origin;   /* its origin's idle list */
  salvo__list in_lru;      /* the transport's idle LRU */
  salvo__nconn *next_free; /* free slots */
  /* While dialing: the plan over its origin's addresses, and the attempts
   * racing (their sockets, -1 when none, and addresses). */
  salvo__he he;
  int dial_fd[SALVO__HE_RACING];
  int dial_addr[SALVO__HE_RACING];
  int dial_errno;       /* why the last attempt failed */
  salvo__buf pend;      /* response bytes not yet taken */
  int served;           /* requests it carried before this one */
  salvo__h2 *h2;        /* HTTP/2 (h2.c) on it, or NULL */
  salvo__list in_dirty; /* the transport's h2_dirty: output to write */
  int alpn_h2;          /* its TLS handshake chose h2 */
  int bare_close;       /* its TLS ended without close_notify (tls.c) */
  /* The peer's close or an error was signalled: an edge-triggered wake-up
   * says so once, maybe with the bytes that end a response, so it is kept
   * here and the connection does not go idle for another request. */
  int hung_up;
  int h2_dial;        /* counted in its origin's h2_dialing */
  int64_t idle_since; /* ns, when it last went idle */
};

/* An attempt of a request (one exchange at a time, redirects included). */
struct salvo__nxfer {
  salvo__req *req;
  salvo__transport *t;
  salvo__nconn *c;
  salvo__origin *o;
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
  /* When bytes were last fed to it, and when it ended (ns): the clock is
   * read once a read, and the end of a response that the read completed
   * is that read's time, for its report and its connection's idle clock
   * alike (0: read the clock when needed). */
  int64_t tlast, tend;
  int64_t deadline;  /* attempt, ns; 0 = none */
  int64_t cdeadline; /* connect, ns; 0 = none */
  int64_t tkey;      /* its place in the timer list, 0 = not in it */
  salvo__list in_timers;
  salvo__list in_wait; /* its origin's waiting list (salvo__nat_wait) */
  int waiting;         /* on that list (counted in its nwaiting) */
  /* On an HTTP/2 connection: its stream, its place in the connection's
   * list, DATA kept while its reader is paused, and its response's
   * progress (h2.c). */
  int32_t sid;
  salvo__list in_conn;
  salvo__buf hold;
  /* The final status came (h2_final), its head ended (h2_head: any
   * HEADERS after it are trailers), a 1xx head is being read past
   * (h2_skip), a DATA frame said END_STREAM (h2_said_end), nghttp2 took
   * the stream's end (h2_ended). */
  int h2_final, h2_head, h2_skip, h2_said_end, h2_ended, h2_err;
  int h2_rest; /* its stream ended: what hold has is the rest */
  char *h2_why;
  int paused; /* its reader is full: nothing read until resumed */
  int ending; /* its response ended, but bytes wait for the reader */
  /* A streamed response, handed to its reader: from here its limit is a
   * read timeout, the attempt's timeout counted again from each piece of
   * the body (tbody, ns) and stopped while the reader is full. */
  int handed_over;
  int64_t tbody;
  salvo__hop hop;    /* where this request of the attempt goes */
  char *location;    /* of a redirect response */
  int redirecting;   /* this response is a redirect being read past */
  int authing;       /* a 401 whose challenge may be answered (redirect.h) */
  int retried_fresh; /* already re-sent after a dead idle connection */
  int early;         /* answered before its body was all sent */
  int got_bytes;     /* of a response, on this connection */
  int finished;      /* ended, waiting in the done list */
  int error;
  char *errmsg;
  salvo__list in_done; /* the done list */
  salvo__nxfer *next_free;
};

/* What an exchange reports to the attempt it serves: the protocol on a
 * connection (HTTP/1.1 now) calls up through these and knows nothing of
 * attempts, redirects or retries (transport.c sets them). */
typedef struct salvo__nat_report {
  /* The response ended: the connection goes back, and the attempt ends
   * or follows its redirect. */
  void (*complete)(salvo__transport *t, salvo__nxfer *x);
  /* The attempt fails: its connection goes (in an unknown state). */
  void (*fail)(salvo__transport *t, salvo__nxfer *x, int err, char *msg);
  /* A reused connection died before any answer: x goes again, once, on
   * a new one (1), or it may not (0). */
  int (*retry_fresh)(salvo__transport *t, salvo__nxfer *x);
  /* The lookup of o ended, or a connection its requests waited for came
   * up or went: its waiting requests go on (or fail). */
  void (*resolved)(salvo__transport *t, salvo__origin *o);
  /* x goes again on another connection (its stream was refused, or its
   * connection broke before any answer). */
  void (*again)(salvo__transport *t, salvo__nxfer *x);
  /* An HTTP/2 connection ended (drained after GOAWAY, or broken): it
   * closes. */
  void (*h2_closed)(salvo__transport *t, salvo__nconn *c);
} salvo__nat_report;

struct salvo__transport {
  const salvo__nat_report *report;
  const salvo__cfg *cfg;
  salvo__transport_events ev;
  uint64_t tag_base;
  int epfd;
  void *tls_ctx; /* tls.c's SSL_CTX, made on first use */
  char *tls_err; /* why it could not be made */
  salvo__origin **origins;
  size_t norigins;
  salvo__nconn **slots;
  uint32_t nslots;
  salvo__nconn *free_conns;
  salvo__list lru; /* idle connections, oldest first */
  size_t nidle, max_idle;
  int64_t idle_ns; /* idle_timeout: a connection idle longer goes; 0 = none */
  salvo__list timers; /* by expiry, soonest first */
  salvo__list done;   /* attempts ended, not reported yet */
  salvo__nxfer *free_xfers;
  salvo__head_writer head;
  char *rbuf;
  void *dns;            /* dns.c's resolver, made on first use */
  salvo__nat_dns dnsq;  /* its sockets */
  salvo__buf h2line;    /* a response field as a line (h2.c) */
  salvo__list h2_dirty; /* HTTP/2 connections with output to write */
  int dns_pending;      /* lookups under way */
  int64_t dns_due;      /* when c-ares wants its time-outs seen, -1 = never */
};

static inline int64_t salvo__nat_now(const salvo__transport *t) {
  return salvo__clock_ns(t->ev.clock);
}

/* When c, dialing, tries its next address (Happy Eyeballs), 0 = never:
 * read by the timer list and the timer, from the plan itself. */
static inline int64_t salvo__nat_dial_wake(const salvo__nconn *c) {
  return c && c->state == SALVO__NC_DIAL ? salvo__he_wake(&c->he) : 0;
}

/* timers.c: x's place by the earlier of its attempt and connect limits. */
void salvo__nat_timer_update(salvo__transport *t, salvo__nxfer *x);
void salvo__nat_timer_remove(salvo__nxfer *x);
/* The soonest, or NULL. */
salvo__nxfer *salvo__nat_timer_first(const salvo__transport *t);
/* A handed-over body's read timeout, started again now (at the hand-over,
 * and when its reader made room). */
void salvo__nat_read_timer(salvo__transport *t, salvo__nxfer *x);
/* Whether a handed-over body's read timeout, due by its deadline, has
 * run out: 0 when a piece came since or its reader is full (the timer
 * then waits again, or for the reader). */
int salvo__nat_read_timed_out(salvo__transport *t, salvo__nxfer *x,
                              int64_t now);

/* origin.c */
#define SALVO__NAT_ORIGIN_BUCKETS 1024
/* The origin of "scheme://host:port" (as request.c writes origins), whose
 * salvo__hash_n is `hash`. */
salvo__origin *salvo__nat_origin(salvo__transport *t, const char *key,
                                 uint32_t hash);
void salvo__nat_origins_free(salvo__transport *t);

/* dns.c: origins' addresses, from c-ares in the transport's epoll. */
/* o's addresses: 0 when they are known (pinned by salvo_config.resolve, a
 * literal, or an answer within its TTL), SALVO__IO_AGAIN when a lookup is
 * under way (report->resolved follows), or SALVO_EDNS with *msg. */
int salvo__nat_resolve(salvo__transport *t, salvo__origin *o, char **msg);
/* A resolver socket's epoll events, its time limit (-1 = none), its
 * time-outs. */
void salvo__nat_dns_io(salvo__transport *t, int fd, uint32_t events);
int64_t salvo__nat_dns_deadline(const salvo__transport *t);
void salvo__nat_dns_timer(salvo__transport *t);
/* Ends every lookup (their callbacks see it and touch nothing). */
void salvo__nat_dns_free(salvo__transport *t);

/* conn.c */
salvo__nconn *salvo__nat_conn_new(salvo__transport *t, salvo__origin *o);
/* Starts dialing its origin's addresses (Happy Eyeballs): 0, or
 * SALVO_ECONNECT with *msg when not one could be tried. */
int salvo__nat_conn_dial(salvo__transport *t, salvo__nconn *c, char **msg);
/* A dial's outcome from the epoll events of attempt `slot`: 0 connected
 * (the others closed), SALVO__IO_AGAIN (others are under way), or
 * SALVO_ECONNECT with *msg. */
int salvo__nat_conn_connected(salvo__transport *t, salvo__nconn *c, int slot,
                              uint32_t events, char **msg);
/* The start of the next address once due: 0, or SALVO_ECONNECT with *msg
 * when nothing is left (salvo__nat_dial_wake says when it is due). */
int salvo__nat_conn_dial_due(salvo__transport *t, salvo__nconn *c, char **msg);
/* Closes c, which is not idle (the pool closes its own). */
void salvo__nat_conn_close(salvo__transport *t, salvo__nconn *c);
/* c, being made for HTTP/2, counts in its origin's h2_dialing (1), or no
 * longer does (0): whether it did. */
int salvo__nat_conn_dialing(salvo__nconn *c, int on);
/* The connection of an epoll tag, or NULL when it closed since; *slot
 * is the dial attempt the tag names. */
salvo__nconn *salvo__nat_conn_of(salvo__transport *t, uint64_t tag, int *slot);
void salvo__nat_conns_free(salvo__transport *t);

/* pool.c */
/* An idle connection of o that x may use, or NULL (take a new one). */
salvo__nconn *salvo__nat_pool_take(salvo__transport *t, salvo__nxfer *x);
/* Back after a response: kept when `keep` and it is clean, else closed. */
void salvo__nat_pool_release(salvo__transport *t, salvo__nconn *c, int keep,
                             int64_t now);
/* An idle connection stirred (closed, or spoke unasked): it goes. */
void salvo__nat_pool_stirred(salvo__transport *t, salvo__nconn *c,
                             uint32_t events);
/* A connection found dead after idling: if that came soon after its last
 * response, its origin closes quietly. */
void salvo__nat_pool_died(salvo__transport *t, salvo__nconn *c);

/* exchange.c */
/* A new exchange of x on its connection (a new connection or hop). */
void salvo__nat_exchange_reset(salvo__nxfer *x);
/* Writes what is left of the request: 0 when done or waiting for the
 * socket, -1 when the attempt ended or its response is being read. */
int salvo__nat_send(salvo__transport *t, salvo__nxfer *x);
/* Reads c until the socket is empty, the response ends or pauses
 * (events: those that woke it; 0 reads to EAGAIN). */
void salvo__nat_read(salvo__transport *t, salvo__nconn *c, uint32_t events);
/* Bytes for c's response (kept ones on resume included). */
void salvo__nat_data(salvo__transport *t, salvo__nconn *c, const char *p,
                     size_t n);

/* A response's line, read once (salvo__h1_read_line), and body bytes, for
 * either protocol: what the transport reads itself (Location, cookies, a
 * redirect) and what goes to the request (receive.c). _text_line reads
 * the line l[0..n) first (status: it is a status line); a malformed one
 * is SALVO_EPROTO with x->p.why. salvo__nat_body returns 0,
 * SALVO__H1_PAUSE (not taken), SALVO__H1_HOLD (taken; stop) or an error. */
int salvo__nat_line(salvo__nxfer *x, const salvo__h1_line *ln);
int salvo__nat_text_line(salvo__nxfer *x, const char *l, size_t n, int status);
int salvo__nat_body(salvo__nxfer *x, const char *p, size_t n);
/* The message of a response's failure with err. */
char *salvo__nat_parse_message(salvo__nxfer *x, int err);

/* h2.c: HTTP/2 on a connection, its streams the attempts' (nghttp2). */
/* Starts the session on c, up (0), or SALVO_ENOMEM. */
int salvo__h2_open(salvo__transport *t, salvo__nconn *c);
/* Whether c may take another stream now. */
int salvo__h2_room(const salvo__nconn *c);
/* Whether c's stream limit may still grow: its server's SETTINGS have not
 * come yet (until then nghttp2 allows 100 streams), and it is not ending.
 * A request with no room on its origin's connections waits for them,
 * rather than opening a connection the limit may make needless. */
int salvo__h2_unsettled(const salvo__nconn *c);
/* Whether c, an HTTP/2 connection carrying no stream (nor waiting for a
 * PING's answer), is closed rather than used: idle longer than
 * idle_timeout at now, or idle at all with max_idle 0. */
int salvo__h2_expired(const salvo__transport *t, const salvo__nconn *c,
                      int64_t now);
/* x's request as a new stream of c: 0, or an error (x not on c). */
int salvo__h2_submit(salvo__transport *t, salvo__nconn *c, salvo__nxfer *x);
/* The same for a request that picked c from its origin's: one that must
 * not be sent twice, on a connection idle over SALVO__NAT_H2_PING_NS,
 * waits for the answer to a PING first (on its origin's waiting list,
 * x->c NULL, as for a lookup). */
int salvo__h2_request(salvo__transport *t, salvo__nconn *c, salvo__nxfer *x);
/* c's events: reads, and writes what waits. */
void salvo__h2_io(salvo__transport *t, salvo__nconn *c);
void salvo__h2_flush(salvo__transport *t, salvo__nconn *c);
/* c has output: it is written with the others' at the end of the loop's
 * turn (salvo__h2_flush_all, from reap), one write for many frames. */
void salvo__h2_want_flush(salvo__transport *t, salvo__nconn *c);
void salvo__h2_flush_all(salvo__transport *t);
/* x leaves its connection: its stream is reset (CANCEL) if open. */
void salvo__h2_detach(salvo__transport *t, salvo__nxfer *x);
/* x's reader takes more: DATA kept for it goes, and is consumed. */
void salvo__h2_resume(salvo__transport *t, salvo__nxfer *x);
/* Frees c's session (no callback runs; its attempts are let go). One the
 * client ends while it carries no stream says GOAWAY (NO_ERROR) first,
 * in one write that does not wait (RFC 9113 6.8): expired, or the client
 * freed. */
void salvo__h2_close(salvo__nconn *c);

/* connect.c: x's connection, a stream, or its wait; then its request
 * goes (0), or an error with *msg. */
int salvo__nat_go(salvo__transport *t, salvo__nxfer *x, char **msg);
/* c's epoll events (slot: the dial attempt they are for). */
void salvo__nat_conn_io(salvo__transport *t, salvo__nconn *c, int slot,
                        uint32_t events);
/* The report's retry_fresh, resolved, again and h2_closed. */
int salvo__nat_retry_fresh(salvo__transport *t, salvo__nxfer *x);
void salvo__nat_resolved(salvo__transport *t, salvo__origin *o);
void salvo__nat_again(salvo__transport *t, salvo__nxfer *x);
void salvo__nat_h2_closed(salvo__transport *t, salvo__nconn *c);

/* origin.c: x waits on its origin's list (for a lookup, a connection
 * being made, a PING's answer), or no longer (nothing if it was not). */
void salvo__nat_wait(salvo__nxfer *x);
void salvo__nat_unwait(salvo__nxfer *x);

/* connect.c: x lets go of its connection (an HTTP/2 stream is reset,
 * an HTTP/1.1 connection closes); x fails. */
void salvo__nat_drop_conn(salvo__transport *t, salvo__nxfer *x);
void salvo__nat_fail(salvo__transport *t, salvo__nxfer *x, int err, char *msg);

/* connect.c: an attempt ends, reported (by transport.c's reap) later. */
void salvo__nat_done(salvo__transport *t, salvo__nxfer *x, int err, char *msg);

#endif /* SALVO_NATIVE_H */
