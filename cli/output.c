/* The JSON lines: one object per result, written into a buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json_copy.h"

static __attribute__((noinline)) void out_grow(out *o, size_t n) {
  while (o->len + n + 1 > o->cap)
    o->cap = o->cap ? o->cap * 2 : 4096;
  o->p = realloc(o->p, o->cap);
  if (!o->p)
    exit(1);
}

static inline void out_reserve(out *o, size_t n) {
  if (o->len + n + 1 > o->cap)
    out_grow(o, n);
}

static inline void out_add(out *o, const char *s, size_t n) {
  out_reserve(o, n);
  memcpy(o->p + o->len, s, n);
  o->len += n;
}

static void out_str(out *o, const char *s) { out_add(o, s, strlen(s)); }

/* A string literal: its length is known where it is written, so the copy
 * is a few moves, not a strlen and a memcpy call. */
#define OUT_LIT(o, lit) out_add((o), "" lit, sizeof(lit) - 1)

/* Numbers by hand, two digits a step: printf was most of the command's
 * cost per result, and a digit a step still cost 134 instructions for a
 * six-digit index. Written backwards to tmp[20], then copied to d as a
 * fixed 20 bytes (two moves, where a copy of the digits' own length was a
 * call): d has room for 20, and what follows the digits is written over
 * next. Past the digits. */
static char *put_u64(char *d, unsigned long long v) {
  static const char pairs[] =
      "00010203040506070809101112131415161718192021222324"
      "25262728293031323334353637383940414243444546474849"
      "50515253545556575859606162636465666768697071727374"
      "75767778798081828384858687888990919293949596979899";
  char tmp[40], *end = tmp + 20, *t = end;
  while (v >= 100) {
    t -= 2;
    memcpy(t, pairs + v % 100 * 2, 2);
    v /= 100;
  }
  if (v >= 10) {
    t -= 2;
    memcpy(t, pairs + v * 2, 2);
  } else {
    *--t = (char)('0' + v);
  }
  memcpy(d, t, 20);
  return d + (end - t);
}

static void out_u64(out *o, unsigned long long v) {
  out_reserve(o, 20);
  o->len = (size_t)(put_u64(o->p + o->len, v) - o->p);
}

/* Seconds as milliseconds with three decimals (d has room for 24). */
static char *put_ms(char *d, double seconds) {
  unsigned long long us =
      seconds > 0 ? (unsigned long long)(seconds * 1e6 + 0.5) : 0;
  d = put_u64(d, us / 1000);
  d[0] = '.';
  d[1] = (char)('0' + us / 100 % 10);
  d[2] = (char)('0' + us / 10 % 10);
  d[3] = (char)('0' + us % 10);
  return d + 4;
}

/* A byte a JSON string holds as it is: printable ASCII but '"' and
 * '\\'. */
static int is_plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Where the run of plain bytes at p[i..n) ends: sixteen bytes a step
 * where there are sixteen, since URLs and keys are mostly such runs. The
 * last bytes of a string of sixteen or more are read as the sixteen that
 * end it, the bits of bytes already seen shifted out: a URL's tail cost
 * 7 instructions a byte, a byte at a time. */
static size_t plain_end(const unsigned char *p, size_t i, size_t n) {
#ifdef __SSE2__
  for (; n - i >= 16; i += 16) {
    unsigned m = json_specials16(p + i, 1);
    if (m)
      return i + (size_t)__builtin_ctz(m);
  }
  if (i < n && n >= 16) {
    unsigned m = json_specials16(p + n - 16, 1) >> (16 - (n - i));
    return m ? i + (size_t)__builtin_ctz(m) : n;
  }
#endif
  while (i < n && is_plain(p[i]))
    i++;
  return i;
}

/* The room a JSON string of n bytes takes at most: its quotes, and six
 * bytes a byte (a control's \u00XX, or U+FFFD's escape for a byte that is
 * not UTF-8). */
static size_t jstr_room(size_t n) { return 6 * n + 2; }

/* A JSON string's content at d, which has jstr_room(n) bytes; bytes
 * that are not UTF-8 become U+FFFD. Past it. */
