/*
 * Requests: validated and copied at submission into one allocation, then
 * fed by the transport's data events while an attempt runs.
 *
 * Each group of fields below has one writer, named in its heading.
 */
#ifndef SALVO_REQUEST_H
#define SALVO_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "pool.h"
#include "response.h"
#include "scheduler.h"
#include "url_memo.h"

typedef struct salvo__req salvo__req;
typedef struct salvo__recv salvo__recv;             /* receive_state.h */
typedef struct salvo__recv_cache salvo__recv_cache; /* receive_state.h */
typedef struct salvo__sink salvo__sink;             /* engine.h */
typedef struct salvo__slab salvo__slab;             /* slab.h */

/* What the head of the response being read says (receive.c). */
typedef struct salvo__head {
  int status;
  int version; /* 10, 11, 20 */
  int lines;   /* of this head, the status line first */
  int has_len;
  uint64_t len; /* Content-Length */
  int chunked;  /* Transfer-Encoding: chunked */
  int codings;  /* Content-Encoding fields */
  size_t bytes; /* of every head of this attempt */
} salvo__head;

/* A request's life cycle, moved by the engine only, through one function
 * (salvo__life_enter, src/engine/life.c, which has the diagram). */
enum salvo__req_state {
  SALVO__REQ_NEW = 0, /* submitted, not yet taken by the I/O thread */
  SALVO__REQ_QUEUED,  /* waiting in the scheduler for a slot */
  SALVO__REQ_RUNNING, /* an attempt is with the transport */
  SALVO__REQ_BACKOFF, /* parked until its next attempt, holding no slot */
  /* Its streamed response is the caller's already; the attempt goes on
   * feeding the body, paced by the reader, and is never retried. */
  SALVO__REQ_STREAMING,
  SALVO__REQ_DONE /* settled: about to be freed */
};

struct salvo__req {
  /* request.c, at submission; read by all. Narrow where a value allows:
   * with thousands pending, a request's bytes are fresh memory. */
  const char *method;
  char *url;      /* with params applied */
  char **headers; /* the request's own, NULL-terminated */
  char *body;     /* NULL = no body */
  size_t body_len;
  salvo__twin *twin; /* its block when paired with its response */
  uint32_t nheaders;
  /* The request target, url[target_off..+target_len): found when the URL
   * was checked, not again for its request line (a URL fits a head,
   * SALVO__MAX_HEAD bytes). */
  uint32_t target_off, target_len;
  int max_retries;
  int transport; /* the engine's: salvo__transports index of its running
                  * attempt (here, where an int leaves no hole) */
  uint8_t is_head;
  uint8_t userinfo;         /* the URL carries user[:password]@ */
  uint8_t decode;           /* the client decodes bodies */
  uint8_t idempotent;       /* method or request says repeating is safe */
  uint8_t follow_redirects; /* the request's, or the client's */
  uint8_t stream;           /* the caller reads the body (salvo__stream) */
  /* Its Connection field (its own, else the client's) lists "close": its
   * HTTP/1.x connections serve no request after it (RFC 9112 9.6). */
  uint8_t conn_close;
  int64_t timeout_ms;  /* per attempt: 0 = none */
  int64_t deadline_ms; /* 0 = none */
  size_t max_body;
  int (*on_data)(void *user_data, const char *data, size_t len);
  char *output_path;
  salvo__pool *pool; /* the client's, for body buffers */
  /* From here on, the I/O thread's: first what it reads and writes when
   * it admits the request (up to the scheduler's entry), in as few cache
   * lines as it fits, since with thousands pending each request is cold
   * by then. */
  int64_t queue_timeout_ms; /* 0 = none */
  char *origin;             /* "scheme://host:port", lower case */
  uint32_t origin_hash;     /* salvo__hash_n(origin), once for every table */

  /* the engine (src/engine/) */
  int state;                  /* enum salvo__req_state: salvo__life_enter */
  salvo_response *resp;       /* filled while it runs, handed over at the end */
  salvo__sink *sink;          /* where its response goes */
  salvo__req *lnext;          /* the submission queue */
  salvo__list in_sink;        /* its sink's live list */
  salvo__req *inext;          /* the engine's index by (sink, id) */
  int64_t deadline_at;        /* ns, set at the first start; 0 = none */
  int64_t attempt_timeout_ms; /* this attempt's, deadline included */
  int64_t first_start;        /* ns of the first attempt; 0 = never */
  void *xfer; /* the running attempt's handle (its transport's) */

  /* scheduler.c */
  salvo__sched_entry sched;

  /* receive.c's: what the data events found, for the current attempt
   * only (NULL until the first; freed with the request by recv_free, so
   * that this module needs nothing of receive.c). */
  salvo__recv *recv;
  void (*recv_free)(salvo__recv *v);
  /* The engine's (set on the I/O thread at admission): where recv comes
   * from and goes back to, or NULL (malloc and free). */
  salvo__recv_cache *recv_cache;
};

/*
 * Validates and copies `in` (a caller's struct, of its own size) into a
 * new request, without its response (resp, which the caller sets). On bad
 * input returns NULL with *err and *msg set (msg allocated, may be NULL
 * when out of memory).
 */
salvo__req *salvo__req_new(const salvo_request *in, const salvo__cfg *cfg,
                           salvo__pool *pool, int *err, char **msg);
/* The same, with its response (key, user data and URL from `in`, id 0)
 * set as resp and, when the request takes at most SALVO__PAIR_MAX bytes,
 * made in the same allocation: the two are let go apart (salvo__req_free,
 * salvo_response_free) and the block goes with the second. A larger
 * request (a body) is not kept until its response goes. The block is one
 * of slab's where it fits (SALVO__SLAB_BLOCK), else malloc's. The URL is
 * read by way of memo (url_memo.h), its client's last origin. slab and
 * memo may be NULL. */
#define SALVO__PAIR_MAX 1024
salvo__req *salvo__req_new_paired(const salvo_request *in,
                                  const salvo__cfg *cfg, salvo__pool *pool,
                                  salvo__slab *slab, salvo__url_memo *memo,
                                  int *err, char **msg);
/* The fields this library knows of a caller's request, whatever header it
 * was built against: caller itself when its size is ours (or unset),
 * else *copy, filled from it with our defaults for what it lacks. */
const salvo_request *salvo__req_fields(const salvo_request *caller,
                                       salvo_request *copy);
/* The i-th of an array of requests whose elements are reqs[0].size bytes
 * each (the caller's salvo_request, maybe older or newer than ours). */
const salvo_request *salvo__req_at(const salvo_request *reqs, size_t i);
/* Frees a request and the response it still holds. NULL is accepted. */
void salvo__req_free(salvo__req *r);
/* The response a request fills, given once at submission; taken back by
 * the engine when it settles (the request no longer holds it). */
void salvo__req_set_response(salvo__req *r, salvo_response *resp);
salvo_response *salvo__req_take_response(salvo__req *r);
/* The handle id the request was submitted under. */
uint64_t salvo__req_id(const salvo__req *r);

/* Prepares the response for a new attempt and counts it. */
void salvo__req_begin_attempt(salvo__req *r);
/* Attempts made so far. */
int salvo__req_attempts(const salvo__req *r);
/* The body bytes kept: what a transport may read of the response. */
size_t salvo__req_body_len(const salvo__req *r);
/* Whether bytes went to on_data, which cannot be taken back (no retry). */
int salvo__req_delivered(const salvo__req *r);
/* Whether the body goes to on_data or output_path rather than memory. */
int salvo__req_streams(const salvo__req *r);

#endif /* SALVO_REQUEST_H */
