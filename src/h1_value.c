/* The values of the fields the framing reads: see h1_value.h. */
#include "h1_value.h"

#include <string.h>

#include "buf.h"
#include "field.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_ows(char c) { return c == ' ' || c == '\t'; }

int salvo__h1_has_token(const char *v, size_t n, const char *tok) {
  size_t tl = strlen(tok), en;
  const char *e;
  for (size_t i = 0; salvo__list_next(v, n, &i, &e, &en);)
    if (en == tl && !salvo__casecmp_n(e, tok, tl))
      return 1;
  return 0;
}

int salvo__h1_ends_chunked(const char *v, size_t n) {
  while (n && (is_ows(v[n - 1]) || v[n - 1] == ','))
    n--;
  return n >= 7 && !salvo__casecmp_n(v + n - 7, "chunked", 7) &&
         (n == 7 || is_ows(v[n - 8]) || v[n - 8] == ',');
}

int salvo__h1_content_length(const char *v, size_t n, uint64_t *out) {
  uint64_t len = 0;
  int seen = 0;
  if (n && n <= 19) { /* most: up to 19 digits, which cannot overflow */
    size_t i = 0;
    for (; i < n && is_digit(v[i]); i++)
      len = len * 10 + (uint64_t)(v[i] - '0');
    if (i == n) {
      *out = len;
      return 0;
    }
    len = 0;
  }
  /* A list may repeat the value (RFC 9110 8.6) but not start empty: ",5"
   * is refused, as libcurl refuses it. */
  size_t first = 0;
  while (first < n && is_ows(v[first]))
    first++;
  if (first < n && v[first] == ',')
    return -1;
  for (size_t i = first; i < n;) {
    while (i < n && (is_ows(v[i]) || v[i] == ','))
      i++;
    if (i == n)
      break;
    uint64_t x = 0;
    size_t s = i;
    for (; i < n && is_digit(v[i]); i++) {
      if (x > (UINT64_MAX - 9) / 10)
        return -1;
      x = x * 10 + (uint64_t)(v[i] - '0');
    }
    while (i < n && is_ows(v[i]))
      i++;
    if (i == s || (i < n && v[i] != ',') || (seen && x != len))
      return -1;
    len = x;
    seen = 1;
  }
  *out = len;
  return seen ? 0 : -1;
}
