/* Small helpers shared by the modules: buffers, strings, time. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

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

int salvo__buf_reserve(salvo__buf *b, size_t extra) {
  if (extra >= SIZE_MAX - b->len - 1)
    return SALVO_ENOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->p, cap);
  if (!p)
    return SALVO_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

int salvo__buf_append(salvo__buf *b, const void *p, size_t n) {
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
    int d = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
    if (d || !a[i])
      return d;
  }
  return 0;
}

/* RFC 9110 token characters. */
#define T (SALVO__TCHAR | SALVO__VTEXT)
#define V SALVO__VTEXT
/* tchar: ALPHA, DIGIT, !#$%&'*+-.^_`|~; the rest of VCHAR, SP, HTAB and
 * 0x80-0xFF are field text only; controls and DEL are neither. */
const unsigned char salvo__ctype[256] = {
    ['\t'] = V,         [' '] = V,  ['!'] = T,  ['"'] = V, ['#'] = T, ['$'] = T,
    ['%'] = T,          ['&'] = T,  ['\''] = T, ['('] = V, [')'] = V, ['*'] = T,
    ['+'] = T,          [','] = V,  ['-'] = T,  ['.'] = T, ['/'] = V, ['0'] = T,
    ['1'] = T,          ['2'] = T,  ['3'] = T,  ['4'] = T, ['5'] = T, ['6'] = T,
    ['7'] = T,          ['8'] = T,  ['9'] = T,  [':'] = V, [';'] = V, ['<'] = V,
    ['='] = V,          ['>'] = V,  ['?'] = V,  ['@'] = V, ['A'] = T, ['B'] = T,
    ['C'] = T,          ['D'] = T,  ['E'] = T,  ['F'] = T, ['G'] = T, ['H'] = T,
    ['I'] = T,          ['J'] = T,  ['K'] = T,  ['L'] = T, ['M'] = T, ['N'] = T,
    ['O'] = T,          ['P'] = T,  ['Q'] = T,  ['R'] = T, ['S'] = T, ['T'] = T,
    ['U'] = T,          ['V'] = T,  ['W'] = T,  ['X'] = T, ['Y'] = T, ['Z'] = T,
    ['['] = V,          ['\\'] = V, [']'] = V,  ['^'] = T, ['_'] = T, ['`'] = T,
    ['a'] = T,          ['b'] = T,  ['c'] = T,  ['d'] = T, ['e'] = T, ['f'] = T,
    ['g'] = T,          ['h'] = T,  ['i'] = T,  ['j'] = T, ['k'] = T, ['l'] = T,
    ['m'] = T,          ['n'] = T,  ['o'] = T,  ['p'] = T, ['q'] = T, ['r'] = T,
    ['s'] = T,          ['t'] = T,  ['u'] = T,  ['v'] = T, ['w'] = T, ['x'] = T,
    ['y'] = T,          ['z'] = T,  ['{'] = V,  ['|'] = T, ['}'] = V, ['~'] = T,
    [0x80 ... 0xff] = V};
#undef T
#undef V

size_t salvo__header_name_len(const char *h) {
  size_t n = 0;
  while (salvo__is_tchar((unsigned char)h[n]))
    n++;
  return h[n] == ':' ? n : 0;
}

int64_t salvo__seconds_ms(double s, int64_t dflt) {
  if (s == 0)
    return dflt;
  if (s < 0)
    return 0;
  if (s > 1e9)
    s = 1e9;
  int64_t ms = (int64_t)(s * 1000 + 0.5);
  return ms ? ms : 1;
}

int salvo__header_ok(const char *h) {
  size_t n = salvo__header_name_len(h);
  return n && !strpbrk(h + n, "\r\n");
}

int salvo__headers_have(const char *const *list, const char *name, size_t n) {
  for (size_t i = 0; list && list[i]; i++)
    if (salvo__header_name_len(list[i]) == n &&
        !salvo__casecmp_n(list[i], name, n))
      return 1;
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

/* The end of a URL's authority: the first '/', '?', '#', quote, space or
 * control character after "://". */
static size_t authority_len(const char *a) {
  size_t n = 0;
  while (a[n] && !strchr("/?#\"' ", a[n]) && (unsigned char)a[n] > 0x20)
    n++;
  return n;
}

void salvo__redact_userinfo(char *s) {
  for (char *p = s; (p = strstr(p, "://"));) {
    p += 3;
    size_t n = authority_len(p);
    char *at = NULL;
    for (size_t i = 0; i < n; i++)
      if (p[i] == '@')
        at = p + i;
    if (at)
      memmove(p, at + 1, strlen(at + 1) + 1);
  }
}

/* Replaces every occurrence of sec in msg by "***", scanning once so that
 * a secret made of stars cannot loop. Returns msg, or a new string (msg
 * freed); on allocation failure the secret is starred over in place. */
static char *redact_one(char *msg, const char *sec) {
  size_t n = strlen(sec), hits = 0;
  for (const char *p = msg; (p = strstr(p, sec)); p += n)
    hits++;
  if (!hits)
    return msg;
  size_t len = strlen(msg);
  char *m = malloc(len + hits * 3 + 1), *d = m;
  if (!m) {
    for (char *p = msg; (p = strstr(p, sec)); p += n)
      memset(p, '*', n);
    return msg;
  }
  for (const char *p = msg, *hit; *p; p = hit + n) {
    if (!(hit = strstr(p, sec))) {
      strcpy(d, p);
      d += strlen(p);
      break;
    }
    memcpy(d, p, (size_t)(hit - p));
    d += hit - p;
    memcpy(d, "***", 3);
    d += 3;
  }
  *d = '\0';
  free(msg);
  return m;
}

char *salvo__redact(char *msg, const char *const *secrets, size_t n) {
  if (!msg)
    return NULL;
  salvo__redact_userinfo(msg);
  for (size_t i = 0; i < n; i++)
    if (secrets[i] && *secrets[i])
      msg = redact_one(msg, secrets[i]);
  return msg;
}

const char *salvo__ctl_in(const char *s) {
  for (; s && *s; s++)
    if (*s == '\r' || *s == '\n')
      return s;
  return NULL;
}

uint32_t salvo__hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

void salvo__fd_signal(int fd) {
  uint64_t one = 1;
  while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
    ;
}

void salvo__fd_drain(int fd) {
  uint64_t v;
  while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
    ;
}

void salvo__sized_init(void *dst, size_t dsize, const void *dflt, size_t n) {
  if (!dst || dsize < sizeof(size_t))
    return;
  memset(dst, 0, dsize);
  salvo__sized_read(dst, dsize, dflt, n);
}

void salvo__sized_read(void *dst, size_t dsize, const void *src, size_t ssize) {
  memcpy(dst, src, ssize < dsize ? ssize : dsize);
  *(size_t *)dst = dsize;
}

static unsigned fork_generation;

unsigned salvo__fork_gen(void) { return fork_generation; }

void salvo__fork_gen_bump(void) { fork_generation++; }

void salvo__cleanse(void *p, size_t n) { explicit_bzero(p, n); }
