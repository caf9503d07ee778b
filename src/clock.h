/*
 * Time, as every module that schedules or expires something reads it:
 * through a salvo__clock, so that unit tests can run the scheduler, the
 * retry backoff, deadlines, the connection pool and the cookie jar on a
 * clock they move by hand, in microseconds, instead of sleeping.
 */
#ifndef SALVO_CLOCK_H
#define SALVO_CLOCK_H

#include <stdint.h>

typedef struct salvo__clock {
  int64_t (*mono_ns)(void *ctx); /* monotonic nanoseconds */
  int64_t (*wall_s)(void *ctx);  /* Unix time in seconds (cookie expiry) */
  void *ctx;
} salvo__clock;

/* The system's clocks (CLOCK_MONOTONIC, time()). Immutable. */
extern const salvo__clock salvo__system_clock;

/* The system's monotonic clock, for what no test drives. */
int64_t salvo__now_ns(void);

static inline int64_t salvo__clock_ns(const salvo__clock *c) {
  return c->mono_ns(c->ctx);
}
static inline int64_t salvo__clock_wall(const salvo__clock *c) {
  return c->wall_s(c->ctx);
}

#endif /* SALVO_CLOCK_H */
