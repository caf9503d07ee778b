/*
 * The scheduler: decides which queued request starts next.
 *
 * Each origin (scheme, host, port) has a FIFO of waiting requests. An
 * origin is "eligible" when it has a waiting request and room under the
 * per-host cap; eligible origins sit in a min-heap keyed by the submission
 * sequence of their oldest waiting request. Starting the next request is
 * then: check the client-wide cap, pop the heap's top origin, take its head.
 * That keeps global submission order among everything that may start,
 * costs O(log origins) per start, and never scans queues.
 *
 * Runs on the I/O thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint32_t hash_str(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

int salvo__sched_init(salvo__sched *s, const salvo__cfg *cfg) {
  memset(s, 0, sizeof(*s));
  s->cfg = cfg;
  s->nbuckets = 64;
  s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
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
  memset(s, 0, sizeof(*s));
}

/* ---- the eligible heap ------------------------------------------------- */

static uint64_t head_seq(const salvo__host *h) { return h->qhead->seq; }

static void heap_set(salvo__sched *s, size_t i, salvo__host *h) {
  s->heap[i] = h;
  h->heap_idx = i + 1;
}

static void sift_up(salvo__sched *s, size_t i) {
  salvo__host *h = s->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (head_seq(s->heap[parent]) <= head_seq(h))
      break;
    heap_set(s, i, s->heap[parent]);
    i = parent;
  }
  heap_set(s, i, h);
}

static void sift_down(salvo__sched *s, size_t i) {
  salvo__host *h = s->heap[i];
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
  sift_up(s, s->heap_len - 1);
  return 0;
}

static void heap_remove(salvo__sched *s, salvo__host *h) {
  size_t i = h->heap_idx - 1;
  h->heap_idx = 0;
  salvo__host *last = s->heap[--s->heap_len];
  if (i == s->heap_len)
    return;
  heap_set(s, i, last);
  sift_up(s, i);
  sift_down(s, last->heap_idx - 1);
}

static int eligible(const salvo__sched *s, const salvo__host *h) {
  if (!h->qhead)
    return 0;
  if (h->proto == SALVO__PROTO_UNKNOWN && h->in_flight)
    return 0; /* the first connection has not told what it speaks */
  return !s->cfg->per_host || h->in_flight < s->cfg->per_host;
}

/* Puts h where it belongs in the heap after its queue or count changed.
 * A failed push (out of memory) leaves it out; it returns on its next
 * change, and the heap's other origins keep running meanwhile. */
static void heap_update(salvo__sched *s, salvo__host *h) {
  int want = eligible(s, h);
  if (want && !h->heap_idx) {
    heap_push(s, h);
  } else if (!want && h->heap_idx) {
    heap_remove(s, h);
  } else if (want) {
    sift_up(s, h->heap_idx - 1);
    sift_down(s, h->heap_idx - 1);
  }
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

/* Origins are kept while the client lives; idle ones are dropped when the
 * table gets large, so crawling millions of hosts stays bounded. */
static void drop_idle(salvo__sched *s) {
  for (size_t i = 0; i < s->nbuckets; i++)
    for (salvo__host **pp = &s->buckets[i]; *pp;) {
      salvo__host *h = *pp;
      if (!h->in_flight && !h->qhead) {
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

static salvo__host *host_get(salvo__sched *s, const char *key) {
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
  h->hnext = s->buckets[hash & (s->nbuckets - 1)];
  s->buckets[hash & (s->nbuckets - 1)] = h;
  s->nhosts++;
  return h;
}

/* ---- queueing ---------------------------------------------------------- */

int salvo__sched_add(salvo__sched *s, salvo__req *r) {
  salvo__host *h = r->host ? r->host : host_get(s, r->origin);
  if (!h)
    return SALVO_ENOMEM;
  r->host = h;
  r->next = NULL;
  r->prev = h->qtail;
  if (h->qtail)
    h->qtail->next = r;
  else
    h->qhead = r;
  h->qtail = r;
  s->queued++;
  if (r->prev == NULL)
    heap_update(s, h);
  return 0;
}

void salvo__sched_unqueue(salvo__sched *s, salvo__req *r) {
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
  if (was_head)
    heap_update(s, h);
}

salvo__req *salvo__sched_next(salvo__sched *s) {
  if (s->in_flight >= s->cfg->concurrency || !s->heap_len)
    return NULL;
  salvo__host *h = s->heap[0];
  salvo__req *r = h->qhead;
  h->in_flight++;
  s->in_flight++;
  salvo__sched_unqueue(s, r);
  return r;
}

void salvo__sched_release(salvo__sched *s, salvo__req *r) {
  salvo__host *h = r->host;
  h->in_flight--;
  s->in_flight--;
  if (h->qhead)
    heap_update(s, h);
}

void salvo__sched_set_proto(salvo__sched *s, salvo__host *h, int proto) {
  if (h->proto == proto)
    return;
  h->proto = proto;
  heap_update(s, h);
}
