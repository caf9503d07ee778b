/* JSON validated and copied in one pass (json_copy.h says what for). The
 * rules are RFC 8259's, with jansson's limits: depth 2048 (a scalar
 * counting as a level, a key not), integers that fit a long long, reals
 * that do not overflow a double, \u escapes that are valid code points
 * (surrogates paired; no U+0000 in a key), well-formed UTF-8. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_copy.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

static int is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const unsigned char *skip_ws(const unsigned char *p,
                                    const unsigned char *end) {
  while (p < end && is_ws(*p))
    p++;
  return p;
}

static int hex4(const unsigned char *p, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : 16;
    if (d > 15)
      return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

/* A \u escape at p (the backslash): one code point, a surrogate pair
 * counting as one; in an object's key not U+0000 (jansson refuses a NUL
 * in a key even with JSON_ALLOW_NUL). Past it, or NULL. */
static const unsigned char *escape_u(const unsigned char *p,
                                     const unsigned char *end, int key) {
  unsigned u, lo;
  if (end - p < 6 || hex4(p + 2, &u) || (key && !u))
    return NULL;
  p += 6;
  if (u >= 0xDC00 && u <= 0xDFFF)
    return NULL;
  if (u < 0xD800 || u > 0xDBFF)
    return p;
  if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
      lo < 0xDC00 || lo > 0xDFFF)
    return NULL;
  return p + 6;
}

/* One UTF-8 sequence of two to four bytes at p (RFC 3629: no overlong
 * form, no surrogate, nothing past U+10FFFF). Past it, or NULL. */
static const unsigned char *utf8(const unsigned char *p,
                                 const unsigned char *end) {
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  int more = c >= 0xC2 && c <= 0xDF   ? 1
             : c >= 0xE0 && c <= 0xEF ? 2
             : c >= 0xF0 && c <= 0xF4 ? 3
                                      : -1;
  if (more < 0 || end - p <= more)
    return NULL;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (p[1] < lo || p[1] > hi)
    return NULL;
  for (int i = 2; i <= more; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return NULL;
  return p + more + 1;
}

/* Bytes a string holds as they are: printable ASCII and DEL, but '"' and
 * '\\'. A load a byte, where the tests in turn cost twelve instructions. */
static const unsigned char plain[256] = {
    ['\x20' ... '\x21'] = 1, ['\x23' ... '\x5b'] = 1, ['\x5d' ... '\x7f'] = 1};

/* Where the plain bytes from p end: sixteen a step while sixteen are
 * there (a string of a few bytes is one step, a URL two or three, where
 * a byte at a time cost five instructions a byte), then a byte a step. */
static inline const unsigned char *plain_run(const unsigned char *p,
                                             const unsigned char *end) {
#ifdef __SSE2__
  while (end - p >= 16) {
    unsigned m = json_specials16(p, 0);
    if (m)
      return p + __builtin_ctz(m);
    p += 16;
  }
#endif
  while (p < end && plain[*p])
    p++;
  return p;
}

/* The rest of a string from p, where its plain bytes stop (plain_run):
 * an escape, a UTF-8 sequence, a control or its closing quote. Past the
 * quote, or NULL. */
static const unsigned char *string_rest(const unsigned char *p,
                                        const unsigned char *end, int key) {
  for (;; p = plain_run(p, end)) {
    if (p == end)
      return NULL;
    unsigned c = *p; /* '"', '\\', a control or a byte from 0x80 */
    if (c == '"')
      return p + 1;
    if (c < 0x20)
      return NULL;
    if (c == '\\') {
      if (end - p < 2)
        return NULL;
      c = p[1];
      if (c == 'u')
        p = escape_u(p, end, key);
      else if (c && strchr("\"\\/bfnrt", (int)c))
        p += 2;
      else
        return NULL;
    } else {
      p = utf8(p, end);
    }
    if (!p)
      return NULL;
  }
}

/* plain_run where fewer than sixteen bytes are left but lo..end, all
 * readable, holds sixteen: the last sixteen read where they end, the bits
 * of bytes before p shifted out. A small body's keys and values are such
 * tails, where a byte at a time cost five instructions a byte. */
static inline const unsigned char *first_run(const unsigned char *p,
                                             const unsigned char *end,
                                             const unsigned char *lo) {
#ifdef __SSE2__
  if (end - p < 16 && end - lo >= 16) {
    unsigned m = json_specials16(end - 16, 0) >> (16 - (end - p));
    return m ? p + __builtin_ctz(m) : end;
  }
#else
  (void)lo;
#endif
  return plain_run(p, end);
}

/* A string at p (its opening quote), in a body that starts at lo: past
 * its closing quote, or NULL. Inlined where keys and values are read;
 * only a string with more than plain bytes calls out. */
static inline const unsigned char *string(const unsigned char *p,
                                          const unsigned char *end, int key,
                                          const unsigned char *lo) {
  p = first_run(p + 1, end, lo);
  return p < end && *p == '"' ? p + 1 : string_rest(p, end, key);
}

/* Whether the number start..p fits as jansson reads it. An integer of up
 * to 18 digits always fits a long long, and a real without an exponent
 * of fewer than 300 characters a double: no strtoll or strtod for them,
 * which cost 180 instructions a number. */
static int number_fits(const unsigned char *start, size_t n, int real,
                       int exp) {
  if (n <= 18 + (*start == '-') && !real)
    return 1;
  if (real && !exp && n < 300)
    return 1;
  char buf[64];
  char *tmp = n < sizeof(buf) ? buf : malloc(n + 1);
  if (!tmp)
    return 0;
  memcpy(tmp, start, n);
  tmp[n] = '\0';
  errno = 0;
  int ok;
  if (real) {
    double v = strtod(tmp, NULL);
    ok = !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL));
  } else {
    (void)strtoll(tmp, NULL, 10);
    ok = errno != ERANGE;
  }
  if (tmp != buf)
    free(tmp);
  return ok;
}

