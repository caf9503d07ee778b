/* The chunked coding's size lines (RFC 9112 7.1): see h1_chunk.h. */
#include "h1_chunk.h"

#include "field.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* The value of hex digit c, or -1. */
static int hex_value(char c) {
  return is_digit(c)                              ? c - '0'
         : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                  : -1;
}

/* VCHAR or obs-text: what a field value or reason may hold besides SP and
 * HTAB (RFC 9110 5.5). */
static int is_text(unsigned char c) { return c > 0x20 && c != 0x7f; }

/* A quoted-string from l[i] (its opening quote): the index past its
 * closing quote, or 0 when it does not close or holds a control. */
static size_t quoted(const char *l, size_t i, size_t n) {
  for (i++; i < n; i++) {
    unsigned char c = (unsigned char)l[i];
    if (c == '"')
      return i + 1;
    if (c == '\\' && i + 1 < n &&
        (is_ows(l[i + 1]) || is_text((unsigned char)l[i + 1])))
      i++;
    else if (!is_ows(c) && !is_text(c))
      return 0;
  }
  return 0;
}

static size_t skip_ows(const char *l, size_t i, size_t n) {
  while (i < n && is_ows(l[i]))
    i++;
  return i;
}

/* chunk-ext (RFC 9112 7.1.1): *( BWS ";" BWS name [ BWS "=" BWS value ] ),
 * value a token or a quoted-string. Whether l[i..n) is one. */
static int chunk_ext(const char *l, size_t i, size_t n) {
  while ((i = skip_ows(l, i, n)) < n) {
    if (l[i] != ';')
      return 0;
    size_t s = i = skip_ows(l, i + 1, n);
    while (i < n && salvo__is_tchar((unsigned char)l[i]))
      i++;
    if (i == s)
      return 0;
    i = skip_ows(l, i, n);
    if (i < n && l[i] == '=') {
      s = i = skip_ows(l, i + 1, n);
      if (i < n && l[i] == '"') {
        if (!(i = quoted(l, i, n)))
          return 0;
      } else {
        while (i < n && salvo__is_tchar((unsigned char)l[i]))
          i++;
        if (i == s)
          return 0;
      }
    }
  }
  return 1;
}

const char *salvo__h1_chunk_unended(const char *l, size_t n) {
  uint64_t size;
  size_t i = 0;
  while (i < n && i <= 16 && hex_value(l[i]) >= 0)
    i++;
  if (n && (i == 0 || i > 16))
    return salvo__h1_chunk_size(l, i ? i : 1, &size);
  if (i == n || l[i] == ';' || is_ows(l[i]) || (l[i] == '\r' && i + 1 == n))
    return NULL; /* more digits, an extension, OWS or the CRLF to come */
  return salvo__h1_chunk_size(l, i + 1 + (l[i] == '\r'), &size);
}

/* "1a3f[;ext]": the size of the next chunk; nothing else on the line, not
 * even whitespace without an extension after it. At most 16 digits, zeros
 * in front counted: libcurl's limit, so that both transports refuse the
 * same size lines. */
const char *salvo__h1_chunk_size(const char *l, size_t n, uint64_t *size) {
  uint64_t x = 0;
  size_t i = 0;
  for (; i < n; i++) {
    int d = hex_value(l[i]);
    if (d < 0)
      break;
    if (i == 16)
      return "chunk size of more than 16 hex digits";
    if (x >> 59)
      return "chunk size too large";
    x = x << 4 | (uint64_t)d;
  }
  if (i == 0)
    return "malformed chunk size";
  if (i < n && (skip_ows(l, i, n) == n || !chunk_ext(l, i, n)))
    return "malformed chunk size line (after the size: only an extension "
           "may follow)";
  *size = x;
  return NULL;
}
