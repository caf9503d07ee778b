/* The client's cookie jar: see cookie.h. Used on the I/O thread only. */
#include "cookie.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Beyond these, cookies are dropped rather than kept without bound: the
 * oldest goes first. (RFC 6265 asks for at least 3000 in all.) */
#define JAR_MAX 3000
#define COOKIE_MAX 4096 /* name and value together */

typedef struct cookie {
  char *name, *value, *domain, *path;
  int host_only, secure;
  int64_t expires; /* Unix seconds; 0 = when the client goes */
  uint64_t seq;    /* creation order */
} cookie;

struct salvo__jar {
  cookie *v;
  size_t n, cap;
  uint64_t seq;
  void (*mirror)(void *arg, const char *line);
  void *mirror_arg;
};

salvo__jar *salvo__jar_new(void) { return calloc(1, sizeof(salvo__jar)); }

static void cookie_free(cookie *c) {
  free(c->name);
  free(c->value);
  free(c->domain);
  free(c->path);
}

void salvo__jar_clear(salvo__jar *j) {
  for (size_t i = 0; i < j->n; i++)
    cookie_free(&j->v[i]);
  j->n = 0;
}

void salvo__jar_free(salvo__jar *j) {
  if (!j)
    return;
  salvo__jar_clear(j);
  free(j->v);
  free(j);
}

size_t salvo__jar_count(const salvo__jar *j) { return j ? j->n : 0; }

void salvo__jar_mirror(salvo__jar *j, void (*fn)(void *arg, const char *line),
                       void *arg) {
  j->mirror = fn;
  j->mirror_arg = arg;
}

/* ---- URLs -----------------------------------------------------------------
 */

typedef struct url_bits {
  int secure;     /* https, or a loopback host (as libcurl and browsers do) */
  char host[256]; /* lower case, without port or brackets' content change */
  const char *path;
  size_t path_len; /* "/" when empty; the query is not part of it */
} url_bits;