static char *put_jstr_body(char *d, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (is_plain(c)) {
      size_t j = plain_end(p, i, n);
      memcpy(d, s + i, j - i);
      d += j - i;
      i = j;
    } else if (c == '"' || c == '\\') {
      *d++ = '\\';
      *d++ = (char)c;
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      const char *named = c == '\n'   ? "n"
                          : c == '\r' ? "r"
                          : c == '\t' ? "t"
                                      : NULL;
      *d++ = '\\';
      if (named) {
        *d++ = *named;
      } else {
        memcpy(d, "u00", 3);
        d[3] = hex[c >> 4];
        d[4] = hex[c & 15];
        d += 5;
      }
      i++;
    } else {
      /* A run of non-ASCII bytes, checked by the library's strict
       * validator: no overlong forms, surrogates or code points past
       * U+10FFFF reach the output. */
      size_t end = i;
      while (end < n && p[end] >= 0x80)
        end++;
      size_t ok = salvo_utf8_valid(s + i, end - i);
      if (ok) {
        memcpy(d, s + i, ok);
        d += ok;
        i += ok;
      } else {
        memcpy(d, "\\ufffd", 6);
        d += 6;
        i++;
      }
    }
  }
  return d;
}

/* The string, quoted. */
static char *put_jstr(char *d, const char *s, size_t n) {
  *d = '"';
  d = put_jstr_body(d + 1, s, n);
  *d = '"';
  return d + 1;
}

/* Where a long string is cut into pieces of about JSTR_PIECE bytes, each
 * escaped in room of its own (a body's text reserved at six times its
 * size would be gigabytes): at a byte that starts no UTF-8 sequence's
 * tail, so that each piece reads as the whole would. Four continuation
 * bytes in a row are past any sequence begun before them. */
#define JSTR_PIECE 65536
static size_t piece_end(const unsigned char *p, size_t i, size_t n) {
  size_t k = i + JSTR_PIECE;
  if (k >= n)
    return n;
  for (size_t j = 0; j < 4; j++)
    if ((p[k - j] & 0xC0) != 0x80)
      return k - j;
  return k;
}

static void out_jstr(out *o, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  out_add(o, "\"", 1);
  for (size_t i = 0, e; i < n; i = e) {
    e = piece_end(p, i, n);
    out_reserve(o, jstr_room(e - i));
    o->len = (size_t)(put_jstr_body(o->p + o->len, s + i, e - i) - o->p);
  }
  out_add(o, "\"", 1);
}

static void out_base64(out *o, const unsigned char *p, size_t n) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out_reserve(o, (n + 2) / 3 * 4 + 2);
  char *d = o->p + o->len;
  *d++ = '"';
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = tbl[(v >> 6) & 63];
    *d++ = tbl[v & 63];
  }
  if (i < n) {
    uint32_t v =
        (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    *d++ = tbl[v >> 18];
    *d++ = tbl[(v >> 12) & 63];
    *d++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    *d++ = '=';
  }
  *d++ = '"';
  o->len = (size_t)(d - o->p);
}

static int safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Up to max bytes of raw with every byte outside [A-Za-z0-9._-] made '_'
 * and a leading dot too (so no name is "..", hidden, absolute or holds a
 * slash); returns the length written. */
static size_t sanitize(char *dst, const char *raw, size_t max) {
  size_t n = 0;
  if (raw[0] == '.' || !raw[0])
    dst[n++] = '_';
  for (size_t i = 0; raw[i] && n < max; i++)
    dst[n++] = safe_char(raw[i]) ? raw[i] : '_';
  dst[n] = '\0';
  return n;
}

