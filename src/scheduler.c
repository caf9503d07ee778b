/*
 * The scheduler: decides which queued request starts next, and when.
 *
 * Each origin (scheme, host, port) has a FIFO of waiting requests. An
 * origin is "eligible" when it has a waiting request, room under the
 * per-host cap, a per-host rate token (when per_host_rate is set) and, for
 * an origin whose protocol is not known yet, nothing in flight. Eligible
 * origins sit in a min-heap keyed by the submission sequence of their
 * oldest waiting request. Starting the next request is then: check the
 * client-wide cap, take a client-wide rate token, pop the heap's top
 * origin, take its head. That keeps submission order among everything
 * that may start, costs O(log origins) per start, and never scans queues.
 *
 * Everything that waits on time shares one timer heap: requests in retry
 * backoff, queued requests with a queue timeout or a deadline, origins
 * waiting for a rate token. The client-wide bucket has a single wake-up
 * time. The I/O loop sleeps until the earliest of them.
 *
 * Runs on the I/O thread only.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NS 1000000000.0

/* ---- token buckets ------------------------------------------------------ */

/* A bucket holds `burst` tokens plus half of one. After a quiet spell that
 * half never adds a start (a start takes a whole token), but it lets a
 * wake-up that comes up to half an interval late be made up for instead of
 * lost: with a bucket of exactly one token, the ~70 us a sleeping thread
 * takes to wake cost 8% of the rate at 1,000/s. */
#define JITTER_TOKENS 0.5

static void bucket_init(salvo__bucket *b, double burst, int64_t now) {
  b->tokens = burst;
  b->last = now;
}

static void bucket_refill(salvo__bucket *b, double rate, double burst,
                          int64_t now) {
  if (now > b->last) {
    b->tokens += (double)(now - b->last) * rate / NS;
    if (b->tokens > burst + JITTER_TOKENS)
      b->tokens = burst + JITTER_TOKENS;
    b->last = now;
  }
}

/* When the bucket holds a whole token again. */
static int64_t bucket_ready_at(const salvo__bucket *b, double rate) {
  double missing = 1.0 - b->tokens;
  return missing <= 0 ? b->last : b->last + (int64_t)(missing * NS / rate) + 1;
}

/* ---- heaps --------------------------------------------------------------- */

static void heap_place(salvo__heap *h, size_t i, salvo__heap_node *n) {
  h->v[i] = n;
  n->idx = i + 1;
}

static void heap_sift(salvo__heap *h, size_t i) {
  salvo__heap_node *n = h->v[i];
  while (i > 0 && h->v[(i - 1) / 2]->key > n->key) {
    heap_place(h, i, h->v[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    uint64_t best = n->key;
    if (l < h->len && h->v[l]->key < best)
      m = l, best = h->v[l]->key;
    if (l + 1 < h->len && h->v[l + 1]->key < best)
      m = l + 1;
    if (m == i)
      break;
    heap_place(h, i, h->v[m]);
    i = m;
  }
  heap_place(h, i, n);
}

/* Puts n in h with `key`, or moves it there if it already is. */
static int heap_set(salvo__heap *h, salvo__heap_node *n, uint64_t key) {
  n->key = key;
  if (n->idx) {
    heap_sift(h, n->idx - 1);
    return 0;
  }
  if (h->len == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    salvo__heap_node **v = realloc(h->v, cap * sizeof(*v));
    if (!v)
      return SALVO_ENOMEM;
    h->v = v;
    h->cap = cap;
  }
  h->v[h->len++] = n;
  heap_sift(h, h->len - 1);
  return 0;
}

static void heap_remove(salvo__heap *h, salvo__heap_node *n) {
  if (!n->idx)
    return;
  size_t i = n->idx - 1;
  n->idx = 0;
  salvo__heap_node *last = h->v[--h->len];
  if (i < h->len) {
    heap_place(h, i, last);
    heap_sift(h, i);
  }
}

static int timer_start(salvo__sched *s, salvo__timer *t, int64_t at) {
  return heap_set(&s->timers, &t->node, (uint64_t)at);
}

static void timer_stop(salvo__sched *s, salvo__timer *t) {
  heap_remove(&s->timers, &t->node);
}

int salvo__sched_init(salvo__sched *s, const salvo__cfg *cfg) {
  memset(s, 0, sizeof(*s));
  s->cfg = cfg;
  s->nbuckets = 64;
  s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
  bucket_init(&s->bucket, cfg->rate_burst, salvo__now_ns());
  return s->buckets ? 0 : SALVO_ENOMEM;
}

void salvo__sched_destroy(salvo__sched *s) {
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host *h = s->buckets[i], *n; h; h = n) {
      n = h->hnext;
      free(h);
    }
  free(s->buckets);
  free(s->eligible.v);
  free(s->timers.v);
  memset(s, 0, sizeof(*s));
}

/* Whether h may start a request now, rate aside. */
static int has_room(const salvo__sched *s, const salvo__host *h) {
  if (!h->qhead)
    return 0;
  if (h->proto == SALVO__PROTO_UNKNOWN && h->in_flight)
    return 0; /* the first connection has not told what it speaks */
  return !s->cfg->per_host || h->in_flight < s->cfg->per_host;
}

/* Puts h where it belongs after its queue, count or tokens changed: in the
 * heap, out of it, or waiting on its rate timer. A failed push (out of
 * memory) leaves it out until its next change; others keep running. */
static void host_update(salvo__sched *s, salvo__host *h) {
  int want = has_room(s, h);
  double rate = s->cfg->per_host_rate;
  if (want && rate > 0 && h->bucket.tokens < 1.0) {
    int64_t now = salvo__now_ns();
    bucket_refill(&h->bucket, rate, s->cfg->rate_burst, now);
    if (h->bucket.tokens < 1.0) {
      want = 0;
      if (!h->timer.node.idx)
        timer_start(s, &h->timer, bucket_ready_at(&h->bucket, rate));
    }
  }
  if (want)
    heap_set(&s->eligible, &h->elig, h->qhead->seq);
  else
    heap_remove(&s->eligible, &h->elig);
}

/* ---- origins ----------------------------------------------------------- */

static int grow_buckets(salvo__sched *s) {
  size_t n = s->nbuckets * 2;
  salvo__host **b = calloc(n, sizeof(*b));
  if (!b)
    return SALVO_ENOMEM;
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host *h = s->buckets[i], *next; h; h = next) {
      next = h->hnext;
      h->hnext = b[h->hash & (n - 1)];
      b[h->hash & (n - 1)] = h;
    }
  free(s->buckets);
  s->buckets = b;
  s->nbuckets = n;
  return 0;
}

