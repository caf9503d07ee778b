/* Buffers and strings. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

char *salvo__strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *salvo__strdup(const char *s) {
  return s ? salvo__strndup(s, strlen(s)) : NULL;
}

/* What b must grow to for extra more bytes, or 0 when it has room (or
 * SIZE_MAX when no size can hold them). */
static size_t grown_cap(const salvo__buf *b, size_t extra) {
  if (extra >= SIZE_MAX - b->len - 1)
    return SIZE_MAX;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  return cap;
}

int salvo__buf_reserve(salvo__buf *b, size_t extra) {
  size_t cap = grown_cap(b, extra);
  if (!cap)
    return 0;
  char *p = cap == SIZE_MAX ? NULL : realloc(b->p, cap);
  if (!p)
    return SALVO_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

int salvo__buf_grow_in(salvo__buf *b, char *inl, size_t inl_cap, size_t extra) {
  if (!b->p) {
    b->p = inl;
    b->cap = inl_cap;
  }
  if (b->p != inl)
    return salvo__buf_reserve(b, extra);
  size_t cap = grown_cap(b, extra);
  if (!cap)
    return 0;
  char *p = cap == SIZE_MAX ? NULL : malloc(cap);
  if (!p)
    return SALVO_ENOMEM;
  memcpy(p, inl, b->len);
  b->p = p;
  b->cap = cap;
  return 0;
}

int salvo__buf_append_grow(salvo__buf *b, const void *p, size_t n) {
  if (salvo__buf_reserve(b, n))
    return SALVO_ENOMEM;
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

void salvo__buf_free(salvo__buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int salvo__casecmp_n(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x == y) { /* most bytes: names come as written */
      if (!x)
        return 0;
      continue;
    }
    int d = lower(x) - lower(y);
    if (d)
      return d;
  }
  return 0;
}

char *salvo__fmt(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  char *p = malloc((size_t)n + 1);
  if (!p)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* A 64 x 64 multiply folded to 64 bits (wyhash's mixer): every bit of
 * each input moves every bit of the result. */
static uint64_t mum(uint64_t a, uint64_t b) {
#ifdef __SIZEOF_INT128__
  unsigned __int128 r = (unsigned __int128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
  uint64_t r = a * b;
  return r ^ (r >> 29) ^ (r >> 47);
#endif
}

uint32_t salvo__hash_n(const char *s, size_t n) {
  const uint64_t k = 0x9e3779b97f4a7c15ull;
  uint64_t h = n ^ 0xa0761d6478bd642full, w;
  for (; n >= 8; s += 8, n -= 8) {
    memcpy(&w, s, 8);
    h = mum(h ^ w, k);
  }
  if (n) {
    w = 0;
    memcpy(&w, s, n);
    h = mum(h ^ w, k);
  }
  return (uint32_t)mum(h, 0xe7037ed1a0b428dbull);
}

uint32_t salvo__hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}