/* A key kept as it is: non-empty, safe, no leading dot, not too long. */
static int kept_as_is(const char *key) {
  size_t n = strlen(key);
  if (!n || n > 200 || key[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!safe_char(key[i]))
      return 0;
  return 1;
}

/* A file name inside --output-dir: a key as it is when it is a safe name;
 * any other key sanitized, shortened, and followed by "~" and a hash of
 * the whole key, so that two keys never share a name ("a/b" and "a_b"
 * differ; "~" is in no name kept as is). Without a key, "<line>-<last
 * path segment>", unique by its line. */
void output_file_name(char *dst, size_t cap, const char *key, const char *url,
                      unsigned long long lineno) {
  char raw[512];
  if (key && kept_as_is(key)) {
    snprintf(dst, cap, "%s", key);
    return;
  }
  if (key) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
      h = (h ^ *p) * 0x100000001b3ull;
    char part[160];
    snprintf(raw, sizeof(raw), "%.150s", key);
    sanitize(part, raw, 150);
    snprintf(dst, cap, "%s~%016llx", part, (unsigned long long)h);
    return;
  }
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  size_t end = strcspn(p, "?#");
  const char *seg = p, *slash;
  while ((slash = memchr(seg, '/', (size_t)(p + end - seg))))
    seg = slash + 1;
  int len = (int)(p + end - seg);
  snprintf(raw, sizeof(raw), "%llu-%.*s", lineno, len > 0 ? len : 5,
           len > 0 ? seg : "index");
  sanitize(dst, raw, cap - 1 < 200 ? cap - 1 : 200);
}

int output_claim(const char *path, const struct timespec *since, int *created,
                 char **why) {
  struct stat st;
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  *why = NULL;
  *created = fd >= 0;
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  if (errno == EEXIST && !lstat(path, &st) && S_ISREG(st.st_mode)) {
    if (st.st_ctim.tv_sec > since->tv_sec ||
        (st.st_ctim.tv_sec == since->tv_sec &&
         st.st_ctim.tv_nsec >= since->tv_nsec)) {
      if (asprintf(why,
                   "refusing to write %s: another result of this run has "
                   "that file (a key given twice?)",
                   path) < 0)
        exit(1);
      return -1;
    }
    /* An earlier run's file: touched (its content kept until a body
     * replaces it), so that its ctime says it is this run's now. */
    const struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    if (!utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW))
      return 0;
  }
  if (errno == EEXIST || errno == ELOOP || !errno) {
    if (asprintf(why, "refusing to write %s: not a regular file", path) < 0)
      exit(1);
  } else if (asprintf(why, "cannot write %s: %s", path, strerror(errno)) < 0) {
    exit(1);
  }
  return -1;
}

#define PUT_LIT(d, lit)                                                        \
  (memcpy((d), "" lit, sizeof(lit) - 1), (d) + sizeof(lit) - 1)

/* index is the input line; key is always a string: the request's key, or
 * the line number when it has none. One reserve for the three (a URL or
 * key too long to escape in place goes its own way). */
static void emit_fields(out *o, const slot *s) {
  const char *key = s->r ? salvo_response_key(s->r) : s->key;
  size_t kn = key ? strlen(key) : 0;
  if (kn > JSTR_PIECE || s->url.len > JSTR_PIECE) {
    OUT_LIT(o, "{\"index\":");
    out_u64(o, s->lineno);
    OUT_LIT(o, ",\"key\":");
    if (key) {
      out_jstr(o, key, kn);
    } else {
      OUT_LIT(o, "\"");
      out_u64(o, s->lineno);
      OUT_LIT(o, "\"");
    }
    OUT_LIT(o, ",\"url\":");
    out_jstr(o, s->url.p, s->url.len);
    return;
  }
  out_reserve(o, 96 + jstr_room(kn) + jstr_room(s->url.len));
  char *d = PUT_LIT(o->p + o->len, "{\"index\":"), *digits = d;
  d = put_u64(d, s->lineno);
  size_t nd = (size_t)(d - digits);
  d = PUT_LIT(d, ",\"key\":");
  if (key) {
    d = put_jstr(d, key, kn);
  } else { /* the index's digits again, quoted */
    d[0] = '"';
    memmove(d + 1, digits, nd);
    d[nd + 1] = '"';
    d += nd + 2;
  }
  d = PUT_LIT(d, ",\"url\":");
  d = put_jstr(d, s->url.p, s->url.len);
  o->len = (size_t)(d - o->p);
}

