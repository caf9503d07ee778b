/*
 * fetch_many: fetches N URLs in parallel through one parallel block and
 * prints a summary. Submission and collection are interleaved so that the
 * number of requests held in memory stays bounded however large N is.
 *
 *   fetch_many BASE_URL [N] [CONCURRENCY]
 *   fetch_many http://127.0.0.1:8080 10000 64   (GETs BASE_URL/json/0..N-1)
 */
#include <salvo.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s BASE_URL [N] [CONCURRENCY]\n", argv[0]);
    return 2;
  }
  const char *base = argv[1];
  long n = argc > 2 ? atol(argv[2]) : 10000;
  salvo_config cfg;
  salvo_config_init(&cfg);
  cfg.concurrency = argc > 3 ? atoi(argv[3]) : 64;
  salvo_client *client;
  int err = salvo_client_new(&client, &cfg);
  if (err) {
    fprintf(stderr, "salvo_client_new: %s\n", salvo_strerror(err));
    return 1;
  }
  salvo_parallel *batch;
  if (salvo_parallel_open(client, &batch))
    return 1;
  long submitted = 0, ok = 0, failed = 0, bytes = 0;
  long window = 4L * cfg.concurrency; /* requests kept queued ahead */
  double t0 = now();
  while (submitted < n || salvo_parallel_has_pending(batch)) {
    while (submitted < n && salvo_parallel_has_pending(batch) < window) {
      char url[512];
      snprintf(url, sizeof(url), "%s/json/%ld", base, submitted++);
      salvo_get(batch, url);
    }
    salvo_response *r = salvo_parallel_next(batch);
    if (salvo_response_error(r) || salvo_response_status(r) >= 400) {
      if (failed++ < 5)
        fprintf(stderr, "%s: %s (status %d)\n", salvo_response_url(r),
                salvo_response_errmsg(r), salvo_response_status(r));
    } else {
      size_t len;
      salvo_response_body(r, &len);
      bytes += (long)len;
      ok++;
    }
    salvo_response_free(r);
  }
  double dt = now() - t0;
  salvo_parallel_close(batch);
  salvo_client_free(client);
  printf("%ld requests, %ld ok, %ld failed, %ld body bytes in %.3f s "
         "(%.0f requests/s, concurrency %d)\n",
         n, ok, failed, bytes, dt, dt > 0 ? (double)n / dt : 0.0,
         cfg.concurrency);
  return failed ? 1 : 0;
}
