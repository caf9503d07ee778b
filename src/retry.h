/* Retry policy: which ended attempts get another, and after how long. The
 * mechanism (parking, re-queueing) is the engine's and the scheduler's. */
#ifndef SALVO_RETRY_H
#define SALVO_RETRY_H

#include <stdint.h>

#include "config.h"
#include "request.h"

/* Whether an attempt of r that ended with err (0 = an HTTP response, in
 * r->resp) deserves another, and after how long (ns). Returns 0 for no
 * retry. Uses and advances *rng. */
int salvo__retry_decide(const salvo__cfg *cfg, const salvo__req *r, int err,
                        int64_t *delay_ns, uint64_t *rng);
/* Parses a Retry-After value (delay seconds or HTTP date) into a delay in
 * ns from `now` (wall clock seconds); -1 when it is not valid, INT64_MAX
 * when it is further away than any client waits (over 10^9 s). */
int64_t salvo__retry_after_ns(const char *v, double now);
/* A random 64-bit number (xorshift64*); the state must not be 0. */
uint64_t salvo__rand(uint64_t *state);

#endif /* SALVO_RETRY_H */