static void emit_text(out *o, salvo_response *r) {
  size_t len;
  const char *t = salvo_response_text(r, &len);
  OUT_LIT(o, ",\"body\":");
  out_jstr(o, t, len);
}

/* Whether s[0..16) is "application/json" in any case: eight bytes a
 * compare, with 0x20 ORed into s's bytes only where the literal has a
 * letter (bit 0x40), which folds a letter's case and nothing else. */
static int is_app_json(const char *s) {
  static const char lit[16] = "application/json";
  const uint64_t letters = 0x4040404040404040ull;
  uint64_t x, y, x2, y2;
  memcpy(&x, s, 8);
  memcpy(&y, lit, 8);
  memcpy(&x2, s + 8, 8);
  memcpy(&y2, lit + 8, 8);
  return (x | (y & letters) >> 1) == y && (x2 | (y2 & letters) >> 1) == y2;
}

/* Where a media type ends in a Content-Type value. */
static int ends_type(char c) { return !c || c == ';' || c == ' ' || c == '\t'; }

/* application/json, or any type with a +json suffix (RFC 6839). The
 * first is asked after a strnlen, not a strcspn: 50 instructions a
 * response where nearly every JSON body says application/json. */
static int says_json(const char *ctype) {
  if (!ctype)
    return 0;
  if (strnlen(ctype, 16) == 16 && is_app_json(ctype) && ends_type(ctype[16]))
    return 1;
  size_t n = strcspn(ctype, "; \t");
  return n > 5 && !strncasecmp(ctype + n - 5, "+json", 5);
}

/* A valid JSON body copied through, compact, without a tree (jansson's
 * parse and dump cost 11,700 instructions a small body): 1, or 0 when it
 * is not JSON (jansson then says why). */
static int emit_json(out *o, const char *body, size_t len) {
  static const char key[] = ",\"body\":";
  out_reserve(o, sizeof(key) - 1 + len);
  memcpy(o->p + o->len, key, sizeof(key) - 1);
  size_t n = json_compact(body, len, o->p + o->len + sizeof(key) - 1);
  if (n == (size_t)-1)
    return 0;
  o->len += sizeof(key) - 1 + n;
  return 1;
}

static void emit_body(out *o, const opts *op, salvo_response *r) {
  size_t len;
  const char *body = salvo_response_body(r, &len);
  const char *why = NULL;
  json_t *j;
  switch (op->body) {
  case BODY_NONE:
    break;
  case BODY_BASE64:
    OUT_LIT(o, ",\"body\":");
    out_base64(o, (const unsigned char *)body, len);
    break;
  case BODY_TEXT:
    emit_text(o, r);
    break;
  case BODY_JSON:
    if (!len) {
      OUT_LIT(o, ",\"body\":null");
    } else if (!says_json(salvo_response_header(r, "Content-Type"))) {
      emit_text(o, r);
    } else if (emit_json(o, body, len)) {
      /* copied through */
    } else if ((j = salvo_response_json(r, &why))) {
      char *dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
      OUT_LIT(o, ",\"body\":");
      out_str(o, dump ? dump : "null");
      free(dump);
    } else {
      /* Said to be JSON and is not: the text, and why. */
      OUT_LIT(o, ",\"body_parse_error\":");
      out_jstr(o, why, strlen(why));
      emit_text(o, r);
    }
    break;
  }
}

/* Up to three digits at d, for a status or an attempt count: most
 * results' numbers, written without out_u64's general path. */
static char *put_small(char *d, unsigned v) {
  if (v >= 100)
    *d++ = (char)('0' + v / 100);
  if (v >= 10)
    *d++ = (char)('0' + v / 10 % 10);
  *d++ = (char)('0' + v % 10);
  return d;
}

/* ,"status":S,"error":null,"attempts":A of a response without an error
 * whose status and attempts have at most three digits (nearly every
 * one): one reserve and fixed copies, where each piece cost a reserve
 * and a number its general conversion. 0 when it is not such a
 * response. */
