/* Retry policy: which ended attempts get another, and after how long. The
 * mechanism (parking, re-queueing) is the engine's and the scheduler's. */
#ifndef SALVO_RETRY_H
#define SALVO_RETRY_H

#include <stdint.h>

#include "clock.h"
#include "config.h"
#include "request.h"

/* Whether an attempt of r that ended with err (0 = an HTTP response, in
 * r->resp) deserves another, and after how long (ns). `unsent`: the
 * transport knows no byte of the request reached the server. Returns 0
 * for no retry. Uses and advances *rng.
 *
 * The rule for requests that are not idempotent (RFC 9110 9.2.2: POST,
 * PATCH, any method but GET, HEAD, PUT, DELETE, OPTIONS and TRACE, unless
 * the request sets `idempotent`): sent at most once. They are retried only
 * after a failure the transport proves happened before the server could
 * have received them (unsent). */
int salvo__retry_decide(const salvo__cfg *cfg, const salvo__clock *clock,
                        const salvo__req *r, int err, int unsent,
                        int64_t *delay_ns, uint64_t *rng);
/* The backoff before retry number `retry` (1 = the first) when the server
 * names none: full jitter, uniform in [0, min(retry_max_delay, retry_base *
 * 2^(retry-1))] (ns). Uses and advances *rng. */
int64_t salvo__retry_backoff_ns(const salvo__cfg *cfg, int retry,
                                uint64_t *rng);
/* Whether a failure err of r, after its bytes may have reached the server,
 * leaves the caller unable to know whether the server acted on it: a
 * request that is not idempotent, a reset or a timeout. */
int salvo__retry_maybe_processed(const salvo__req *r, int err, int unsent);
/* Parses a Retry-After value (delay seconds or HTTP date) into a delay in
 * ns from `now` (wall clock seconds); -1 when it is not valid, INT64_MAX
 * when it is further away than any client waits (over 10^9 s). */
int64_t salvo__retry_after_ns(const char *v, double now);
/* A random 64-bit number (xorshift64*); the state must not be 0. */
uint64_t salvo__rand(uint64_t *state);

#endif /* SALVO_RETRY_H */