static int url_split(const char *url, url_bits *u) {
  const char *a = strstr(url, "://");
  if (!a)
    return -1;
  int https = a - url == 5;
  a += 3;
  size_t alen = strcspn(a, "/?#");
  const char *at = memchr(a, '@', alen);
  if (at) {
    alen -= (size_t)(at + 1 - a);
    a = at + 1;
  }
  size_t hlen = alen;
  if (*a == '[') {
    const char *close = memchr(a, ']', alen);
    hlen = close ? (size_t)(close + 1 - a) : alen;
  } else {
    const char *colon = memchr(a, ':', alen);
    if (colon)
      hlen = (size_t)(colon - a);
  }
  if (!hlen || hlen >= sizeof(u->host))
    return -1;
  for (size_t i = 0; i < hlen; i++) {
    char c = a[i];
    u->host[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
  }
  u->host[hlen] = '\0';
  u->secure = https || !strcmp(u->host, "localhost") ||
              !strncmp(u->host, "127.", 4) || !strcmp(u->host, "[::1]");
  u->path = a + alen;
  u->path_len = strcspn(u->path, "?#");
  if (!u->path_len || *u->path != '/') {
    u->path = "/";
    u->path_len = 1;
  }
  return 0;
}

static int is_ip(const char *h) {
  if (*h == '[')
    return 1;
  for (; *h; h++)
    if (!((*h >= '0' && *h <= '9') || *h == '.'))
      return 0;
  return 1;
}

/* RFC 6265 5.1.3. */
static int domain_match(const char *host, const char *domain) {
  size_t hl = strlen(host), dl = strlen(domain);
  if (hl == dl)
    return !strcmp(host, domain);
  return hl > dl && host[hl - dl - 1] == '.' &&
         !strcmp(host + hl - dl, domain) && !is_ip(host);
}

/* RFC 6265 5.1.4. */
static int path_match(const char *req, size_t rlen, const char *path) {
  size_t pl = strlen(path);
  if (pl > rlen || memcmp(req, path, pl))
    return 0;
  return pl == rlen || path[pl - 1] == '/' || req[pl] == '/';
}

/* ---- storing --------------------------------------------------------------
 */

static void drop(salvo__jar *j, size_t i) {
  cookie_free(&j->v[i]);
  j->v[i] = j->v[--j->n];
}

static cookie *find(salvo__jar *j, const cookie *c) {
  for (size_t i = 0; i < j->n; i++) {
    cookie *o = &j->v[i];
    if (!strcmp(o->name, c->name) && !strcmp(o->domain, c->domain) &&
        !strcmp(o->path, c->path))
      return o;
  }
  return NULL;
}

static void mirror_line(salvo__jar *j, const cookie *c) {
  char *line = salvo__fmt(
      "%s%s\t%s\t%s\t%s\t%lld\t%s\t%s", c->host_only ? "" : ".", c->domain,
      c->host_only ? "FALSE" : "TRUE", c->path, c->secure ? "TRUE" : "FALSE",
      (long long)c->expires, c->name, c->value);
  if (line)
    j->mirror(j->mirror_arg, line);
  free(line);
}

/* Takes c (its strings) into the jar: replaces a cookie of the same name,
 * domain and path, or removes it when c has expired. */
static int store(salvo__jar *j, cookie *c, int mirror) {
  int64_t now = (int64_t)time(NULL);
  cookie *old = find(j, c);
  int expired = c->expires && c->expires <= now;
  if (mirror && j->mirror)
    mirror_line(j, c);
  if (old) {
    c->seq = old->seq;
    drop(j, (size_t)(old - j->v));
  }
  if (expired) {
    cookie_free(c);
    return 0;
  }
  if (j->n == JAR_MAX) {
    size_t oldest = 0;
    for (size_t i = 1; i < j->n; i++)
      if (j->v[i].seq < j->v[oldest].seq)
        oldest = i;
    drop(j, oldest);
  }
  if (j->n == j->cap) {
    size_t cap = j->cap ? 2 * j->cap : 16;
    cookie *v = realloc(j->v, cap * sizeof(*v));
    if (!v) {
      cookie_free(c);
      return SALVO_ENOMEM;
    }
    j->v = v;
    j->cap = cap;
  }
  if (!old)
    c->seq = ++j->seq;
  j->v[j->n++] = *c;
  return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t'; }

/* The piece [s, e) without surrounding whitespace. */
static void trim(const char **s, const char **e) {
  while (*s < *e && is_ws(**s))
    (*s)++;
  while (*e > *s && is_ws((*e)[-1]))
    (*e)--;
}

static int attr_is(const char *s, const char *e, const char *name) {
  size_t n = strlen(name);
  return (size_t)(e - s) == n && !salvo__casecmp_n(s, name, n);
}

int salvo__jar_set(salvo__jar *j, const char *url, const char *v, size_t n,
                   int mirror) {
  url_bits u;
  if (url_split(url, &u))
    return 0;
  const char *end = v + n, *semi = memchr(v, ';', n);
  const char *pe = semi ? semi : end;
  const char *eq = memchr(v, '=', (size_t)(pe - v));
  if (!eq || (size_t)(pe - v) > COOKIE_MAX)
    return 0;
  const char *ns = v, *ne = eq, *vs = eq + 1, *ve = pe;
  trim(&ns, &ne);
  trim(&vs, &ve);
  if (ns == ne)
    return 0;
  for (const char *p = ns; p < ve; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  cookie c = {0};
  const char *domain = NULL, *path = NULL;
  size_t dlen = 0, plen = 0;
  int64_t max_age = INT64_MIN;
  for (const char *a = pe; a < end;) {
    a++; /* past ';' */
    const char *ae = memchr(a, ';', (size_t)(end - a));
    ae = ae ? ae : end;
    const char *as = a, *aeq = memchr(a, '=', (size_t)(ae - a));
    const char *kn = as, *ke = aeq ? aeq : ae, *av = aeq ? aeq + 1 : ae,
               *avend = ae;
    trim(&kn, &ke);
    trim(&av, &avend);
    if (attr_is(kn, ke, "Domain") && av < avend) {
      domain = av + (*av == '.');
      dlen = (size_t)(avend - domain);
    } else if (attr_is(kn, ke, "Path") && av < avend && *av == '/') {
      path = av;
      plen = (size_t)(avend - av);
    } else if (attr_is(kn, ke, "Secure")) {
      c.secure = 1;
    } else if (attr_is(kn, ke, "Max-Age") && av < avend) {
      char buf[32];
      size_t l = (size_t)(avend - av) < sizeof(buf) - 1 ? (size_t)(avend - av)
                                                        : sizeof(buf) - 1;
      memcpy(buf, av, l);
      buf[l] = '\0';
      char *stop;
      long long s = strtoll(buf, &stop, 10);
      if (*stop == '\0')
        max_age = s;
    } else if (attr_is(kn, ke, "Expires") && av < avend && !c.expires) {
      char buf[64];
      size_t l = (size_t)(avend - av) < sizeof(buf) - 1 ? (size_t)(avend - av)
                                                        : sizeof(buf) - 1;
      memcpy(buf, av, l);
      buf[l] = '\0';
      time_t tt = curl_getdate(buf, NULL);
      if (tt != (time_t)-1)
        c.expires = tt > 0 ? (int64_t)tt : 1;
    }
    a = ae;
  }
  if (c.secure && !u.secure)
    return 0;               /* only a secure origin may set a Secure cookie */
  if (max_age != INT64_MIN) /* Max-Age wins over Expires */
    c.expires = max_age <= 0 ? 1 : (int64_t)time(NULL) + max_age;
  if (domain && dlen) {
    c.domain = salvo__strndup(domain, dlen);
    for (char *p = c.domain; p && *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p + 32);
    /* A cookie for a domain the host is not in is refused. */
    if (c.domain && !domain_match(u.host, c.domain)) {
      free(c.domain);
      return 0;
    }
  } else {
    c.host_only = 1;
    c.domain = salvo__strdup(u.host);
  }
  if (path) {
    c.path = salvo__strndup(path, plen);
  } else { /* the request path up to its last '/' */
    const char *last = u.path + u.path_len;
    while (last > u.path && last[-1] != '/')
      last--;
    size_t l = (size_t)(last - u.path);
    c.path = salvo__strndup(u.path, l > 1 ? l - 1 : 1);
  }
  c.name = salvo__strndup(ns, (size_t)(ne - ns));
  c.value = salvo__strndup(vs, (size_t)(ve - vs));
  if (!c.domain || !c.path || !c.name || !c.value) {
    cookie_free(&c);
    return SALVO_ENOMEM;
  }
  return store(j, &c, mirror);
}

int salvo__jar_add_line(salvo__jar *j, const char *line) {
  if (!strncmp(line, "#HttpOnly_", 10))
    line += 10;
  char *f[7];
  char *copy = salvo__strdup(line);
  if (!copy)
    return SALVO_ENOMEM;
  size_t nf = 0;
  for (char *p = copy, *tab; nf < 7; p = tab + 1) {
    f[nf++] = p;
    if (!(tab = strchr(p, '\t')))
      break;
    *tab = '\0';
  }
  int rc = 0;
  if (nf == 7 && f[0][0] != '#') {
    cookie c = {0};
    const char *d = f[0] + (f[0][0] == '.');
    c.host_only = strcmp(f[1], "TRUE") != 0;
    c.secure = !strcmp(f[3], "TRUE");
    c.expires = strtoll(f[4], NULL, 10);
    c.domain = salvo__strdup(d);
    c.path = salvo__strdup(f[2]);
    c.name = salvo__strdup(f[5]);
    c.value = salvo__strdup(f[6]);
    if (!c.domain || !c.path || !c.name || !c.value) {
      cookie_free(&c);
      rc = SALVO_ENOMEM;
    } else {
      rc = store(j, &c, 0);
    }
  }
  free(copy);
  return rc;
}

/* Longer paths first, then older cookies (RFC 6265 5.4). */
static int by_order(const void *a, const void *b) {
  const cookie *x = *(const cookie *const *)a, *y = *(const cookie *const *)b;
  size_t lx = strlen(x->path), ly = strlen(y->path);
  if (lx != ly)
    return lx > ly ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int salvo__jar_header(salvo__jar *j, const char *url, salvo__buf *out) {
  url_bits u;
  if (!j->n || url_split(url, &u))
    return 0;
  int64_t now = (int64_t)time(NULL);
  /* A request carries a few cookies: no allocation for up to 32. */
  cookie *few[32];
  cookie **m = j->n <= 32 ? few : malloc(j->n * sizeof(*m));
  if (!m)
    return SALVO_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < j->n;) {
    cookie *c = &j->v[i];
    if (c->expires && c->expires <= now) {
      drop(j, i);
      continue;
    }
    if ((c->host_only ? !strcmp(u.host, c->domain)
                      : domain_match(u.host, c->domain)) &&
        path_match(u.path, u.path_len, c->path) && (!c->secure || u.secure))
      m[k++] = c;
    i++;
  }
  int rc = 0;
  if (k) {
    qsort(m, k, sizeof(*m), by_order);
    rc |= salvo__buf_append(out, "Cookie: ", 8);
    for (size_t i = 0; i < k; i++) {
      if (i)
        rc |= salvo__buf_append(out, "; ", 2);
      rc |= salvo__buf_append(out, m[i]->name, strlen(m[i]->name));
      rc |= salvo__buf_append(out, "=", 1);
      rc |= salvo__buf_append(out, m[i]->value, strlen(m[i]->value));
    }
    rc |= salvo__buf_append(out, "\r\n", 2);
  }
  if (m != few)
    free(m);
  return rc ? SALVO_ENOMEM : 0;
}