static int emit_plain_status(out *o, int status, int attempts) {
  if (status < 100 || status > 999 || attempts < 0 || attempts > 999)
    return 0;
  out_reserve(o, 64);
  char *d = o->p + o->len;
  d = PUT_LIT(d, ",\"status\":");
  d = put_small(d, (unsigned)status);
  d = PUT_LIT(d, ",\"error\":null,\"attempts\":");
  d = put_small(d, (unsigned)attempts);
  o->len = (size_t)(d - o->p);
  return 1;
}

/* ,"elapsed_ms":E,"http_version":V in one reserve: most say 1.1, a
 * literal rather than a string escaped. */
static void emit_timing(out *o, salvo_response *r) {
  const char *ver = salvo_response_http_version(r);
  size_t vn = strlen(ver);
  out_reserve(o, 64 + jstr_room(vn));
  char *d = PUT_LIT(o->p + o->len, ",\"elapsed_ms\":");
  d = put_ms(d, salvo_response_elapsed(r));
  d = PUT_LIT(d, ",\"http_version\":");
  if (vn == 3 && ver[0] == '1' && ver[1] == '.' && ver[2] == '1')
    d = PUT_LIT(d, "\"1.1\"");
  else if (vn)
    d = put_jstr(d, ver, vn);
  else
    d = PUT_LIT(d, "null");
  o->len = (size_t)(d - o->p);
}

static void emit_response(out *o, const opts *op, const slot *s) {
  salvo_response *r = s->r;
  emit_fields(o, s);
  const char *final = salvo_response_url(r);
  if (salvo_response_redirects(r)) {
    OUT_LIT(o, ",\"final_url\":");
    out_jstr(o, final, strlen(final));
  }
  int status = salvo_response_status(r), err = salvo_response_error(r);
  int attempts = salvo_response_attempts(r);
  if (err || !emit_plain_status(o, status, attempts)) {
    OUT_LIT(o, ",\"status\":");
    if (status)
      out_u64(o, (unsigned long long)status);
    else
      OUT_LIT(o, "null");
    if (err) {
      const char *name = salvo_errname(err), *msg = salvo_response_errmsg(r);
      OUT_LIT(o, ",\"error\":{\"code\":");
      out_jstr(o, name, strlen(name));
      OUT_LIT(o, ",\"message\":");
      out_jstr(o, msg, strlen(msg));
      OUT_LIT(o, "},\"attempts\":");
    } else {
      OUT_LIT(o, ",\"error\":null,\"attempts\":");
    }
    out_u64(o, (unsigned long long)attempts);
  }
  emit_timing(o, r);
  if (op->headers) {
    OUT_LIT(o, ",\"headers\":[");
    for (size_t i = 0; i < salvo_response_header_count(r); i++) {
      const char *name, *value;
      salvo_response_header_at(r, i, &name, &value);
      out_str(o, i ? ",[" : "[");
      out_jstr(o, name, strlen(name));
      OUT_LIT(o, ",");
      out_jstr(o, value, strlen(value));
      OUT_LIT(o, "]");
    }
    OUT_LIT(o, "]");
  }
  struct stat st;
  if (s->path && !err && status >= 200 && status < 300 && !stat(s->path, &st)) {
    OUT_LIT(o, ",\"file\":");
    out_jstr(o, s->path, strlen(s->path));
    OUT_LIT(o, ",\"size\":");
    out_u64(o, (unsigned long long)st.st_size);
  } else {
    emit_body(o, op, r);
  }
  OUT_LIT(o, "}\n");
}

/* A failure salvo found itself: a file it will not write (EWRITE), or a
 * request cancelled by an interrupt (ECANCELED). */
static void emit_local_error(out *o, const slot *s) {
  const char *code = salvo_errname(s->local_code);
  emit_fields(o, s);
  OUT_LIT(o, ",\"status\":null,\"error\":{\"code\":");
  out_jstr(o, code, strlen(code));
  OUT_LIT(o, ",\"message\":");
  out_jstr(o, s->local_error, strlen(s->local_error));
  OUT_LIT(o, "},\"attempts\":0,\"elapsed_ms\":0,\"http_version\":null}\n");
}

void output_slot(out *o, const opts *op, const slot *s) {
  if (s->r)
    emit_response(o, op, s);
  else
    emit_local_error(o, s);
}
