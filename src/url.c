/* URLs: see url.h. */
#include "url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int fail(char **msg, char *m) {
  *msg = m;
  return SALVO_EINVAL;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* The first byte of s[0..n) that is whitespace or a control (SP and
 * below, DEL), else n: every URL submitted is checked, sixteen bytes a
 * step where the compiler has SSE2, eight (the "has a byte less than"
 * test of Bit Twiddling Hacks) where not. The same pass finds what the
 * request would otherwise look for again, with two memchr calls that
 * cost more than the pass: the first '#' (u->fragment) and whether there
 * is an '@' (u->at_sign), and whether a byte is from 0x80 (u->high). They
 * are kept in locals until the end: a byte read through a char pointer may
 * alias u's fields. */
static size_t first_ctl(const char *s, size_t n, salvo__url *u) {
  size_t i = 0, frag = n;
  unsigned at = 0, high = 0;
#ifdef __SSE2__
  for (; n - i >= 16; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i bad =
        _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    unsigned h =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('#')));
    at |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
    high |= (unsigned)_mm_movemask_epi8(v);
    if (h && frag == n)
      frag = i + (size_t)__builtin_ctz(h);
    if (_mm_movemask_epi8(bad))
      break;
  }
#else
  const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
  for (; n - i >= 8; i += 8) {
    uint64_t x, y;
    memcpy(&x, s + i, 8);
    y = x ^ (ones * 0x7f);
    if (((x - ones * 0x21) & ~x & highs) | ((y - ones) & ~y & highs))
      break;
    high |= (x & highs) != 0;
    for (size_t k = i; k < i + 8; k++) {
      frag = s[k] == '#' && frag == n ? k : frag;
      at |= s[k] == '@';
    }
  }
#endif
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f)
      break;
    frag = c == '#' && frag == n ? i : frag;
    at |= c == '@';
    high |= c & 0x80; /* one OR a byte */
  }
  u->fragment = frag;
  u->at_sign = at != 0;
  u->high = high != 0;
  return i;
}

/* w with its ASCII capitals in lower case, eight bytes at once: a byte's
 * high bit, added into its low seven, says whether it is from 'A' on and
 * whether past 'Z' (no carry leaves a byte); other bytes, obs-text
 * included, stay as they are. */
static uint64_t lower8(uint64_t w) {
  const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
  uint64_t h = w & ~highs;
  uint64_t from_a = h + ones * (0x80 - 'A'), past_z = h + ones * (0x7f - 'Z');
  return w | ((from_a & ~past_z & ~w & highs) >> 2);
}

static int is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

size_t salvo__url_scheme_chars(const char *url) {
  size_t n = is_alpha(url[0]);
  while (n && (is_alpha(url[n]) || is_digit(url[n]) || url[n] == '+' ||
               url[n] == '-' || url[n] == '.'))
    n++;
  return n;
}

/* A "://" further on, as in a relative reference's query
 * "x?next=http://y", is not a scheme's. Most URLs start with http:// or
 * https://, tried first. */
size_t salvo__url_scheme_len(const char *url) {
  if ((url[0] | 0x20) == 'h' && (url[1] | 0x20) == 't' &&
      (url[2] | 0x20) == 't' && (url[3] | 0x20) == 'p') {
    size_t n = 4 + ((url[4] | 0x20) == 's');
    if (url[n] == ':' && url[n + 1] == '/' && url[n + 2] == '/')
      return n;
  }
  size_t n = salvo__url_scheme_chars(url);
  return n && url[n] == ':' && url[n + 1] == '/' && url[n + 2] == '/' ? n : 0;
}

/* Why a URL without "scheme://" at its start is refused. */
static int no_scheme(const char *url, char **msg) {
  size_t n = salvo__url_scheme_chars(url);
  if (n && url[n] == ':' && url[n + 1] == '/')
    return fail(msg, salvo__fmt("malformed URL: one '/' after \"%.*s:\" "
                                "where \"//\" must be",
                                (int)(n > 32 ? 32 : n), url));
  return fail(msg, salvo__fmt("malformed URL: no scheme in \"%.200s\"", url));
}