/* Origins are kept while the client lives; idle ones (nothing queued,
 * running, parked or waiting for a token) are dropped when the table gets
 * large, so crawling millions of hosts stays bounded. */
static void drop_idle(salvo__sched *s) {
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host **pp = &s->buckets[i]; *pp;) {
      salvo__host *h = *pp;
      if (!h->in_flight && !h->qhead && !h->backoff && !h->timer.node.idx) {
        *pp = h->hnext;
        free(h);
        s->nhosts--;
      } else {
        pp = &h->hnext;
      }
    }
}

/* Where multiplexing is possible, the first TLS handshake tells whether
 * it happens; until then a burst would make libcurl open a connection per
 * request. */
static int initial_proto(const salvo__cfg *cfg, const char *origin) {
  if (cfg->http_version == SALVO_HTTP_1_1)
    return SALVO__PROTO_H1;
  if (cfg->http_version == SALVO_HTTP_2_PRIOR_KNOWLEDGE)
    return SALVO__PROTO_MUX;
  return strncmp(origin, "https:", 6) ? SALVO__PROTO_H1 : SALVO__PROTO_UNKNOWN;
}

static salvo__host *host_get(salvo__sched *s, const char *key, int64_t now) {
  uint32_t hash = salvo__hash(key);
  for (salvo__host *h = s->buckets[hash & (s->nbuckets - 1)]; h; h = h->hnext)
    if (h->hash == hash && !strcmp(h->key, key))
      return h;
  if (s->nhosts >= 4096 && s->nhosts >= s->nbuckets)
    drop_idle(s);
  if (s->nhosts >= s->nbuckets)
    grow_buckets(s);
  size_t len = strlen(key);
  salvo__host *h = calloc(1, sizeof(*h) + len + 1);
  if (!h)
    return NULL;
  memcpy(h->key, key, len + 1);
  h->hash = hash;
  h->proto = initial_proto(s->cfg, key);
  h->timer.kind = SALVO__TIMER_HOST;
  bucket_init(&h->bucket, s->cfg->rate_burst, now);
  h->hnext = s->buckets[hash & (s->nbuckets - 1)];
  s->buckets[hash & (s->nbuckets - 1)] = h;
  s->nhosts++;
  return h;
}

void salvo__sched_set_proto(salvo__sched *s, salvo__host *h, int proto) {
  if (h->proto == proto)
    return;
  h->proto = proto;
  host_update(s, h);
}

/* ---- queueing ---------------------------------------------------------- */

/* When a queued request stops waiting: its queue timeout (first attempt
 * only) or its deadline, whichever comes first; 0 = never. */
