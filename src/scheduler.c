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

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

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

/* ---- timers ---------------------------------------------------------------
 */

static void timer_place(salvo__sched *s, size_t i, salvo__timer *t) {
  s->timers[i] = t;
  t->idx = i + 1;
}

static void timer_sift(salvo__sched *s, size_t i) {
  salvo__timer *t = s->timers[i];
  while (i > 0 && s->timers[(i - 1) / 2]->at > t->at) {
    timer_place(s, i, s->timers[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    int64_t best = t->at;
    if (l < s->ntimers && s->timers[l]->at < best)
      m = l, best = s->timers[l]->at;
    if (l + 1 < s->ntimers && s->timers[l + 1]->at < best)
      m = l + 1;
    if (m == i)
      break;
    timer_place(s, i, s->timers[m]);
    i = m;
  }
  timer_place(s, i, t);
}

static void timer_stop(salvo__sched *s, salvo__timer *t) {
  if (!t->idx)
    return;
  size_t i = t->idx - 1;
  t->idx = 0;
  salvo__timer *last = s->timers[--s->ntimers];
  if (i < s->ntimers) {
    timer_place(s, i, last);
    timer_sift(s, i);
  }
}

static int timer_start(salvo__sched *s, salvo__timer *t, int64_t at) {
  if (t->idx) {
    t->at = at;
    timer_sift(s, t->idx - 1);
    return 0;
  }
  if (s->ntimers == s->timers_cap) {
    size_t cap = s->timers_cap ? s->timers_cap * 2 : 64;
    salvo__timer **p = realloc(s->timers, cap * sizeof(*p));
    if (!p)
      return SALVO_ENOMEM;
    s->timers = p;
    s->timers_cap = cap;
  }
  t->at = at;
  s->timers[s->ntimers++] = t;
  timer_sift(s, s->ntimers - 1);
  return 0;
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
  free(s->heap);
  free(s->timers);
  memset(s, 0, sizeof(*s));
}

/* ---- the eligible heap ------------------------------------------------- */

static uint64_t head_seq(const salvo__host *h) { return h->qhead->seq; }

static void heap_set(salvo__sched *s, size_t i, salvo__host *h) {
  s->heap[i] = h;
  h->heap_idx = i + 1;
}

static void heap_sift(salvo__sched *s, size_t i) {
  salvo__host *h = s->heap[i];
  while (i > 0 && head_seq(s->heap[(i - 1) / 2]) > head_seq(h)) {
    heap_set(s, i, s->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    uint64_t best = head_seq(h);
    if (l < s->heap_len && head_seq(s->heap[l]) < best)
      m = l, best = head_seq(s->heap[l]);
    if (l + 1 < s->heap_len && head_seq(s->heap[l + 1]) < best)
      m = l + 1;
    if (m == i)
      break;
    heap_set(s, i, s->heap[m]);
    i = m;
  }
  heap_set(s, i, h);
}

static int heap_push(salvo__sched *s, salvo__host *h) {
  if (s->heap_len == s->heap_cap) {
    size_t cap = s->heap_cap ? s->heap_cap * 2 : 16;
    salvo__host **p = realloc(s->heap, cap * sizeof(*p));
    if (!p)
      return SALVO_ENOMEM;
    s->heap = p;
    s->heap_cap = cap;
  }
  s->heap[s->heap_len++] = h;
  heap_sift(s, s->heap_len - 1);
  return 0;
}

static void heap_remove(salvo__sched *s, salvo__host *h) {
  size_t i = h->heap_idx - 1;
  h->heap_idx = 0;
  salvo__host *last = s->heap[--s->heap_len];
  if (i < s->heap_len) {
    heap_set(s, i, last);
    heap_sift(s, i);
  }
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
      if (!h->timer.idx)
        timer_start(s, &h->timer, bucket_ready_at(&h->bucket, rate));
    }
  }
  if (want && !h->heap_idx)
    heap_push(s, h);
  else if (!want && h->heap_idx)
    heap_remove(s, h);
  else if (want)
    heap_sift(s, h->heap_idx - 1);
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
      if (!h->in_flight && !h->qhead && !h->backoff && !h->timer.idx) {
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
  uint32_t hash = hash_str(key);
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
  if (s->in_flight >= s->cfg->concurrency || !s->heap_len)
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
  salvo__host *h = s->heap[0];
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

void salvo__sched_backoff(salvo__sched *s, salvo__req *r, int64_t at) {
  r->state = SALVO__REQ_BACKOFF;
  r->host->backoff++;
  r->timer.kind = SALVO__TIMER_REQ;
  /* Out of memory for the timer: retry at once rather than never. */
  if (timer_start(s, &r->timer, at))
    r->timer.at = 0;
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
  while (s->ntimers && s->timers[0]->at <= now) {
    salvo__timer *t = s->timers[0];
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
  int64_t at = s->ntimers ? s->timers[0]->at : -1;
  if (s->rate_wake && s->heap_len && s->in_flight < s->cfg->concurrency &&
      (at < 0 || s->rate_wake < at))
    at = s->rate_wake;
  return at;
}
