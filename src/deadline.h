/*
 * Deadlines, as arithmetic on a clock's nanoseconds and nothing else: how
 * long an attempt may take, when a queued request stops waiting, whether
 * a retry still fits. The engine owns the values (a request's deadline_at,
 * fixed when its first attempt starts); these functions only compute, so
 * the unit tests check them on any clock value they like.
 */
#ifndef SALVO_DEADLINE_H
#define SALVO_DEADLINE_H

#include <stdint.h>

/* How long an attempt starting at `now` may take (ms): the per-attempt
 * timeout (0 = none) cut to what is left of the deadline (deadline_at, ns,
 * 0 = none), rounded up to whole ms; 0 when neither limits it; -1 when
 * the deadline has passed. */
int64_t salvo__deadline_budget(int64_t timeout_ms, int64_t deadline_at,
                               int64_t now);

/* When a request queued at `now` stops waiting (ns, 0 = never): its queue
 * timeout, which counts before its first attempt only, or its deadline,
 * whichever comes first. */
int64_t salvo__deadline_queue_limit(int64_t queue_timeout_ms, int attempts,
                                    int64_t deadline_at, int64_t now);

/* Whether the deadline is as good as reached: less than 1 ms left, too
 * little for another attempt to do anything. */
int salvo__deadline_spent(int64_t deadline_at, int64_t now);

/* Whether a retry after `delay` ns from `now` starts before the
 * deadline. */
int salvo__deadline_fits(int64_t deadline_at, int64_t now, int64_t delay);

#endif /* SALVO_DEADLINE_H */