static int64_t queue_limit(const salvo__req *r, int64_t now) {
  int64_t at = 0;
  if (r->queue_timeout_ms && !r->attempts)
    at = now + r->queue_timeout_ms * 1000000;
  if (r->deadline_at && (!at || r->deadline_at < at))
    at = r->deadline_at;
  return at;
}

int salvo__sched_add(salvo__sched *s, salvo__req *r, int64_t now) {
  salvo__host *h = r->host ? r->host : host_get(s, r->origin, now);
  if (!h)
    return SALVO_ENOMEM;
  int64_t limit = queue_limit(r, now);
  r->timer.kind = SALVO__TIMER_REQ;
  if (limit && timer_start(s, &r->timer, limit))
    return SALVO_ENOMEM;
  r->host = h;
  r->state = SALVO__REQ_QUEUED;
  /* Back from a backoff, a request goes ahead of those submitted after
   * it; new ones have the largest sequence and land at the tail. */
  salvo__req *after = h->qtail;
  while (after && after->seq > r->seq)
    after = after->prev;
  r->prev = after;
  r->next = after ? after->next : h->qhead;
  if (r->next)
    r->next->prev = r;
  else
    h->qtail = r;
  if (after)
    after->next = r;
  else
    h->qhead = r;
  s->queued++;
  if (h->qhead == r)
    host_update(s, h);
  return 0;
}

static void unqueue(salvo__sched *s, salvo__req *r) {
  salvo__host *h = r->host;
  int was_head = h->qhead == r;
  if (r->prev)
    r->prev->next = r->next;
  else
    h->qhead = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    h->qtail = r->prev;
  r->next = r->prev = NULL;
  s->queued--;
  timer_stop(s, &r->timer);
  if (was_head)
    host_update(s, h);
}

salvo__req *salvo__sched_next(salvo__sched *s, int64_t now) {
  if (s->in_flight >= s->cfg->concurrency || !s->eligible.len)
    return NULL;
  double rate = s->cfg->rate_limit;
  if (rate > 0) {
    bucket_refill(&s->bucket, rate, s->cfg->rate_burst, now);
    if (s->bucket.tokens < 1.0) {
      s->rate_wake = bucket_ready_at(&s->bucket, rate);
      return NULL;
    }
    s->bucket.tokens -= 1.0;
  }
  s->rate_wake = 0;
  salvo__host *h =
      (salvo__host *)((char *)s->eligible.v[0] - offsetof(salvo__host, elig));
  salvo__req *r = h->qhead;
  if (s->cfg->per_host_rate > 0)
    h->bucket.tokens -= 1.0;
  h->in_flight++;
  s->in_flight++;
  unqueue(s, r);
  return r;
}

void salvo__sched_release(salvo__sched *s, salvo__req *r) {
  salvo__host *h = r->host;
  h->in_flight--;
  s->in_flight--;
  if (h->qhead)
    host_update(s, h);
}

int salvo__sched_backoff(salvo__sched *s, salvo__req *r, int64_t at) {
  r->timer.kind = SALVO__TIMER_REQ;
  if (timer_start(s, &r->timer, at))
    return SALVO_ENOMEM;
  r->state = SALVO__REQ_BACKOFF;
  r->host->backoff++;
  return 0;
}

void salvo__sched_forget(salvo__sched *s, salvo__req *r) {
  if (r->state == SALVO__REQ_QUEUED) {
    unqueue(s, r);
  } else if (r->state == SALVO__REQ_BACKOFF) {
    timer_stop(s, &r->timer);
    r->host->backoff--;
  }
}

salvo__req *salvo__sched_expire(salvo__sched *s, int64_t now) {
  salvo__req *expired = NULL, **tail = &expired;
  while (s->timers.len && s->timers.v[0]->key <= (uint64_t)now) {
    salvo__timer *t = (salvo__timer *)s->timers.v[0];
    timer_stop(s, t);
    if (t->kind == SALVO__TIMER_HOST) {
      host_update(s, (salvo__host *)((char *)t - offsetof(salvo__host, timer)));
      continue;
    }
    salvo__req *r = (salvo__req *)((char *)t - offsetof(salvo__req, timer));
    if (r->state == SALVO__REQ_BACKOFF) {
      r->host->backoff--;
      if (salvo__sched_add(s, r, now) == 0)
        continue;
      /* No memory to queue it: it ends as an expired request would. */
    } else {
      unqueue(s, r);
    }
    r->next = NULL;
    *tail = r;
    tail = &r->next;
  }
  return expired;
}

int64_t salvo__sched_deadline(const salvo__sched *s) {
  int64_t at = s->timers.len ? (int64_t)s->timers.v[0]->key : -1;
  if (s->rate_wake && s->eligible.len && s->in_flight < s->cfg->concurrency &&
      (at < 0 || s->rate_wake < at))
    at = s->rate_wake;
  return at;
}
