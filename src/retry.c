/*
 * Retry policy: which ended attempts get another, and when. The mechanism
 * (parking, re-queueing, tokens) is the scheduler's; this file only
 * decides.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "retry.h"

uint64_t salvo__rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static int retryable_error(int err) {
  switch (err) {
  case SALVO_ECONNECT:
  case SALVO_EDNS:
  case SALVO_ETIMEDOUT:
  case SALVO_EIO:
    return 1;
  default:
    return 0;
  }
}

static int retryable_status(const salvo__cfg *cfg, int status) {
  return status >= 0 && status < SALVO__STATUS_BITS &&
         (cfg->retry_status[status / 8] >> (status % 8) & 1);
}

/* Delays past this many seconds are "too long" whatever the client's
 * retry_max_delay; it keeps every conversion to ns inside int64_t. */
#define RETRY_AFTER_MAX_S 1e9

int64_t salvo__retry_after_ns(const char *v, double now) {
  while (*v == ' ' || *v == '\t')
    v++;
  if (*v >= '0' && *v <= '9') {
    /* delay-seconds is digits; a fraction is tolerated, exponents and hex
     * (which strtod would take) are not. */
    double secs = 0, scale = 1;
    int frac = 0;
    for (; (*v >= '0' && *v <= '9') || (*v == '.' && !frac); v++) {
      if (*v == '.')
        frac = 1;
      else if (frac)
        secs += (*v - '0') * (scale /= 10);
      else
        secs = secs * 10 + (*v - '0');
    }
    while (*v == ' ' || *v == '\t')
      v++;
    if (*v)
      return -1;
    return secs > RETRY_AFTER_MAX_S ? INT64_MAX : (int64_t)(secs * 1e9);
  }
  /* IMF-fixdate, then the two obsolete forms HTTP still allows. */
  static const char *const formats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                        "%A, %d-%b-%y %H:%M:%S GMT",
                                        "%a %b %e %H:%M:%S %Y"};
  for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(v, formats[i], &tm);
    if (end && !*end) {
      double d = (double)timegm(&tm) - now;
      return d <= 0                  ? 0
             : d > RETRY_AFTER_MAX_S ? INT64_MAX
                                     : (int64_t)(d * 1e9);
    }
  }
  return -1;
}

int64_t salvo__retry_backoff_ns(const salvo__cfg *cfg, int retry,
                                uint64_t *rng) {
  double ceiling = (double)cfg->retry_base_ns;
  for (int i = 1; i < retry && ceiling < (double)cfg->retry_max_delay_ns; i++)
    ceiling *= 2;
  if (ceiling > (double)cfg->retry_max_delay_ns)
    ceiling = (double)cfg->retry_max_delay_ns;
  double u = (double)(salvo__rand(rng) >> 11) / 9007199254740992.0;
  return (int64_t)(u * ceiling);
}

int salvo__retry_maybe_processed(const salvo__req *r, int err, int unsent) {
  return !r->idempotent && !unsent &&
         (err == SALVO_EIO || err == SALVO_ETIMEDOUT);
}

int salvo__retry_decide(const salvo__cfg *cfg, const salvo__clock *clock,
                        const salvo__req *r, int err, int unsent,
                        int64_t *delay_ns, uint64_t *rng) {
  int attempts = salvo__req_attempts(r);
  if (attempts > r->max_retries || (!r->idempotent && !(err && unsent)))
    return 0;
  if (salvo__req_delivered(r))
    return 0; /* on_data got bytes that cannot be taken back */
  if (err ? !retryable_error(err) : !retryable_status(cfg, r->resp->status))
    return 0;
  const char *ra = err ? NULL : salvo_response_header(r->resp, "Retry-After");
  int64_t d =
      ra ? salvo__retry_after_ns(ra, (double)salvo__clock_wall(clock)) : -1;
  if (d > cfg->retry_max_delay_ns)
    return 0; /* the server asks for more patience than we have */
  *delay_ns = d >= 0 ? d : salvo__retry_backoff_ns(cfg, attempts, rng);
  return 1;
}