static int is_digit(const unsigned char *p, const unsigned char *end) {
  return p < end && *p >= '0' && *p <= '9';
}

static const unsigned char *digits(const unsigned char *p,
                                   const unsigned char *end) {
  while (is_digit(p, end))
    p++;
  return p;
}

/* A number at p: past it, or NULL. */
static const unsigned char *number(const unsigned char *p,
                                   const unsigned char *end) {
  const unsigned char *start = p;
  int real = 0;
  if (*p == '-')
    p++;
  if (p < end && *p == '0')
    p++;
  else if (is_digit(p, end))
    p = digits(p, end);
  else
    return NULL;
  if (p < end && *p == '.') {
    real = 1;
    if (!is_digit(++p, end))
      return NULL;
    p = digits(p, end);
  }
  int exp = p < end && (*p == 'e' || *p == 'E');
  if (exp) {
    real = 1;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (!is_digit(p, end))
      return NULL;
    p = digits(p, end);
  }
  return number_fits(start, (size_t)(p - start), real, exp) ? p : NULL;
}

static const unsigned char *word(const unsigned char *p,
                                 const unsigned char *end, const char *w,
                                 size_t n) {
  return (size_t)(end - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

/* A number at p that starts with 1 to 9: past it, or NULL. Up to 18
 * digits with no fraction or exponent after them is the whole number and
 * fits (number_fits); anything else is read by number. */
static inline const unsigned char *integer(const unsigned char *p,
                                           const unsigned char *end) {
  const unsigned char *q = p + 1;
  while (q < end && *q >= '0' && *q <= '9')
    q++;
  if (q - p <= 18 && (q == end || (*q != '.' && *q != 'e' && *q != 'E')))
    return q;
  return number(p, end);
}

/* A scalar at p other than a string (a number, true, false or null):
 * past it, or NULL. */
static const unsigned char *scalar(const unsigned char *p,
                                   const unsigned char *end) {
  switch (*p) {
  case 't':
    return word(p, end, "true", 4);
  case 'f':
    return word(p, end, "false", 5);
  case 'n':
    return word(p, end, "null", 4);
  default:
    return *p == '-' || (*p >= '0' && *p <= '9') ? number(p, end) : NULL;
  }
}

/* The walk, with no recursion: the open containers are a stack of bits
 * (1: an object), the innermost's kind also in a register (obj); each
 * label says what may come next. The output is the input less the
 * whitespace between tokens, so the input is copied a run at a time,
 * from `from` up to each whitespace skipped (a compact body: one memcpy
 * at the end), not a token at a time. */
size_t json_compact(const char *src, size_t n, char *dst) {
  const unsigned char *p = (const unsigned char *)src, *end = p + n;
  const unsigned char *from = p, *const from0 = p;
  unsigned char open[MAX_DEPTH / 8];
  int depth = 0, obj = 0;
  char *o = dst;
  /* A macro, not a function taking their addresses: the walk's pointers
   * stay in registers. */
#define WS()                                                                   \
  do {                                                                         \
    if (p < end && is_ws(*p)) {                                                \
      memcpy(o, from, (size_t)(p - from));                                     \
      o += p - from;                                                           \
      from = p = skip_ws(p, end);                                              \
    }                                                                          \
  } while (0)
value:
  WS();
  if (p == end)
    return (size_t)-1;
  if (*p == '{' || *p == '[') {
    if (depth == MAX_DEPTH)
      return (size_t)-1;
    unsigned bit = 1u << (depth % 8);
    obj = *p == '{';
    open[depth / 8] =
        (unsigned char)(obj ? open[depth / 8] | bit : open[depth / 8] & ~bit);
    depth++;
    p++;
    WS();
    if (p < end && *p == (obj ? '}' : ']')) {
      p++;
      goto close;
    }
    if (obj)
      goto key;
    goto value;
  }
  /* jansson counts a scalar as a level too: inside 2048 containers it is
   * one too deep. */
  if (depth == MAX_DEPTH)
    return (size_t)-1;
  if (*p == '"')
    p = string(p, end, 0, from0);
  else if (*p >= '1' && *p <= '9')
    p = integer(p, end);
  else
    p = scalar(p, end);
  if (!p)
    return (size_t)-1;
after:
  WS();
  if (!depth)
    goto done;
  if (p == end)
    return (size_t)-1;
  if (*p == ',') {
    p++;
    WS();
    if (!obj)
      goto value;
    goto key;
  }
  if (*p != (obj ? '}' : ']'))
    return (size_t)-1;
  p++;
close:
  depth--;
  obj = depth && open[(depth - 1) / 8] >> ((depth - 1) % 8) & 1;
  goto after;
key:
  if (p == end || *p != '"' || !(p = string(p, end, 1, from0)))
    return (size_t)-1;
  WS();
  if (p == end || *p != ':')
    return (size_t)-1;
  p++;
  goto value;
done:
#undef WS
  if (p != end)
    return (size_t)-1;
  memcpy(o, from, (size_t)(p - from));
  return (size_t)(o + (p - from) - dst);
}
