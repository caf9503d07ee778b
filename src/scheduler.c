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
#include "scheduler.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"

#define NS 1000000000.0

typedef struct salvo__heap {
  salvo__heap_node **v;
  size_t len;
  size_t cap;
} salvo__heap;

/* A token bucket: `tokens` as of `last`. */
typedef struct salvo__bucket {
  double tokens;
  int64_t last;
} salvo__bucket;

struct salvo__host {
  salvo__host *hnext; /* hash chain */
  uint32_t hash;
  int held; /* one request at a time, until released */
  int in_flight;
  int parked; /* requests of this origin waiting to retry */
  /* Entries waiting: new ones in submission order (a list, each at its
   * tail), and those back from a backoff that must go ahead of later ones
   * (a heap by seq: putting them back in the list cost a walk of it per
   * retry, O(n^2) for a run whose origin fails). */
  salvo__list queue;
  salvo__heap back;
  salvo__heap_node elig;  /* in the eligible heap; key: its head's seq */
  salvo__bucket bucket;   /* per_host_rate */
  salvo__heap_node timer; /* armed while waiting for a rate token */
  char key[];
};

struct salvo__sched {
  const salvo__cfg *cfg;
  const salvo__clock *clock;
  int in_flight;
  size_t queued;
  uint64_t next_seq;
  salvo__host **buckets;
  size_t nbuckets;
  size_t nhosts;
  salvo__heap eligible;    /* origins that could start a request */
  salvo__heap timers;      /* requests: queue limits and backoffs */
  salvo__heap host_timers; /* origins waiting for a rate token */
  salvo__bucket bucket;    /* rate_limit */
  int64_t rate_wake;       /* when the next global token comes, 0 = none due */
};

static salvo__sched_entry *entry_of(salvo__list *n) {
  return salvo__container_of(n, salvo__sched_entry, in_queue);
}

/* The first entry waiting at an origin (the lower seq of the list's head
 * and the returned ones' top), or NULL. */
static salvo__sched_entry *head_of(const salvo__host *h) {
  salvo__list *n = salvo__list_first(&h->queue);
  salvo__sched_entry *e = n ? entry_of(n) : NULL;
  salvo__sched_entry *b =
      h->back.len ? salvo__container_of(h->back.v[0], salvo__sched_entry, back)
                  : NULL;
  return !e || (b && b->seq < e->seq) ? b : e;
}

static int waiting(const salvo__host *h) {
  return !salvo__list_empty(&h->queue) || h->back.len;
}

