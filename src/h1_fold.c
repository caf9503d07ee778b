/* Obsolete line folding: see h1_fold.h. */
#include "h1_fold.h"

#include <string.h>

#include "field.h"

size_t salvo__h1_folds(const char *b, size_t avail, size_t used,
                       size_t *ended) {
  *ended = used;
  while (used < avail && salvo__h1_continues(b[used])) {
    const char *nl = memchr(b + used, '\n', avail - used);
    if (!nl)
      return 0;
    *ended = used = (size_t)(nl - b) + 1;
  }
  return used < avail ? used : 0;
}

const char *salvo__h1_fold_add(salvo__buf *line, const char *l, size_t n) {
  while (line->len && salvo__h1_continues(line->p[line->len - 1]))
    line->len--;
  while (n && salvo__h1_continues(*l)) {
    l++;
    n--;
  }
  if (salvo__buf_append(line, " ", 1) || salvo__buf_append(line, l, n))
    return "out of memory joining a folded header line";
  return NULL;
}

const char *salvo__h1_fold_join(salvo__buf *line, const char *b, size_t n,
                                size_t whole) {
  line->len = 0;
  if (salvo__buf_append(line, b, n))
    return "out of memory joining a folded header line";
  const char *s = memchr(b, '\n', whole) + 1;
  while (s < b + whole) {
    const char *nl = memchr(s, '\n', (size_t)(b + whole - s));
    size_t len = (size_t)(nl - s);
    const char *why =
        salvo__h1_fold_add(line, s, len && nl[-1] == '\r' ? len - 1 : len);
    if (why)
      return why;
    s = nl + 1;
  }
  return NULL;
}
