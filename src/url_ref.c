/* References resolved against a URL: see url_ref.h. */
#include "url_ref.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "url.h"

/* A piece of a URL; `has` tells an empty piece from a missing one. */
typedef struct piece {
  const char *s;
  size_t n;
  int has;
} piece;

typedef struct parts {
  piece scheme, authority, path, query, fragment;
} parts;

/* RFC 3986 appendix B, without the regular expression, and a scheme
 * only where it is one (3.1): "127.0.0.1:8080/x" or "a b:c", which no
 * URI starts with, are relative paths, as browsers read them. */
static void split(const char *s, size_t n, parts *o) {
  memset(o, 0, sizeof(*o));
  const char *end = s + n, *p = s;
  const char *c = p;
  while (c < end && *c != ':' && *c != '/' && *c != '?' && *c != '#')
    c++;
  if (c < end && *c == ':' && c > p &&
      salvo__url_scheme_chars(p) == (size_t)(c - p)) {
    o->scheme = (piece){p, (size_t)(c - p), 1};
    p = c + 1;
  }
  if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
    const char *a = p + 2, *e = a;
    while (e < end && *e != '/' && *e != '?' && *e != '#')
      e++;
    o->authority = (piece){a, (size_t)(e - a), 1};
    p = e;
  }
  const char *e = p;
  while (e < end && *e != '?' && *e != '#')
    e++;
  o->path = (piece){p, (size_t)(e - p), 1};
  p = e;
  if (p < end && *p == '?') {
    e = ++p;
    while (e < end && *e != '#')
      e++;
    o->query = (piece){p, (size_t)(e - p), 1};
    p = e;
  }
  if (p < end && *p == '#')
    o->fragment = (piece){p + 1, (size_t)(end - p - 1), 1};
}

static int put(salvo__buf *b, const char *s, size_t n) {
  return salvo__buf_append(b, s, n);
}

/* Appends s[0..n), percent-encoding what a URL cannot carry as it is. */
static int put_encoded(salvo__buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c > 0x20 && c < 0x7f) {
      if (put(b, (const char *)&c, 1))
        return -1;
    } else {
      char e[3];
      if (put(b, e, (size_t)(salvo__url_pct(e, c) - e)))
        return -1;
    }
  }
  return 0;
}

/* Drops the last segment of out (past `floor`) and the '/' before it. */
static void pop_segment(salvo__buf *out, size_t floor) {
  while (out->len > floor && out->p[out->len - 1] != '/')
    out->len--;
  if (out->len > floor)
    out->len--;
}

/* RFC 3986 5.2.4, from in[0..n) onto out: each step as the RFC numbers
 * it. */
static int remove_dots(salvo__buf *out, const char *in, size_t n) {
  size_t floor = out->len;
  const char *p = in, *end = in + n;
  while (p < end) {
    size_t left = (size_t)(end - p);
    if (left >= 3 && !memcmp(p, "../", 3)) { /* A */
      p += 3;
    } else if (left >= 2 && !memcmp(p, "./", 2)) {
      p += 2;
    } else if (left >= 3 && !memcmp(p, "/./", 3)) { /* B */
      p += 2;
    } else if (left == 2 && !memcmp(p, "/.", 2)) {
      if (put(out, "/", 1))
        return -1;
      p = end;
    } else if (left >= 4 && !memcmp(p, "/../", 4)) { /* C */
      pop_segment(out, floor);
      p += 3;
    } else if (left == 3 && !memcmp(p, "/..", 3)) {
      pop_segment(out, floor);
      if (put(out, "/", 1))
        return -1;
      p = end;
    } else if ((left == 1 && *p == '.') || (left == 2 && !memcmp(p, "..", 2))) {
      p = end; /* D */
    } else {   /* E */
      const char *seg = p + (*p == '/');
      while (seg < end && *seg != '/')
        seg++;
      if (put_encoded(out, p, (size_t)(seg - p)))
        return -1;
      p = seg;
    }
  }
  return 0;
}

