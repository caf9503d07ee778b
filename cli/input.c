/* Input: URLs from the arguments, or lines from a file or stdin. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "request_line.h"

char *input_next(input *in) {
  in->lineno++;
  if (in->args) {
    if (in->next_arg >= in->nargs)
      return NULL;
    char *a = in->args[in->next_arg++];
    in->len = strlen(a);
    return a;
  }
  ssize_t n = getline(&in->line, &in->cap, in->f);
  if (n < 0)
    return NULL;
  while (n && (in->line[n - 1] == '\n' || in->line[n - 1] == '\r'))
    in->line[--n] = '\0';
  in->len = (size_t)n;
  return in->line;
}

long long input_count(FILE *f) {
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode))
    return -1;
  off_t start = ftello(f);
  char *line = NULL;
  size_t cap = 0;
  long long n = 0;
  while (getline(&line, &cap, f) >= 0)
    n += !request_line_skipped(line);
  free(line);
  if (fseeko(f, start, SEEK_SET))
    return -1;
  return n;
}
