/*
 * The transport contract: how the engine reaches the network. A transport
 * fills a salvo__transport_ops: native/ (HTTP/1.1 over TCP and
 * TLS) and curl/ (libcurl: HTTP/2, proxies, and whatever the native one
 * does not do). Every client has
 * both; salvo__transport_choose (transport.c) picks one per request.
 *
 * What a transport owns: connections and their pool, TLS (verification,
 * CA file, sessions), proxies, and whatever it must learn about an origin
 * (which protocol it speaks). What both must do alike is done once and
 * called by each: following redirects (redirect.h: where, with which
 * method, body and credentials), cookies (the client's one jar, cookie.h,
 * given in the events), credentials (salvo__cfg.auth_header).
 *
 * What it reports, all on the client's I/O thread:
 *   - data events, straight to the request: salvo__req_on_header for every
 *     header line of every response (status lines included, so interim
 *     and redirect responses too) and salvo__req_on_body for every chunk
 *     of the final body, decoded; a non-zero return must stop the
 *     transfer, and that attempt then ends with the returned error;
 *   - events to the engine through salvo__transport_events: the end of
 *     each attempt with one salvo__attempt_result, and a hold on an
 *     origin while the transport cannot yet run several requests to it
 *     well (libcurl before ALPN has said whether it multiplexes), and the
 *     `headers` of a streamed response, after which it is the reader's;
 *   - pauses: when salvo__req_on_body says SALVO__EV_PAUSE the transfer
 *     stops reading (nothing of the chunk was taken) until `resume`.
 * It never writes a request or its response (the data events and the
 * engine do), nor the scheduler's state.
 *
 * Sockets are watched on the client's epoll descriptor with
 * epoll_event.data.u64 = tag_base | a tag of the transport's choosing
 * below 2^56; the engine routes each event back by its top bits.
 */
#ifndef SALVO_TRANSPORT_H
#define SALVO_TRANSPORT_H

#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "cookie.h"
#include "receive.h"
#include "request.h"

typedef struct salvo__transport salvo__transport;

/* How an attempt ended. Status, version and headers are not here: they
 * came as header events. A failure the data events reported
 * (salvo__req_on_header, _on_body: r->fail) is the engine's to apply,
 * and so is the redaction of secrets from the message. */
typedef struct salvo__attempt_result {
  int error;         /* SALVO_OK, or why the attempt failed */
  char *errmsg;      /* allocated (the engine takes it), or NULL */
  double total_time; /* seconds, start to end of the attempt */
  double ttfb;       /* seconds to the first response byte */
  /* No byte of the request reached the server: the connection never came
   * up, or it was known dead before the first byte was written. Only
   * then may a request that is not idempotent be sent again. */
  int unsent;
  /* The engine's clock when the attempt ended, as the transport read it
   * for total_time (0: not read; the engine reads it), so that the clock
   * is read once at the end of an attempt. */
  int64_t now;
} salvo__attempt_result;

typedef struct salvo__auth_cache salvo__auth_cache; /* redirect.h */

/* The engine's side of the contract. */
typedef struct salvo__transport_events {
  void *ctx;
  /* The engine's clock: every time a transport reads or sets. */
  const salvo__clock *clock;
  /* The client's cookie jar, or NULL when it keeps no cookies; the
   * engine's, used on the I/O thread only. */
  salvo__jar *jar;
  /* The Digest challenges answered, by origin (redirect.h), or NULL when
   * the client does not answer them; the engine's, as the jar. */
  salvo__auth_cache *auth;
  /* An attempt of r ended (after salvo__transport_start succeeded and
   * unless salvo__transport_abort came first). */
  void (*done)(void *ctx, salvo__req *r, salvo__attempt_result *res);
  /* Hold r's origin to one request in flight (hold 1), or release it. */
  void (*hold)(void *ctx, salvo__req *r, int hold);
  /* The final headers of a streamed response are in (salvo__req_on_header
   * said SALVO__EV_HEADERS): the engine hands the response over now. From
   * here the attempt's limit is a read timeout: its timeout counted from
   * each piece of the body, and not while its reader is full. */
  void (*headers)(void *ctx, salvo__req *r);
} salvo__transport_events;

/* A transport: its functions, all on the I/O thread but global_init. */
typedef struct salvo__transport_ops {
  const char *name;
  /* Process-wide initialisation; idempotent, thread-safe, any thread. */
  int (*global_init)(void);
  /* Tags of its epoll events are tag_base | (its own tag below 2^56). */
  int (*create)(salvo__transport **out, const salvo__cfg *cfg, int epfd,
                uint64_t tag_base, const salvo__transport_events *ev);
  /* Aborts every transfer without reporting it, then frees. */
  void (*destroy)(salvo__transport *t);
  /* Starts one attempt of r: 0 with *xfer set to the attempt's handle
   * (the engine keeps it in r->xfer until the attempt's done event or its
   * abort), or an error code with a message in *msg (allocated, may be
   * NULL), and r stays the caller's. */
  int (*start)(salvo__transport *t, salvo__req *r, void **xfer, char **msg);
  /* Stops a running attempt at once (its connection closed or its stream
   * reset) without reporting it. */
  void (*abort)(salvo__transport *t, void *xfer);
  /* A transfer paused because salvo__req_on_body said SALVO__EV_PAUSE
   * goes on; the chunk not taken is offered again. */
  void (*resume)(salvo__transport *t, void *xfer);
  /* An epoll event on one of its descriptors, with the tag it chose. */
  void (*on_socket)(salvo__transport *t, uint64_t tag, uint32_t events);
  /* The monotonic time (ns) at which it wants on_timer, or -1. */
  int64_t (*deadline)(const salvo__transport *t);
  void (*on_timer)(salvo__transport *t);
  /* Reports (through events.done) the attempts that ended since the last
   * call. */
  void (*reap)(salvo__transport *t);
} salvo__transport_ops;

/* Both transports' words for a body delimited by a TLS connection's close
 * that came without close_notify (RFC 9112 9.8). */
#define SALVO__NO_CLOSE_NOTIFY                                                 \
  "the server closed the TLS connection without close_notify: a body "         \
  "delimited by the close may have been cut short (RFC 9112 9.8)"

/* Both transports' words for a streamed body's read timeout, with the
 * milliseconds since its last piece (long long). */
#define SALVO__READ_TIMEOUT_FMT                                                \
  "Operation timed out: no body byte for %lld milliseconds (the timeout, "     \
  "counted from each piece of a streamed body)"

/* The bits of an epoll tag that name the transport (engine.c routes). */
#define SALVO__TAG_SHIFT 56

extern const salvo__transport_ops salvo__native_transport; /* native/ */
extern const salvo__transport_ops salvo__curl_transport;

/* The transports of a client, by index. */
enum { SALVO__TP_NATIVE = 0, SALVO__TP_CURL, SALVO__NTRANSPORTS };
extern const salvo__transport_ops *const salvo__transports[SALVO__NTRANSPORTS];

/* Which transport serves r (SALVO__TP_*), from what it needs: the native
 * one for HTTP/1.1 without a proxy, libcurl for the rest (docs/design.md
 * has the rules, salvo.h the configuration field). */
int salvo__transport_choose(const salvo__cfg *cfg, const salvo__req *r);

#endif /* SALVO_TRANSPORT_H */
