/*
 * Internal declarations shared by libsalvo's modules. Nothing here is
 * exported: the library is built with hidden visibility and only the
 * functions marked SALVO_EXTERN in salvo.h are visible.
 *
 * Threads: fields are grouped by who may touch them. "io" means the
 * client's I/O thread only; "mtx" means under the named mutex.
 */
#ifndef SALVO_INTERNAL_H
#define SALVO_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "salvo.h"

/* The request line and headers together, in bytes: libcurl refuses (as
 * "out of memory") a request head over 1 MiB, so salvo refuses it first,
 * with a message, at submission. */
#define SALVO__MAX_HEAD 1000000

typedef struct salvo__req salvo__req;
typedef struct salvo__pool salvo__pool;
typedef struct salvo__host salvo__host;
typedef struct salvo__transport salvo__transport;

/* ---- util.c ------------------------------------------------------------ */

typedef struct salvo__buf {
  char *p;
  size_t len;
  size_t cap;
} salvo__buf;

int64_t salvo__now_ns(void);
char *salvo__strdup(const char *s);
char *salvo__strndup(const char *s, size_t n);
/* Keeps one spare byte so that p[len] can always hold a NUL. */
int salvo__buf_reserve(salvo__buf *b, size_t extra);
int salvo__buf_append(salvo__buf *b, const void *p, size_t n);
void salvo__buf_free(salvo__buf *b);
int salvo__casecmp_n(const char *a, const char *b, size_t n);
int salvo__is_tchar(unsigned char c);
/* Length of the header name in "Name: value", or 0 when malformed. */
size_t salvo__header_name_len(const char *h);
/* Whether h is a header salvo may send: a token name, a colon, and no CR
 * or LF anywhere. */
int salvo__header_ok(const char *h);
/* Whether a NULL-terminated list of "Name: value" headers (NULL = none)
 * has one named by the first n bytes of name, in any case. */
int salvo__headers_have(const char *const *list, const char *name, size_t n);
/* Seconds from the API to milliseconds: 0 gives dflt, negative gives 0
 * ("none"), anything else at least 1 ms. */
int64_t salvo__seconds_ms(double s, int64_t dflt);
/* Removes the userinfo ("user:password@") of every URL in s, in place. */
void salvo__redact_userinfo(char *s);
/* Takes msg (may be NULL) and returns it without userinfo in URLs and with
 * each of the n secrets (NULL or "" skipped) replaced by "***". */
char *salvo__redact(char *msg, const char *const *secrets, size_t n);
/* The first CR or LF in s, or NULL (also for s NULL). */
const char *salvo__ctl_in(const char *s);
/* Structs that start with their size_t size and grow across versions.
 * _init: dst (the caller's, dsize bytes) gets the defaults it has room for
 * and zeros past them. _read: the prefix both know is copied from src
 * over dst, which keeps its own values (the defaults) past src's end. */
void salvo__sized_init(void *dst, size_t dsize, const void *dflt, size_t n);
void salvo__sized_read(void *dst, size_t dsize, const void *src, size_t ssize);
/* FNV-1a of a string, for the hash tables. */
uint32_t salvo__hash(const char *s);
/* An eventfd: signal it (readable until drained), drain it. */
void salvo__fd_signal(int fd);
void salvo__fd_drain(int fd);
/* Allocates a copy of the message formatted like printf. */
char *salvo__fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- pool.c ------------------------------------------------------------ */

#define SALVO__POOL_BYTES ((size_t)8 << 20) /* cached at most per client */
#define SALVO__POOL_MIN ((size_t)4096)      /* smaller bodies use malloc */
#define SALVO__POOL_MAX ((size_t)1 << 20)

/* A new pool with one reference (the client's). */
salvo__pool *salvo__pool_new(void);
void salvo__pool_release(salvo__pool *p);
/* A buffer of at least `want` bytes (its size in *cap), cached or new; it
 * holds a reference until given back. NULL when out of memory. */
char *salvo__pool_take(salvo__pool *p, size_t want, size_t *cap);
/* Takes back a buffer from salvo__pool_take (grown or not): cached when
 * there is room, freed otherwise; drops its reference. */
