/*
 * HTTP field syntax (RFC 9110 5): what a byte may be in a token or a field
 * value, a header's name, and the checks that keep CR and LF out of what
 * salvo sends.
 */
#ifndef SALVO_FIELD_H
#define SALVO_FIELD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* What each byte may be in HTTP (RFC 9110 5.1, 5.5): a token character;
 * a character of a field value or reason phrase (SP, HTAB, VCHAR,
 * obs-text). One table, so that the checks of every header line cost a
 * load per byte. */
#define SALVO__TCHAR 1
#define SALVO__VTEXT 2
extern const unsigned char salvo__ctype[256];
static inline int salvo__is_tchar(unsigned char c) {
  return salvo__ctype[c] & SALVO__TCHAR;
}
/* The n bytes at p, or the first eight of them, as one word (the rest
 * zero). */
/* Whether s[0..n) holds a byte no field value carries (RFC 9110 5.5: a
 * control or DEL; HTAB too unless tab_ok). */
/* Why a value sent in a field is refused when salvo__field_ctl finds a
 * byte in it (CR and LF have words of their own). */
#define SALVO__CTL_IN_VALUE                                                    \
  "contains a control character (RFC 9110 5.5: a field value holds none "      \
  "but HTAB)"
static inline int salvo__field_ctl(const char *s, size_t n, int tab_ok) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(salvo__ctype[c] & SALVO__VTEXT) || (!tab_ok && c == '\t'))
      return 1;
  }
  return 0;
}

static inline uint64_t salvo__load8(const char *p, size_t n) {
  uint64_t x = 0;
  if (n >= 8)
    memcpy(&x, p, 8);
  else
    memcpy(&x, p, n);
  return x;
}
/* Whether a[0..n) is lit, a name of lower-case letters and '-', in any
 * case. Eight bytes at a time: a letter's byte of lit has bit 0x40 set,
 * so ORing 0x20 into a's byte at those places (and only there) folds its
 * case; an exact compare elsewhere. Called with a constant n, the copies
 * are single loads. */
static inline int salvo__name_is(const char *a, const char *lit, size_t n) {
  const uint64_t letters = 0x4040404040404040ull;
  uint64_t x, y;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&x, a + i, 8);
    memcpy(&y, lit + i, 8);
    if ((x | (y & letters) >> 1) != y)
      return 0;
  }
  if (i == n)
    return 1;
  x = y = 0;
  memcpy(&x, a + i, n - i);
  memcpy(&y, lit + i, n - i);
  return (x | (y & letters) >> 1) == y;
}
/* x with its ASCII upper-case letters made lower case, eight bytes at
 * once: a byte's bit 7 is set by adding 0x3f from 'A' up and by adding
 * 0x25 from '[' up (never carrying, its own bit 7 cleared first); a byte
 * between, below 0x80, is a letter to fold. */
static inline uint64_t salvo__fold8(uint64_t x) {
  const uint64_t highs = 0x8080808080808080ull;
  uint64_t low7 = x & ~highs;
  uint64_t upper =
      ((low7 + 0x3f3f3f3f3f3f3f3full) ^ (low7 + 0x2525252525252525ull)) & ~x &
      highs;
  return x | upper >> 2;
}
/* Whether a[0..n) and b[0..n) are the same in any case (RFC 9110 5.1:
 * names), eight bytes a step; both must have n bytes to read. */
static inline int salvo__case_eq(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x = salvo__load8(a + i, n - i), y = salvo__load8(b + i, n - i);
    if (x != y && salvo__fold8(x) != salvo__fold8(y))
      return 0;
  }
  return 1;
}
/* Length of the header name in "Name: value", or 0 when malformed. */
size_t salvo__header_name_len(const char *h);
/* How much of a malformed header line h a message may show: what comes
 * before its first colon, at most 100 bytes. Never its value, which may
 * be a credential ("Authorization : Bearer ..."). */
int salvo__header_shown(const char *h);
/* The value of "Name: value" (after its colon and leading spaces), for a
 * header whose name salvo__header_name_len accepts. */
const char *salvo__header_value(const char *h);
/* How much of a caller's header h is kept: all but the whitespace after
 * its value (a field value has none, RFC 9110 5.5; over HTTP/2 a value
 * ending with it makes the request malformed, RFC 9113 8.2.1, and libcurl
 * 7.88 would send it). A value of whitespace alone is kept as given. */
size_t salvo__header_kept_len(const char *h);
/* Whether method m says Content-Length: 0 without a body (POST, PUT and
 * PATCH: RFC 9110 8.6, a request whose method defines a meaning for
 * content; RFC 5789 2 for PATCH). The one rule the native head, libcurl's
 * options and the request's own headers follow. */
static inline int salvo__method_says_length(const char *m) {
  return m[0] == 'P' &&
         ((m[1] == 'O' && m[2] == 'S' && m[3] == 'T' && !m[4]) ||
          (m[1] == 'U' && m[2] == 'T' && !m[3]) ||
          (m[1] == 'A' && m[2] == 'T' && m[3] == 'C' && m[4] == 'H' && !m[5]));
}
/* Whether header line h sets a message's framing (Content-Length or
 * Transfer-Encoding). Both transports drop the caller's and frame the
 * body they send themselves: a length that is not the body's would
 * desynchronize the connection (RFC 9112 6). */
int salvo__header_is_framing(const char *h);
/* Cuts the optional whitespace (SP, HTAB: RFC 9110 5.6.3) around a field
 * value of *n bytes at *v. */
static inline void salvo__ows_trim(const char **v, size_t *n) {
  const char *s = *v, *e = s + *n;
  while (s < e && (*s == ' ' || *s == '\t'))
    s++;
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  *v = s;
  *n = (size_t)(e - s);
}
/* The next element of the comma-separated list v[*i..n) (RFC 9110
 * 5.6.1), without the OWS around it: *e and *en (0 for an empty one, which
 * a recipient passes over); 0 when the list has no more. Start *i at 0. */
static inline int salvo__list_next(const char *v, size_t n, size_t *i,
                                   const char **e, size_t *en) {
  if (*i > n)
    return 0;
  size_t s = *i;
  while (*i < n && v[*i] != ',')
    (*i)++;
  *e = v + s;
  *en = *i - s;
  salvo__ows_trim(e, en);
  (*i)++;
  return 1;
}
/* Why header h, whose name salvo__header_name_len accepts, may not be
 * sent, in words that follow `header "<name>" `, or NULL: CR or LF or
 * another control but HTAB in it, or "Host:" without a value, which would
 * remove the Host every request must carry (RFC 9112 3.2; HTTP/2's :authority,
 * RFC 9113 8.3.1). The one check of the client's headers and a request's. */
const char *salvo__header_problem(const char *h);
/* Whether a NULL-terminated list of "Name: value" headers (NULL = none)
 * has one named by the first n bytes of name, in any case. */
int salvo__headers_have(const char *const *list, const char *name, size_t n);
/* What a list of headers says of the connection, one header h (its name
 * name_len bytes) at a time, from said = -1: -1 while no Connection field
 * came, else 1 once one lists the "close" option (RFC 9112 9.6: no request
 * may follow on that connection), 0 while none does. A request's own
 * Connection replaces the client's, as every field of its does. */
int salvo__header_close(const char *h, size_t name_len, int said);
/* The first CR or LF in s, or NULL (also for s NULL). */
const char *salvo__ctl_in(const char *s);

#endif /* SALVO_FIELD_H */
