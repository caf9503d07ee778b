/* The run's numbers: counts by status class and error, latency
 * percentiles in constant memory, the summary and the progress line. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* log2(x) for x >= 1, to within 2e-5 (a 700th of a bucket): the
 * exponent's bits, and for the mantissa m the series 2/ln 2 (t + t^3/3 +
 * t^5/5 + t^7/7), t = (m - 1)/(m + 1) < 1/3. libm's log cost 100
 * instructions a result, the most of anything the summary does. */
static double log2_of(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof(bits));
  int e = (int)(bits >> 52) - 1023;
  bits = (bits & 0xfffffffffffffull) | 0x3ff0000000000000ull;
  double m;
  memcpy(&m, &bits, sizeof(m));
  double t = (m - 1) / (m + 1), t2 = t * t;
  return e + 2.8853900817779268 * t *
                 (1 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7))));
}

/* The bucket of a latency: b where 1.01^b <= us < 1.01^(b+1). */
static int bucket_of(double ms) {
  double us = ms * 1000;
  if (!(us >= 1))
    return 0;
  int b = (int)(log2_of(us) * 69.66071689357483); /* 1 / log2(1.01) */
  return b >= NBUCKETS ? NBUCKETS - 1 : b;
}

static double percentile(const stats *st, double p) {
  uint64_t total = 0, want, seen = 0;
  for (int i = 0; i < NBUCKETS; i++)
    total += st->buckets[i];
  if (!total)
    return 0;
  want = (uint64_t)ceil(p * (double)total);
  for (int i = 0; i < NBUCKETS; i++) {
    seen += st->buckets[i];
    if (seen >= want) {
      double ms = pow(1.01, i + 0.5) / 1000;
      return ms > st->max_ms ? st->max_ms : ms;
    }
  }
  return st->max_ms;
}

static int is_failure(const opts *o, salvo_response *r) {
  if (salvo_response_error(r))
    return 1;
  int s = salvo_response_status(r);
  if (o->fail == FAIL_NONE)
    return 0;
  return s >= 500 || (o->fail == FAIL_4XX_5XX && s >= 400);
}

void stats_count(stats *st, const opts *o, salvo_response *r, int local_code) {
  st->done++;
  if (!r) {
    st->failed++;
    st->errors[-local_code < 32 ? -local_code : 31]++;
    return;
  }
  int err = salvo_response_error(r);
  int s = salvo_response_status(r);
  double ms = salvo_response_elapsed(r) * 1000;
  if (err)
    st->errors[-err < 32 ? -err : 31]++;
  else
    st->status_class[s >= 100 && s < 600 ? s / 100 : 0]++;
  if (is_failure(o, r))
    st->failed++;
  st->buckets[bucket_of(ms)]++;
  if (ms > st->max_ms)
    st->max_ms = ms;
}

/* Prints the summary; returns 0 when --summary-json could not be
 * written. */
int stats_summary(const stats *st, const opts *o) {
  double dt = now_s() - st->t0;
  double rate = dt > 0 ? (double)st->done / dt : 0;
  if (!o->quiet) {
    fprintf(stderr, "%s: %llu requests in %.3f s (%.0f req/s), %llu failed",
            prog, (unsigned long long)st->done, dt, rate,
            (unsigned long long)st->failed);
    if (st->bad_lines)
      fprintf(stderr, ", %llu bad input lines",
              (unsigned long long)st->bad_lines);
    if (st->resumed)
      fprintf(stderr, ", %llu done before (--resume)",
              (unsigned long long)st->resumed);
    fprintf(stderr, "\n  status:");
    int any = 0;
    for (int c = 1; c < 6; c++)
      if (st->status_class[c])
        fprintf(stderr, "%s %dxx %llu", any++ ? "," : "", c,
                (unsigned long long)st->status_class[c]);
    if (!any)
      fprintf(stderr, " none");
    any = 0;
    for (int e = 1; e < 32; e++)
      if (st->errors[e])
        fprintf(stderr, "%s %s %llu",
                any++ ? "," : "; errors:", salvo_errname(-e),
                (unsigned long long)st->errors[e]);
    fprintf(stderr,
            "\n  latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f "
            "ms\n",
            percentile(st, 0.5), percentile(st, 0.9), percentile(st, 0.99),
            st->max_ms);
  }
  if (!o->summary_json)
    return 1;
  FILE *f = fopen(o->summary_json, "w");
  if (!f) {
    warnx("cannot write %s: %s", o->summary_json, strerror(errno));
    return 0;
  }
  fprintf(f,
          "{\"requests\":%llu,\"failed\":%llu,\"bad_lines\":%llu,"
          "\"resumed\":%llu,\"elapsed_s\":%.6f,\"throughput\":%.3f,"
          "\"status\":{",
          (unsigned long long)st->done, (unsigned long long)st->failed,
          (unsigned long long)st->bad_lines, (unsigned long long)st->resumed,
          dt, rate);
  int first = 1;
  for (int c = 1; c < 6; c++)
    if (st->status_class[c]) {
      fprintf(f, "%s\"%dxx\":%llu", first ? "" : ",", c,
              (unsigned long long)st->status_class[c]);
      first = 0;
    }
  fprintf(f, "},\"errors\":{");
  first = 1;
  for (int e = 1; e < 32; e++)
    if (st->errors[e]) {
      fprintf(f, "%s\"%s\":%llu", first ? "" : ",", salvo_errname(-e),
              (unsigned long long)st->errors[e]);
      first = 0;
    }
  fprintf(f,
          "},\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
          "\"max\":%.3f}}\n",
          percentile(st, 0.5), percentile(st, 0.9), percentile(st, 0.99),
          st->max_ms);
  if (ferror(f) | fclose(f)) {
    warnx("writing %s: %s", o->summary_json, strerror(errno));
    return 0;
  }
  return 1;
}

void progress_draw(progress *pg, const stats *st, int force) {
  if (!pg->on)
    return;
  double t = now_s();
  if (!force && t - pg->last < 0.1)
    return;
  pg->last = t;
  double dt = t - st->t0;
  double rate = dt > 0 ? (double)st->done / dt : 0;
  char eta[32] = "";
  if (pg->total >= 0) {
    fprintf(stderr, "\r\033[K%llu/%lld (%.0f%%)", (unsigned long long)st->done,
            pg->total,
            pg->total ? 100.0 * (double)st->done / (double)pg->total : 100.0);
    if (rate > 0 && (double)pg->total > (double)st->done) {
      long s = (long)(((double)pg->total - (double)st->done) / rate + 0.5);
      snprintf(eta, sizeof(eta), "  ETA %ld:%02ld", s / 60, s % 60);
    }
  } else {
    fprintf(stderr, "\r\033[K%llu done", (unsigned long long)st->done);
  }
  fprintf(stderr, "  %.0f req/s  %llu errors%s", rate,
          (unsigned long long)st->failed, eta);
}

void progress_clear(progress *pg) {
  if (pg->on)
    fprintf(stderr, "\r\033[K");
}