void salvo__pool_give(salvo__pool *p, char *buf, size_t cap);

/* ---- config (client.c) ------------------------------------------------- */

/* The client configuration with defaults applied and strings owned. */
typedef struct salvo__cfg {
  int concurrency;
  int per_host;
  int64_t timeout_ms;         /* 0 = none */
  int64_t connect_timeout_ms; /* 0 = none */
  char **headers;             /* NULL-terminated, owned */
  size_t header_bytes;        /* headers, user agent and credentials */
  char *user_agent;           /* NULL = send none */
  char *username;
  char *password;
  char *bearer_token;
  int insecure;
  char *ca_file;
  int follow_redirects;
  int max_redirects;
  int http_version;
  char *proxy;
  size_t max_body;
  int compression;
  int cookies;
  char *cookie_file;
  double rate_limit;    /* attempts per second, 0 = none */
  double per_host_rate; /* the same per origin, 0 = none */
  double rate_burst;    /* bucket size, >= 1 */
  int max_retries;      /* >= 0 */
  int *retry_statuses;  /* 0-terminated, owned; NULL = no status retries */
  int64_t retry_base_ns;
  int64_t retry_max_delay_ns;
  int64_t deadline_ms;      /* 0 = none */
  int64_t queue_timeout_ms; /* 0 = none */
  int return_type;
  salvo_parse_fn parse;
  void (*parse_free)(void *value);
  void *parse_arg;
} salvo__cfg;

/* ---- scheduler timers and buckets ---------------------------------------- */

/* A min-heap of nodes embedded in what they order; each node knows its
 * place, so it can be moved or removed in O(log n). */
typedef struct salvo__heap_node {
  uint64_t key;
  size_t idx; /* index + 1 in its heap, 0 = in none */
} salvo__heap_node;

typedef struct salvo__heap {
  salvo__heap_node **v;
  size_t len;
  size_t cap;
} salvo__heap;

/* An entry of the scheduler's timer heap (key: monotonic ns), embedded in
 * what it wakes. */
typedef struct salvo__timer {
  salvo__heap_node node;
  uint8_t kind; /* enum salvo__timer_kind */
} salvo__timer;

enum salvo__timer_kind { SALVO__TIMER_REQ, SALVO__TIMER_HOST };

/* A token bucket: `tokens` as of `last`. */
typedef struct salvo__bucket {
  double tokens;
  int64_t last;
} salvo__bucket;

/* ---- request.c --------------------------------------------------------- */

enum salvo__req_state {
  SALVO__REQ_QUEUED = 0, /* waiting in the scheduler for a slot */
  SALVO__REQ_RUNNING,    /* owned by the transport */
  SALVO__REQ_BACKOFF     /* waiting to retry, holding no slot */
};

/*
 * A request from submission to its end. One allocation holds the struct and
 * every string it needs; it is freed as soon as the request settles, so
 * memory per request lives only while the request does.
 */
struct salvo__req {
  salvo__req *next; /* submission queue, then the host's wait queue */
  salvo__req *prev;
  salvo__req *bnext; /* io: the batch's list of live requests */
  salvo__req *bprev;
  salvo_batch *batch;
  salvo__host *host; /* io */
  uint64_t id;       /* the pending handle */
  uint64_t seq;      /* io: start order */
  int state;         /* io: enum salvo__req_state */
  int attempts;      /* io */
  int fail;          /* io: error found by a data callback, or 0 */
  int fail_errno;    /* io: errno behind SALVO_EWRITE */
  int is_head;
  int streamed; /* io: on_data got part of a body */
  int out_fd;   /* io: output_path while open, else -1 */
  int (*on_data)(void *user_data, const char *data, size_t len);
  char *output_path;
  uint64_t tag;       /* the one-call form's index */
  const char *method; /* NULL = GET */
  char *url;          /* with params applied */
  char *origin;       /* "scheme://host:port", lower case */
  char **headers;     /* the request's own headers, NULL-terminated */
  size_t nheaders;
  char *body; /* NULL = no body */
  size_t body_len;
  void *user_data;
  int64_t timeout_ms;         /* per attempt, resolved: 0 = none */
  int64_t deadline_ms;        /* resolved: 0 = none */
  int64_t queue_timeout_ms;   /* resolved: 0 = none */
  int max_retries;            /* resolved */
  int idempotent;             /* method or request says repeating is safe */
  int64_t attempt_timeout_ms; /* io: this attempt's, deadline included */
  int64_t deadline_at;        /* io: ns, set at the first start; 0 = none */
  int64_t first_start;        /* io: ns of the first attempt; 0 = never */
  salvo__timer timer;         /* io: queue wait or backoff */
  void *xfer;                 /* io: transport state while running */
  salvo_response *resp;       /* io: filled while running */
  struct salvo_client *cl;    /* the client it runs on */
};

