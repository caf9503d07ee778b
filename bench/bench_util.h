/* What the C benchmark clients share: the clock and the URL list. */
#ifndef SALVO_BENCH_UTIL_H
#define SALVO_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every non-empty line of a file, read before the clock starts. */
static inline char **bench_read_lines(const char *path, size_t *n) {
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
  while (lines && (r = getline(&line, &lcap, f)) > 0) {
    while (r && (line[r - 1] == '\n' || line[r - 1] == '\r'))
      line[--r] = '\0';
    if (!r)
      continue;
    if (len == cap)
      lines = realloc(lines, (cap *= 2) * sizeof(*lines));
    if (lines)
      lines[len++] = strdup(line);
  }
  free(line);
  fclose(f);
  if (!lines)
    exit(2);
  *n = len;
  return lines;
}

static inline void bench_free_lines(char **lines, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(lines[i]);
  free(lines);
}

#endif