/* Where the authority at auth ends (its first '/', '?', '#' or the URL's
 * end, lim), in one pass that also finds its last '@' (*at, the end of
 * the userinfo) and the first ':' after that (*colon, before a port):
 * sixteen bytes a step where they are there (most authorities are
 * within sixteen), then a byte at a time. */
static const char *authority_end(const char *auth, const char *lim,
                                 const char **at, const char **colon) {
  static const unsigned char kind[256] = {
      [0] = 1, ['/'] = 1, ['?'] = 1, ['#'] = 1, ['@'] = 2, [':'] = 3};
#ifdef __SSE2__
  for (; lim - auth >= 16; auth += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)auth);
    __m128i end = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8('?')));
    end = _mm_or_si128(end, _mm_cmpeq_epi8(v, _mm_set1_epi8('#')));
    unsigned stop = (unsigned)_mm_movemask_epi8(end);
    unsigned before = stop ? (1u << __builtin_ctz(stop)) - 1 : 0xffff;
    unsigned ats =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('@'))) &
        before;
    unsigned cols =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':'))) &
        before;
    if (ats) {
      int last = 31 - __builtin_clz(ats);
      *at = auth + last;
      *colon = NULL;
      cols &= ~((2u << last) - 1);
    }
    if (cols && !*colon)
      *colon = auth + __builtin_ctz(cols);
    if (stop)
      return auth + __builtin_ctz(stop);
  }
#else
  (void)lim;
#endif
  for (;; auth++) {
    switch (kind[(unsigned char)*auth]) {
    case 0:
      continue;
    case 1:
      return auth;
    case 2:
      *at = auth;
      *colon = NULL;
      continue;
    default:
      if (!*colon)
        *colon = auth;
    }
  }
}

int salvo__url_check(const char *url, salvo__url *u, char **msg) {
  size_t bad = first_ctl(url, u->len, u);
  *msg = NULL;
  if (bad < u->len)
    return fail(msg, salvo__fmt("malformed URL: whitespace or control "
                                "character at offset %zu",
                                bad));
  return 0;
}

/* Whether s[0..n) is an IPv6 address, checked here: the native transport
 * looked "[zz]" up in the DNS where libcurl refused it. A zone
 * ("%25eth0", RFC 6874) the two would not take alike, so neither does. */
static int ipv6_literal(const char *s, size_t n) {
  char a[INET6_ADDRSTRLEN];
  struct in6_addr in6;
  if (n >= sizeof(a) || memchr(s, '%', n))
    return 0;
  memcpy(a, s, n);
  a[n] = '\0';
  return inet_pton(AF_INET6, a, &in6) == 1;
}

/* Whether s[0..n) is an IPv4 address in a form other than four decimal
 * numbers ("127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1"): libcurl
 * reads these as inet_aton does (0177 octal, 127), the native transport's
 * resolver as decimal or as a name (177, a DNS query): one URL, two hosts. */
static int odd_ipv4(const char *s, size_t n) {
  char a[32];
  struct in_addr in;
  if (!n || n >= sizeof(a) || !is_digit(*s))
    return 0;
  memcpy(a, s, n);
  a[n] = '\0';
  return inet_aton(a, &in) && inet_pton(AF_INET, a, &in) != 1;
}

int salvo__url_scheme_fetched(const char *s, size_t n) {
  return (n == 4 && !salvo__casecmp_n(s, "http", 4)) ||
         (n == 5 && !salvo__casecmp_n(s, "https", 5));
}

/* Only what a transport would misread or what salvo needs (scheme, host,
 * port) is checked here; the rest is the server's to judge. */