/*
 * Validates and copies `in` into a new request. On bad input returns NULL
 * with *err and *msg set (msg allocated, may be NULL when out of memory).
 */
salvo__req *salvo__req_new(const salvo_request *in, const salvo__cfg *cfg,
                           int *err, char **msg);
/* The i-th of an array of requests whose elements are reqs[0].size bytes
 * each (the caller's salvo_request, maybe older or newer than ours). */
const salvo_request *salvo__req_at(const salvo_request *reqs, size_t i);
void salvo__req_free(salvo__req *r);
/* Transport data callbacks: they return 0, or an error code that aborts the
 * transfer (the code is kept in req->fail). */
int salvo__req_on_header(salvo__req *r, const char *line, size_t len);
int salvo__req_on_body(salvo__req *r, const char *data, size_t len);
/* Whether the body goes to on_data or output_path rather than memory. */
int salvo__req_streams(const salvo__req *r);
/* A message for an error a data callback found (r->fail), or NULL. */
char *salvo__req_fail_message(const salvo__req *r);
/* Prepares req->resp for a new attempt. */
void salvo__req_begin_attempt(salvo__req *r);

/* ---- response.c -------------------------------------------------------- */

struct salvo_response {
  salvo_response *next; /* the batch's ready list or the io outbox */
  salvo_response *prev;
  uint64_t id;
  int error;
  int status;
  int attempts;
  int redirects;
  char *errmsg; /* NULL = "" */
  char *key;    /* in this allocation */
  void *user_data;
  char *url;       /* the requested URL, in this allocation */
  char *final_url; /* after redirects, or NULL */
  char http_version[4];
  double total_time;
  double ttfb;
  double elapsed;
  salvo__buf body;
  salvo__buf hdrs;   /* "name\0value\0" repeated */
  uint32_t *hdr_off; /* offset of each name in hdrs */
  size_t nhdrs;
  size_t hdr_cap;
  uint32_t hdr_inline[16]; /* hdr_off until more are needed */
  uint64_t tag;
  int streamed;      /* the body went to on_data or output_path */
  salvo__pool *pool; /* the body buffer came from this pool */
  /* Conversions, made on first use by the collecting thread. */
  salvo__buf text;
  int text_done;
  struct json_t *json;
  char *json_err;
  void *value;
  void (*value_free)(void *);
};

/* One allocation holds the response, its key and the requested URL. */
salvo_response *salvo__resp_new(uint64_t id, const char *key, void *user_data,
                                const char *url);
/* Records the URL fetched last, after redirects. */
int salvo__resp_set_url(salvo_response *r, const char *url);
/* Records an error; takes ownership of msg (may be NULL: strerror used). */
void salvo__resp_set_error(salvo_response *r, int err, char *msg);
int salvo__resp_add_header(salvo_response *r, const char *name, size_t nlen,
                           const char *value, size_t vlen);
int salvo__resp_extend_header(salvo_response *r, const char *more, size_t len);
void salvo__resp_reset(salvo_response *r);
/* Makes room for `extra` more body bytes, from the pool when the body is
 * large enough to be worth keeping warm. */
int salvo__resp_reserve_body(salvo_response *r, size_t extra,
                             salvo__pool *pool);
