/* Input: URLs from the arguments, or lines from a file or stdin. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "request_line.h"

/* Lines are read from f's descriptor a block at a time and found with
 * memchr, where getline cost 141 instructions a line. A pipe or terminal
 * is read only when poll says it has something: the run waits for its
 * input and its results at once, so that a result is printed while the
 * input is idle, not held until the next line comes (getline blocked). */
#define READ_BLOCK ((size_t)64 * 1024)

/* Whether f could be read now without blocking; always for a file. */
static int readable(input *in) {
  if (!in->kind) {
    struct stat st;
    in->kind = !fstat(fileno(in->f), &st) && S_ISREG(st.st_mode) ? 1 : 2;
  }
  struct pollfd p = {.fd = fileno(in->f), .events = POLLIN};
  return in->kind == 1 || poll(&p, 1, 0) != 0;
}

/* Reads more of f into in->line, first moving what is left to the
 * front, growing it when a line fills it. 1 read, 0 at the end, -1 when
 * nothing is there yet. */
static int fill(input *in) {
  if (in->eof)
    return 0;
  if (!readable(in))
    return -1;
  if (in->start) {
    memmove(in->line, in->line + in->start, in->end - in->start);
    in->end -= in->start;
    in->start = 0;
  }
  /* One byte always spare, for a last line's NUL. */
  if (in->cap - in->end < READ_BLOCK / 2 + 1) {
    size_t cap = in->cap ? 2 * in->cap : READ_BLOCK;
    char *p = realloc(in->line, cap);
    if (!p) {
      warnx("out of memory");
      exit(1);
    }
    in->line = p;
    in->cap = cap;
  }
  ssize_t n = read(fileno(in->f), in->line + in->end, in->cap - in->end - 1);
  if (n > 0) {
    in->end += (size_t)n;
    return 1;
  }
  /* A descriptor left non-blocking by whoever gave it. */
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return -1;
  /* EINTR too: the run stops reading at an interrupt, as it did when
   * getline returned -1 for one. */
  if (n < 0 && errno != EINTR)
    warnx("reading input: %s", strerror(errno));
  in->eof = 1;
  return 0;
}

char *input_next(input *in) {
  if (in->args) {
    if (in->next_arg >= in->nargs) {
      in->eof = 1;
      return NULL;
    }
    char *a = in->args[in->next_arg++];
    in->len = strlen(a);
    in->lineno++;
    return a;
  }
  char *line, *nl;
  size_t n;
  for (;;) {
    /* Nothing held: in->line may be NULL still, and NULL + 0 is no
     * pointer C allows. */
    nl = in->end > in->start
             ? memchr(in->line + in->start, '\n', in->end - in->start)
             : NULL;
    if (nl) {
      line = in->line + in->start;
      n = (size_t)(nl - line);
      in->start += n + 1;
      break;
    }
    int got = fill(in);
    if (got < 0)
      return NULL;
    if (!got) {
      if (in->start == in->end)
        return NULL;
      line = in->line + in->start; /* the last line, with no newline */
      n = in->end - in->start;
      in->start = in->end;
      break;
    }
  }
  while (n && line[n - 1] == '\r')
    n--;
  line[n] = '\0';
  /* A UTF-8 byte order mark, as some editors start a file: not part of
   * the first URL (it made it "\xef\xbb\xbfhttp://...", an unknown
   * scheme whose name looked right). */
  if (in->lineno == 0 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
    line += 3;
    n -= 3;
  }
  in->len = n;
  in->lineno++;
  return line;
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

int input_fd(const input *in) {
  return in->eof || in->args ? -1 : fileno(in->f);
}
