/* libFuzzer: what an HTTP/2 server sends, through the native transport's
 * HTTP/2 room (src/native/h2.c) and nghttp2's session, to a real request
 * and response (receive.c's checks, the decoders): frames in pieces of
 * varying size on a connection whose writes go nowhere, one request in
 * flight (a GET, or a POST with a body), its reader pausing now and then.
 * Whatever the bytes, the request must end once at most (completed,
 * failed, or sent again), and nothing may crash or leak.
 *
 * Input: byte 0 picks the piece size, byte 1 the request; the rest is the
 * server's side of the connection (its SETTINGS first, as a server's
 * preface). scripts/h2-seeds.py writes seeds with python3-h2. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "native/native.h"
#include "pool.h"
#include "receive.h"
#include "request.h"
#include "response.h"

typedef struct feed {
  const uint8_t *p;
  size_t n, piece;
} feed;

static feed in;
static int ended;

static ssize_t fz_read(salvo__nconn *c, char *buf, size_t n, int *err) {
  (void)c, (void)err;
  if (!in.n)
    return 0; /* the server closed */
  size_t k = in.piece < n ? in.piece : n;
  k = k < in.n ? k : in.n;
  memcpy(buf, in.p, k);
  in.p += k;
  in.n -= k;
  return (ssize_t)k;
}

static ssize_t fz_writev(salvo__nconn *c, const struct iovec *iov, int n,
                         int *err) {
  (void)c, (void)err;
  ssize_t all = 0;
  for (int i = 0; i < n; i++)
    all += (ssize_t)iov[i].iov_len;
  return all;
}

static const salvo__conn_ops fz_ops = {.read = fz_read, .writev = fz_writev};

static void fz_complete(salvo__transport *t, salvo__nxfer *x) {
  (void)t, (void)x;
  if (ended++)
    abort();
}

static void fz_fail(salvo__transport *t, salvo__nxfer *x, int err, char *msg) {
  (void)t;
  if (ended++ || !err)
    abort();
  salvo__h2_detach(t, x);
  free(msg);
}

static void fz_again(salvo__transport *t, salvo__nxfer *x) {
  (void)t, (void)x;
  if (ended++)
    abort();
}

static void fz_closed(salvo__transport *t, salvo__nconn *c) {
  (void)t;
  salvo__h2_close(c);
}

/* The server's SETTINGS send its origin's waiting requests on: the one
 * request here never waits. */
static void fz_resolved(salvo__transport *t, salvo__origin *o) {
  (void)t;
  if (salvo__list_first(&o->waiting))
    abort();
}

static void fz_headers(void *ctx, salvo__req *r) { (void)ctx, (void)r; }

static const salvo__nat_report fz_report = {
    .complete = fz_complete,
    .fail = fz_fail,
    .again = fz_again,
    .h2_closed = fz_closed,
    .resolved = fz_resolved,
};

static const char head_get[] = "GET /x HTTP/1.1\r\nHost: h2.fuzz\r\n"
                               "Accept-Encoding: gzip, br\r\n\r\n";
static const char head_post[] = "POST /x HTTP/1.1\r\nHost: h2.fuzz\r\n"
                                "Content-Length: 5\r\n\r\nhello";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static salvo__cfg cfg;
  static salvo__pool *pool;
  if (!pool) {
    char *msg = NULL;
    if (salvo__cfg_resolve(&cfg, NULL, &msg))
      abort();
    pool = salvo__pool_new();
  }
  if (size < 2)
    return 0;
  in = (feed){data + 2, size - 2, (size_t)data[0] % 97 + 1};
  ended = 0;
  int post = data[1] & 1;

  salvo_request rq;
  salvo_request_init(&rq);
  rq.url = "http://h2.fuzz/x";
  rq.stream = (data[1] >> 1) & 1; /* a reader that pulls, and pauses */
  int err;
  char *msg = NULL;
  salvo__req *r = salvo__req_new(&rq, &cfg, pool, &err, &msg);
  if (!r)
    abort();
  salvo__req_set_response(r, salvo__resp_new(0, NULL, NULL, r->url));
  salvo__req_begin_attempt(r);

  salvo__transport t = {0};
  t.report = &fz_report;
  t.cfg = &cfg;
  t.ev.clock = &salvo__system_clock;
  t.ev.headers = fz_headers;
  salvo__list_init(&t.timers);
  salvo__list_init(&t.h2_dirty);
  t.rbuf = malloc(SALVO__NAT_RBUF);
  salvo__origin o = {0};
  o.key = "http://h2.fuzz:80";
  o.t = &t;
  o.name = "h2.fuzz";
  o.host_line = "Host: h2.fuzz\r\n";
  o.host_line_len = strlen(o.host_line);
  salvo__list_init(&o.waiting);
  salvo__nconn c = {0};
  c.ops = &fz_ops;
  c.o = &o;
  c.state = SALVO__NC_UP;
  salvo__nxfer *x = calloc(1, sizeof(*x));
  x->req = r;
  x->t = &t;
  x->o = &o;
  const char *head = post ? head_post : head_get;
  salvo__buf_append(&x->out, head, strlen(head));
  x->head_len = post ? strlen(head) - 5 : strlen(head);

  if (salvo__h2_open(&t, &c) || salvo__h2_submit(&t, &c, x))
    abort();
  for (int turn = 0; c.h2 && turn < 64; turn++) {
    salvo__h2_io(&t, &c);
    salvo__h2_flush_all(&t);
    if (x->paused && !ended) { /* the reader takes some, and more comes */
      x->paused = 0;
      if (salvo__req_resume_body(r) == SALVO__EV_HELD)
        x->paused = 1;
      else
        salvo__h2_resume(&t, x);
    }
  }
  salvo__h2_close(&c);
  salvo__buf_free(&x->out);
  salvo__buf_free(&x->hold);
  free(x->h2_why);
  free(x->location);
  free(x);
  salvo__buf_free(&t.h2line);
  free(t.rbuf);
  salvo__req_free(r);
  return 0;
}
