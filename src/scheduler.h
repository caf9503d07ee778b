/*
 * The scheduler: which queued request starts next, and when (caps, rate
 * limits, queue limits, retry backoff). It orders entries, one embedded in
 * each request, and knows nothing else of requests: the engine gives it
 * an entry's origin and how long it may wait, and maps entries back. Its
 * state is private to scheduler.c, which alone writes the entries. Runs
 * on the I/O thread only.
 */
#ifndef SALVO_SCHEDULER_H
#define SALVO_SCHEDULER_H

#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "list.h"

typedef struct salvo__sched salvo__sched;
typedef struct salvo__host salvo__host;

/* A node of a min-heap, embedded in what it orders; it knows its place,
 * so it can be moved or removed in O(log n). */
typedef struct salvo__heap_node {
  uint64_t key;
  size_t idx; /* index + 1 in its heap, 0 = in none */
} salvo__heap_node;

/* What the scheduler orders: embedded in each request (the engine maps an
 * entry back to its request); its fields are scheduler.c's. */
typedef struct salvo__sched_entry {
  salvo__list in_queue;            /* its origin's queue, while queued */
  struct salvo__sched_entry *next; /* a list handed back (expire) */
  salvo__host *host;
  uint64_t seq;           /* submission order, set when first queued */
  salvo__heap_node timer; /* queue limit or end of backoff */
  salvo__heap_node back;  /* its origin's returned entries, by seq */
} salvo__sched_entry;

/* A scheduler for cfg's caps and rates, reading time from clock (both
 * must outlive it). */
salvo__sched *salvo__sched_new(const salvo__cfg *cfg,
                               const salvo__clock *clock);
void salvo__sched_free(salvo__sched *s);

/* Queues an entry for `origin`: a new one at its origin's tail, one back
 * from a backoff ahead of those submitted after it. `limit` (ns, 0 =
 * none) is when it stops waiting: salvo__sched_expire then hands it back.
 * SALVO_ENOMEM when its origin or timer cannot be made. `hash` is
 * salvo__hash_n(origin), which the request keeps. */
int salvo__sched_add(salvo__sched *s, salvo__sched_entry *e, const char *origin,
                     uint32_t hash, int64_t limit, int64_t now);
/* The next entry allowed to start, counted as in flight and charged a
 * rate token; NULL if none may start now. */
salvo__sched_entry *salvo__sched_next(salvo__sched *s, int64_t now);
/* A running entry ended: its slot is free again. */
void salvo__sched_release(salvo__sched *s, salvo__sched_entry *e);
/* Holds e's origin to one entry in flight (hold non-zero) or lets it run
 * freely again; the transport asks for this while it learns what an
 * origin speaks. */
void salvo__sched_hold(salvo__sched *s, salvo__sched_entry *e, int hold);
/* Parks an entry (holding no slot) until `at`; SALVO_ENOMEM when it
 * cannot be parked (it is then the caller's to settle). */
int salvo__sched_park(salvo__sched *s, salvo__sched_entry *e, int64_t at);
/* Forgets a queued (parked 0) or parked entry: cancellation. */
void salvo__sched_forget(salvo__sched *s, salvo__sched_entry *e, int parked);
/* Runs the timers due at `now`. Returns the queued entries whose limit
 * came, out of their queues, and in *unparked those whose backoff ended,
 * to be queued again; both lists are linked through next. */
salvo__sched_entry *salvo__sched_expire(salvo__sched *s, int64_t now,
                                        salvo__sched_entry **unparked);
/* When the scheduler next needs salvo__sched_expire or salvo__sched_next
 * (ns), or -1. */
int64_t salvo__sched_deadline(const salvo__sched *s);

#endif /* SALVO_SCHEDULER_H */