static int queued(const salvo__sched_entry *e) {
  return salvo__list_linked(&e->in_queue) || e->back.idx;
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

/* The tokens b would hold at now, before the cap. */
static double bucket_at(const salvo__bucket *b, double rate, int64_t now) {
  return b->tokens + (double)(now - b->last) * rate / NS;
}

static void bucket_refill(salvo__bucket *b, double rate, double burst,
                          int64_t now) {
  if (now > b->last) {
    b->tokens = bucket_at(b, rate, now);
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

/* ---- origins ----------------------------------------------------------- */

static salvo__host *host_of_elig(salvo__heap_node *n) {
  return (salvo__host *)((char *)n - offsetof(salvo__host, elig));
}

static salvo__host *host_of_timer(salvo__heap_node *n) {
  return (salvo__host *)((char *)n - offsetof(salvo__host, timer));
}

static salvo__sched_entry *entry_of_timer(salvo__heap_node *n) {
  return (salvo__sched_entry *)((char *)n -
                                offsetof(salvo__sched_entry, timer));
}

salvo__sched *salvo__sched_new(const salvo__cfg *cfg,
                               const salvo__clock *clock) {
  salvo__sched *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->cfg = cfg;
  s->clock = clock;
  s->nbuckets = 64;
  s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
  bucket_init(&s->bucket, cfg->rate_burst, salvo__clock_ns(clock));
  if (!s->buckets) {
    free(s);
    return NULL;
  }
  return s;
}

void salvo__sched_free(salvo__sched *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host *h = s->buckets[i], *n; h; h = n) {
      n = h->hnext;
      free(h->back.v);
      free(h);
    }
  free(s->buckets);
  free(s->eligible.v);
  free(s->timers.v);
  free(s->host_timers.v);
  free(s);
}

/* Whether h may start a request now, rate aside. */
static int has_room(const salvo__sched *s, const salvo__host *h) {
  if (!waiting(h))
    return 0;
  if (h->held && h->in_flight)
    return 0;
  return !s->cfg->per_host || h->in_flight < s->cfg->per_host;
}

/* Puts h where it belongs after its queue, count or tokens changed: in the
 * heap, out of it, or waiting on its rate timer. A failed push (out of
 * memory) leaves it out until its next change; others keep running. */
static void host_update(salvo__sched *s, salvo__host *h) {
  int want = has_room(s, h);
  double rate = s->cfg->per_host_rate;
  if (want && rate > 0 && h->bucket.tokens < 1.0) {
    int64_t now = salvo__clock_ns(s->clock);
    bucket_refill(&h->bucket, rate, s->cfg->rate_burst, now);
    if (h->bucket.tokens < 1.0) {
      want = 0;
      if (!h->timer.idx)
        heap_set(&s->host_timers, &h->timer,
                 (uint64_t)bucket_ready_at(&h->bucket, rate));
    }
  }
  if (want)
    heap_set(&s->eligible, &h->elig, head_of(h)->seq);
  else
    heap_remove(&s->eligible, &h->elig);
}

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

/* Whether forgetting h loses nothing: none of its requests queued,
 * running, parked or waiting for a token, and its per_host_rate bucket
 * full again by now (a new host's is: forgetting a spent one let its next
 * request start at once, over the rate). */
static int forgettable(const salvo__sched *s, const salvo__host *h,
                       int64_t now) {
  if (h->in_flight || waiting(h) || h->parked || h->timer.idx)
    return 0;
  double rate = s->cfg->per_host_rate;
  return rate <= 0 || bucket_at(&h->bucket, rate, now) >= s->cfg->rate_burst;
}

/* Origins are kept while the client lives; forgettable ones are dropped
 * when the table gets large, so crawling millions of hosts stays bounded
 * (those within their pace stay, at most the rate's second's worth). */
static void drop_idle(salvo__sched *s, int64_t now) {
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host **pp = &s->buckets[i]; *pp;) {
      salvo__host *h = *pp;
      if (forgettable(s, h, now)) {
        *pp = h->hnext;
        free(h->back.v);
        free(h);
        s->nhosts--;
      } else {
        pp = &h->hnext;
      }
    }
}

static salvo__host *host_get(salvo__sched *s, const char *key, uint32_t hash,
                             int64_t now) {
  for (salvo__host *h = s->buckets[hash & (s->nbuckets - 1)]; h; h = h->hnext)
    if (h->hash == hash && !strcmp(h->key, key))
      return h;
  if (s->nhosts >= 4096 && s->nhosts >= s->nbuckets)
    drop_idle(s, now);
  if (s->nhosts >= s->nbuckets)
    grow_buckets(s);
  size_t len = strlen(key);
  salvo__host *h = calloc(1, sizeof(*h) + len + 1);
  if (!h)
    return NULL;
  memcpy(h->key, key, len + 1);
  salvo__list_init(&h->queue);
  h->hash = hash;
  bucket_init(&h->bucket, s->cfg->rate_burst, now);
  h->hnext = s->buckets[hash & (s->nbuckets - 1)];
  s->buckets[hash & (s->nbuckets - 1)] = h;
  s->nhosts++;
  return h;
}

void salvo__sched_hold(salvo__sched *s, salvo__sched_entry *e, int hold) {
  salvo__host *h = e->host;
  if (!h || h->held == !!hold)
    return;
  h->held = !!hold;
  host_update(s, h);
}

/* ---- queueing ---------------------------------------------------------- */

int salvo__sched_add(salvo__sched *s, salvo__sched_entry *e, const char *origin,
                     uint32_t hash, int64_t limit, int64_t now) {
  salvo__host *h = e->host ? e->host : host_get(s, origin, hash, now);
  if (!h)
    return SALVO_ENOMEM;
  if (limit && heap_set(&s->timers, &e->timer, (uint64_t)limit))
    return SALVO_ENOMEM;
  e->host = h;
  if (!e->seq)
    e->seq = ++s->next_seq;
  /* Back from a backoff, an entry goes ahead of those submitted after it;
   * new ones have the largest sequence and land at the tail. */
  salvo__list *last = salvo__list_last(&h->queue);
  if (last && entry_of(last)->seq > e->seq) {
    if (heap_set(&h->back, &e->back, e->seq)) {
      if (limit)
        heap_remove(&s->timers, &e->timer);
      return SALVO_ENOMEM;
    }
  } else {
    salvo__list_push_back(&h->queue, &e->in_queue);
  }
  s->queued++;
  if (head_of(h) == e)
    host_update(s, h);
  return 0;
}

static void unqueue(salvo__sched *s, salvo__sched_entry *e) {
  salvo__host *h = e->host;
  int was_head = head_of(h) == e;
  if (e->back.idx)
    heap_remove(&h->back, &e->back);
  else
    salvo__list_remove(&e->in_queue);
  s->queued--;
  heap_remove(&s->timers, &e->timer);
  if (was_head)
    host_update(s, h);
}

salvo__sched_entry *salvo__sched_next(salvo__sched *s, int64_t now) {
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
  salvo__host *h = host_of_elig(s->eligible.v[0]);
  salvo__sched_entry *e = head_of(h);
  if (s->cfg->per_host_rate > 0)
    h->bucket.tokens -= 1.0;
  h->in_flight++;
  s->in_flight++;
  unqueue(s, e);
  return e;
}

void salvo__sched_release(salvo__sched *s, salvo__sched_entry *e) {
  salvo__host *h = e->host;
  h->in_flight--;
  s->in_flight--;
  if (waiting(h))
    host_update(s, h);
}

int salvo__sched_park(salvo__sched *s, salvo__sched_entry *e, int64_t at) {
  if (heap_set(&s->timers, &e->timer, (uint64_t)at))
    return SALVO_ENOMEM;
  e->host->parked++;
  return 0;
}

void salvo__sched_forget(salvo__sched *s, salvo__sched_entry *e, int parked) {
  if (!parked) {
    unqueue(s, e);
  } else {
    heap_remove(&s->timers, &e->timer);
    e->host->parked--;
  }
}

salvo__sched_entry *salvo__sched_expire(salvo__sched *s, int64_t now,
                                        salvo__sched_entry **unparked) {
  salvo__sched_entry *expired = NULL, **tail = &expired, **utail = unparked;
  *unparked = NULL;
  while (s->host_timers.len && s->host_timers.v[0]->key <= (uint64_t)now) {
    salvo__heap_node *n = s->host_timers.v[0];
    heap_remove(&s->host_timers, n);
    host_update(s, host_of_timer(n));
  }
  while (s->timers.len && s->timers.v[0]->key <= (uint64_t)now) {
    salvo__sched_entry *e = entry_of_timer(s->timers.v[0]);
    /* Queued entries sit in their origin's queue; parked ones in none. */
    if (queued(e)) {
      unqueue(s, e);
      *tail = e;
      tail = &e->next;
    } else {
      heap_remove(&s->timers, &e->timer);
      e->host->parked--;
      *utail = e;
      utail = &e->next;
    }
    e->next = NULL;
  }
  return expired;
}

int64_t salvo__sched_deadline(const salvo__sched *s) {
  int64_t at = s->timers.len ? (int64_t)s->timers.v[0]->key : -1;
  if (s->host_timers.len && (at < 0 || (int64_t)s->host_timers.v[0]->key < at))
    at = (int64_t)s->host_timers.v[0]->key;
  if (s->rate_wake && s->eligible.len && s->in_flight < s->cfg->concurrency &&
      (at < 0 || s->rate_wake < at))
    at = s->rate_wake;
  return at;
}
