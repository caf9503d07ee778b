/*
 * Text: a body decoded to UTF-8 from the charset its Content-Type names.
 * UTF-8 and Latin-1 are decoded here; any other charset through iconv.
 * Invalid input never fails: each bad byte becomes U+FFFD.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "field.h"
#include "text.h"

static const char replacement[] = "\xEF\xBF\xBD";

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80)
    return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return len;
}

static int decode_utf8(const char *s, size_t len, salvo__buf *out) {
  const unsigned char *p = (const unsigned char *)s;
  if (salvo__buf_reserve(out, len))
    return SALVO_ENOMEM;
  size_t i = 0;
  while (i < len) {
    size_t start = i, n;
    while (i < len && (n = utf8_seq(p + i, len - i)))
      i += n;
    if (salvo__buf_append(out, s + start, i - start))
      return SALVO_ENOMEM;
    if (i < len) {
      if (salvo__buf_append(out, replacement, 3))
        return SALVO_ENOMEM;
      i++;
    }
  }
  return 0;
}

static int decode_latin1(const char *s, size_t len, salvo__buf *out) {
  if (salvo__buf_reserve(out, len * 2))
    return SALVO_ENOMEM;
  char *d = out->p + out->len;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
      *d++ = (char)c;
    } else {
      *d++ = (char)(0xC0 | c >> 6);
      *d++ = (char)(0x80 | (c & 0x3F));
    }
  }
  out->len = (size_t)(d - out->p);
  out->p[out->len] = '\0';
  return 0;
}

static int decode_iconv(iconv_t cd, const char *s, size_t len,
                        salvo__buf *out) {
  char *in = (char *)s;
  size_t left = len;
  if (salvo__buf_reserve(out, 0))
    return SALVO_ENOMEM;
  while (left) {
    if (salvo__buf_reserve(out, left * 4 + 16))
      return SALVO_ENOMEM;
    char *o = out->p + out->len;
    size_t room = out->cap - out->len - 1;
    size_t rc = iconv(cd, &in, &left, &o, &room);
    out->len = (size_t)(o - out->p);
    if (rc == (size_t)-1 && errno != E2BIG) {
      /* EILSEQ or a truncated sequence at the end: one byte, one U+FFFD. */
      if (salvo__buf_append(out, replacement, 3))
        return SALVO_ENOMEM;
      in++;
      left--;
      iconv(cd, NULL, NULL, NULL, NULL);
    }
  }
  out->p[out->len] = '\0';
  return 0;
}

/* The charset parameter of a Content-Type value, into buf; NULL if none. */
static const char *charset_of(const char *ctype, char *buf, size_t size) {
  const char *p = ctype;
  while (p && (p = strchr(p, ';'))) {
    p++;
    while (*p == ' ' || *p == '\t')
      p++;
    if (salvo__casecmp_n(p, "charset=", 8))
      continue;
    p += 8;
    int quoted = *p == '"';
    p += quoted;
    size_t n = 0;
    while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '"' && n < size - 1)
      n++;
    for (size_t i = 0; i < n; i++) /* a token, or no charset */
      if (!salvo__is_tchar((unsigned char)p[i]))
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return n ? buf : NULL;
  }
  return NULL;
}

static int is_one_of(const char *cs, const char *const *names) {
  for (; *names; names++)
    if (strlen(cs) == strlen(*names) && !salvo__casecmp_n(cs, *names, 64))
      return 1;
  return 0;
}

int salvo__text_decode(const char *body, size_t len, const char *ctype,
                       salvo__buf *out) {
  static const char *const utf8[] = {"utf-8", "utf8", "us-ascii", "ascii",
                                     NULL};
  static const char *const latin1[] = {
      "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1", "l1", NULL};
  char buf[64];
  const char *cs = ctype ? charset_of(ctype, buf, sizeof(buf)) : NULL;
  int err;
  iconv_t cd = (iconv_t)-1;
  if (!cs || is_one_of(cs, utf8))
    err = decode_utf8(body, len, out);
  else if (is_one_of(cs, latin1))
    err = decode_latin1(body, len, out);
  else if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
    err = decode_utf8(body, len, out); /* unknown charset: best effort */
  else {
    /* glibc's UTF-8 goes past U+10FFFF (F5 to FD lead bytes): what it
     * writes is checked as any UTF-8 is. */
    salvo__buf mid = {0};
    err = decode_iconv(cd, body, len, &mid);
    if (!err)
      err = decode_utf8(mid.p, mid.len, out);
    salvo__buf_free(&mid);
  }
  if (cd != (iconv_t)-1)
    iconv_close(cd);
  if (!err)
    out->p[out->len] = '\0'; /* an empty body appends nothing */
  return err;
}

size_t salvo_utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, n;
  if (!s)
    return 0;
  while (i < len && (n = utf8_seq(p + i, len - i)))
    i += n;
  return i;
}