int salvo__url_parse(const char *url, salvo__url *u, char **msg) {
  size_t len = strlen(url);
  u->len = len;
  if (salvo__url_check(url, u, msg))
    return SALVO_EINVAL;
  if ((u->scheme_len = salvo__url_scheme_len(url)) == 0)
    return no_scheme(url, msg);
  if (!salvo__url_scheme_fetched(url, u->scheme_len))
    return fail(msg, salvo__fmt(SALVO__URL_UNSUPPORTED,
                                (int)(u->scheme_len > 32 ? 32 : u->scheme_len),
                                url));
  const char *auth = url + u->scheme_len + 3, *at = NULL, *colon = NULL;
  const char *end = authority_end(auth, url + len, &at, &colon);
  u->userinfo = at != NULL;
  const char *h = at ? at + 1 : auth;
  u->path = (size_t)(end - url);
  const char *hend;
  if (*h == '[') {
    hend = memchr(h, ']', (size_t)(end - h));
    if (!hend)
      return fail(msg, salvo__fmt("malformed URL: unclosed IPv6 address"));
    hend++;
    if (!ipv6_literal(h + 1, (size_t)(hend - h - 2)))
      return fail(msg, salvo__fmt("malformed URL: \"%.*s\" is not an IPv6 "
                                  "address (zones are not taken)",
                                  (int)(hend - h < 64 ? hend - h : 64), h));
  } else {
    hend = colon ? colon : end;
  }
  u->host = h;
  u->host_len = (size_t)(hend - h);
  if (u->host_len == 0)
    return fail(msg, salvo__fmt("malformed URL: no host"));
  /* Refused the same on both transports (the native one looked the bytes
   * up, libcurl called the URL malformed): salvo converts no IDN, and a
   * name holds none of the bytes libcurl refuses ("a%20b" was looked up). */
  for (size_t i = 0; i < u->host_len; i++) {
    if ((unsigned char)h[i] >= 0x80)
      return fail(msg, salvo__fmt("malformed URL: a host name in UTF-8 (an "
                                  "internationalized name): give its "
                                  "ASCII form (xn--...)"));
    if (*h != '[' && strchr("!{}[]\\$'\"^`*<>=;,+&()%", h[i]))
      return fail(msg,
                  salvo__fmt("malformed URL: a host name holding '%c'", h[i]));
  }
  if (*h != '[' && odd_ipv4(h, u->host_len))
    return fail(msg, salvo__fmt("malformed URL: \"%.*s\" is an IPv4 address "
                                "in a form read two ways: give it as four "
                                "decimal numbers",
                                (int)u->host_len, h));
  u->port = u->scheme_len == 5 ? 443 : 80;
  u->port_text = u->scheme_len == 5 ? "443" : "80";
  u->port_text_len = u->scheme_len == 5 ? 3 : 2;
  if (hend < end) {
    if (*hend != ':')
      return fail(msg, salvo__fmt("malformed URL: bad host"));
    const char *p = hend + 1;
    if (p < end) {
      unsigned port = 0;
      for (; p < end; p++) {
        if (!is_digit(*p) || port > 65535)
          return fail(msg, salvo__fmt("malformed URL: bad port"));
        port = port * 10 + (unsigned)(*p - '0');
      }
      if (port == 0 || port > 65535)
        return fail(msg, salvo__fmt("malformed URL: bad port"));
      u->port = port;
      const char *digits = hend + 1;
      while (*digits == '0') /* the port is not 0: a digit is left */
        digits++;
      u->port_text = digits;
      u->port_text_len = (size_t)(end - digits);
    }
  }
  return 0;
}

size_t salvo__url_origin_len(const salvo__url *u) {
  return u->scheme_len + 3 + u->host_len + 6;
}

