/*
 * salvo_bench: salvo through the library, the way a program would use it:
 * one parallel block, requests submitted through a window of 4 x C, every
 * response collected with salvo_batch_next.
 *
 *   salvo_bench -c C -i URLFILE [-k] [--rate R] [--burst B] [--compressed]
 *
 * Prints one JSON line: ok, failed, bytes, seconds.
 */
#include <salvo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char **read_lines(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t cap = 1024, len = 0;
  char **lines = malloc(cap * sizeof(*lines));
  char *line = NULL;
  size_t lcap = 0;
  ssize_t r;
  while ((r = getline(&line, &lcap, f)) > 0) {
    while (r && (line[r - 1] == '\n' || line[r - 1] == '\r'))
      line[--r] = '\0';
    if (!r)
      continue;
    if (len == cap)
      lines = realloc(lines, (cap *= 2) * sizeof(*lines));
    lines[len++] = strdup(line);
  }
  free(line);
  fclose(f);
  *n = len;
  return lines;
}

int main(int argc, char **argv) {
  salvo_config cfg = {0};
  /* The same request on the wire as curl, the libcurl loop, wrk and h2load:
   * none of them asks for compression. */
  cfg.no_compression = 1;
  const char *input = NULL;
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
  char **urls = read_lines(input, &n);
  salvo_client *client;
  if (salvo_client_new(&client, &cfg))
    return 1;
  salvo_batch *b = salvo_parallel(client);
  size_t next = 0, ok = 0, failed = 0, bytes = 0;
  int window = 4 * cfg.concurrency;
  double t0 = now();
  while (next < n || salvo_batch_has_pending(b)) {
    while (next < n && salvo_batch_has_pending(b) < window)
      salvo_get(b, urls[next++]);
    salvo_response *r = salvo_batch_next(b);
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
  double dt = now() - t0;
  salvo_batch_close(b);
  salvo_client_free(client);
  printf("{\"ok\":%zu,\"failed\":%zu,\"bytes\":%zu,\"seconds\":%.6f}\n", ok,
         failed, bytes, dt);
  for (size_t i = 0; i < n; i++)
    free(urls[i]);
  free(urls);
  return failed ? 1 : 0;
}
