/*
 * stream_bench: a streamed body pulled by the caller.
 *
 *   stream_bench BASE_URL BYTES [--slow] [--others N] [--insecure]
 *
 * Reads BYTES from BASE_URL/bytes/BYTES with salvo_response_read, 64 KiB
 * at a time; --slow sleeps 1 ms after each read. Meanwhile the main thread
 * runs N small requests (BASE_URL/json/i) on the same client. Prints one
 * JSON line: bytes, seconds, MB/s, when the others were done (seconds and
 * bytes read by then), peak RSS in KiB. --insecure accepts a self-signed
 * certificate (bench.py's nginx over HTTPS and HTTP/2).
 */
#include <pthread.h>
#include <salvo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_util.h"

typedef struct reader {
  salvo_response *r;
  int slow;
  volatile unsigned long long bytes;
  long last;
  double seconds;
} reader;

static void *read_body(void *arg) {
  reader *rd = arg;
  static char buf[65536];
  double t0 = bench_now();
  long n;
  while ((n = salvo_response_read(rd->r, buf, sizeof(buf))) > 0) {
    rd->bytes += (unsigned long long)n;
    if (rd->slow)
      usleep(1000);
  }
  rd->last = n;
  rd->seconds = bench_now() - t0;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s BASE_URL BYTES [--slow] [--others N] [--insecure]\n",
            argv[0]);
    return 2;
  }
  const char *base = argv[1];
  unsigned long long size = strtoull(argv[2], NULL, 10);
  int slow = 0, others = 0;
  salvo_config cfg;
  salvo_config_init(&cfg);
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "--slow"))
      slow = 1;
    else if (!strcmp(argv[i], "--insecure"))
      cfg.insecure = 1;
    else if (!strcmp(argv[i], "--others") && i + 1 < argc)
      others = atoi(argv[++i]);
  }
  salvo_client *c;
  if (salvo_client_new(&c, &cfg))
    return 1;
  salvo_parallel *b = salvo_parallel(c);
  char url[512];
  snprintf(url, sizeof(url), "%s/bytes/%llu", base, size);
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  req.stream = 1;
  double t0 = bench_now();
  salvo_response *r = salvo_pending_response(b, salvo_submit(b, &req));
  if (salvo_response_error(r)) {
    fprintf(stderr, "%s\n", salvo_response_errmsg(r));
    return 1;
  }
  reader rd = {.r = r, .slow = slow};
  pthread_t t;
  pthread_create(&t, NULL, read_body, &rd);
  int failed = 0;
  for (int i = 0; i < others; i++) {
    snprintf(url, sizeof(url), "%s/json/%d", base, i);
    salvo_get(b, url);
  }
  for (int i = 0; i < others; i++) {
    salvo_response *s = salvo_parallel_next(b);
    failed += salvo_response_status(s) != 200;
    salvo_response_free(s);
  }
  double others_at = bench_now() - t0;
  unsigned long long read_at = rd.bytes;
  pthread_join(t, NULL);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"bytes\":%llu,\"seconds\":%.3f,\"mb_per_s\":%.0f,"
         "\"others\":%d,\"others_failed\":%d,\"others_done_s\":%.3f,"
         "\"read_when_others_done\":%llu,\"peak_rss_kib\":%ld,"
         "\"last\":%ld}\n",
         rd.bytes, rd.seconds, (double)rd.bytes / rd.seconds / 1e6, others,
         failed, others_at, read_at, ru.ru_maxrss, rd.last);
  salvo_response_free(r);
  salvo_parallel_close(b);
  salvo_client_free(c);
  return rd.bytes == size && rd.last == 0 && !failed ? 0 : 1;
}
