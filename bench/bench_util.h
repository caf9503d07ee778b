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

/* Every non-empty line of a file, read before the clock starts: one read
 * into one buffer, cut in place, so that the harness costs no allocation
 * per URL (a caller holding its URLs in memory would not either). The
 * buffer is kept after the last line, for bench_free_lines. */
static inline char **bench_read_lines(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  char *text = NULL;
  size_t tcap = 0, tlen = 0, got;
  do {
    if (tlen + 1 >= tcap && !(text = realloc(text, tcap = tcap * 2 + 65536)))
      exit(2);
    tlen += got = fread(text + tlen, 1, tcap - tlen - 1, f);
  } while (got);
  fclose(f);
  text[tlen] = '\0';
  size_t cap = 1024, len = 0;
  char **lines = malloc((cap + 1) * sizeof(*lines));
  for (char *p = text, *end = text + tlen; lines && p < end;) {
    char *e = memchr(p, '\n', (size_t)(end - p));
    e = e ? e : end;
    char *next = e + 1, *s = p;
    while (e > s && (e[-1] == '\r'))
      e--;
    *e = '\0';
    p = next;
    if (e == s)
      continue;
    if (len == cap)
      lines = realloc(lines, ((cap *= 2) + 1) * sizeof(*lines));
    if (lines)
      lines[len++] = s;
  }
  if (!lines)
    exit(2);
  lines[len] = text;
  *n = len;
  return lines;
}

static inline void bench_free_lines(char **lines, size_t n) {
  free(lines[n]);
  free(lines);
}

#endif