char *salvo__url_put_origin(char *d, const salvo__url *u) {
  /* The scheme is http or https, in any case. */
  memcpy(d, u->scheme_len == 5 ? "https://" : "http://", 8);
  d += u->scheme_len + 3;
  size_t i = 0;
  for (; i + 8 <= u->host_len; i += 8, d += 8) {
    uint64_t w;
    memcpy(&w, u->host + i, 8);
    w = lower8(w);
    memcpy(d, &w, 8);
  }
  for (; i < u->host_len; i++) {
    char c = u->host[i];
    *d++ = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  *d++ = ':';
  memcpy(d, u->port_text, u->port_text_len);
  d += u->port_text_len;
  *d = '\0';
  return d;
}

char *salvo__url_origin(const char *url, int *err) {
  salvo__url u;
  char *msg = NULL;
  if (salvo__url_parse(url, &u, &msg)) {
    free(msg);
    *err = SALVO_EINVAL;
    return NULL;
  }
  char *origin = malloc(salvo__url_origin_len(&u) + 1);
  *err = origin ? 0 : SALVO_ENOMEM;
  if (origin)
    salvo__url_put_origin(origin, &u);
  return origin;
}

int salvo_url_shard(const char *url, unsigned n) {
  int err;
  char *origin = url && n ? salvo__url_origin(url, &err) : NULL;
  if (!origin)
    return url && n ? err : SALVO_EINVAL;
  unsigned shard = salvo__hash(origin) % n;
  free(origin);
  return (int)shard;
}

/* ---- query parameters ------------------------------------------------ */

static int unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

static size_t enc_len(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += unreserved((unsigned char)*s) ? 1 : 3;
  return n;
}

char *salvo__url_pct(char *d, unsigned char c) {
  static const char hex[] = "0123456789ABCDEF";
  d[0] = '%';
  d[1] = hex[c >> 4];
  d[2] = hex[c & 15];
  return d + 3;
}

static char *enc_put(char *d, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (unreserved(c))
      *d++ = (char)c;
    else
      d = salvo__url_pct(d, c);
  }
  return d;
}

const char salvo_no_value[1] = "";

/* A name's value as sent: NULL for a name alone. */
static const char *param_value(const char *v) {
  return v == salvo_no_value ? NULL : v;
}

static size_t params_len(const char *const *params) {
  size_t n = 0;
  for (size_t i = 0; params && params[i]; i += 2) {
    const char *v = param_value(params[i + 1]);
    n += 1 + enc_len(params[i]) + (v ? 1 + enc_len(v) : 0);
  }
  return n;
}

/* The bytes from 0x80 in s[0..n). */
static size_t count_high(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += (unsigned char)s[i] >= 0x80;
  return k;
}

/* s[0..n) at d, each byte from 0x80 as "%XX" when enc; returns the end. */
static char *put_part(char *d, const char *s, size_t n, int enc) {
  if (!enc)
    return (char *)memcpy(d, s, n) + n;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80)
      *d++ = (char)c;
    else
      d = salvo__url_pct(d, c);
  }
  return d;
}

size_t salvo__url_request_len(const char *url, const salvo__url *u,
                              const char *const *params) {
  size_t n = u->len + params_len(params);
  if (u->high)
    n += 2 * count_high(url + u->path, u->len - u->path);
  return n;
}

char *salvo__url_put_with_params(char *d, const char *url, const salvo__url *u,
                                 const char *const *params) {
  size_t len = u->len;
  int enc = u->high;
  if (!enc && (!params || !params[0]))
    return (char *)memcpy(d, url, len + 1) + len;
  /* A '#' is past the host: the authority ends at the first one. */
  const char *hash = memchr(url, '#', len);
  size_t base = hash ? (size_t)(hash - url) : len;
  char *p = put_part(d, url, u->path, 0);
  p = put_part(p, url + u->path, base - u->path, enc);
  const char *q = memchr(url, '?', base);
  char sep = !q                                                         ? '?'
             : (base && (url[base - 1] == '?' || url[base - 1] == '&')) ? 0
                                                                        : '&';
  for (size_t i = 0; params && params[i]; i += 2) {
    const char *v = param_value(params[i + 1]);
    if (sep)
      *p++ = sep;
    sep = '&';
    p = enc_put(p, params[i]);
    if (v) {
      *p++ = '=';
      p = enc_put(p, v);
    }
  }
  p = put_part(p, url + base, len - base, enc);
  *p = '\0';
  return p;
}

void salvo__url_target(const char *url, const char **p, size_t *n) {
  const char *a = strstr(url, "://") + 3;
  const char *s = a + strcspn(a, "/?#");
  *p = s;
  *n = strcspn(s, "#");
}