/* Applies the return type and the parse callback, on the collecting
 * thread, once per response. */
void salvo__resp_finalize(salvo_response *r, const salvo__cfg *cfg);

/* ---- text.c ------------------------------------------------------------ */

/* Decodes body to UTF-8 into out, from the charset named by a Content-Type
 * value (NULL = UTF-8); invalid input becomes U+FFFD. */
int salvo__text_decode(const char *body, size_t len, const char *ctype,
                       salvo__buf *out);

/* ---- batch.c ----------------------------------------------------------- */

typedef struct salvo__slot {
  uint32_t gen;
  uint32_t next_free; /* index + 1 of the next free slot, 0 = none */
  uint8_t used;
  salvo_response *resp; /* set once the response is ready */
} salvo__slot;

struct salvo_batch {
  struct salvo_client *client;
  pthread_mutex_t mtx;
  pthread_cond_t cond;
  /* mtx */
  salvo__slot *slots;
  uint32_t nslots;
  uint32_t cap;
  uint32_t free_head;
  salvo_response *ready_head;
  salvo_response *ready_tail;
  int pending; /* submitted, not delivered */
  int nwaiters;
  int efd; /* -1 until salvo_batch_fd */
  int cancel_done;
  /* io */
  salvo__req *live;
  salvo_response *out_head;
  salvo_response *out_tail;
  salvo_batch *dirty_next;
  int dirty;
  /* client->mtx */
  salvo_batch *cnext;
  salvo_batch *cprev;
  salvo_batch *cancel_next;
};

/* salvo_submit with the one-call form's tag, kept on the response. */
salvo_pending salvo__submit(salvo_batch *b, const salvo_request *req,
                            uint64_t tag);
/* Called by the I/O thread: moves a list of responses into the ready list
 * and wakes whoever waits. */
void salvo__batch_deliver(salvo_batch *b, salvo_response *head,
                          salvo_response *tail);
/* Called by the I/O thread once it holds nothing of the batch any more. */
void salvo__batch_cancel_done(salvo_batch *b);

/* ---- scheduler.c ------------------------------------------------------- */

/* What an origin's connections can do, as far as salvo knows. */
enum salvo__proto {
  /* Not known yet: one request at a time goes out until the first
   * connection's TLS handshake says (ALPN). */
  SALVO__PROTO_UNKNOWN = 0,
  /* The first attempt failed before saying: assume multiplexing, which is
   * safe for both kinds, until a handshake says otherwise. */
  SALVO__PROTO_GUESS_MUX,
  SALVO__PROTO_H1, /* one request per connection */
  SALVO__PROTO_MUX /* HTTP/2 streams over few connections */
};

struct salvo__host {
  salvo__host *hnext; /* hash chain */
  uint32_t hash;
  int proto; /* enum salvo__proto */
  int in_flight;
  int backoff;       /* requests of this origin waiting to retry */
  salvo__req *qhead; /* waiting, in submission order */
  salvo__req *qtail;
  salvo__heap_node elig; /* in the eligible heap; key: its head's seq */
  salvo__bucket bucket;  /* per_host_rate */
  salvo__timer timer;    /* armed while waiting for a rate token */
  char key[];
};

typedef struct salvo__sched {
  const salvo__cfg *cfg;
  int in_flight;
  size_t queued;
  salvo__host **buckets;
  size_t nbuckets;
  size_t nhosts;
  salvo__heap eligible; /* origins that could start a request */
  salvo__heap timers;
  salvo__bucket bucket; /* rate_limit */
  int64_t rate_wake;    /* when the next global token comes, 0 = none due */
} salvo__sched;

int salvo__sched_init(salvo__sched *s, const salvo__cfg *cfg);
void salvo__sched_destroy(salvo__sched *s);
/* Queues a request (new, or back from a backoff, ahead of younger ones);
 * returns SALVO_ENOMEM when its origin cannot be made. */
int salvo__sched_add(salvo__sched *s, salvo__req *r, int64_t now);
/* The next request allowed to start, counted as in flight and charged a
 * rate token; NULL if none may start now. */
