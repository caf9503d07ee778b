/*
 * salvo_bench: salvo through the library, the way a program would use it:
 * one parallel block, requests submitted through a window of 4 x C (or,
 * with --all, every one of them first, the reference's own pattern),
 * every response collected with salvo_parallel_next.
 *
 *   salvo_bench -c C -i URLFILE [-k] [--rate R] [--burst B] [--compressed]
 *               [--all] [--h1] [--transport native|libcurl]
 *               [--io-threads N]
 *
 * --h1 asks for HTTP/1.1 (over TLS: the native transport serves it).
 * Prints one JSON line: ok, failed, bytes, seconds.
 */
#include <salvo.h>
#include <stdio.h>

#include "bench_util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
  salvo_config cfg;
  salvo_config_init(&cfg);
  /* The same request on the wire as curl, the libcurl loop, wrk and h2load:
   * none of them asks for compression. */
  cfg.no_compression = 1;
  const char *input = NULL;
  int all = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-c") && i + 1 < argc)
      cfg.concurrency = atoi(argv[++i]);
    else if (!strcmp(argv[i], "-i") && i + 1 < argc)
      input = argv[++i];
    else if (!strcmp(argv[i], "-k"))
      cfg.insecure = 1;
    else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
      cfg.rate_limit = atof(argv[++i]);
    else if (!strcmp(argv[i], "--burst") && i + 1 < argc)
      cfg.rate_burst = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--compressed"))
      cfg.no_compression = 0;
    else if (!strcmp(argv[i], "--all"))
      all = 1;
    else if (!strcmp(argv[i], "--io-threads") && i + 1 < argc)
      cfg.io_threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--h1"))
      cfg.http_version = SALVO_HTTP_1_1;
    else if (!strcmp(argv[i], "--transport") && i + 1 < argc)
      cfg.transport = !strcmp(argv[++i], "libcurl") ? SALVO_TRANSPORT_LIBCURL
                                                    : SALVO_TRANSPORT_NATIVE;
    else {
      fprintf(stderr, "usage: %s -c C -i URLFILE [-k] [--rate R]\n", argv[0]);
      return 2;
    }
  }
  if (!input || cfg.concurrency <= 0) {
    fprintf(stderr, "usage: %s -c C -i URLFILE [-k] [--rate R]\n", argv[0]);
    return 2;
  }
  size_t n;
  char **urls = bench_read_lines(input, &n);
  salvo_client *client;
  if (salvo_client_new(&client, &cfg))
    return 1;
  salvo_parallel *b = salvo_parallel(client);
  size_t next = 0, ok = 0, failed = 0, bytes = 0;
  size_t window = all ? n : 4 * (size_t)cfg.concurrency;
  double t0 = bench_now();
  while (next < n || salvo_parallel_has_pending(b)) {
    while (next < n && (size_t)salvo_parallel_has_pending(b) < window)
      salvo_get(b, urls[next++]);
    salvo_response *r = salvo_parallel_next(b);
    size_t len;
    salvo_response_body(r, &len);
    if (salvo_response_error(r) || salvo_response_status(r) != 200) {
      if (failed++ < 3)
        fprintf(stderr, "%s: %s (%d)\n", salvo_response_url(r),
                salvo_response_errmsg(r), salvo_response_status(r));
    } else {
      ok++;
      bytes += len;
    }
    salvo_response_free(r);
  }
  double dt = bench_now() - t0;
  salvo_parallel_close(b);
  salvo_client_free(client);
  printf("{\"ok\":%zu,\"failed\":%zu,\"bytes\":%zu,\"seconds\":%.6f}\n", ok,
         failed, bytes, dt);
  bench_free_lines(urls, n);
  return failed ? 1 : 0;
}