/* The target's path: RFC 3986 5.2.2 and 5.2.3. */
static int target_path(salvo__buf *out, const parts *base, const parts *ref) {
  if (ref->authority.has || (ref->path.n && ref->path.s[0] == '/'))
    return remove_dots(out, ref->path.s, ref->path.n);
  if (!ref->path.n)
    return put(out, base->path.s, base->path.n);
  /* Merge: the base path up to its last '/', then the reference's. */
  salvo__buf merged = {0};
  int rc = 0;
  if (base->authority.has && !base->path.n) {
    rc = put(&merged, "/", 1);
  } else {
    size_t k = base->path.n;
    while (k && base->path.s[k - 1] != '/')
      k--;
    rc = put(&merged, base->path.s, k);
  }
  rc = rc || put(&merged, ref->path.s, ref->path.n) ||
       remove_dots(out, merged.p, merged.len);
  salvo__buf_free(&merged);
  return rc;
}

/* The authority without its userinfo, which a redirect never carries. */
static piece host_port(piece a) {
  for (size_t i = a.n; i > 0; i--)
    if (a.s[i - 1] == '@')
      return (piece){a.s + i, a.n - i, 1};
  return a;
}

char *salvo__url_resolve(const char *base, const char *ref, size_t ref_len,
                         char **msg) {
  parts b, r;
  *msg = NULL;
  while (ref_len && (*ref == ' ' || *ref == '\t'))
    ref++, ref_len--;
  split(base, strlen(base), &b);
  split(ref, ref_len, &r);
  const parts *auth = r.scheme.has || r.authority.has ? &r : &b;
  /* A scheme salvo does not fetch (mailto:, javascript:), or a target
   * with no authority ("http:x"), is refused as the server wrote it: the
   * URL it would resolve to has no host, and "://" made up before its
   * path names a URL the server never sent. */
  int unfetched =
      r.scheme.has && !salvo__url_scheme_fetched(r.scheme.s, r.scheme.n);
  if (unfetched || !auth->authority.has) {
    char *why = unfetched ? salvo__fmt(SALVO__URL_UNSUPPORTED,
                                       (int)(r.scheme.n > 32 ? 32 : r.scheme.n),
                                       r.scheme.s)
                          : salvo__fmt("no host");
    *msg = why ? salvo__fmt("redirect to a URL salvo does not follow (%s): "
                            "\"%.*s\"",
                            why, (int)(ref_len > 200 ? 200 : ref_len), ref)
               : NULL;
    free(why);
    return NULL;
  }
  piece scheme = r.scheme.has ? r.scheme : b.scheme;
  piece query = r.scheme.has || r.authority.has || r.path.n || r.query.has
                    ? r.query
                    : b.query;
  piece fragment = r.fragment.has ? r.fragment : b.fragment;
  salvo__buf out = {0};
  int rc = 0;
  for (size_t i = 0; i < scheme.n && !rc; i++) {
    char c = (char)(scheme.s[i] | 0x20);
    rc = put(&out, &c, 1);
  }
  /* As it came, never encoded (a space had become "a%20b", a name no DNS
   * has): url_parse judges it as a request URL's. */
  piece hp = host_port(auth->authority);
  rc = rc || put(&out, "://", 3) || put(&out, hp.s, hp.n);
  if (!rc && r.scheme.has)
    rc = remove_dots(&out, r.path.s, r.path.n);
  else if (!rc)
    rc = target_path(&out, &b, &r);
  if (!rc && query.has)
    rc = put(&out, "?", 1) || put_encoded(&out, query.s, query.n);
  if (!rc && fragment.has)
    rc = put(&out, "#", 1) || put_encoded(&out, fragment.s, fragment.n);
  if (rc || salvo__buf_reserve(&out, 1)) {
    salvo__buf_free(&out);
    return NULL;
  }
  out.p[out.len] = '\0';
  salvo__url u;
  /* A NUL in the host would end what url_parse reads: the rest unread. */
  int nul = strlen(out.p) < out.len;
  char *why = NULL;
  if (nul || salvo__url_parse(out.p, &u, &why)) {
    *msg =
        salvo__fmt("redirect to a URL salvo does not follow (%s): "
                   "\"%.200s\"",
                   why ? why : "malformed URL: a NUL byte in its host", out.p);
    free(why);
    salvo__buf_free(&out);
    return NULL;
  }
  return out.p;
}
