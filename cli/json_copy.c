/* JSON validated and copied in one pass (json_copy.h says what for). The
 * rules are RFC 8259's, with jansson's limits: depth 2048, integers that
 * fit a long long, reals that do not overflow a double, \u escapes that
 * are valid code points (surrogates paired; no U+0000 in a key),
 * well-formed UTF-8. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_copy.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

/* The output is the input less the whitespace between tokens, so the
 * input is copied a run at a time: from..p, up to the next whitespace
 * skipped (a compact body, one memcpy), not a token at a time. */
typedef struct jc {
  const unsigned char *p, *end;
  const unsigned char *from; /* input read and not yet copied */
  char *o;
  int depth;
} jc;

static int is_ws(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void flush(jc *j) {
  size_t n = (size_t)(j->p - j->from);
  memcpy(j->o, j->from, n);
  j->o += n;
}

static void ws(jc *j) {
  if (j->p == j->end || !is_ws(*j->p))
    return;
  flush(j);
  while (j->p < j->end && is_ws(*j->p))
    j->p++;
  j->from = j->p;
}

static int digit(const jc *j) {
  return j->p < j->end && *j->p >= '0' && *j->p <= '9';
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

/* A \u escape at j->p (the backslash): one code point, a surrogate pair
 * counting as one; in an object's key not U+0000 (jansson refuses a NUL
 * in a key even with JSON_ALLOW_NUL). */
static int escape_u(jc *j, int key) {
  unsigned u, lo;
  if (j->end - j->p < 6 || hex4(j->p + 2, &u) || (key && !u))
    return -1;
  j->p += 6;
  if (u >= 0xDC00 && u <= 0xDFFF)
    return -1;
  if (u < 0xD800 || u > 0xDBFF)
    return 0;
  if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
      hex4(j->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
    return -1;
  j->p += 6;
  return 0;
}

/* One UTF-8 sequence of two to four bytes (RFC 3629: no overlong form,
 * no surrogate, nothing past U+10FFFF). */
static int utf8(jc *j) {
  const unsigned char *p = j->p;
  unsigned c = p[0], lo = 0x80, hi = 0xBF;
  int more = c >= 0xC2 && c <= 0xDF   ? 1
             : c >= 0xE0 && c <= 0xEF ? 2
             : c >= 0xF0 && c <= 0xF4 ? 3
                                      : -1;
  if (more < 0 || j->end - p <= more)
    return -1;
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (p[1] < lo || p[1] > hi)
    return -1;
  for (int i = 2; i <= more; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return -1;
  j->p += more + 1;
  return 0;
}

/* Bytes a string holds as they are: printable ASCII and DEL, but '"' and
 * '\\'. A load a byte, where the tests in turn cost twelve instructions. */
static const unsigned char plain[256] = {
    ['\x20' ... '\x21'] = 1, ['\x23' ... '\x5b'] = 1, ['\x5d' ... '\x7f'] = 1};

static int string(jc *j, int key) {
  j->p++;
  for (;;) {
    /* The run in locals: j->p in memory cost a store a byte. */
    const unsigned char *p = j->p, *end = j->end;
    while (p < end && plain[*p])
      p++;
    j->p = p;
    if (p == end)
      return -1;
    unsigned c = *p; /* '"', '\\', a control or a byte from 0x80 */
    if (c == '"') {
      j->p++;
      return 0;
    }
    if (c < 0x20)
      return -1;
    if (c == '\\') {
      if (j->end - j->p < 2)
        return -1;
      c = j->p[1];
      if (c == 'u') {
        if (escape_u(j, key))
          return -1;
      } else if (c && strchr("\"\\/bfnrt", (int)c)) {
        j->p += 2;
      } else {
        return -1;
      }
    } else if (utf8(j)) {
      return -1;
    }
  }
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

static int number(jc *j) {
  const unsigned char *start = j->p;
  int real = 0;
  if (*j->p == '-')
    j->p++;
  if (j->p < j->end && *j->p == '0')
    j->p++;
  else if (digit(j))
    while (digit(j))
      j->p++;
  else
    return -1;
  if (j->p < j->end && *j->p == '.') {
    real = 1;
    j->p++;
    if (!digit(j))
      return -1;
    while (digit(j))
      j->p++;
  }
  int exp = j->p < j->end && (*j->p == 'e' || *j->p == 'E');
  if (exp) {
    real = 1;
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
      j->p++;
    if (!digit(j))
      return -1;
    while (digit(j))
      j->p++;
  }
  return number_fits(start, (size_t)(j->p - start), real, exp) ? 0 : -1;
}

static int literal(jc *j, const char *w, size_t n) {
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
    return -1;
  j->p += n;
  return 0;
}

static int value(jc *j);

/* An array or object at j->p, its opening bracket. */
static int container(jc *j, unsigned char close) {
  if (++j->depth > MAX_DEPTH)
    return -1;
  j->p++;
  ws(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    j->depth--;
    return 0;
  }
  for (;;) {
    if (close == '}') {
      if (j->p >= j->end || *j->p != '"' || string(j, 1))
        return -1;
      ws(j);
      if (j->p >= j->end || *j->p != ':')
        return -1;
      j->p++;
      ws(j);
    }
    if (value(j))
      return -1;
    ws(j);
    if (j->p >= j->end)
      return -1;
    if (*j->p == close) {
      j->p++;
      j->depth--;
      return 0;
    }
    if (*j->p != ',')
      return -1;
    j->p++;
    ws(j);
  }
}

static int value(jc *j) {
  if (j->p >= j->end)
    return -1;
  switch (*j->p) {
  case '{':
    return container(j, '}');
  case '[':
    return container(j, ']');
  case '"':
    return string(j, 0);
  case 't':
    return literal(j, "true", 4);
  case 'f':
    return literal(j, "false", 5);
  case 'n':
    return literal(j, "null", 4);
  default:
    return *j->p == '-' || (*j->p >= '0' && *j->p <= '9') ? number(j) : -1;
  }
}

size_t json_compact(const char *src, size_t n, char *dst) {
  const unsigned char *p = (const unsigned char *)src;
  jc j = {p, p + n, p, dst, 0};
  ws(&j);
  if (value(&j))
    return (size_t)-1;
  ws(&j);
  if (j.p != j.end)
    return (size_t)-1;
  flush(&j);
  return (size_t)(j.o - dst);
}