salvo__req *salvo__sched_next(salvo__sched *s, int64_t now);
/* A running request ended: its slot is free again. */
void salvo__sched_release(salvo__sched *s, salvo__req *r);
/* Parks a request until `at`, when it is queued again; SALVO_ENOMEM when
 * it cannot be parked (it is then the caller's to settle). */
int salvo__sched_backoff(salvo__sched *s, salvo__req *r, int64_t at);
/* Forgets a queued or parked request (cancellation). */
void salvo__sched_forget(salvo__sched *s, salvo__req *r);
/* Runs the timers due at `now`; returns the queued requests whose wait
 * or deadline ran out, out of their queues and linked through `next`. */
salvo__req *salvo__sched_expire(salvo__sched *s, int64_t now);
/* When the scheduler next needs salvo__sched_expire or salvo__sched_next
 * (ns), or -1. */
int64_t salvo__sched_deadline(const salvo__sched *s);
/* The transport learnt what an origin speaks. */
void salvo__sched_set_proto(salvo__sched *s, salvo__host *h, int proto);

/* ---- retry.c ----------------------------------------------------------- */

/* Whether an attempt that ended with err (0 = an HTTP response) deserves
 * another, and after how long (ns). Returns 0 for no retry. Uses and
 * advances *rng. */
int salvo__retry_decide(const salvo__cfg *cfg, const salvo__req *r, int err,
                        int64_t *delay_ns, uint64_t *rng);
/* Parses a Retry-After value (delay seconds or HTTP date) into a delay in
 * ns from `now` (wall clock seconds); -1 when it is not valid, INT64_MAX
 * when it is further away than any client waits (over 10^9 s). */
int64_t salvo__retry_after_ns(const char *v, double now);
/* A random 64-bit number (xorshift64*); the state must not be 0. */
uint64_t salvo__rand(uint64_t *state);

/* ---- engine.c ---------------------------------------------------------- */

struct salvo_client {
  salvo__cfg cfg;
  pthread_t thread;
  int epfd;
  int wakefd;
  pthread_mutex_t mtx;
  /* mtx */
  salvo__req *sub_head;
  salvo__req *sub_tail;
  salvo_batch *cancel_head;
  salvo_batch *batches;
  int wake_pending;
  int stop;
  uint64_t cookie_clear_asked; /* synchronous commands: asked and done */
  uint64_t cookie_clear_done;
  pthread_cond_t cmd_cond;
  /* io */
  salvo__transport *tp;
  salvo__sched sched;
  salvo_batch *dirty;
  uint64_t next_seq;
  salvo__pool *pool;   /* body buffers */
  uint64_t rng;        /* backoff jitter */
  int no_pwait2;       /* epoll_pwait2 is missing: use the timerfd */
  int timerfd;         /* -1 until needed */
  int64_t timer_armed; /* deadline the timerfd holds, -1 = none */
};

int salvo__engine_start(salvo_client *c);
void salvo__engine_stop(salvo_client *c);
/* From any thread: hand a request to the I/O thread. */
void salvo__engine_submit(salvo_client *c, salvo__req *r);
/* From any thread: empties the cookie jar; returns once done. */
void salvo__engine_clear_cookies(salvo_client *c);
/* From any thread: cancel all of a batch; returns once the I/O thread let
 * go of it. */
void salvo__engine_cancel_batch(salvo_client *c, salvo_batch *b);
/* From the transport (io): a transfer ended with err (0 = fine) and an
 * optional message, which the engine takes over. */
void salvo__engine_done(salvo_client *c, salvo__req *r, int err, char *msg);

/* ---- client.c ---------------------------------------------------------- */

/* The configuration with defaults applied and strings copied; on
 * SALVO_EINVAL, *msg names the field (allocated; NULL when out of
 * memory). */
int salvo__cfg_resolve(salvo__cfg *out, const salvo_config *in, char **msg);
/* The process default client, created on first use; NULL on failure. */
salvo_client *salvo__default_client(void);
void salvo__cfg_free(salvo__cfg *c);

#endif /* SALVO_INTERNAL_H */
